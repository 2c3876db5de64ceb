"""Many workers, one provider app: shared cooldowns, one token refresh, one retry budget.

In-process with LocalCoordinator, and across real processes through a real
redis-server that the tests start on a free loopback port.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import payerr
from payerr import testing
from payerr.sandbox import Sandbox
from support import workers
from support.redis_server import redis_server

WECHAT = "https://api.weixin.qq.com"
CMI_ORDER = "https://gdschannel.cmlink.com:39043/aep/APP_createOrder_SBO/v1"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(autouse=True)
def instant() -> Iterator[list[float]]:
    with testing.instant_sleeps() as sleeps:
        yield sleeps


def wechat_transport(handler, coordinator: payerr.Coordinator, **kwargs) -> payerr.Transport:
    return payerr.Transport(
        httpx.MockTransport(handler), coordinator=coordinator, app="wx1", **kwargs
    )


# --- in one process ----------------------------------------------------------


def test_rate_limit_window_cools_down_every_transport_of_the_app() -> None:
    """After one transport is told 'slow down for 30 s', another fails fast without sending."""
    sent: list[httpx.Request] = []

    def limited(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(429, headers={"Retry-After": "30"})

    shared = payerr.LocalCoordinator()
    policy = payerr.RetryPolicy(max_retry_after=5)
    first = httpx.Client(transport=wechat_transport(limited, shared, policy=policy))
    second = httpx.Client(transport=wechat_transport(limited, shared, policy=policy))
    with pytest.raises(payerr.RateLimitError):
        first.get(WECHAT + "/cgi-bin/user/info")
    with pytest.raises(payerr.RateLimitError) as info:
        second.get(WECHAT + "/cgi-bin/user/info")
    assert len(sent) == 1
    assert info.value.retry_after is not None and 29 < info.value.retry_after <= 30
    assert "cooling down" in info.value.message


def test_short_cooldown_is_waited_out(instant: list[float]) -> None:
    """A cooldown within max_retry_after is slept through, then the request goes."""
    shared = payerr.LocalCoordinator()
    shared.start_cooldown("wechat:wx1", 2.0)
    ok = wechat_transport(lambda r: httpx.Response(200, json={"errcode": 0}), shared)
    with httpx.Client(transport=ok) as client:
        assert client.get(WECHAT + "/cgi-bin/user/info").status_code == 200
    assert len(instant) == 1 and 1.5 < instant[0] <= 2.0


def test_other_apps_are_not_cooled_down() -> None:
    """The cooldown is per provider app: another app id is unaffected."""
    shared = payerr.LocalCoordinator()
    shared.start_cooldown("wechat:wx1", 60.0)
    other = payerr.Transport(
        httpx.MockTransport(lambda r: httpx.Response(200, json={})), coordinator=shared, app="wx2"
    )
    with httpx.Client(transport=other) as client:
        assert client.get(WECHAT + "/cgi-bin/user/info").status_code == 200


def test_budget_is_shared_by_transports_of_one_coordinator() -> None:
    """Two transports on one coordinator draw on one retry budget."""
    shared = payerr.LocalCoordinator()
    policy = payerr.RetryPolicy(max_attempts=5, budget=10, retry_cost=5, success_refund=0)

    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errcode": -1, "errmsg": "busy"})

    counts = []
    for _ in range(2):
        transport = wechat_transport(busy, shared, policy=policy)
        with httpx.Client(transport=transport) as client:
            with pytest.raises(payerr.ServiceUnavailableError) as info:
                client.get(WECHAT + "/cgi-bin/user/info")
            counts.append(info.value.attempts)
    assert counts == [3, 1]
    assert shared.available("wechat:wx1", 10) == 0


def test_token_is_shared_not_refetched() -> None:
    """A second worker adopts the app's current token instead of fetching its own."""
    shared = payerr.LocalCoordinator()
    fetched: list[str] = []

    def fetch() -> str:
        fetched.append(f"T{len(fetched) + 1}")
        return fetched[-1]

    def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errcode": 0, "token": request.url.params["access_token"]})

    tokens = []
    for _ in range(2):
        transport = wechat_transport(ok, shared, credentials=payerr.QueryParamToken(fetch))
        with httpx.Client(transport=transport) as client:
            tokens.append(client.post(WECHAT + "/cgi-bin/message/custom/send").json()["token"])
    assert fetched == ["T1"]
    assert tokens == ["T1", "T1"]


# --- across processes, through Redis -----------------------------------------


def _spawn() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")


@pytest.mark.slow  # several processes: run in the slow tier
def test_eight_processes_fifty_requests_one_refresh(redis_url: str, sandbox: Sandbox) -> None:
    """8 processes × 50 concurrent requests failing on one voided token: exactly one refresh."""
    import redis

    first = httpx.get(sandbox.url + "/cgi-bin/token").json()["access_token"]
    client = redis.Redis.from_url(redis_url)
    client.hset(f"payerr:wechat:{workers.APP}:token", mapping={"token": first, "generation": 1})
    sandbox.revoke_tokens("wechat")  # every worker will hit 40001 with the shared token
    with _spawn().Pool(8) as pool:
        results = pool.starmap(workers.send_many, [(redis_url, sandbox.url, 50)] * 8)
    assert [r["ok"] for r in results] == [50] * 8
    assert sum(r["refreshes"] for r in results) == 1
    assert sandbox.tokens.issued["wechat"] == 2  # the seeded one, and the single refresh
    client.close()


@pytest.mark.slow  # several processes: run in the slow tier
def test_cooldown_is_honoured_by_every_process(redis_url: str, sandbox: Sandbox) -> None:
    """One process is told to wait 30 s; the others hold off without sending.

    (A 429 with Retry-After rather than WeChat 45011, whose window is the rest of
    the current minute and so can be a fraction of a second.)
    """
    token = httpx.get(sandbox.url + "/cgi-bin/token").json()["access_token"]
    sandbox.script("wechat.userinfo", ["retry_after=30"])
    context = _spawn()
    with context.Pool(1) as pool:
        first = pool.apply(workers.one_user_info, (redis_url, sandbox.url, token))
    hits_after_first = sandbox.route_hits["wechat.userinfo"]
    with context.Pool(4) as pool:
        others = pool.starmap(workers.one_user_info, [(redis_url, sandbox.url, token)] * 4)
    assert first["http_status"] == 429
    assert sandbox.route_hits["wechat.userinfo"] == hits_after_first
    assert all("cooling down" in (o["error"] or "") for o in others)
    assert all(o["retry_after"] > 0 for o in others)


@pytest.mark.slow  # several processes: run in the slow tier
def test_fifty_concurrent_requests_in_fresh_processes_send_nothing(
    redis_url: str, sandbox: Sandbox
) -> None:
    """After one worker's 429 + Retry-After: 30, two freshly started processes fire 25
    concurrent reads each: all 50 are held, none reaches the provider."""
    token = httpx.get(sandbox.url + "/cgi-bin/token").json()["access_token"]
    sandbox.script("wechat.userinfo", ["retry_after=30"])
    context = _spawn()
    with context.Pool(1) as pool:
        pool.apply(workers.one_user_info, (redis_url, sandbox.url, token))
    hits = sandbox.route_hits["wechat.userinfo"]
    with context.Pool(2) as pool:
        held = pool.starmap(workers.held_many, [(redis_url, sandbox.url, token, 25)] * 2)
    assert held == [25, 25]
    assert sandbox.route_hits["wechat.userinfo"] == hits


@pytest.mark.slow  # several processes: run in the slow tier
def test_retry_budget_is_shared_across_processes(redis_url: str, sandbox: Sandbox) -> None:
    """A dead route and a budget of 4 retries: all processes together retry at most 4 times."""
    token = httpx.get(sandbox.url + "/cgi-bin/token").json()["access_token"]
    sandbox.random_faults(1.0, seed=1, steps=("-1",), routes=("wechat.userinfo",))
    with _spawn().Pool(4) as pool:
        sent = pool.starmap(workers.failing_reads, [(redis_url, sandbox.url, token, 5)] * 4)
    assert sum(sent) <= 4 * 5 + 20 // 5
    assert sandbox.route_hits["wechat.userinfo"] == sum(sent)


@pytest.fixture
def down_url() -> Iterator[str]:
    """A Redis URL whose port is bound and never listens: refused, and no other worker's."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{held.getsockname()[1]}/0"


def _down_transport(
    url: str, sandbox: Sandbox, fetches: list[int], **options: Any
) -> payerr.Transport:
    coordinator = payerr.RedisCoordinator.from_url(url, **options)

    def fetch() -> str:
        fetches.append(1)
        return str(httpx.get(sandbox.url + "/cgi-bin/token").json()["access_token"])

    return payerr.Transport(
        provider="wechat",
        app="wx-down",
        coordinator=coordinator,
        credentials=payerr.QueryParamToken(fetch),
        policy=payerr.RetryPolicy(max_attempts=2),
    )


def test_redis_down_never_splits_the_fleets_token(
    caplog: pytest.LogCaptureFixture, sandbox: Sandbox, down_url: str
) -> None:
    """Redis unreachable: no token of its own (it would void the fleet's), a typed error."""
    caplog.set_level(logging.WARNING, logger="payerr")
    fetches: list[int] = []
    transport = _down_transport(down_url, sandbox, fetches)
    with testing.instant_sleeps(), httpx.Client(base_url=sandbox.url, transport=transport) as c:
        with pytest.raises(payerr.CoordinatorUnavailableError) as info:
            c.post("/cgi-bin/message/custom/send", json={})
    assert fetches == []
    assert info.value.retry is payerr.RetryHint.BACKOFF
    assert info.value.attempts == 2  # retried within the deadline, then raised
    assert isinstance(info.value, payerr.NetworkError)
    assert "coordinating in-process" in caplog.text


def test_redis_down_single_worker_may_refresh_alone(sandbox: Sandbox, down_url: str) -> None:
    """refresh_without_redis=True: a lone worker fetches its own token and goes on."""
    fetches: list[int] = []
    transport = _down_transport(down_url, sandbox, fetches, refresh_without_redis=True)
    with httpx.Client(base_url=sandbox.url, transport=transport) as client:
        client.post("/cgi-bin/message/custom/send", json={})
        sandbox.revoke_tokens("wechat")
        reply = client.post("/cgi-bin/message/custom/send", json={})
    assert reply.json()["errcode"] == 0
    assert fetches == [1, 1]


def test_redis_coordinator_primitives(redis_url: str) -> None:
    """Budget, cooldown and token calls against a real Redis."""
    coordinator = payerr.RedisCoordinator.from_url(redis_url)
    scope = "cmi:primitives"
    assert coordinator.withdraw(scope, 5, 7)
    assert not coordinator.withdraw(scope, 5, 7)
    coordinator.deposit(scope, 100, 7)
    assert coordinator.available(scope, 7) == 7
    coordinator.start_cooldown(scope, 3.0)
    assert 2.5 < coordinator.cooldown(scope) <= 3.0
    assert coordinator.refresh_token(scope, 0, lambda: "A") == ("A", 1)
    assert coordinator.refresh_token(scope, 0, lambda: "B") == ("A", 1)  # someone already did
    assert coordinator.refresh_token(scope, 1, lambda: "C") == ("C", 2)
    assert not coordinator.degraded


def test_wechat_minute_quota_cools_down_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """45011 at second 30 of a minute: every transport of the app holds off for 30 s."""
    import payerr._reading.classify

    class Clock:
        @staticmethod
        def time() -> float:
            return 1_700_000_010.0  # 30 s into a minute

    monkeypatch.setattr(payerr._reading.classify, "time", Clock)
    sent: list[httpx.Request] = []

    def quota(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, json={"errcode": 45011, "errmsg": "api minute-quota reach limit"}
        )

    shared = payerr.LocalCoordinator()
    policy = payerr.RetryPolicy(max_retry_after=5)
    for expected_sent in (1, 1):
        transport = wechat_transport(quota, shared, policy=policy)
        with httpx.Client(transport=transport) as client:
            with pytest.raises(payerr.RateLimitError) as info:
                client.get(WECHAT + "/cgi-bin/user/info")
        assert len(sent) == expected_sent
    assert info.value.retry_after is not None and 29 < info.value.retry_after <= 30


def _evalsha_calls(client: Any) -> int:
    stats = client.info("commandstats").get("cmdstat_evalsha", {})
    return int(stats.get("calls", 0))


def test_successes_give_budget_back_in_batches(redis_url: str) -> None:
    """Two hundred successes cost a handful of budget round trips, not two hundred."""
    coordinator = payerr.RedisCoordinator.from_url(redis_url, deposit_every=60.0)
    scope = "wechat:batched"
    assert coordinator.withdraw(scope, 50, 100)
    before = _evalsha_calls(coordinator._redis)
    for _ in range(200):
        coordinator.deposit(scope, 1, 100)
    assert _evalsha_calls(coordinator._redis) - before <= 1
    assert coordinator.available(scope, 100) == 100  # a look flushes what was gathered


def test_gathered_budget_is_flushed_by_the_next_request(redis_url: str) -> None:
    coordinator = payerr.RedisCoordinator.from_url(redis_url, deposit_every=0.0)
    scope = "wechat:flushed"
    assert coordinator.withdraw(scope, 10, 100)
    coordinator._flushed_at = time.monotonic() + 3600  # hold the deposit back
    coordinator.deposit(scope, 4, 100)
    assert int(coordinator._redis.get("payerr:wechat:flushed:budget")) == 90
    coordinator._flushed_at = 0.0
    coordinator.cooldown(scope)
    assert int(coordinator._redis.get("payerr:wechat:flushed:budget")) == 94


def test_a_huge_cooldown_reason_is_stored_bounded(redis_url: str) -> None:
    """A 429 whose message is 200,000 characters: the cooldown every worker reads back from
    Redis keeps the code and the message's first 512 characters, not all of it."""
    body = json.dumps({"code": "9000004", "description": "Q" * 200_000}).encode()
    coordinator = payerr.RedisCoordinator.from_url(redis_url, prefix="huge-reason")
    transport = payerr.Transport(
        httpx.MockTransport(
            lambda r: httpx.Response(429, headers={"Retry-After": "30"}, content=body)
        ),
        provider="cmi",
        app="a1",
        coordinator=coordinator,
        policy=payerr.RetryPolicy(max_retry_after=5),
    )
    with httpx.Client(transport=transport) as client:
        with pytest.raises(payerr.RateLimitError):
            client.post(CMI_ORDER, json={})
    assert coordinator._redis.strlen("huge-reason:cmi:a1:cooldown") < 1024
    other = payerr.RedisCoordinator.from_url(redis_url, prefix="huge-reason")
    [(_, reason)] = other.cooldowns().values()
    code, message = reason.split("\t")[:2]
    assert (code, message) == ("9000004", "Q" * 512)
    coordinator.close()
    other.close()


def test_async_transport_never_blocks_its_loop_on_redis(
    redis_url: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cooldown looks, budget, cooldown starts and token refreshes of an AsyncTransport go
    through redis.asyncio: the sync client is never called while the event loop runs."""
    import asyncio

    coordinator = payerr.RedisCoordinator.from_url(redis_url, cooldown_cache=0.0)
    blocking: list[str] = []
    real = coordinator._redis.execute_command

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            blocking.append(str(args[0]))
        except RuntimeError:
            pass
        return real(*args, **kwargs)

    monkeypatch.setattr(coordinator._redis, "execute_command", guarded)
    sandbox.script("wechat.send", ["retry_after=1", "ok", "-1", "ok"])
    fetched: list[int] = []

    async def fetch() -> str:
        fetched.append(1)
        async with httpx.AsyncClient() as plain:
            params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
            reply = await plain.get(sandbox.url + "/cgi-bin/token", params=params)
            return str(reply.json()["access_token"])

    async def main() -> list[int]:
        transport = payerr.AsyncTransport(
            provider="wechat",
            app="wx-async-clean",
            coordinator=coordinator,
            credentials=payerr.QueryParamToken(fetch),
            policy=payerr.RetryPolicy(max_attempts=3, max_retry_after=120),
        )
        codes = []
        async with httpx.AsyncClient(base_url=sandbox.url, transport=transport) as client:
            for _ in range(3):
                reply = await client.post("/cgi-bin/message/custom/send", json={})
                codes.append(reply.json()["errcode"])
        await coordinator.aclose()
        return codes

    assert asyncio.run(main()) == [0, 0, 0]
    assert blocking == []
    assert fetched == [1]
    assert not coordinator.degraded


def test_an_in_process_budget_says_when_a_success_has_tokens_to_put_back() -> None:
    """``short`` spares every success a deposit while each bucket is full, and only then."""
    coordinator = payerr.LocalCoordinator()
    assert not coordinator.short
    assert coordinator.withdraw("wechat:default", 5, 10)
    assert coordinator.short
    coordinator.deposit("wechat:default", 3, 10)
    assert coordinator.short and coordinator.available("wechat:default", 10) == 8
    coordinator.deposit("wechat:default", 3, 10)
    assert not coordinator.short and coordinator.available("wechat:default", 10) == 10
