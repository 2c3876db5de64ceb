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

    python bench/errors.py --instructions   # counted by callgrind: httpx, requests, aiohttp

adds requests (a urllib3 pool that answers in process) and aiohttp (a connector
whose connections answer in process: aiohttp still writes each request and parses
each answer from bytes), each client's hand-written loop against payerr on it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _timing import counted_env, table

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


class _Wire(asyncio.Transport):
    """One connection's socket, in process: a request written whole (head and
    Content-Length bytes of body) is answered with the script's next response, on the
    loop's next turn as a socket's bytes would arrive."""

    def __init__(self, protocol: asyncio.Protocol, answers: Iterator[bytes]) -> None:
        super().__init__()
        self._protocol, self._answers = protocol, answers
        self._loop = asyncio.get_running_loop()
        self._sent = b""
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._sent += bytes(data)
        head, blank, body = self._sent.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if blank and len(body) >= length:
            self._sent = b""
            self._loop.call_soon(self._protocol.data_received, next(self._answers))

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def get_write_buffer_size(self) -> int:
        return 0

    def is_reading(self) -> bool:
        return True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def aiohttp_contenders(
    script: list[httpx.Response], method: str
) -> dict[str, Callable[[], object]]:
    """The hand loop and payerr on aiohttp, each session's connector answering the script
    in process: aiohttp still writes every request and parses every answer from bytes,
    so each attempt costs the same client-side work whoever sends it (a loopback server
    would add socket calls and, in process, the server's own work to both)."""
    import aiohttp

    wire = [
        b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
        % (
            answer.status_code,
            answer.reason_phrase.encode(),
            answer.headers.get("content-type", "text/html").encode(),
            len(answer.content),
            answer.content,
        )
        for answer in script
    ]

    class Scripted(aiohttp.BaseConnector):
        """Connections whose socket is a ``_Wire`` answering this script."""

        def __init__(self) -> None:
            super().__init__()
            self._answers = cycle(wire)

        async def _create_connection(self, *_: object) -> Any:
            protocol = self._factory()
            protocol.connection_made(_Wire(protocol, self._answers))
            return protocol

    loop = asyncio.new_event_loop()
    policy = payerr.RetryPolicy(max_attempts=3, backoff_initial=0, jitter=False, budget=None)

    async def sessions() -> tuple[aiohttp.ClientSession, ...]:
        ours = payerr.AiohttpMiddleware(policy=policy)
        return (
            aiohttp.ClientSession(connector=Scripted()),
            aiohttp.ClientSession(connector=Scripted()),
            aiohttp.ClientSession(connector=Scripted(), middlewares=[ours]),
        )

    hand, hand_again, with_payerr = loop.run_until_complete(sessions())

    def loop_of(session: aiohttp.ClientSession) -> Callable[[], object]:
        async def send() -> object:
            for _ in range(3):
                async with session.request(method, URL, json={}) as response:
                    if response.status < 500:
                        data = await response.json()
                        if data.get("errcode", 0) == 0:
                            return data
            return None

        return lambda: loop.run_until_complete(send())

    async def payerr_send() -> object:
        marked = {"Payerr-Idempotent": "1"}
        async with with_payerr.request(method, URL, json={}, headers=marked) as response:
            return await response.json()

    return {
        "aiohttp: hand-written loop": loop_of(hand),
        "aiohttp: hand-written loop (A/A)": loop_of(hand_again),
        "aiohttp: payerr": lambda: loop.run_until_complete(payerr_send()),
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
    "aiohttp: hand-written loop",
    "aiohttp: hand-written loop (A/A)",
    "aiohttp: payerr",
)
SHORT, LONG = 50, 250
SPANS = {"aiohttp": (50, 1050)}
"""Logical requests per counted run, by client. An aiohttp process's count moves by
about 2 M instructions from one start to the next (the per-request work does not):
a longer span keeps that under 3 k a request."""
COMPILED = "payerr: catalog compiled in this run"


def child(title: str, name: str, count: int) -> None:
    """The process callgrind watches: ``count`` logical requests of one contender."""
    script = SCRIPTS[title]
    method = "GET" if script[0].status_code == 503 else "POST"
    client = name.partition(": ")[0] if ": " in name else ""
    make = {"requests": requests_contenders, "aiohttp": aiohttp_contenders}.get(client, contenders)
    from payerr._catalog import loader

    load = loader.load_adapter_file

    def noted(path: Path) -> Any:  # the cache was stale (an edit since the warm run)
        print(COMPILED, file=sys.stderr)
        return load(path)

    loader.load_adapter_file = noted  # also what a damaged cache falls back to
    one = make(script, method)[name]
    for _ in range(50):
        one()
    for _ in range(count):
        one()


def instructions(title: str, name: str, count: int, cache: str) -> int:
    """One counted run. ``cache`` holds the catalog cache of this bench's children alone:
    another process writing its own catalog (which removes older ones) cannot send a
    counted run back to the adapter files."""
    import subprocess

    env = counted_env(XDG_CACHE_HOME=cache)
    # once outside callgrind first: a catalog cache made stale by an edit is compiled
    # now, not inside one of the two counted runs (it would swamp their difference)
    warm = [sys.executable, __file__, "--child", title, name, "0"]
    for _ in range(3):  # a run that compiled the catalog counts that too: run it again
        subprocess.run(warm, capture_output=True, check=True, env=env)
        result = subprocess.run(
            [*CALLGRIND, sys.executable, __file__, "--child", title, name, str(count)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        if COMPILED not in result.stderr:
            break
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
        few, many = SPANS.get(job[1].partition(": ")[0], (SHORT, LONG))
        long, short = instructions(*job, many, cache), instructions(*job, few, cache)
        print(f"{job}: {(long - short) / (many - few) / 1000:,.1f} k", file=sys.stderr)
        return (long - short) / (many - few)

    with tempfile.TemporaryDirectory(prefix="payerr-bench-") as cache:
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = dict(zip(jobs, pool.map(per_request, jobs), strict=True))
    for title in SCRIPTS:
        rows = []
        for name in names:
            prefix = name.partition(": ")[0] + ": " if ": " in name else ""
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
