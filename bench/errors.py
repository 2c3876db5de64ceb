"""The error path: what a failed attempt costs, payerr against doing it yourself.

    python bench/errors.py

Two scripts through an in-process httpx MockTransport, so only client-side work
is measured: 503, 503, then 200 (a read), and WeChat -1, -1, then 0 (a POST; a
200 every time, so status-based retriers cannot see it). Every contender waits
zero seconds between attempts. Contenders: a hand-written loop, payerr's
Transport, httpx-retries (status 503 only) and stamina. CPU time per logical
request, measured in small interleaved blocks: the ratio is taken per block and
the median reported, with an A/A row (the hand loop against itself) that shows
the noise floor.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from itertools import cycle
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _timing import table

import payerr

URL = "https://api.weixin.qq.com/cgi-bin/message/custom/send"
SCRIPTS = {
    "503, 503, 200": [
        httpx.Response(503, content=b"<html>503</html>"),
        httpx.Response(503, content=b"<html>503</html>"),
        httpx.Response(200, json={"errcode": 0, "errmsg": "ok"}),
    ],
    "WeChat -1, -1, 0": [
        httpx.Response(200, json={"errcode": -1, "errmsg": "system error"}),
        httpx.Response(200, json={"errcode": -1, "errmsg": "system error"}),
        httpx.Response(200, json={"errcode": 0, "errmsg": "ok"}),
    ],
}


def mock(script: list[httpx.Response]) -> httpx.MockTransport:
    answers = cycle(script)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        return httpx.Response(answer.status_code, content=answer.content)

    return httpx.MockTransport(handler)


def failed(response: httpx.Response) -> bool:
    return response.status_code >= 500 or response.json().get("errcode", 0) != 0


def contenders(script: list[httpx.Response], method: str) -> dict[str, Callable[[], object]]:
    hand = httpx.Client(transport=mock(script))
    hand_again = httpx.Client(transport=mock(script))

    def loop(client: httpx.Client) -> Callable[[], object]:
        def send() -> object:
            for _ in range(3):
                response = client.request(method, URL, json={})
                if not failed(response):
                    return response.json()
            return None

        return send

    policy = payerr.RetryPolicy(max_attempts=3, backoff_initial=0, jitter=False, budget=None)
    marked = {"payerr.idempotent": True}
    with_payerr = httpx.Client(transport=payerr.Transport(mock(script), policy=policy))
    found: dict[str, Callable[[], object]] = {
        "hand-written loop": loop(hand),
        "hand-written loop (A/A)": loop(hand_again),
        "payerr": lambda: with_payerr.request(method, URL, json={}, extensions=marked).json(),
    }
    import stamina

    stamina.instrumentation.set_on_retry_hooks([])  # no log line per retry: compare the work
    stamina_client = httpx.Client(transport=mock(script))

    @stamina.retry(on=ValueError, attempts=3, wait_initial=0, wait_max=0, wait_jitter=0)
    def with_stamina() -> object:
        response = stamina_client.request(method, URL, json={})
        if failed(response):
            raise ValueError("retry")
        return response.json()

    found["stamina"] = with_stamina
    if script[0].status_code == 503:
        from httpx_retries import Retry, RetryTransport

        retry = Retry(total=2, backoff_factor=0, status_forcelist=[503], allowed_methods=[method])
        retrying = httpx.Client(transport=RetryTransport(transport=mock(script), retry=retry))
        found["httpx-retries"] = lambda: retrying.request(method, URL, json={}).json()
    return found


def requests_contenders(
    script: list[httpx.Response], method: str
) -> dict[str, Callable[[], object]]:
    """The hand loop and payerr on requests, each over a urllib3 pool that answers the
    script in process (no socket), so only client-side work is counted."""
    import io

    import requests
    import urllib3

    def session(adapter: requests.adapters.HTTPAdapter) -> requests.Session:
        answers = cycle(script)

        class Pool:
            def urlopen(self, method: str, url: str, **_: object) -> urllib3.HTTPResponse:
                answer = next(answers)
                return urllib3.HTTPResponse(
                    body=io.BytesIO(answer.content),
                    headers={"Content-Length": str(len(answer.content))},
                    status=answer.status_code,
                    preload_content=False,
                    decode_content=False,
                    request_method=method,
                )

        pool = Pool()
        vars(adapter)["get_connection_with_tls_context"] = lambda *_, **__: pool
        http = requests.Session()
        http.mount("https://", adapter)
        return http

    def loop(http: requests.Session) -> Callable[[], object]:
        def send() -> object:
            for _ in range(3):
                response = http.request(method, URL, json={})
                if response.status_code < 500 and response.json().get("errcode", 0) == 0:
                    return response.json()
            return None

        return send

    policy = payerr.RetryPolicy(max_attempts=3, backoff_initial=0, jitter=False, budget=None)
    ours = session(payerr.RequestsAdapter(policy=policy))
    return {
        "requests: hand-written loop": loop(session(requests.adapters.HTTPAdapter())),
        "requests: hand-written loop (A/A)": loop(session(requests.adapters.HTTPAdapter())),
        "requests: payerr": lambda: ours.request(
            method, URL, json={}, headers={"Payerr-Idempotent": "1"}
        ).json(),
    }


def measure(
    found: dict[str, Callable[[], object]], blocks: int = 40, number: int = 50
) -> dict[str, tuple[float, float]]:
    """Per block: CPU seconds per call of each contender, then ratios to the hand loop."""
    per_block: dict[str, list[float]] = {name: [] for name in found}
    for fn in found.values():
        fn()  # warm
    for block in range(blocks):
        names = list(found)
        if block % 2:
            names.reverse()
        for name in names:
            started = time.process_time()
            for _ in range(number):
                found[name]()
            per_block[name].append((time.process_time() - started) / number)
    base = per_block["hand-written loop"]
    return {
        name: (
            statistics.median(values),
            statistics.median(v / b for v, b in zip(values, base, strict=True)),
        )
        for name, values in per_block.items()
    }


CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
COUNTED = (
    "hand-written loop",
    "hand-written loop (A/A)",
    "payerr",
    "requests: hand-written loop",
    "requests: hand-written loop (A/A)",
    "requests: payerr",
)
SHORT, LONG = 50, 250


def child(title: str, name: str, count: int) -> None:
    """The process callgrind watches: ``count`` logical requests of one contender."""
    script = SCRIPTS[title]
    method = "GET" if script[0].status_code == 503 else "POST"
    make = requests_contenders if name.startswith("requests: ") else contenders
    one = make(script, method)[name]
    for _ in range(50):
        one()
    for _ in range(count):
        one()


def instructions(title: str, name: str, count: int) -> int:
    import os
    import subprocess

    # once outside callgrind first: a catalog cache made stale by an edit is compiled
    # now, not inside one of the two counted runs (it would swamp their difference)
    warm = [sys.executable, __file__, "--child", title, name, "0"]
    subprocess.run(warm, capture_output=True, check=True)
    result = subprocess.run(
        [*CALLGRIND, sys.executable, __file__, "--child", title, name, str(count)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise RuntimeError(result.stderr[-2000:])


def counted() -> int:
    """``--instructions``: per failed attempt, counted by callgrind (repeatable under load)."""
    from concurrent.futures import ThreadPoolExecutor

    names: tuple[str, ...] = COUNTED
    if "--only" in sys.argv:  # ``--only "payerr,requests: payerr"``: these rows alone
        wanted = sys.argv[sys.argv.index("--only") + 1].split(",")
        names = tuple(name for name in COUNTED if name in wanted)
    jobs = [(title, name) for title in SCRIPTS for name in names]

    def per_request(job: tuple[str, str]) -> float:
        long, short = instructions(*job, LONG), instructions(*job, SHORT)
        print(f"{job}: {(long - short) / (LONG - SHORT) / 1000:,.1f} k", file=sys.stderr)
        return (long - short) / (LONG - SHORT)

    with ThreadPoolExecutor(max_workers=2) as pool:
        found = dict(zip(jobs, pool.map(per_request, jobs), strict=True))
    for title in SCRIPTS:
        rows = []
        for name in names:
            prefix = "requests: " if name.startswith("requests: ") else ""
            hand = found.get((title, prefix + "hand-written loop"), 0.0)
            if not hand:  # rows counted alone: the figures printed above are the result
                continue
            rows.append(
                [
                    name,
                    f"{found[(title, name)] / 1000:,.1f} k",
                    f"{found[(title, name)] / hand:.3f}×",
                    f"{(found[(title, name)] - hand) / 2000:+,.1f} k",
                ]
            )
        print(f"\n{title}, instructions per logical request of 3 attempts\n")
        print(table(["contender", "per request", "vs hand loop", "per failed attempt"], rows))
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    if "--instructions" in sys.argv:
        return counted()
    for title, script in SCRIPTS.items():
        method = "GET" if script[0].status_code == 503 else "POST"
        results = measure(contenders(script, method))
        hand = results["hand-written loop"][0]
        rows = []
        for name, (seconds, ratio) in results.items():
            extra = (seconds - hand) / 2 * 1e6  # two failed attempts per logical request
            rows.append([name, f"{seconds * 1e6:.0f} µs", f"{ratio:.2f}x", f"{extra:+.1f} µs"])
        print(f"\n{title} ({method}), CPU time per logical request of 3 attempts\n")
        print(table(["contender", "per request", "vs hand loop", "per failed attempt"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
