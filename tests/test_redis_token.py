"""The token shared through Redis: one exchange for the sync and the asyncio client.

A refresh holds a lock in Redis while it fetches; whatever ends the fetch (a
fetch that fails, a task cancelled while it waits) the lock is released, so the
next worker fetches at once instead of waiting ``lock_wait`` out.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest
import requests

import payerr
from support.redis_server import redis_server

_scopes = itertools.count()


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def _scope() -> str:
    return f"wechat:wx{next(_scopes)}"


def _coordinator(url: str) -> payerr.RedisCoordinator:
    return payerr.RedisCoordinator.from_url(url, lock_wait=30.0)


def _failing() -> str:
    raise RuntimeError("the token endpoint is down")


def test_a_failed_fetch_releases_the_lock(redis_url: str) -> None:
    coordinator, scope = _coordinator(redis_url), _scope()
    with pytest.raises(RuntimeError):
        coordinator.refresh_token(scope, 0, _failing)
    assert coordinator.refresh_token(scope, 0, lambda: "T1") == ("T1", 1)


def test_async_refresh_adopts_what_another_worker_stored(redis_url: str) -> None:
    sync, scope = _coordinator(redis_url), _scope()
    assert sync.refresh_token(scope, 0, lambda: "T1") == ("T1", 1)

    async def main() -> tuple[str, int]:
        coordinator = _coordinator(redis_url)
        try:
            return await coordinator.arefresh_token(scope, 0, lambda: "never fetched")
        finally:
            await coordinator.aclose()

    assert asyncio.run(main()) == ("T1", 1)


def test_async_failed_fetch_releases_the_lock(redis_url: str) -> None:
    scope = _scope()

    async def failing() -> str:
        raise RuntimeError("the token endpoint is down")

    async def main() -> tuple[str, int]:
        coordinator = _coordinator(redis_url)
        try:
            with pytest.raises(RuntimeError):
                await coordinator.arefresh_token(scope, 0, failing)
            return await coordinator.arefresh_token(scope, 0, lambda: "T2")
        finally:
            await coordinator.aclose()

    assert asyncio.run(main()) == ("T2", 1)


def test_a_cancelled_async_refresh_releases_the_lock(redis_url: str) -> None:
    scope = _scope()

    async def main() -> tuple[str, int]:
        coordinator = _coordinator(redis_url)
        started = asyncio.Event()

        async def stuck() -> str:
            started.set()
            await asyncio.Event().wait()
            return "never"

        try:
            task = asyncio.create_task(coordinator.arefresh_token(scope, 0, stuck))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return await coordinator.arefresh_token(scope, 0, lambda: "T3")
        finally:
            await coordinator.aclose()

    assert asyncio.run(main()) == ("T3", 1)


# A token endpoint that cannot be reached raises an OSError (requests.ConnectionError is
# one): that is the fetch failing, not Redis, so it is raised as itself and Redis stays in use.
_UNREACHABLE = [
    pytest.param(ConnectionRefusedError(111, "Connection refused"), id="socket"),
    pytest.param(requests.ConnectionError("api.weixin.qq.com unreachable"), id="requests"),
]


@pytest.mark.parametrize("error", _UNREACHABLE)
def test_a_fetch_failing_with_an_oserror_is_not_redis_down(redis_url: str, error: OSError) -> None:
    coordinator, scope = _coordinator(redis_url), _scope()

    def unreachable() -> str:
        raise error

    with pytest.raises(type(error)) as raised:
        coordinator.refresh_token(scope, 0, unreachable)
    assert raised.value is error
    assert not coordinator.degraded
    assert coordinator.refresh_token(scope, 0, lambda: "T4") == ("T4", 1)


@pytest.mark.parametrize("error", _UNREACHABLE)
def test_an_async_fetch_failing_with_an_oserror_is_not_redis_down(
    redis_url: str, error: OSError
) -> None:
    scope = _scope()

    async def unreachable() -> str:
        raise error

    async def main() -> tuple[str, int]:
        coordinator = _coordinator(redis_url)
        try:
            with pytest.raises(type(error)) as raised:
                await coordinator.arefresh_token(scope, 0, unreachable)
            assert raised.value is error
            assert not coordinator.degraded
            return await coordinator.arefresh_token(scope, 0, lambda: "T5")
        finally:
            await coordinator.aclose()

    assert asyncio.run(main()) == ("T5", 1)
