"""Load with injected faults: many payment-like requests through payerr against the sandbox.

    python bench/load.py                 # 2,000 orders, 30 % faults, async and threads
    python bench/load.py --orders 500 --fault-rate 1.0

Each logical request is a CMI createOrder with its own transactionCode. The
sandbox fails a share of requests at random (platform errors, network
congestion, gateway pages, connections reset after the order was created).
QPS limits (9000004) are left out: they start an app-wide cooldown, which
tests/test_coordinator.py covers. The figures printed are the ones
docs/reliability.md quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
import sys
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests

import payerr
from payerr.sandbox import CMI_APP_KEY, CMI_APP_SECRET, Sandbox, wsse_headers

FAULT_STEPS = ("9000003", "reset!", "html502", "1000176")
ROUTE = "cmi.create_order"


@dataclass
class Figures:
    mode: str
    orders: int
    fault_rate: float
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    untyped: int = 0
    sent: int = 0
    faults_injected: int = 0
    retries: int = 0
    duplicates: int = 0
    executions: int = 0
    budget_left: int | None = None
    memory_growth: int = 0

    def row(self) -> list[str]:
        done = self.outcomes["created"] + self.outcomes["ConflictError 1000162"]
        return [
            self.mode,
            str(self.orders),
            f"{self.fault_rate:.0%}",
            str(self.sent),
            str(self.faults_injected),
            str(self.retries),
            str(done),
            str(self.orders - done),
            str(self.untyped),
            str(self.duplicates),
            f"{self.memory_growth / 1024:.0f} KiB",
            f"{self.seconds:.1f}s",
        ]


def cmi_token(url: str) -> str:
    headers = wsse_headers(CMI_APP_KEY, CMI_APP_SECRET)
    reply = httpx.post(
        url + "/aep/APP_getAccessToken_SBO/v1", json={"id": CMI_APP_KEY}, headers=headers
    )
    token: str = reply.json()["accessToken"]
    return token


def outcome_name(result: Any) -> str:
    if isinstance(result, payerr.PayError):
        return " ".join(p for p in (type(result).__mro__[1].__name__, result.code) if p)
    if isinstance(result, BaseException):
        return f"untyped {type(result).__name__}"
    return "created"


def policy() -> payerr.RetryPolicy:
    return payerr.RetryPolicy(max_attempts=4, backoff_initial=0.005, backoff_max=0.05)


def order(i: int, run: str) -> dict[str, str]:
    return {"thirdOrderId": f"{run}-{i}", "transactionCode": f"{run}-TX-{i}", "packageId": "P7"}


async def async_orders(url: str, orders: int, concurrency: int, run: str) -> tuple[list[Any], Any]:
    credentials = payerr.JsonBodyToken(lambda: cmi_token(url))
    transport = payerr.AsyncTransport(provider="cmi", policy=policy(), credentials=credentials)
    limits = httpx.Limits(max_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=url, transport=transport, limits=limits, timeout=10
    ) as client:

        async def one(i: int) -> Any:
            async with gate:
                try:
                    return await client.post("/aep/APP_createOrder_SBO/v1", json=order(i, run))
                except Exception as error:
                    return error

        results = await asyncio.gather(*(one(i) for i in range(orders)))
    return list(results), transport


def thread_orders(url: str, orders: int, threads: int, run: str) -> tuple[list[Any], Any]:
    credentials = payerr.JsonBodyToken(lambda: cmi_token(url))
    adapter = payerr.RequestsAdapter(
        provider="cmi",
        policy=policy(),
        credentials=credentials,
        pool_connections=threads,
        pool_maxsize=threads,
    )
    session = requests.Session()
    session.mount("http://", adapter)

    def one(i: int) -> Any:
        try:
            return session.post(url + "/aep/APP_createOrder_SBO/v1", json=order(i, run), timeout=10)
        except Exception as error:
            return error

    with session, ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, range(orders)))
    return results, adapter


def run(
    mode: str,
    orders: int,
    fault_rate: float,
    *,
    concurrency: int = 100,
    threads: int = 16,
    seed: int = 2026,
    traced: bool = True,
) -> Figures:
    """One load run against a fresh sandbox; the figures, with nothing left running.

    ``traced=False`` skips memory tracing, which slows every allocation several-fold.
    """
    figures = Figures(mode, orders, fault_rate)
    gc.collect()
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    with Sandbox() as sandbox:
        sandbox.random_faults(fault_rate, seed=seed, steps=FAULT_STEPS, routes=(ROUTE,))
        tag = f"{mode}-{secrets.token_hex(3)}"
        started = time.perf_counter()
        if mode == "async":
            results, owner = asyncio.run(async_orders(sandbox.url, orders, concurrency, tag))
        else:
            results, owner = thread_orders(sandbox.url, orders, threads, tag)
        figures.seconds = time.perf_counter() - started
        figures.outcomes = Counter(outcome_name(r) for r in results)
        figures.untyped = sum(
            1
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, payerr.PayError)
        )
        ledger = sandbox.ledger.snapshot().get("transactionCode", {})
        figures.sent = sum(row["requests"] for row in ledger.values())
        figures.executions = sum(row["executions"] for row in ledger.values())
        figures.duplicates = sum(1 for row in ledger.values() if row["executions"] > 1)
        figures.faults_injected = sandbox.faults.injected
        figures.retries = figures.sent - orders
        figures.budget_left = owner.budget_left("cmi")
        del results, owner
    del sandbox  # its ledger and orders are the server's memory, not the client's
    gc.collect()
    if traced:
        figures.memory_growth = max(0, tracemalloc.get_traced_memory()[0] - before)
        tracemalloc.stop()
    return figures


HEADER = [
    "mode",
    "orders",
    "faults",
    "sent",
    "injected",
    "retries",
    "created",
    "typed errors",
    "untyped",
    "duplicates",
    "memory growth",
    "time",
]


def table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(out + ["| " + " | ".join(row) + " |" for row in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    args = parser.parse_args(argv)
    rows, all_figures = [], []
    for mode in ("async", "threads"):  # warm up: imports, catalog, connection machinery
        run(mode, 50, args.fault_rate)
    for mode in ("async", "threads"):
        for rate in (args.fault_rate, 1.0):
            figures = run(mode, args.orders if rate < 1 else args.orders // 4, rate)
            all_figures.append(figures)
            rows.append(figures.row())
            print(f"{mode} at {rate:.0%}: {dict(figures.outcomes)}", file=sys.stderr)
    print(table(rows))
    bad = [f for f in all_figures if f.duplicates or f.untyped]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
