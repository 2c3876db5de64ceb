"""``payerr explain``: a code, or a pasted answer, read as ``payerr.inspect`` reads it.

A bare code is looked up in the catalog; ``--url`` builds the answer that API would send;
``--body`` reads a pasted answer. All three end in the catalog's words for the reading.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from .._catalog.model import CodeInfo, ProviderSpec
from .._catalog.registry import catalog
from .cli_codes import render_codes
from .cli_common import EXIT_NOT_FOUND, EXIT_OK, UsageError, link, specs


def _describe(info: CodeInfo, lang: str, shown_code: str | None = None) -> str:
    codes = "/".join(c for c in (shown_code or info.code, info.sub_code) if c) or "(empty)"
    if info.ok:
        head = f"{info.provider} {codes}: success"
    else:
        assert info.category is not None and info.error_class is not None
        head = (
            f"{info.provider} {codes}: {info.error_class.__name__} "
            f"(category={info.category.value}, retry={info.retry.value}, "
            f"processed={info.processed.value})"
        )
    lines = [head]
    if shown_code and shown_code != info.code and info.sub_code:
        lines.append(f"  (the catalog lists {info.sub_code} under {info.code})")
    if info.provider_message:
        lines.append(f"  provider says: {info.provider_message}")
    if lang in ("zh", "both"):
        lines += [f"  含义: {info.message_zh}", f"  处理: {info.solution_zh}"]
    if lang in ("en", "both"):
        lines += [f"  meaning: {info.message_en}", f"  fix:     {info.solution_en}"]
    for rule in info.rules:
        changes = ", ".join(f"{k}={v}" for k, v in rule.changes.items() if k in ("retry",))
        lines.append(f"  on {', '.join(rule.methods)}: {changes}")
    url = link(info)
    if url:
        lines.append(f"  docs: {url}")
    return "\n".join(lines)


def _status_reading(spec: ProviderSpec, status: int) -> CodeInfo | None:
    """What payerr makes of a bare HTTP status the catalog does not list (502 on Alipay)."""
    from .._reading.classify import inspect
    from .._reading.raw import RawResponse

    host = spec.hosts[0] if spec.hosts else "127.0.0.1"
    outcome = inspect(RawResponse(status, {}, b"", f"https://{host}/"), provider=spec.name)
    error = outcome.error
    if error is None:
        return None
    return CodeInfo(
        provider=spec.name,
        code=str(status),
        category=error.category,
        retry=error.retry,
        processed=error.processed,
        message_zh=f"HTTP {status}，响应中没有可识别的错误码。",
        message_en=f"HTTP {status} without a code payerr knows: {error.message}",
        solution_zh=error.solution_zh or "按 HTTP 状态处理。",
        solution_en=error.solution or "Handle it as the HTTP status says.",
    )


def _matches(code: str, provider: str | None, sub_code: str | None) -> list[CodeInfo]:
    """Every entry for this code, across providers unless one is named."""
    found = []
    for spec in specs(provider):
        if sub_code:
            info = spec.sub_codes.get(sub_code)
        else:
            info = spec.find(code)
            if info is None and provider and code.isdigit() and len(code) == 3:
                info = _status_reading(spec, int(code))
        if info is not None:
            found.append(info)
    return found


def _print_found(found: list[CodeInfo], args: argparse.Namespace, code: str) -> None:
    if args.format == "json":
        print(json.dumps([_as_dict(info) for info in found], ensure_ascii=False, indent=2))
        return
    if args.format == "markdown":
        print(render_codes(found, "markdown", args.lang))
        return
    if len(found) > 1:
        providers = ", ".join(info.provider for info in found)
        print(f"{code} is a code of several providers ({providers}):\n")
    print(
        "\n\n".join(_describe(info, args.lang, code if args.sub_code else None) for info in found)
    )


def _as_dict(info: CodeInfo) -> dict[str, Any]:
    return {**info.as_dict(), "docs": link(info)}


def _explain_code(args: argparse.Namespace) -> int:
    code = args.code
    found = _matches(code, args.provider, args.sub_code)
    if found:
        _print_found(found, args, code)
        return EXIT_OK
    where = f" for {args.provider}" if args.provider else ""
    if args.sub_code:
        print(f"no sub_code {args.sub_code!r}{where} in the catalog", file=sys.stderr)
        parents = _matches(code, args.provider, None)
        if parents and args.format == "text":
            print(f"{code} alone, without the sub_code:\n")
            print("\n\n".join(_describe(info, args.lang) for info in parents))
    else:
        print(f"no code {code!r}{where} in the catalog", file=sys.stderr)
    if args.format == "json":
        print("[]")
    return EXIT_NOT_FOUND


def _read_body(value: str, stdin: IO[str]) -> bytes:
    from .pasted import MAX_PASTE

    if value != "-":
        return value.encode("utf-8", "surrogateescape")
    source: Any = getattr(stdin, "buffer", None)
    data: bytes | str = (source or stdin).read(MAX_PASTE + 1)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_PASTE:
        raise UsageError(f"payerr explain: --body - read more than {MAX_PASTE} bytes")
    return raw


def _explain_body(args: argparse.Namespace, stdin: IO[str]) -> int:
    """Read a pasted answer exactly as ``payerr.inspect`` does, and say what it means."""
    from .pasted import has_status_line, parse_pasted

    data = _read_body(args.body, stdin)
    if not data.strip():
        raise UsageError("payerr explain: --body is empty: paste a body, or curl -i output")
    provider = args.provider
    url = args.url
    if url is None:
        spec = catalog().spec(provider) if provider else None
        host = spec.hosts[0] if spec is not None and spec.hosts else "127.0.0.1"
        url = f"https://{host}/"
    response = parse_pasted(data, url, args.status or 200)
    guessed = ""
    if provider is None and args.url is None:
        provider = _guess(response)
        guessed = f" (provider guessed from the body: {provider})" if provider else ""
    note = ""
    if not has_status_line(data) and args.status is None:
        note = (
            "  the paste has no status line, so HTTP 200 was assumed: WeChat Pay v3 and "
            "Alipay v3 errors come with a 4xx/5xx status (--status, or paste curl -i output)"
        )
    return _report(args, response, provider, guessed, note)


def _explain_on_url(args: argparse.Namespace) -> int:
    """A code as the API at ``--url`` would send it, read by ``payerr.inspect``.

    The answer is built from the adapter (``payerr.testing.provider_answer``), so
    the per-API rules of that URL apply as they do to a real answer.
    """
    from urllib.parse import parse_qs, urlsplit

    from .._reading.fakes import answer
    from .._reading.raw import RawResponse

    parts = urlsplit(args.url)
    provider = args.provider or catalog().provider_for_host(parts.hostname or "")
    if provider is None:
        raise UsageError(f"payerr explain: no adapter claims {parts.hostname!r}: add --provider")
    api = (parse_qs(parts.query).get("method") or [parts.path or "/"])[0]
    try:
        status, headers, body = answer(provider, args.code, args.sub_code, api, None, None)
    except KeyError:
        where = f"{args.code}/{args.sub_code}" if args.sub_code else args.code
        print(f"no code {where!r} for {provider} in the catalog", file=sys.stderr)
        return EXIT_NOT_FOUND
    return _report(args, RawResponse(status, headers, body, args.url), provider, "", "")


def _report(
    args: argparse.Namespace, response: Any, provider: str | None, guessed: str, note: str
) -> int:
    """What ``payerr.inspect`` makes of the answer, with the catalog's words for it."""
    from urllib.parse import urlsplit

    from .._reading.classify import inspect

    error = inspect(response, provider=provider).error
    if error is None:
        host = urlsplit(response.url).hostname or ""
        named = provider or catalog().provider_for_host(host) or "unknown"
        if args.format == "json":
            print(json.dumps({"provider": named, "ok": True, "http_status": response.status_code}))
            return EXIT_OK
        print(f"{named}: success (HTTP {response.status_code}){guessed}")
        if note:
            print(note)
        return EXIT_OK
    info = _catalog_entry(error)
    if args.format == "json":
        print(json.dumps(_error_as_dict(error, info), ensure_ascii=False, indent=2))
    else:
        head, newline, rest = _describe_error(error, info, args.lang).partition("\n")
        print(head + guessed + newline + rest)
    return EXIT_OK if error.known else EXIT_NOT_FOUND


def _catalog_entry(error: Any) -> CodeInfo | None:
    """The catalog's entry for the error, as it applies to the error's API and reading."""
    if not error.provider:
        return None
    info = catalog().spec(error.provider).lookup(error.code, error.sub_code)
    if info is None:
        return None
    return info.on(error.api_method).replace(retry=error.retry, processed=error.processed)


def _error_as_dict(error: Any, info: CodeInfo | None) -> dict[str, Any]:
    """The reading as ``--format json`` prints it: one key per field of the error."""
    return {
        "provider": error.provider,
        "ok": False,
        "http_status": error.http_status,
        "code": error.code,
        "sub_code": error.sub_code,
        "class": type(error).__name__,
        "category": error.category.value,
        "retry": error.retry.value,
        "processed": error.processed.value,
        "known": error.known,
        "api_method": error.api_method,
        "request_id": error.request_id,
        "message": error.message,
        "solution": error.solution,
        "docs": link(info) if info is not None else None,
    }


def _describe_error(error: Any, info: CodeInfo | None, lang: str) -> str:
    codes = "/".join(c for c in (error.code, error.sub_code) if c) or "(no code)"
    where = f" on {error.api_method}" if (error.api_method or "/") != "/" else ""
    lines = [
        f"{error.provider or 'no adapter'} {codes}{where}: {type(error).__name__} "
        f"(category={error.category.value}, retry={error.retry.value}, "
        f"processed={error.processed.value}, http={error.http_status})"
    ]
    said = " / ".join(m for m in (error.sub_message, error.message) if m)
    if said:
        lines.append(f"  provider says: {said}")
    if error.request_id:
        lines.append(f"  request id: {error.request_id}")
    if info is not None:
        if lang in ("zh", "both"):
            lines += [f"  含义: {info.message_zh}", f"  处理: {info.solution_zh}"]
        if lang in ("en", "both"):
            lines += [f"  meaning: {info.message_en}", f"  fix:     {info.solution_en}"]
        url = link(info)
        if url:
            lines.append(f"  docs: {url}")
    elif not error.known:
        lines.append("  not in the catalog: the HTTP status decides the class and the hint")
    return "\n".join(lines)


def _guess(response: Any) -> str | None:
    """The provider whose envelope reads a known code (or a success) out of the body."""
    from .._reading.classify import inspect

    for spec in catalog():
        outcome = inspect(response, provider=spec.name)
        if outcome.error is not None and outcome.error.known and outcome.error.code:
            return spec.name
    return None


def run_explain(args: argparse.Namespace, stdin: IO[str]) -> int:
    if args.body is not None:
        if args.code is not None or args.sub_code:
            raise UsageError("payerr explain: give a CODE or --body, not both")
        return _explain_body(args, stdin)
    if args.code is None:
        raise UsageError("payerr explain: give a CODE, or --body with a pasted answer")
    if args.url is not None:
        return _explain_on_url(args)
    return _explain_code(args)
