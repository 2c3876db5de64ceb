"""A fleet behaves like one well-mannered client: cooldowns race-free and scoped like the
quota, every wait capped, one token refresh that survives cancellation.

Real Redis (started on a free loopback port), real threads, asyncio and trio.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
import pytest

import payerr
from payerr._catalog.registry import catalog
from support.redis_server import redis_server, slow_proxy

CMI = "https://gdschannel.cmlink.com:39043/aep"
ORDER = CMI + "/APP_createOrder_SBO/v1"
QPS = b'{"code":"9000004","description":"QPS exceeded"}'
CMI_OK = b'{"code":"0000000","description":"success"}'
WECHAT = "https://api.weixin.qq.com"
MCH = "https://api.mch.weixin.qq.com"
ALIPAY = "https://openapi.alipay.com/gateway.do"
FAST = payerr.RetryPolicy(max_retry_after=5)
"""Held requests fail at once (a 30 s cooldown is longer than 5 s)."""


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def _worker(url: str, prefix: str) -> payerr.RedisCoordinator:
    """One worker's coordinator: its own connections, the fleet's keys."""
    return payerr.RedisCoordinator.from_url(url, prefix=prefix, socket_timeout=2.0)


class Counter:
    """A CMI endpoint that answers 429 + Retry-After while ``limited``, and counts sends."""

    def __init__(self, retry_after: str = "30") -> None:
        self.limited = True
        self.sent = 0
        self.retry_after = retry_after
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.sent += 1
        if self.limited:
            return httpx.Response(429, headers={"Retry-After": self.retry_after}, content=QPS)
        return httpx.Response(200, content=CMI_OK)


# --- 1. race-free shared cooldowns ----------------------------------------------------


def _held(errors: list[BaseException]) -> None:
    """Every request was held back with the original error's code, message and hint."""
    assert all(isinstance(e, payerr.RateLimitError) for e in errors), errors[:3]
    for error in errors:
        assert isinstance(error, payerr.RateLimitError)
        assert error.code == "9000004"
        assert error.retry is payerr.RetryHint.BACKOFF
        assert "QPS exceeded" in error.message and "not sent" in error.message
        assert error.retry_after is not None and 0 < error.retry_after <= 30


async def _all(library: str, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` concurrently on the running loop; each one's result or exception."""
    if library == "asyncio":
        return list(await asyncio.gather(*(c() for c in calls), return_exceptions=True))
    import trio

    found: list[Any] = [None] * len(calls)

    async def one(number: int) -> None:
        try:
            found[number] = await calls[number]()
        except Exception as exc:
            found[number] = exc

    async with trio.open_nursery() as nursery:
        for number in range(len(calls)):
            nursery.start_soon(one, number)
    return found


def _run(library: str, main: Callable[[], Any]) -> Any:
    if library == "trio":
        import trio

        return trio.run(main)
    return asyncio.run(main())


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_fifty_async_requests_on_two_workers_send_nothing_until_it_ends(
    redis_url: str, library: str
) -> None:
    """A 429 + Retry-After: 30 on one worker: 50 concurrent requests on it and on a fresh
    worker are all held (none sent); once the cooldown ends they go."""
    endpoint, prefix = Counter(), f"fleet-{uuid.uuid4().hex}"

    async def main() -> tuple[list[Any], list[Any], int]:
        workers = [_worker(redis_url, prefix) for _ in range(2)]
        clients = [
            httpx.AsyncClient(
                transport=payerr.AsyncTransport(
                    httpx.MockTransport(endpoint),
                    provider="cmi",
                    app="a1",
                    coordinator=w,
                    policy=FAST,
                )
            )
            for w in workers
        ]
        with pytest.raises(payerr.RateLimitError):
            await clients[0].post(ORDER, json={})
        sends = [partial(clients[i % 2].post, ORDER, json={}) for i in range(50)]
        held = await _all(library, sends)
        sent_while_cooling = endpoint.sent
        endpoint.limited = False
        workers[0].clear_cooldown()  # the cooldown ends, for every worker
        time.sleep(0.06)  # the other worker's next look: a cooling answer is kept cooldown_cache
        after = await _all(library, sends)
        for client in clients:
            await client.aclose()
        if library == "asyncio":
            for worker in workers:
                await worker.aclose()
        return held, after, sent_while_cooling

    held, after, sent_while_cooling = _run(library, main)
    assert sent_while_cooling == 1
    _held(held)
    assert [getattr(r, "status_code", r) for r in after] == [200] * 50
    assert endpoint.sent == 51


def test_threads_fifty_requests_on_two_workers_send_nothing_until_it_ends(
    redis_url: str,
) -> None:
    """The same with 50 threads started together, 25 on each worker."""
    endpoint, prefix = Counter(), f"fleet-{uuid.uuid4().hex}"
    workers = [_worker(redis_url, prefix) for _ in range(2)]
    clients = [
        httpx.Client(
            transport=payerr.Transport(
                httpx.MockTransport(endpoint), provider="cmi", app="a1", coordinator=w, policy=FAST
            )
        )
        for w in workers
    ]
    with pytest.raises(payerr.RateLimitError):
        clients[0].post(ORDER, json={})
    start = threading.Barrier(50)

    def send(number: int) -> BaseException | int:
        start.wait()
        try:
            return clients[number % 2].post(ORDER, json={}).status_code
        except payerr.PayError as error:
            return error

    with ThreadPoolExecutor(50) as pool:
        held = list(pool.map(send, range(50)))
    assert endpoint.sent == 1
    _held(held)  # type: ignore[arg-type]
    endpoint.limited = False
    workers[1].clear_cooldown()
    time.sleep(0.06)  # the other worker's next look (cooldown_cache)
    start = threading.Barrier(50)
    with ThreadPoolExecutor(50) as pool:
        after = list(pool.map(send, range(50)))
    assert after == [200] * 50
    for client in clients:
        client.close()


def test_a_cooldown_another_worker_clears_ends_here_too(redis_url: str) -> None:
    """Started here, cleared by another worker: this worker sends again (Redis is the truth)."""
    endpoint, prefix = Counter(), f"fleet-{uuid.uuid4().hex}"
    here, there = _worker(redis_url, prefix), _worker(redis_url, prefix)
    transport = payerr.Transport(
        httpx.MockTransport(endpoint), provider="cmi", app="a1", coordinator=here, policy=FAST
    )
    with httpx.Client(transport=transport) as client:
        with pytest.raises(payerr.RateLimitError):
            client.post(ORDER, json={})
        assert [c.code for c in transport.cooldowns()] == ["9000004"]
        there.clear_cooldown()
        endpoint.limited = False
        assert client.post(ORDER, json={}).status_code == 200


def _scripts_run(coordinator: payerr.RedisCoordinator) -> int:
    stats = coordinator._redis.info("commandstats").get("cmdstat_evalsha", {})
    return int(stats.get("calls", 0))


@pytest.mark.parametrize(("clear_cache", "looks"), [(0.0, 20), (60.0, 1)])
def test_a_request_looks_once_for_all_its_scopes(
    redis_url: str, clear_cache: float, looks: int
) -> None:
    """One round trip per request (app, API and host scopes in one script); a "not
    cooling" answer is reused only when the app asks for it with clear_cache."""
    worker = payerr.RedisCoordinator.from_url(
        redis_url, prefix=f"looks-{uuid.uuid4().hex}", clear_cache=clear_cache
    )
    endpoint = Counter()
    endpoint.limited = False
    transport = payerr.Transport(
        httpx.MockTransport(endpoint),
        provider="cmi",
        app="a1",
        coordinator=worker,
        policy=payerr.RetryPolicy(budget=None),
    )
    with httpx.Client(transport=transport) as client:
        client.post(ORDER, json={})  # loads the script into Redis
        worker._cooldown_seen.clear()
        before = _scripts_run(worker)
        for _ in range(20):
            client.post(ORDER, json={})
        assert _scripts_run(worker) - before == looks
    worker.close()


@pytest.mark.slow  # every Redis reply takes 200 ms: about 2 s
def test_held_requests_never_stall_the_event_loop_on_a_slow_redis(redis_url: str) -> None:
    """Redis answering in 200 ms: 20 held requests, and no tick of the loop late by 20 ms."""
    endpoint, prefix = Counter(), f"fleet-{uuid.uuid4().hex}"

    async def main(url: str) -> tuple[float, list[BaseException]]:
        worker = _worker(url, prefix)
        transport = payerr.AsyncTransport(
            httpx.MockTransport(endpoint), provider="cmi", app="a1", coordinator=worker, policy=FAST
        )
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(payerr.RateLimitError):
                await client.post(ORDER, json={})
            worker._cooldown_seen.clear()  # as on a fresh look: ask the (slow) Redis again
            worker.fallback.clear_cooldown()
            lag, running = 0.0, True

            async def ticker() -> None:
                nonlocal lag
                while running:
                    before = time.perf_counter()
                    await asyncio.sleep(0.005)
                    lag = max(lag, time.perf_counter() - before - 0.005)

            ticks = asyncio.create_task(ticker())
            await asyncio.sleep(0.02)
            held = await asyncio.gather(
                *(client.post(ORDER, json={}) for _ in range(20)), return_exceptions=True
            )
            running = False
            await ticks
        await worker.aclose()
        return lag, list(held)

    with slow_proxy(redis_url, 0.2) as slow:
        lag, held = asyncio.run(main(slow))
    _held(held)
    assert endpoint.sent == 1
    assert lag < 0.020, f"the event loop stalled {lag * 1000:.0f} ms"


# --- 2. quota scopes, code by code ------------------------------------------------------


def _reply(provider: str, code: str, sub_code: str | None) -> tuple[str, bytes]:
    """(URL, body) of a provider answer carrying ``code``, as that provider sends it."""
    if provider == "alipay":
        inner = {"code": code, "msg": "Business Failed", "sub_code": sub_code, "sub_msg": "limit"}
        body = {"alipay_fund_trans_uni_transfer_response": inner, "sign": "s"}
        return ALIPAY + "?method=alipay.fund.trans.uni.transfer", json.dumps(body).encode()
    if provider == "cmi":
        return ORDER, json.dumps({"code": code, "description": "limit"}).encode()
    if code.lstrip("-").isdigit():
        return WECHAT + "/cgi-bin/message/custom/send", json.dumps(
            {"errcode": int(code), "errmsg": "limit"}
        ).encode()
    xml = (
        "<xml><return_code>SUCCESS</return_code><result_code>FAIL</result_code>"
        f"<err_code>{code}</err_code><err_code_des>limit</err_code_des></xml>"
    )
    return MCH + "/mmpaymkttransfers/sendredpack", xml.encode()


def _scoped(kind: str, windowed: bool = False) -> list[Any]:
    """Every rate-limit code of the shipped adapters whose quota is scoped ``kind``."""
    found = []
    for provider in ("alipay", "cmi", "wechat"):
        spec = catalog().spec(provider)
        for info in spec.all_codes():
            if info.category is not payerr.Category.RATE_LIMITED:
                continue
            if kind != "any" and info.cooldown != kind:
                continue
            if windowed and info.window is None:
                continue
            code, sub_code = (info.code, info.sub_code)
            if provider == "wechat" and not code.lstrip("-").isdigit() and "_" not in code:
                continue  # WeChat Pay v3 codes come as JSON with HTTP 429, tested apart
            found.append(
                pytest.param(provider, code, sub_code, id=f"{provider}-{sub_code or code}")
            )
    return found


def _success(request: httpx.Request) -> bytes:
    """A success in the provider's own envelope."""
    method = request.url.params.get("method")
    if method:
        inner = {"code": "10000", "msg": "Success"}
        return json.dumps({method.replace(".", "_") + "_response": inner, "sign": "s"}).encode()
    return b"{}"


def _others(provider: str) -> list[str]:
    """Requests that a per-subject limit must not hold: the same API for another subject,
    another API, and the token endpoint where the provider has one."""
    if provider == "alipay":
        return [
            ALIPAY + "?method=alipay.fund.trans.uni.transfer",
            ALIPAY + "?method=alipay.trade.query",
        ]
    if provider == "cmi":
        return [ORDER, CMI + "/APP_getToken_SBO/v1"]
    return [
        MCH + "/mmpaymkttransfers/sendredpack",
        MCH + "/pay/orderquery",
        WECHAT + "/cgi-bin/message/custom/send",
        WECHAT + "/cgi-bin/token",
    ]


@pytest.mark.parametrize(("provider", "code", "sub_code"), _scoped("subject"))
def test_a_subject_limit_holds_nothing_else(provider: str, code: str, sub_code: str | None) -> None:
    """One payee's or one user's limit: other subjects, other APIs, the token endpoint go on."""
    url, body = _reply(provider, code, sub_code)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        if len(sent) == 1:
            return httpx.Response(200, content=body, headers={"Retry-After": "600"})
        return httpx.Response(200, content=_success(request))

    shared = payerr.LocalCoordinator()
    transport = payerr.Transport(
        httpx.MockTransport(handler), provider=provider, coordinator=shared, policy=FAST
    )
    with httpx.Client(transport=transport) as client:
        with pytest.raises(payerr.RateLimitError) as info:
            client.post(url, content=b"{}")
        assert info.value.code == code
        for other in _others(provider):
            client.post(other, content=b"{}")
    assert len(sent) == 1 + len(_others(provider))
    assert transport.cooldowns() == []


def test_every_windowed_code_declares_its_scope_with_a_source() -> None:
    """The audit stays done: a code with a quota window says what the quota covers, with
    the provider's word for it in a comment right above."""
    import tomllib
    from pathlib import Path

    missing = []
    for path in sorted((Path(__file__).resolve().parents[1] / "adapters").glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
        for table in ("codes", "sub_codes"):
            for name, entry in data.get(table, {}).items():
                if "window" not in entry:
                    continue
                header = text.index(f'[{table}."{name}"]')
                body = text[header : text.find("\n[", header + 1)]
                scope_line = body.find("\ncooldown = ")
                if "cooldown" not in entry or "# Scope:" not in body[:scope_line]:
                    missing.append(f"{path.name} {name}")
    assert missing == []


def test_subject_scopes_cover_the_codes_the_issue_names() -> None:
    """The audit's anchors: a payee's daily count, a user's red packets."""
    scoped = {(p, s or c) for p, c, s in (param.values for param in _scoped("subject"))}
    assert {("alipay", "EXCEED_LIMIT_DC_RECEIVED"), ("wechat", "SENDNUM_LIMIT")} <= scoped


def test_a_per_api_quota_leaves_the_token_endpoint_alone() -> None:
    """WeChat 45009 on one API: another API and the token endpoint are sent."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/cgi-bin/message/custom/send":
            return httpx.Response(
                200, json={"errcode": 45009, "errmsg": "reach max api daily quota limit"}
            )
        return httpx.Response(200, json={"errcode": 0, "access_token": "T"})

    transport = payerr.Transport(httpx.MockTransport(handler), provider="wechat", policy=FAST)
    with httpx.Client(transport=transport) as client:
        for _ in range(2):
            with pytest.raises(payerr.RateLimitError) as info:
                client.post(WECHAT + "/cgi-bin/message/custom/send", json={})
        client.get(WECHAT + "/cgi-bin/token")
        client.get(WECHAT + "/cgi-bin/user/info")
    assert sent == ["/cgi-bin/message/custom/send", "/cgi-bin/token", "/cgi-bin/user/info"]
    held = info.value
    assert held.retry is payerr.RetryHint.AFTER_RESET  # as the 45009 that started it said
    assert held.code == "45009" and "reach max api daily quota limit" in held.message


# --- 3. every wait capped ----------------------------------------------------------------


@pytest.mark.parametrize(("provider", "code", "sub_code"), _scoped("any", windowed=True))
@pytest.mark.parametrize("sent_wait", ["99999999999", "Thu, 01 Jan 2099 00:00:00 GMT"])
def test_a_servers_wait_is_capped_by_max_cooldown(
    provider: str, code: str, sub_code: str | None, sent_wait: str
) -> None:
    """Any windowed code with an absurd Retry-After: cooldown and retry_after ≤ max_cooldown,
    the server's own value still on the error."""
    url, body = _reply(provider, code, sub_code)
    policy = payerr.RetryPolicy(max_retry_after=5, max_cooldown=120)
    shared = payerr.LocalCoordinator()
    transport = payerr.Transport(
        httpx.MockTransport(
            lambda r: httpx.Response(200, content=body, headers={"Retry-After": sent_wait})
        ),
        provider=provider,
        coordinator=shared,
        policy=policy,
    )
    with httpx.Client(transport=transport) as client:
        with pytest.raises(payerr.RateLimitError) as info:
            client.post(url, content=b"{}")
    error = info.value
    assert error.retry_after is not None and error.retry_after <= 120
    assert error.server_retry_after is not None and error.server_retry_after > 10**9
    assert all(c.remaining <= 120 for c in transport.cooldowns())


@pytest.mark.parametrize(("provider", "code", "sub_code"), _scoped("any", windowed=True))
@pytest.mark.parametrize("sent_wait", ["99999999999", "Thu, 01 Jan 2099 00:00:00 GMT"])
def test_a_reader_without_a_transport_caps_the_servers_wait(
    provider: str, code: str, sub_code: str | None, sent_wait: str
) -> None:
    """``payerr.inspect`` and ``raise_for_response`` (an app's own client): ``retry_after``
    is capped by the default policy's ``max_cooldown``; the server's value stays raw."""
    url, body = _reply(provider, code, sub_code)
    headers = {"Retry-After": sent_wait}
    response = httpx.Response(
        200, headers=headers, content=body, request=httpx.Request("POST", url)
    )
    cap = payerr.RetryPolicy().max_cooldown
    error = payerr.inspect(response, provider=provider).error
    assert error is not None and error.retry_after == cap
    assert error.server_retry_after is not None and error.server_retry_after > 10**9
    with pytest.raises(payerr.RateLimitError) as raised:
        payerr.raise_for_response(response, provider=provider)
    assert raised.value.retry_after == cap


def test_a_transport_caps_the_servers_wait_with_its_own_policy() -> None:
    """A policy allowing more than the default ``max_cooldown`` honours its own value."""
    url, body = _reply("cmi", "9000004", None)
    transport = payerr.Transport(
        httpx.MockTransport(
            lambda r: httpx.Response(429, content=body, headers={"Retry-After": "99999999999"})
        ),
        provider="cmi",
        policy=payerr.RetryPolicy(max_retry_after=5, max_cooldown=1000),
    )
    with httpx.Client(transport=transport) as client:
        with pytest.raises(payerr.RateLimitError) as info:
            client.post(url, content=b"{}")
    assert info.value.retry_after == 1000


def test_a_window_payerr_computes_is_trusted_as_computed() -> None:
    """45009 without Retry-After: the cooldown lasts until Beijing midnight, not 300 s."""
    reply = {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
    transport = payerr.Transport(
        httpx.MockTransport(lambda r: httpx.Response(200, json=reply)),
        provider="wechat",
        policy=FAST,
    )
    with httpx.Client(transport=transport) as client:
        with pytest.raises(payerr.RateLimitError) as info:
            client.post(WECHAT + "/cgi-bin/message/custom/send", json={})
    assert info.value.server_retry_after is None
    [cooldown] = transport.cooldowns()
    assert abs(cooldown.remaining - (info.value.retry_after or 0)) < 2


# --- 4. cancellation isolated --------------------------------------------------------------

WHO: contextvars.ContextVar[int] = contextvars.ContextVar("who", default=-1)


def _token_endpoint(fetches: list[int]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("access_token") == "T1":
            return httpx.Response(200, json={"errcode": 0})
        return httpx.Response(200, json={"errcode": 40001, "errmsg": "invalid credential"})

    return handler


@pytest.mark.parametrize("shared_by", ["local", "redis"])
@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_cancelling_the_fetching_request_spares_its_waiters(
    library: str, shared_by: str, redis_url: str
) -> None:
    """5 requests on a voided token; the one fetching the new token is cancelled: the
    other 4 succeed, and exactly one token was fetched."""
    fetches: list[int] = []
    owner: list[int] = []
    in_fetch = threading.Event()

    async def pause(seconds: float) -> None:
        if library == "trio":
            import trio

            await trio.sleep(seconds)
        else:
            await asyncio.sleep(seconds)

    async def fetch() -> str:
        owner.append(WHO.get())
        in_fetch.set()
        await pause(0.15)
        fetches.append(1)
        return "T1"

    credentials = payerr.QueryParamToken(fetch)
    credentials.token = "T0"
    coordinator = (
        _worker(redis_url, f"cancel-{uuid.uuid4().hex}")
        if shared_by == "redis"
        else payerr.LocalCoordinator()
    )
    transport = payerr.AsyncTransport(
        httpx.MockTransport(_token_endpoint(fetches)),
        provider="wechat",
        credentials=credentials,
        coordinator=coordinator,
    )

    async def one(client: httpx.AsyncClient, number: int) -> int:
        WHO.set(number)
        reply = await client.post(WECHAT + "/cgi-bin/message/custom/send", json={})
        return int(reply.json()["errcode"])

    async def wait_for_owner() -> int:
        while not owner:
            await pause(0.005)
        return owner[0]

    async def with_asyncio() -> list[Any]:
        async with httpx.AsyncClient(transport=transport) as client:
            tasks = [asyncio.create_task(one(client, n)) for n in range(5)]
            tasks[await wait_for_owner()].cancel()
            found = list(await asyncio.gather(*tasks, return_exceptions=True))
        if isinstance(coordinator, payerr.RedisCoordinator):
            await coordinator.aclose()  # its connections belong to this loop
        return found

    async def with_trio() -> list[Any]:
        import trio

        results: list[Any] = [None] * 5
        scopes = [trio.CancelScope() for _ in range(5)]

        async def run(number: int, client: httpx.AsyncClient) -> None:
            with scopes[number]:
                try:
                    results[number] = await one(client, number)
                except BaseException as exc:  # trio.Cancelled is caught by its scope
                    results[number] = exc
                    raise
            if scopes[number].cancelled_caught:
                results[number] = "cancelled"

        async with httpx.AsyncClient(transport=transport) as client:
            async with trio.open_nursery() as nursery:
                for number in range(5):
                    nursery.start_soon(run, number, client)
                scopes[await wait_for_owner()].cancel()
        return results

    if library == "trio":
        import trio

        results = trio.run(with_trio)
    else:
        results = asyncio.run(with_asyncio())
    if isinstance(coordinator, payerr.RedisCoordinator):
        coordinator.close()
    cancelled = owner[0]
    others = [r for n, r in enumerate(results) if n != cancelled]
    assert others == [0, 0, 0, 0]
    assert fetches == [1]


@pytest.mark.slow  # every Redis reply takes 300 ms: about 2 s
def test_cancelling_a_request_while_it_flushes_keeps_the_budget(redis_url: str) -> None:
    """A request cancelled while its cooldown look sends back the budget successes returned
    (a slow Redis): the deposit already out lands once, the one not sent yet is kept and
    sent later. Nothing of the fleet's retry budget is lost."""
    import contextlib

    import redis

    prefix = f"flush-{uuid.uuid4().hex}"
    direct = redis.Redis.from_url(redis_url)

    async def main(slow: str) -> None:
        coordinator = payerr.RedisCoordinator.from_url(
            slow, prefix=prefix, socket_timeout=5.0, deposit_every=0.0
        )
        for scope in ("cmi:a1", "cmi:a2"):
            assert await coordinator.awithdraw(scope, 50, 100)
        await coordinator.acooldown_all(("cmi:a1",))  # its scripts loaded
        coordinator.deposit("cmi:a1", 30, 100)
        coordinator.deposit("cmi:a2", 30, 100)
        look = asyncio.ensure_future(coordinator.acooldown_all(("cmi:a1",)))
        deadline = time.monotonic() + 10
        while int(direct.get(f"{prefix}:cmi:a1:budget") or 0) != 80:  # landed, reply held
            assert time.monotonic() < deadline
            await asyncio.sleep(0.005)
        look.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await look
        await coordinator.aclose()  # sends what it kept

    with slow_proxy(redis_url, 0.3) as slow:
        asyncio.run(main(slow))
    budgets = [int(direct.get(f"{prefix}:cmi:{app}:budget") or 0) for app in ("a1", "a2")]
    direct.close()
    assert budgets == [80, 80]
