"""CPU work per request, counted: the same loopback runs as e2e.py, under callgrind.

    python bench/instructions.py      # needs valgrind; about two minutes

Wall-clock medians on loopback wander by a few percent between two identical
clients, which is the size of what we want to see. Instructions do not: the
client process runs under ``valgrind --tool=callgrind`` twice per contender
(a short and a long run against the same server process), and the difference
divided by the extra requests is the client's own work per request, the
same on every run. The server's work and the kernel's are not counted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _timing import table
from e2e import PATH, start_server

SHORT, LONG = 200, 1200


def contenders(base: str) -> dict[str, Callable[[], Callable[[], object]]]:
    """Each makes a client and returns one request's worth of work."""
    import httpx
    import requests
    from httpx_retries import Retry, RetryTransport

    import payerr

    def client(transport: httpx.BaseTransport) -> Callable[[], object]:
        http = httpx.Client(base_url=base, transport=transport)
        return lambda: http.get(PATH)

    def session(adapter: requests.adapters.HTTPAdapter) -> Callable[[], object]:
        http = requests.Session()
        http.mount("http://", adapter)
        return lambda: http.get(base + PATH)

    def then_inspect(transport: httpx.BaseTransport) -> Callable[[], object]:
        get = client(transport)
        return lambda: payerr.inspect(get()).data

    def then_json(transport: httpx.BaseTransport) -> Callable[[], object]:
        get = client(transport)
        return lambda: get().json()  # type: ignore[attr-defined]

    return {
        "httpx bare": lambda: client(httpx.HTTPTransport()),
        "httpx + payerr.Transport": lambda: client(payerr.Transport(provider="wechat")),
        "httpx + httpx-retries": lambda: client(RetryTransport(retry=Retry(total=3))),
        "httpx bare, then .json()": lambda: then_json(httpx.HTTPTransport()),
        "httpx + httpx-retries, then .json()": lambda: then_json(
            RetryTransport(retry=Retry(total=3))
        ),
        "httpx + payerr, then inspect().data": lambda: then_inspect(
            payerr.Transport(provider="wechat")
        ),
        "requests bare": lambda: session(requests.adapters.HTTPAdapter()),
        "requests + payerr.RequestsAdapter": lambda: session(
            payerr.RequestsAdapter(provider="wechat")
        ),
    }


def child(name: str, base: str, count: int) -> None:
    """The process valgrind watches: warm up, then ``count`` requests."""
    one = contenders(base)[name]()
    for _ in range(100):
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
        env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dict layouts on every run
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise RuntimeError(f"callgrind printed no total for {name}:\n{result.stderr[-2000:]}")


def per_request(name: str, base: str) -> float:
    return (counted(name, base, LONG) - counted(name, base, SHORT)) / (LONG - SHORT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("NAME", "BASE", "COUNT"))
    args = parser.parse_args(argv)
    if args.child:
        name, base, count = args.child
        child(name, base, int(count))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt install valgrind)", file=sys.stderr)
        return 2
    server, base = start_server()
    try:
        names = list(contenders(base))
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = dict(zip(names, pool.map(lambda n: per_request(n, base), names), strict=True))
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    rows = []
    for name, instructions in counts.items():
        bare = counts["requests bare" if name.startswith("requests") else "httpx bare"]
        rows.append(
            [
                name,
                f"{instructions / 1000:,.1f} k",
                f"{(instructions - bare) / 1000:+,.1f} k",
                f"{instructions / bare:.3f}×",
            ]
        )
    print(table(["client", "instructions per request", "vs bare", "ratio"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
