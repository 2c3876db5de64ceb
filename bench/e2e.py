"""End to end on loopback: payerr's transports and adapter against bare clients and peers.

    python bench/e2e.py     # 20,000 requests per sync contender, 5,000 async, 20 rounds

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


Run = Callable[[int], None]
Contender = Callable[[], tuple[Run, Callable[[], None]]]
"""Makes a fresh client (and so a fresh connection): (send n requests, close)."""


def httpx_contenders(base: str) -> dict[str, Contender]:
    def make(transport: Callable[[], httpx.BaseTransport], parse: str = "") -> Contender:
        def fresh() -> tuple[Run, Callable[[], None]]:
            client = httpx.Client(base_url=base, transport=transport())

            def run(n: int) -> None:
                for _ in range(n):
                    response = client.get(PATH)
                    if parse == "json":
                        response.json()
                    elif parse == "payerr":
                        payerr.inspect(response).data  # noqa: B018

            return run, client.close

        return fresh

    return {
        "httpx bare": make(httpx.HTTPTransport),
        "httpx bare (again: the noise floor)": make(httpx.HTTPTransport),
        "httpx + payerr.Transport": make(lambda: payerr.Transport(provider="wechat")),
        "httpx + httpx-retries": make(lambda: RetryTransport(retry=Retry(total=3))),
        "httpx bare, then .json()": make(httpx.HTTPTransport, "json"),
        "httpx + payerr, then inspect().data": make(
            lambda: payerr.Transport(provider="wechat"), "payerr"
        ),
    }


def requests_contenders(base: str) -> dict[str, Contender]:
    def make(adapter: Callable[[], requests.adapters.HTTPAdapter]) -> Contender:
        def fresh() -> tuple[Run, Callable[[], None]]:
            session = requests.Session()
            session.mount("http://", adapter())

            def run(n: int) -> None:
                for _ in range(n):
                    session.get(base + PATH)

            return run, session.close

        return fresh

    return {
        "requests bare": make(requests.adapters.HTTPAdapter),
        "requests bare (again: the noise floor)": make(requests.adapters.HTTPAdapter),
        "requests + payerr.RequestsAdapter": make(
            lambda: payerr.RequestsAdapter(provider="wechat")
        ),
    }


def async_contenders(base: str) -> dict[str, Contender]:
    limits = httpx.Limits(max_connections=100)

    def make(transport: Callable[[], httpx.AsyncBaseTransport]) -> Contender:
        def fresh() -> tuple[Run, Callable[[], None]]:
            def run(n: int) -> None:
                async def go() -> None:
                    async with httpx.AsyncClient(
                        base_url=base, transport=transport(), limits=limits
                    ) as client:
                        gate = asyncio.Semaphore(100)

                        async def one() -> None:
                            async with gate:
                                await client.get(PATH)

                        await asyncio.gather(*(one() for _ in range(n)))

                asyncio.run(go())

            return run, lambda: None

        return fresh

    return {
        "async bare (100 tasks)": make(lambda: httpx.AsyncHTTPTransport(limits=limits)),
        "async + payerr.AsyncTransport": make(
            lambda: payerr.AsyncTransport(
                httpx.AsyncHTTPTransport(limits=limits), provider="wechat"
            )
        ),
    }


Sample = tuple[float, float]
"""(CPU seconds, wall seconds) per request in one block."""


def measure(contenders: dict[str, Contender], total: int, rounds: int) -> dict[str, list[Sample]]:
    """Per block: CPU time (this process only: the server runs in its own) and wall time.

    Every block gives each contender a fresh client, so no contender keeps one
    lucky (or unlucky) connection for the whole run, and the order rotates, so
    none always goes first. Ratios are taken block by block, in pairs.
    """
    per_round = total // rounds
    names = list(contenders)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for number in range(rounds):
        for name in names[number % len(names) :] + names[: number % len(names)]:
            run, close = contenders[name]()
            run(min(50, per_round))  # connect and warm up outside the clock
            cpu, wall = time.process_time(), time.perf_counter()
            run(per_round)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            samples[name].append((cpu / per_round, wall / per_round))
            close()
    return samples


def paired(values: list[Sample], base: list[Sample], which: int) -> float:
    """The median of per-block ratios (0: CPU time, 1: wall time)."""
    return statistics.median(v[which] / b[which] for v, b in zip(values, base, strict=True))


def spread(values: list[Sample], base: list[Sample], which: int) -> float:
    """Half the interquartile range of the per-block ratios: the noise of one comparison."""
    ratios = sorted(v[which] / b[which] for v, b in zip(values, base, strict=True))
    quartiles = statistics.quantiles(ratios, n=4)
    return (quartiles[2] - quartiles[0]) / 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--async-requests", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    server, base = start_server()
    try:
        rows: list[list[str]] = []
        notes: list[str] = []
        for group, total in (
            (httpx_contenders, args.requests),
            (requests_contenders, args.requests),
            (async_contenders, args.async_requests),
        ):
            contenders = group(base)
            results = measure(contenders, total, args.rounds)
            names = list(results)
            baseline, again = results[names[0]], results[names[1]]
            noise = max(abs(paired(again, baseline, 0) - 1), spread(again, baseline, 0))
            for name, values in results.items():
                rows.append(
                    [
                        name,
                        f"{statistics.median(v[0] for v in values) * 1e6:.1f} µs",
                        f"{paired(values, baseline, 0):.3f}×",
                        f"±{spread(values, baseline, 0) * 100:.1f} %",
                        f"{paired(values, baseline, 1):.3f}×",
                    ]
                )
            verdict = "resolves 1 %" if noise <= 0.01 else "too noisy to resolve 1 %"
            notes.append(f"{names[0]}: A/A {noise * 100:.1f} % — {verdict}")
        header = ["client", "CPU per request", "CPU vs bare", "spread", "wall vs bare"]
        print(table(header, rows))
        print()
        print("\n".join(notes))
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
