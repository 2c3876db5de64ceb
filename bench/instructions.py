"""CPU work per request, counted: the same loopback runs as e2e.py, under callgrind.

    python bench/instructions.py      # needs valgrind; about ten minutes
    python bench/instructions.py --only aiohttp --jobs 2

Wall-clock medians on loopback wander by a few percent between two identical
clients, which is the size of what we want to see. Instructions do not: the
client process runs under ``valgrind --tool=callgrind`` twice per contender
(a short and a long run against the same server process), and the difference
divided by the extra requests is the client's own work per request. The
server's work and the kernel's are not counted. One counted run at a time
by default: a client's count still moves with how an answer's bytes arrive
(a head and body read in one go or two), and two runs side by side on a
2-core machine, with the server between them, made rows differ by up to
150 k (aiohttp's most).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _timing import compile_sources, counted_env, table
from e2e import PATH, start_server

BIG = "/cgi-bin/user/info/batchget"
"""The server answers this path with 500 KiB of WeChat users (bench/_server.py)."""

SHORT, LONG = 50, 300
BIG_SHORT, BIG_LONG = 3, 15
"""Requests per run; a 500 KiB body costs ~20,000 times a small one's parse, so fewer."""

Factory = Callable[[], Callable[[], object]]


def contenders(base: str) -> dict[str, tuple[Factory, str]]:
    """Each: (make a client and return one request's worth of work, the row it is held to)."""
    import httpx
    import requests
    from httpx_retries import Retry, RetryTransport

    import payerr

    def client(transport: httpx.BaseTransport, path: str = PATH) -> Callable[[], Any]:
        http = httpx.Client(base_url=base, transport=transport)
        return lambda: http.get(path)

    def session(adapter: requests.adapters.HTTPAdapter, path: str = PATH) -> Callable[[], Any]:
        http = requests.Session()
        http.mount("http://", adapter)
        return lambda: http.get(base + path)

    def then_inspect(get: Callable[[], Any]) -> Callable[[], object]:
        return lambda: payerr.inspect(get()).data

    def then_json(get: Callable[[], Any]) -> Callable[[], object]:
        return lambda: get().json()

    def bare() -> httpx.BaseTransport:
        return httpx.HTTPTransport()

    def wechat() -> httpx.BaseTransport:
        return payerr.Transport(provider="wechat")

    def adapter() -> requests.adapters.HTTPAdapter:
        return payerr.RequestsAdapter(provider="wechat")

    def aio(middlewares: tuple[Any, ...], path: str = PATH) -> Callable[[], object]:
        """aiohttp on an event loop of its own: one GET, then ``await response.json()``."""
        import asyncio

        import aiohttp

        loop = asyncio.new_event_loop()

        async def open_session() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(base, middlewares=middlewares)

        http = loop.run_until_complete(open_session())

        async def get() -> object:
            async with http.get(path) as response:
                return await response.json()

        return lambda: loop.run_until_complete(get())

    plain = requests.adapters.HTTPAdapter
    aj, abig = "aiohttp bare, then .json()", "aiohttp bare, 500 KiB, then .json()"
    hb, rb = "httpx bare", "requests bare"
    hj, rj = "httpx bare, then .json()", "requests bare, then .json()"
    hbig, rbig = "httpx bare, 500 KiB, then .json()", "requests bare, 500 KiB, then .json()"
    return {
        hb: (lambda: client(bare()), hb),
        "httpx bare (again: A/A)": (lambda: client(bare()), hb),
        "httpx + payerr.Transport": (lambda: client(wechat()), hb),
        "httpx + httpx-retries": (lambda: client(RetryTransport(retry=Retry(total=3))), hb),
        hj: (lambda: then_json(client(bare())), hb),
        "httpx bare, then .json() (again: A/A)": (lambda: then_json(client(bare())), hj),
        "httpx + httpx-retries, then .json()": (
            lambda: then_json(client(RetryTransport(retry=Retry(total=3)))),
            hj,
        ),
        "httpx + payerr, then inspect().data": (lambda: then_inspect(client(wechat())), hj),
        "httpx + payerr, then .json()": (lambda: then_json(client(wechat())), hj),
        hbig: (lambda: then_json(client(bare(), BIG)), hbig),
        "httpx bare, 500 KiB, then .json() (again: A/A)": (
            lambda: then_json(client(bare(), BIG)),
            hbig,
        ),
        "httpx + payerr, 500 KiB, then .json()": (lambda: then_json(client(wechat(), BIG)), hbig),
        "httpx + payerr, 500 KiB, then inspect().data": (
            lambda: then_inspect(client(wechat(), BIG)),
            hbig,
        ),
        rb: (lambda: session(plain()), rb),
        "requests bare (again: A/A)": (lambda: session(plain()), rb),
        "requests + payerr.RequestsAdapter": (lambda: session(adapter()), rb),
        rj: (lambda: then_json(session(plain())), rb),
        "requests + payerr, then .json()": (lambda: then_json(session(adapter())), rj),
        rbig: (lambda: then_json(session(plain(), BIG)), rbig),
        "requests + payerr, 500 KiB, then .json()": (
            lambda: then_json(session(adapter(), BIG)),
            rbig,
        ),
        aj: (lambda: aio(()), aj),
        "aiohttp bare, then .json() (again: A/A)": (lambda: aio(()), aj),
        "aiohttp + payerr, then .json()": (
            lambda: aio((payerr.AiohttpMiddleware(provider="wechat"),)),
            aj,
        ),
        abig: (lambda: aio((), BIG), abig),
        "aiohttp + payerr, 500 KiB, then .json()": (
            lambda: aio((payerr.AiohttpMiddleware(provider="wechat"),), BIG),
            abig,
        ),
    }


def counts_for(name: str) -> tuple[int, int]:
    return (BIG_SHORT, BIG_LONG) if "500 KiB" in name else (SHORT, LONG)


def child(name: str, base: str, count: int) -> None:
    """The process valgrind watches: warm up, then ``count`` requests."""
    one = contenders(base)[name][0]()
    for _ in range(min(100, count)):
        one()
    for _ in range(count):
        one()


def counted(name: str, base: str, count: int) -> int:
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            name,
            base,
            str(count),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=counted_env(),  # the same dict layouts and variables on every run
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise RuntimeError(f"callgrind printed no total for {name}:\n{result.stderr[-2000:]}")


def per_request(name: str, base: str) -> float:
    short, long = counts_for(name)
    found = (counted(name, base, long) - counted(name, base, short)) / (long - short)
    print(f"{name}: {found / 1000:,.1f} k", file=sys.stderr, flush=True)  # as each is done
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("NAME", "BASE", "COUNT"))
    parser.add_argument(
        "--only", action="append", default=[], help="rows whose name contains this (repeatable)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="counted runs at a time (default 1: on loopback a client's count moves with "
        "how the answers' bytes arrive, so runs side by side on a busy machine differ)",
    )
    args = parser.parse_args(argv)
    if args.child:
        name, base, count = args.child
        child(name, base, int(count))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt install valgrind)", file=sys.stderr)
        return 2
    # A catalog cache of the bench's own, compiled once before counting: a checkout being
    # edited changes the shared cache's key, and a counted run that compiled the catalog
    # would count the compile (about 2 G instructions) as requests.
    os.environ["XDG_CACHE_HOME"] = cache = tempfile.mkdtemp(prefix="payerr-bench-")
    subprocess.run(
        [sys.executable, "-c", "from payerr._catalog.registry import catalog; catalog().names"],
        check=True,
    )
    compile_sources()
    server, base = start_server()
    try:
        table_of = contenders(base)
        names = [n for n in table_of if not args.only or any(o in n for o in args.only)]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            counts = dict(zip(names, pool.map(lambda n: per_request(n, base), names), strict=True))
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
        shutil.rmtree(cache, ignore_errors=True)
    rows = []
    for name, instructions in counts.items():
        held_to = table_of[name][1]
        bare = counts.get(held_to)  # "-" when that row was not run (--only)
        rows.append(
            [
                name,
                f"{instructions / 1000:,.1f} k",
                held_to,
                "-" if bare is None else f"{(instructions - bare) / 1000:+,.1f} k",
                "-" if bare is None else f"{instructions / bare:.3f}×",
            ]
        )
    print(table(["client", "instructions per request", "held to", "difference", "ratio"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
