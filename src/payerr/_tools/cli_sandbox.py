"""``payerr sandbox`` and ``payerr demo``: the commands that run the fake providers."""

from __future__ import annotations

import argparse
import errno
from typing import IO, TYPE_CHECKING

from .cli_common import EXIT_OK, UsageError

if TYPE_CHECKING:
    from ..sandbox import Sandbox


def run_demo(args: argparse.Namespace, stdin: IO[str]) -> int:
    from .demo import run_demo as demo

    return demo()


def run_sandbox(args: argparse.Namespace, stdin: IO[str]) -> int:
    """Serve the sandbox set up as the options say, until Ctrl-C or SIGTERM."""
    import signal

    sandbox = _start(args)

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


def _start(args: argparse.Namespace) -> Sandbox:
    """A listening sandbox with the scripts and faults of the options; bad ones stop it."""
    from ..sandbox import Sandbox

    try:
        sandbox = Sandbox(port=args.port)
    except OSError as exc:
        reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise UsageError(f"payerr sandbox: cannot listen on port {args.port}: {reason}") from None
    try:
        for item in args.script or []:
            _script(sandbox, item)
        if args.fault_rate:
            sandbox.random_faults(args.fault_rate, seed=args.seed)
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


def _script(sandbox: Sandbox, item: str) -> None:
    route, _, steps = item.partition("=")
    if not route or not steps:
        raise UsageError(f"payerr sandbox: --script wants ROUTE=STEP,STEP,..., not {item!r}")
    try:
        sandbox.script(route.strip(), steps)
    except ValueError as exc:
        raise UsageError(f"payerr sandbox: {exc}") from None
