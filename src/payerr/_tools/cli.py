"""The ``payerr`` command: look codes and pasted answers up while an incident is on.

Exit codes: 0 found, 1 no such code, 2 bad usage. Bad input of any kind ends in
one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import IO, Any, NoReturn

from .._catalog.registry import CodeInfo, ProviderSpec, catalog
from .._enums import Category, RetryHint

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2
MAX_CODE = 64
"""No provider code is longer; a longer one is a paste gone wrong."""
LANGS = ("zh", "en", "both")
FORMATS = ("text", "json", "markdown")
DOCS_URL = "https://payerr.github.io/payerr/"
"""Where the docs site is published (mkdocs.yml site_url); PAYERR_DOCS_URL overrides it."""


class UsageError(Exception):
    """Bad input: shown as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and no usage block) and no exit mid-call."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def docs_url() -> str:
    return os.environ.get("PAYERR_DOCS_URL") or DOCS_URL


# --- option types: each bad value is a one-line message ---------------------


def _provider(value: str) -> str:
    name = value.strip().lower()
    names = catalog().names
    if name not in names:
        raise argparse.ArgumentTypeError(
            f"unknown provider {value[:40]!r}: one of {', '.join(names)}"
        )
    return name


def _port(value: str) -> int:
    if not value.strip().isdigit() or len(value.strip()) > 5 or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"{value[:20]!r} is not a port (0 to 65535)")
    return int(value)


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:  # also NaN
        raise argparse.ArgumentTypeError(f"{value[:20]!r} is not a share between 0 and 1")
    return rate


def _status(value: str) -> int:
    if not value.strip().isdigit() or len(value.strip()) != 3 or int(value) < 100:
        raise argparse.ArgumentTypeError(f"{value[:20]!r} is not an HTTP status")
    return int(value)


def _seed(value: str) -> int:
    if not value.strip().lstrip("-").isdigit() or len(value.strip()) > 19:
        raise argparse.ArgumentTypeError(f"{value[:20]!r} is not a whole number")
    return int(value)


def _format(value: str) -> str:
    name = "text" if value == "table" else value  # `table`: the name before `text`
    if name not in FORMATS:
        raise argparse.ArgumentTypeError(f"{value[:20]!r}: one of {', '.join(FORMATS)}")
    return name


def _code(value: str) -> str:
    code = value.strip()
    if len(code) > MAX_CODE:
        raise argparse.ArgumentTypeError(f"a code is at most {MAX_CODE} characters")
    if not code or not code.isprintable():
        raise argparse.ArgumentTypeError(f"{value[:20]!r} is not a code")
    return code


# --- explain -----------------------------------------------------------------


def _specs(provider: str | None) -> list[ProviderSpec]:
    return [catalog().spec(provider)] if provider else list(catalog())


def _link(info: CodeInfo) -> str | None:
    from .codedocs import link

    return None if info.ok else link(info, docs_url())


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
    url = _link(info)
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
    for spec in _specs(provider):
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
    return {**info.as_dict(), "docs": _link(info)}


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

    outcome = inspect(response, provider=provider)
    error = outcome.error
    host = urlsplit(response.url).hostname or ""
    named = provider or catalog().provider_for_host(host) or "unknown"
    if error is None:
        result = {"provider": named, "ok": True, "http_status": response.status_code}
        if args.format == "json":
            print(json.dumps(result))
            return EXIT_OK
        print(f"{named}: success (HTTP {response.status_code}){guessed}")
        if note:
            print(note)
        return EXIT_OK
    info = None
    if error.provider:
        info = catalog().spec(error.provider).lookup(error.code, error.sub_code)
    if info is not None:
        info = replace(info.on(error.api_method), retry=error.retry, processed=error.processed)
    if args.format == "json":
        reading = {
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
            "docs": _link(info) if info is not None else None,
        }
        print(json.dumps(reading, ensure_ascii=False, indent=2))
    else:
        head, newline, rest = _describe_error(error, info, args.lang).partition("\n")
        print(head + guessed + newline + rest)
    return EXIT_OK if error.known else EXIT_NOT_FOUND


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
        url = _link(info)
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


def _explain(args: argparse.Namespace, stdin: IO[str]) -> int:
    if args.body is not None:
        if args.code is not None or args.sub_code:
            raise UsageError("payerr explain: give a CODE or --body, not both")
        return _explain_body(args, stdin)
    if args.code is None:
        raise UsageError("payerr explain: give a CODE, or --body with a pasted answer")
    if args.url is not None:
        return _explain_on_url(args)
    return _explain_code(args)


# --- codes -------------------------------------------------------------------


def _selected(args: argparse.Namespace) -> Iterable[CodeInfo]:
    for spec in _specs(args.provider):
        for info in spec.all_codes():
            if info.ok:
                continue
            if args.category and (info.category is None or info.category.value != args.category):
                continue
            if args.retryable and info.retry not in (
                RetryHint.BACKOFF,
                RetryHint.REFRESH_CREDENTIALS,
            ):
                continue
            yield info


def _meaning(info: CodeInfo, lang: str) -> str:
    if lang == "zh":
        return info.message_zh
    if lang == "en":
        return info.message_en
    return f"{info.message_en} / {info.message_zh}"


def render_codes(infos: Iterable[CodeInfo], fmt: str, lang: str = "en") -> str:
    """The codes as a text table, JSON or Markdown."""
    rows = list(infos)
    if fmt == "json":
        return json.dumps([info.as_dict() for info in rows], ensure_ascii=False, indent=2)
    header = ["provider", "code", "sub_code", "class", "retry", "processed", "meaning"]

    def cells(info: CodeInfo) -> list[str]:
        cls = info.error_class
        return [
            info.provider,
            info.code,
            info.sub_code or "",
            cls.__name__ if cls else "",
            info.retry.value,
            info.processed.value,
            _meaning(info, lang),
        ]

    table = [cells(info) for info in rows]
    if fmt == "markdown":
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in table]
        return "\n".join(out)
    widths = [
        max(len(h), *(len(r[i]) for r in table)) if table else len(h)
        for i, h in enumerate(header[:-1])
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header[:-1], widths, strict=True)) + "  meaning"]
    for row in table:
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        )
    return "\n".join(lines)


def stats(provider: str | None = None) -> list[dict[str, Any]]:
    """How many entries each adapter holds: per provider, per envelope, per category."""
    found = []
    for spec in _specs(provider):
        errors = [i for i in (*spec.codes.values(), *spec.sub_codes.values()) if not i.ok]
        by_category: dict[str, int] = {}
        for info in errors:
            key = info.category.value if info.category else "success"
            by_category[key] = by_category.get(key, 0) + 1
        found.append(
            {
                "provider": spec.name,
                "error_codes": len(errors),
                "envelopes": [
                    {"name": e.name, "format": e.format, "paths": list(e.paths)}
                    for e in spec.envelopes
                ],
                "codes": len(spec.codes),
                "numeric_codes": sum(
                    1 for i in spec.codes.values() if i.code.lstrip("-").isdigit()
                ),
                "sub_codes": len(spec.sub_codes),
                "statuses": len(spec.statuses),
                "success_codes": len(spec.success),
                "per_api_rules": sum(len(i.rules) for i in errors),
                "by_category": dict(sorted(by_category.items(), key=lambda x: -x[1])),
            }
        )
    return found


def render_stats(provider: str | None = None) -> str:
    """The counts of ``stats`` as text."""
    lines = []
    for row in stats(provider):
        envelopes = ", ".join(
            f"{e['name']} ({e['format']}{', ' + ' '.join(e['paths']) if e['paths'] else ''})"
            for e in row["envelopes"]
        )
        named = row["codes"] - row["numeric_codes"]
        lines.append(f"{row['provider']}: {row['error_codes']} error codes")
        lines.append(f"  envelopes: {envelopes}")
        lines.append(
            f"  codes: {row['codes']} ({row['numeric_codes']} numeric, {named} named)"
            f", sub_codes: {row['sub_codes']}, statuses: {row['statuses']}"
            f", success codes: {row['success_codes']}, per-API rules: {row['per_api_rules']}"
        )
        shown = ", ".join(f"{k} {v}" for k, v in row["by_category"].items())
        lines.append(f"  by category: {shown}")
    return "\n".join(lines)


def _codes(args: argparse.Namespace, stdin: IO[str]) -> int:
    if args.stats:
        if args.format == "json":
            print(json.dumps(stats(args.provider), ensure_ascii=False, indent=2))
        else:
            print(render_stats(args.provider))
        return EXIT_OK
    print(render_codes(_selected(args), args.format, args.lang))
    return EXIT_OK


# --- schema, demo, sandbox -------------------------------------------------------


def _schema(args: argparse.Namespace, stdin: IO[str]) -> int:
    from .._catalog.registry import adapter_schema

    print(json.dumps(adapter_schema(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _demo(args: argparse.Namespace, stdin: IO[str]) -> int:
    from .demo import run_demo

    return run_demo()


def _sandbox(args: argparse.Namespace, stdin: IO[str]) -> int:
    import signal

    from ..sandbox import Sandbox

    try:
        sandbox = Sandbox(port=args.port)
    except OSError as exc:
        reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise UsageError(f"payerr sandbox: cannot listen on port {args.port}: {reason}") from None
    try:
        for item in args.script or []:
            route, _, steps = item.partition("=")
            if not route or not steps:
                raise UsageError(
                    f"payerr sandbox: --script wants ROUTE=STEP,STEP,..., not {item!r}"
                )
            try:
                sandbox.script(route.strip(), steps)
            except ValueError as exc:
                raise UsageError(f"payerr sandbox: {exc}") from None
        if args.fault_rate:
            sandbox.random_faults(args.fault_rate, seed=args.seed)
    except BaseException:
        sandbox.stop()
        raise

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Stop cleanly on Ctrl-C and on SIGTERM, even when started with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, stop), signal.signal(signal.SIGTERM, stop)
    print(f"payerr sandbox listening on {sandbox.url} (Ctrl-C to stop)", flush=True)
    print(f"ledger: {sandbox.url}/_sandbox/ledger", flush=True)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    return EXIT_OK


# --- the parser ------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, *, formats: str, lang: str) -> None:
    """The options explain and codes share: same names, same choices."""
    parser.add_argument(
        "--provider",
        "-p",
        type=_provider,
        metavar="NAME",
        help=f"one provider ({', '.join(catalog().names)}; any case)",
    )
    parser.add_argument(
        "--lang", choices=LANGS, default=lang, help=f"language of meanings and fixes ({lang})"
    )
    parser.add_argument(
        "--format",
        "-f",
        type=_format,
        default="text",
        metavar="{" + ",".join(FORMATS) + "}",
        help=formats,
    )
    parser.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="the same as --format json",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line, declared in one place (long: one block per command)."""
    from .. import __version__

    parser = _Parser(
        prog="payerr",
        description="Typed errors and safe retries for Alipay, WeChat, Huawei IAP and CMI.",
    )
    parser.add_argument("--version", action="version", version=f"payerr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    explain = sub.add_parser(
        "explain",
        help="what a code, or a pasted answer, means and whether to retry",
        description="Explain a code (payerr explain 45009), or read a pasted answer as "
        "payerr.inspect does (payerr explain --body - < answer.txt).",
    )
    explain.add_argument(
        "code",
        nargs="?",
        type=_code,
        help="the code, e.g. 40004, isv.invalid-signature, 1001880009",
    )
    explain.add_argument("--sub-code", "-s", type=_code, help="an Alipay sub_code under CODE")
    explain.add_argument(
        "--body",
        "-b",
        metavar="TEXT",
        help="an answer to read: a JSON or XML body, curl -i output, or a log line holding "
        "one; - reads it from standard input",
    )
    explain.add_argument(
        "--url",
        "-u",
        help="the request's URL: picks the provider and the API, so the hint is that API's",
    )
    explain.add_argument(
        "--status",
        type=_status,
        help="the HTTP status, when the pasted text has no status line (default 200)",
    )
    _common(explain, formats="text, json or markdown", lang="both")
    explain.set_defaults(run=_explain)

    codes = sub.add_parser("codes", help="list the catalog")
    _common(codes, formats="text (a table), json or markdown", lang="en")
    codes.add_argument(
        "--category", "-c", choices=[c.value for c in Category], help="only this category"
    )
    codes.add_argument("--retryable", action="store_true", help="only codes payerr retries")
    codes.add_argument("--stats", action="store_true", help="counts per provider and envelope")
    codes.set_defaults(run=_codes)

    schema = sub.add_parser("schema", help="the adapter file format as a JSON Schema")
    schema.set_defaults(run=_schema)

    demo = sub.add_parser("demo", help="see payerr work against the embedded sandbox")
    demo.set_defaults(run=_demo)

    sandbox = sub.add_parser("sandbox", help="run the fake providers on 127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=8765, help="0 picks a free port")
    sandbox.add_argument(
        "--script",
        action="append",
        metavar="ROUTE=STEPS",
        help="e.g. alipay.trade.pay=20000,20000,ok (repeatable)",
    )
    sandbox.add_argument(
        "--fault-rate", type=_rate, default=0.0, help="share of requests that fail (0 to 1)"
    )
    sandbox.add_argument("--seed", type=_seed, default=None, help="makes --fault-rate repeatable")
    sandbox.set_defaults(run=_sandbox)
    return parser


def main(argv: Sequence[str] | None = None, stdin: IO[str] | None = None) -> int:
    """Run the command; every failure is one line on stderr and an exit code."""
    try:
        args = build_parser().parse_args(argv)
        result: int = args.run(args, stdin or sys.stdin)
    except UsageError as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except BrokenPipeError:  # `payerr codes | head`
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_USAGE
    except Exception as exc:  # a bug or a broken environment: still one line at 3 a.m.
        if os.environ.get("PAYERR_DEBUG"):
            raise
        said = " ".join(str(exc).split())[:300]
        print(f"payerr: {type(exc).__name__}: {said} (PAYERR_DEBUG=1 shows where)", file=sys.stderr)
        return EXIT_USAGE
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
