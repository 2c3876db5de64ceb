"""Worker processes for the many-workers tests (spawned: module-level functions only)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

import payerr
from payerr import testing

APP = "wx-many-workers"


def _fetch(sandbox: str) -> Any:
    async def fetch() -> str:
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"{sandbox}/cgi-bin/token")
        token: str = reply.json()["access_token"]
        return token

    return fetch


def send_many(redis_url: str, sandbox: str, count: int) -> dict[str, int]:
    """`count` concurrent WeChat sends sharing one token through Redis."""

    async def run() -> dict[str, int]:
        coordinator = payerr.RedisCoordinator.from_url(redis_url)
        credentials = payerr.QueryParamToken(_fetch(sandbox))
        transport = payerr.AsyncTransport(
            provider="wechat", app=APP, coordinator=coordinator, credentials=credentials
        )
        async with httpx.AsyncClient(base_url=sandbox, transport=transport) as client:
            replies = await asyncio.gather(
                *(
                    client.post("/cgi-bin/message/custom/send", json={"touser": f"o{i}"})
                    for i in range(count)
                ),
                return_exceptions=True,
            )
        gate = transport._engine.gate
        assert gate is not None
        ok = sum(1 for r in replies if isinstance(r, httpx.Response) and r.json()["errcode"] == 0)
        return {"ok": ok, "refreshes": gate.refreshes}

    return asyncio.run(run())


def one_user_info(redis_url: str, sandbox: str, token: str) -> dict[str, Any]:
    """One read; reports whether it was refused by a cooldown before being sent."""
    coordinator = payerr.RedisCoordinator.from_url(redis_url)
    transport = payerr.Transport(
        provider="wechat",
        app=APP,
        coordinator=coordinator,
        policy=payerr.RetryPolicy(max_retry_after=5),
    )
    with httpx.Client(base_url=sandbox, transport=transport) as client:
        try:
            client.get("/cgi-bin/user/info", params={"access_token": token})
        except payerr.RateLimitError as error:
            return {
                "error": str(error),
                "retry_after": error.retry_after,
                "http_status": error.http_status,
            }
    return {"error": None}


def failing_reads(redis_url: str, sandbox: str, token: str, count: int) -> int:
    """Reads against a dead route with a small shared budget; returns the sends it made."""
    coordinator = payerr.RedisCoordinator.from_url(redis_url)
    policy = payerr.RetryPolicy(max_attempts=5, budget=20, retry_cost=5, success_refund=0)
    transport = payerr.Transport(
        provider="wechat", app=APP + "-budget", coordinator=coordinator, policy=policy
    )
    sent = 0
    with testing.instant_sleeps(), httpx.Client(base_url=sandbox, transport=transport) as client:
        for _ in range(count):
            try:
                client.get("/cgi-bin/user/info", params={"access_token": token})
            except payerr.PayError as error:
                sent += error.attempts
    return sent


def dumps(value: Any) -> str:
    return json.dumps(value)


def wechatpy_round(
    redis_url: str, sandbox: str, appid: str, threads: int, storage: str = "redis"
) -> int:
    """A freshly started worker: a wechatpy client over the shared ``RedisStorage`` (or a
    ``MemcachedStorage`` over that Redis) with ``install()`` alone; ``threads`` calls
    released together once every worker is ready. Returns how many succeeded."""
    import threading
    import time

    import redis
    from wechatpy import WeChatClient
    from wechatpy.session.redisstorage import RedisStorage

    from payerr.integrations import wechatpy as payerr_wechatpy
    from payerr.sandbox._redirect import sandbox_adapter

    shared = redis.Redis.from_url(redis_url)
    if storage == "memcached":
        from wechatpy.session.memcachedstorage import MemcachedStorage

        from support.memcached_like import RedisMemcache

        session: Any = MemcachedStorage(RedisMemcache(redis_url))
    else:
        session = RedisStorage(shared)
    client = WeChatClient(appid, "secret", session=session)
    payerr_wechatpy.install(client, adapter=sandbox_adapter(sandbox))
    shared.incr(f"{appid}:ready")
    while not shared.exists(f"{appid}:go"):
        time.sleep(0.005)
    barrier = threading.Barrier(threads)
    ok: list[int] = []

    def call() -> None:
        barrier.wait()
        client.user.get("o-1")
        ok.append(1)

    with testing.instant_sleeps():
        workers = [threading.Thread(target=call) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    shared.close()
    return len(ok)


def held_many(redis_url: str, sandbox: str, token: str, count: int) -> int:
    """``count`` concurrent reads from a freshly started worker; how many a cooldown held."""

    async def run() -> int:
        coordinator = payerr.RedisCoordinator.from_url(redis_url)
        transport = payerr.AsyncTransport(
            provider="wechat",
            app=APP,
            coordinator=coordinator,
            policy=payerr.RetryPolicy(max_retry_after=5),
        )
        async with httpx.AsyncClient(base_url=sandbox, transport=transport) as client:
            replies = await asyncio.gather(
                *(
                    client.get("/cgi-bin/user/info", params={"access_token": token})
                    for _ in range(count)
                ),
                return_exceptions=True,
            )
        await coordinator.aclose()
        return sum(
            1 for r in replies if isinstance(r, payerr.RateLimitError) and "not sent" in r.message
        )

    return asyncio.run(run())
