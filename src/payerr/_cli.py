"""The ``payerr`` command: look codes up while an incident is on.

Exit codes: 0 found, 1 no such code, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence

from ._catalog import CodeInfo, catalog
from ._enums import Category, RetryHint

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2


def _matches(code: str, provider: str | None, sub_code: str | None) -> list[CodeInfo]:
    """Every entry for this code, across providers unless one is named."""
    specs = [catalog().spec(provider)] if provider else list(catalog())
    return [info for spec in specs if (info := spec.find(code, sub_code)) is not None]


def _describe(info: CodeInfo, lang: str) -> str:
    codes = "/".join(c for c in (info.code, info.sub_code) if c) or "(empty)"
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
    if info.provider_message:
        lines.append(f"  provider says: {info.provider_message}")
    if lang in ("zh", "both"):
        lines += [f"  含义: {info.message_zh}", f"  处理: {info.solution_zh}"]
    if lang in ("en", "both"):
        lines += [f"  meaning: {info.message_en}", f"  fix:     {info.solution_en}"]
    for rule in info.rules:
        changes = ", ".join(f"{k}={v}" for k, v in rule.changes.items() if k in ("retry",))
        lines.append(f"  on {', '.join(rule.methods)}: {changes}")
    return "\n".join(lines)


def _explain(args: argparse.Namespace) -> int:
    found = _matches(str(args.code).strip(), args.provider, args.sub_code)
    if args.json:
        print(json.dumps([info.as_dict() for info in found], ensure_ascii=False, indent=2))
    elif found:
        if len(found) > 1:
            providers = ", ".join(info.provider for info in found)
            print(f"{args.code} is a code of several providers ({providers}):\n")
        print("\n\n".join(_describe(info, args.lang) for info in found))
    else:
        where = f" for {args.provider}" if args.provider else ""
        print(f"no code {args.code!r}{where} in the catalog", file=sys.stderr)
    return EXIT_OK if found else EXIT_NOT_FOUND


def _selected(args: argparse.Namespace) -> Iterable[CodeInfo]:
    specs = [catalog().spec(args.provider)] if args.provider else list(catalog())
    for spec in specs:
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


def render_codes(infos: Iterable[CodeInfo], fmt: str, lang: str = "en") -> str:
    """The code reference as a table, JSON or Markdown."""
    rows = list(infos)
    if fmt == "json":
        return json.dumps([info.as_dict() for info in rows], ensure_ascii=False, indent=2)
    header = ["provider", "code", "sub_code", "class", "retry", "processed", "meaning"]

    def cells(info: CodeInfo) -> list[str]:
        cls = info.error_class
        meaning = info.message_zh if lang == "zh" else info.message_en
        return [
            info.provider,
            info.code,
            info.sub_code or "",
            cls.__name__ if cls else "",
            info.retry.value,
            info.processed.value,
            meaning,
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


def render_stats(provider: str | None = None) -> str:
    """How many entries each adapter holds: per provider, per envelope, per category."""
    specs = [catalog().spec(provider)] if provider else list(catalog())
    lines = []
    for spec in specs:
        errors = [i for i in (*spec.codes.values(), *spec.sub_codes.values()) if not i.ok]
        numeric = sum(1 for i in spec.codes.values() if i.code.lstrip("-").isdigit())
        envelopes = ", ".join(
            f"{e.name} ({e.format}{', ' + ' '.join(e.paths) if e.paths else ''})"
            for e in spec.envelopes
        )
        lines.append(f"{spec.name}: {len(errors)} error codes")
        lines.append(f"  envelopes: {envelopes}")
        lines.append(
            f"  codes: {len(spec.codes)} ({numeric} numeric, {len(spec.codes) - numeric} named)"
            f", sub_codes: {len(spec.sub_codes)}, statuses: {len(spec.statuses)}"
            f", success codes: {len(spec.success)}, per-API rules: "
            f"{sum(len(i.rules) for i in errors)}"
        )
        by_category: dict[str, int] = {}
        for info in errors:
            key = info.category.value if info.category else "success"
            by_category[key] = by_category.get(key, 0) + 1
        shown = ", ".join(f"{k} {v}" for k, v in sorted(by_category.items(), key=lambda x: -x[1]))
        lines.append(f"  by category: {shown}")
    return "\n".join(lines)


def _codes(args: argparse.Namespace) -> int:
    if args.stats:
        print(render_stats(args.provider))
        return EXIT_OK
    print(render_codes(_selected(args), args.format, args.lang))
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from ._catalog import adapter_schema

    print(json.dumps(adapter_schema(), ensure_ascii=False, indent=2))
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo()


def _sandbox(args: argparse.Namespace) -> int:
    from .sandbox import Sandbox

    sandbox = Sandbox(port=args.port)
    for item in args.script or []:
        route, _, steps = item.partition("=")
        if not route or not steps:
            print(f"--script wants ROUTE=STEP,STEP,..., not {item!r}", file=sys.stderr)
            return EXIT_USAGE
        sandbox.script(route, steps)
    if args.fault_rate:
        sandbox.random_faults(args.fault_rate, seed=args.seed)
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Stop cleanly on Ctrl-C and on SIGTERM, even when started with SIGINT ignored.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"payerr sandbox listening on {sandbox.url} (Ctrl-C to stop)", flush=True)
    print(f"ledger: {sandbox.url}/_sandbox/ledger", flush=True)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The command line, declared in one place (long: one block per command)."""
    parser = argparse.ArgumentParser(
        prog="payerr",
        description="Typed errors and safe retries for Alipay, WeChat, Huawei IAP and CMI.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    providers = [spec.name for spec in catalog()]

    explain = sub.add_parser("explain", help="what a code means and whether to retry")
    explain.add_argument("code", help="the code, e.g. 40004, isv.invalid-signature, 1001880009")
    explain.add_argument("--provider", "-p", choices=providers)
    explain.add_argument("--sub-code", "-s", help="an Alipay sub_code under CODE")
    explain.add_argument("--lang", choices=("zh", "en", "both"), default="both")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.set_defaults(run=_explain)

    codes = sub.add_parser("codes", help="list the catalog")
    codes.add_argument("--provider", "-p", choices=providers)
    codes.add_argument("--category", "-c", choices=[c.value for c in Category])
    codes.add_argument("--retryable", action="store_true", help="only codes payerr retries")
    codes.add_argument("--format", "-f", choices=("table", "json", "markdown"), default="table")
    codes.add_argument("--lang", choices=("zh", "en"), default="en")
    codes.add_argument("--stats", action="store_true", help="counts per provider and envelope")
    codes.set_defaults(run=_codes)

    schema = sub.add_parser("schema", help="the adapter file format as a JSON Schema")
    schema.set_defaults(run=_schema)

    demo = sub.add_parser("demo", help="see payerr work against the embedded sandbox")
    demo.set_defaults(run=_demo)

    sandbox = sub.add_parser("sandbox", help="run the fake providers on 127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument(
        "--script",
        action="append",
        metavar="ROUTE=STEPS",
        help="e.g. alipay.trade.pay=20000,20000,ok (repeatable)",
    )
    sandbox.add_argument("--fault-rate", type=float, default=0.0, help="random transient faults")
    sandbox.add_argument("--seed", type=int, default=None)
    sandbox.set_defaults(run=_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except BrokenPipeError:  # `payerr codes | head`
        return EXIT_OK
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
