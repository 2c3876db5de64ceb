"""End to end on loopback: payerr's transports and adapter against bare clients and peers.

    python bench/e2e.py     # 20,000 requests per sync contender, 5,000 async, interleaved

The server (bench/_server.py) runs in its own process and answers every
request with a WeChat success body, so the figures are the clients' own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import requests
from httpx_retries import Retry, RetryTransport

import payerr

sys.path.insert(0, str(Path(__file__).parent))
from _timing import table

PATH = "/cgi-bin/user/info?openid=o1"


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_server.py"))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, f"http://127.0.0.1:{process.stdout.readline().strip()}"


def httpx_contenders(base: str) -> dict[str, Callable[[int], None]]:
    def make(transport: httpx.BaseTransport, parse: str) -> Callable[[int], None]:
        client = httpx.Client(base_url=base, transport=transport)

        def run(n: int) -> None:
            for _ in range(n):
                response = client.get(PATH)
                if parse == "json":
                    response.json()
                elif parse == "payerr":
                    payerr.inspect(response).data  # noqa: B018

        return run

    return {
        "httpx bare": make(httpx.HTTPTransport(), ""),
        "httpx + payerr.Transport": make(payerr.Transport(provider="wechat"), ""),
        "httpx + httpx-retries": make(RetryTransport(retry=Retry(total=3)), ""),
        "httpx bare, then .json()": make(httpx.HTTPTransport(), "json"),
        "httpx + payerr, then inspect().data": make(payerr.Transport(provider="wechat"), "payerr"),
    }


def requests_contenders(base: str) -> dict[str, Callable[[int], None]]:
    def make(adapter: requests.adapters.HTTPAdapter) -> Callable[[int], None]:
        session = requests.Session()
        session.mount("http://", adapter)

        def run(n: int) -> None:
            for _ in range(n):
                session.get(base + PATH)

        return run

    return {
        "requests bare": make(requests.adapters.HTTPAdapter()),
        "requests + payerr.RequestsAdapter": make(payerr.RequestsAdapter(provider="wechat")),
    }


def async_contenders(base: str) -> dict[str, Callable[[int], None]]:
    def make(transport: httpx.AsyncBaseTransport) -> Callable[[int], None]:
        def run(n: int) -> None:
            async def go() -> None:
                limits = httpx.Limits(max_connections=100)
                async with httpx.AsyncClient(
                    base_url=base, transport=transport, limits=limits
                ) as client:
                    gate = asyncio.Semaphore(100)

                    async def one() -> None:
                        async with gate:
                            await client.get(PATH)

                    await asyncio.gather(*(one() for _ in range(n)))

            asyncio.run(go())

        return run

    return {
        "async bare (100 tasks)": make(
            httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=100))
        ),
        "async + payerr.AsyncTransport": make(
            payerr.AsyncTransport(
                httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=100)),
                provider="wechat",
            )
        ),
    }


def measure(
    contenders: dict[str, Callable[[int], None]], total: int, rounds: int
) -> dict[str, float]:
    """Median microseconds per request; contenders alternate round by round."""
    per_round = total // rounds
    for run in contenders.values():
        run(200)  # warm up connections
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            started = time.perf_counter()
            run(per_round)
            samples[name].append((time.perf_counter() - started) / per_round * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--async-requests", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    server, base = start_server()
    try:
        rows: list[list[str]] = []
        for group, total in (
            (httpx_contenders, args.requests),
            (requests_contenders, args.requests),
            (async_contenders, args.async_requests),
        ):
            contenders = group(base)
            results = measure(contenders, total, args.rounds)
            baseline = next(iter(results.values()))
            for name, micro in results.items():
                rows.append([name, f"{micro:.1f} µs", f"{micro / baseline:.3f}×"])
        print(table(["client", "per request (median)", "vs first in group"], rows))
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
