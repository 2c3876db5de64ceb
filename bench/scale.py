"""Scale: classification time per response from 1 to 1,000,000 responses, and memory
while retrying under sustained faults.

    python bench/scale.py                 # up to 1,000,000 responses
    python bench/scale.py --max 100000
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path

import httpx

import payerr
from payerr import testing

sys.path.insert(0, str(Path(__file__).parent))
from _timing import table

URL = "https://api.weixin.qq.com/cgi-bin/user/info"
BODIES = [
    json.dumps({"subscribe": 1, "openid": "o6_bmjrPTlm6", "language": "zh_CN"}).encode(),
    json.dumps({"errcode": 45011, "errmsg": "api minute-quota reach limit rid: 1-2-3"}).encode(),
    json.dumps({"errcode": 0, "errmsg": "ok", "data": list(range(20))}).encode(),
    json.dumps({"errcode": 40001, "errmsg": "invalid credential"}).encode(),
]


def classification(limit: int, traced_limit: int) -> list[list[str]]:
    """Time per response in each decade (1, 10, 100, ...); traced memory in a second pass.

    Each read asks for the error too, so the two error bodies build theirs.

    Timing runs untraced (tracemalloc slows every allocation); memory is traced
    up to ``traced_limit`` responses.
    """
    responses = [
        payerr.RawResponse(200, {"content-type": "application/json"}, body, URL, "GET")
        for body in BODIES
    ]
    payerr.inspect(responses[0])
    decades = [10**k for k in range(len(str(limit))) if 10**k <= limit]
    timings = {}
    done = 0
    for decade in decades:
        count = decade - done
        started = time.perf_counter()
        for i in range(count):
            payerr.inspect(responses[i & 3]).error  # noqa: B018  (the typed error, built)
        timings[decade] = (time.perf_counter() - started) / count
        done = decade
    memory = {}
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    done = 0
    for decade in (d for d in decades if d <= traced_limit):
        for i in range(decade - done):
            payerr.inspect(responses[i & 3]).error  # noqa: B018
        done = decade
        memory[decade] = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return [
        [
            f"{d:,}",
            f"{timings[d] * 1e6:.2f} µs",
            f"{memory[d] / 1024:.0f} KiB" if d in memory else "-",
        ]
        for d in decades
    ]


def sustained_faults(requests: int) -> list[list[str]]:
    """A provider that is always busy: every request retried to max_attempts, memory traced."""

    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errcode": -1, "errmsg": "system error"})

    policy = payerr.RetryPolicy(max_attempts=3, budget=None)
    client = httpx.Client(transport=payerr.Transport(httpx.MockTransport(busy), policy=policy))
    rows = []
    with testing.instant_sleeps() as sleeps:
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for i in range(1, requests + 1):
            try:
                client.get(URL)
            except payerr.ServiceUnavailableError:
                pass
            if i in (1_000, requests // 10, requests // 2, requests):
                sleeps.clear()
                gc.collect()
                memory = tracemalloc.get_traced_memory()[0] - base
                rows.append([f"{i:,}", f"{i * 3:,}", f"{memory / 1024:.0f} KiB"])
        tracemalloc.stop()
    client.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000)
    parser.add_argument("--traced", type=int, default=100_000)
    parser.add_argument("--faulty", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(
        table(
            ["responses read", "time per response", "traced memory"],
            classification(args.max, args.traced),
        )
    )
    print()
    print(
        table(
            ["requests (all failing)", "attempts", "traced memory"], sustained_faults(args.faulty)
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
