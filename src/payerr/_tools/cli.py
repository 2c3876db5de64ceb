"""The ``payerr`` command: look codes and pasted answers up while an incident is on.

Exit codes: 0 found, 1 no such code, 2 bad usage. Bad input of any kind ends in
one line on stderr and exit 2, never a traceback. This module is the parser and the
entry point; each command runs in its own module (``cli_explain``, ``cli_codes``,
``cli_sandbox``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import IO, Any, NoReturn

from .._catalog.registry import catalog
from .._enums import Category
from .cli_codes import run_codes, run_schema
from .cli_common import DOCS_URL, EXIT_OK, EXIT_USAGE, FORMATS, LANGS, MAX_CODE, UsageError
from .cli_explain import run_explain
from .cli_sandbox import run_demo, run_sandbox

__all__ = ["DOCS_URL", "UsageError", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and no usage block) and no exit mid-call."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


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


# --- the parser: one builder per command -----------------------------------------


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
    """The command line: the program's own options, then one sub-parser per command."""
    from .. import __version__

    parser = _Parser(
        prog="payerr",
        description="Typed errors and safe retries for Alipay, WeChat, Huawei IAP and CMI.",
    )
    parser.add_argument("--version", action="version", version=f"payerr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_explain(sub)
    _add_codes(sub)
    sub.add_parser("schema", help="the adapter file format as a JSON Schema").set_defaults(
        run=run_schema
    )
    sub.add_parser("demo", help="see payerr work against the embedded sandbox").set_defaults(
        run=run_demo
    )
    _add_sandbox(sub)
    return parser


def _add_explain(sub: Any) -> None:
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
    explain.set_defaults(run=run_explain)


def _add_codes(sub: Any) -> None:
    codes = sub.add_parser("codes", help="list the catalog")
    _common(codes, formats="text (a table), json or markdown", lang="en")
    codes.add_argument(
        "--category", "-c", choices=[c.value for c in Category], help="only this category"
    )
    codes.add_argument("--retryable", action="store_true", help="only codes payerr retries")
    codes.add_argument("--stats", action="store_true", help="counts per provider and envelope")
    codes.set_defaults(run=run_codes)


def _add_sandbox(sub: Any) -> None:
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
    sandbox.set_defaults(run=run_sandbox)


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
