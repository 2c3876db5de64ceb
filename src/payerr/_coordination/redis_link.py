"""One Redis connection (sync and asyncio) for ``redis``: degrading to the in-process
fallback when Redis is away, and running the exchanges of ``redis_steps`` on either client.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, cast

import redis
import redis.asyncio

from .aio import _library
from .local import Fetch, LocalCoordinator, resolve
from .redis_steps import SOURCES, Command, Steps, T

logger = logging.getLogger("payerr")

REDIS_DOWN = (redis.RedisError, OSError)


class RedisLink:
    """The clients, the fallback while Redis is down, and the drivers of exchanges."""

    def __init__(
        self,
        client: redis.Redis | None,
        async_client: redis.asyncio.Redis | None,
        prefix: str,
        lock_wait: float,
        down_for: float,
    ) -> None:
        if client is None:
            raise TypeError("give a redis.Redis client, or use RedisCoordinator.from_url(url)")
        self._redis = client
        self._async = async_client
        self._prefix = prefix
        self.lock_wait = lock_wait
        self.down_for = down_for
        self._warned_no_async = False
        self.fallback = LocalCoordinator()
        self._down_until = 0.0
        self._state_lock = threading.Lock()
        self._scripts = {name: client.register_script(src) for name, src in SOURCES.items()}
        self._async_scripts: dict[str, Any] = {}

    # --- degrading when Redis is away -----------------------------------------

    @property
    def degraded(self) -> bool:
        """Whether calls go to the in-process fallback right now."""
        return time.monotonic() < self._down_until

    def _went_down(self, exc: BaseException) -> None:
        with self._state_lock:
            warn = not self.degraded
            self._down_until = time.monotonic() + self.down_for
        if warn:
            logger.warning(
                "payerr: Redis coordinator unavailable (%s: %s); coordinating in-process for %.0fs",
                type(exc).__name__,
                exc,
                self.down_for,
                extra={"coordinator": "redis", "degraded": True},
            )

    def _key(self, scope: str, what: str) -> str:
        return f"{self._prefix}:{scope}:{what}"

    # --- running exchanges -------------------------------------------------------

    # One description of each hot-path exchange with Redis, as a generator that yields
    # the commands it needs ("pttl", key) / ("script", name, keys, args) and receives
    # their replies; ``_drive`` runs it, each command answered by the sync client
    # (``_run_sync``) or the asyncio one (``_run_async``). So the async transport never
    # blocks its event loop, and nothing is written twice.

    def _usable(self, steps: Steps[Any], need_async: bool = False, refresh: bool = False) -> bool:
        """Whether Redis can take this exchange now (else the in-process fallback does).

        A token refresh is tried on Redis even while other calls fall back (degraded):
        it is rare, and fetching alone would void every other worker's token.
        """
        if need_async and self._async is None:
            self._warn_no_async()
        elif refresh or not self.degraded:
            return True
        steps.close()
        return False

    # ``fetch`` given: the exchange is a token refresh, driven to its end whatever
    # happens (a failed fetch, a cancelled task is thrown into it), so that the lock it
    # holds in Redis is released before it ends.

    def _run_sync(
        self, steps: Steps[T], fallback: Callable[[], T], fetch: Callable[[], str] | None = None
    ) -> T:
        if not self._usable(steps, refresh=fetch is not None):
            return fallback()

        async def reply(command: Command) -> Any:
            return self._reply_sync(command, fetch)

        return _at_once(self._drive(steps, fallback, reply, refresh=fetch is not None))

    async def _run_async(
        self, steps: Steps[T], fallback: Callable[[], T], fetch: Fetch | None = None
    ) -> T:
        if _library() == "trio":  # redis.asyncio needs asyncio: a worker thread asks instead
            import trio

            return await trio.to_thread.run_sync(self._run_sync, steps, fallback)
        if not self._usable(steps, need_async=True, refresh=fetch is not None):
            return fallback()
        reply = partial(self._reply_async, fetch=fetch)
        return await self._drive(steps, fallback, reply, refresh=fetch is not None)

    async def _drive(
        self,
        steps: Steps[T],
        fallback: Callable[[], T],
        reply: Callable[[Command], Awaitable[Any]],
        refresh: bool,
    ) -> T:
        """Run an exchange to its end, each command answered by ``reply`` (one driver for
        both clients: the sync one answers without ever waiting on a loop)."""
        try:
            command = next(steps)
            while True:
                command = _resume(steps, await _answer(reply, command, refresh))
        except StopIteration as done:
            return cast(T, done.value)
        except FetchFailed as failed:
            error = failed.error  # the fetch failed, not Redis: raised as itself, below
        except REDIS_DOWN as exc:
            return self._without_redis(exc, fallback)
        finally:
            steps.close()  # interrupted (a cancelled task): its waiters ask again
        raise error

    def _without_redis(self, exc: BaseException, fallback: Callable[[], T]) -> T:
        self._went_down(exc)
        return fallback()

    def _reply_sync(self, command: Command, fetch: Callable[[], str] | None) -> Any:
        """The reply to ``command``; a fetch that fails comes out as ``FetchFailed``, so that
        an ``OSError`` of the token endpoint is never read as Redis being away."""
        if command[0] == "fetch" and fetch is not None:
            try:
                return fetch()
            except Exception as exc:
                raise FetchFailed(exc) from exc
        if command[0] == "sleep":
            time.sleep(command[1])
            return None
        return self._call_sync(command)

    async def _reply_async(self, command: Command, fetch: Fetch | None) -> Any:
        """``_reply_sync`` on the asyncio client: its waits never block the loop."""
        if command[0] == "fetch" and fetch is not None:
            try:
                return await resolve(fetch)
            except Exception as exc:
                raise FetchFailed(exc) from exc
        if command[0] == "sleep":
            await asyncio.sleep(command[1])
            return None
        return await self._call_async(command)

    def _call_sync(self, command: Command) -> Any:
        if command[0] == "wait":  # another request's look-up: its answer is ours
            return command[1].result(timeout=self.lock_wait)
        if command[0] == "script":
            _, name, keys, args = command
            return self._scripts[name](keys=keys, args=args)
        return getattr(self._redis, command[0])(*command[1:])

    async def _call_async(self, command: Command) -> Any:
        if command[0] == "wait":
            from .aio import wait

            return await wait(command[1])
        client = self._async
        assert client is not None
        if command[0] == "script":
            _, name, keys, args = command
            if name not in self._async_scripts:
                self._async_scripts[name] = client.register_script(SOURCES[name])
            return await self._async_scripts[name](keys=keys, args=args)
        return await getattr(client, command[0])(*command[1:])

    def _warn_no_async(self) -> None:
        if not self._warned_no_async:
            self._warned_no_async = True
            logger.warning(
                "payerr: RedisCoordinator has no asyncio client; an AsyncTransport cannot "
                "share tokens through it without blocking its event loop (use "
                "RedisCoordinator.from_url, or pass async_client=)",
                extra={"coordinator": "redis"},
            )


class FetchFailed(Exception):
    """The token fetch failed (its endpoint, not Redis): carried out of the exchange, which
    releases its lock, and raised again as itself."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


async def _answer(
    reply: Callable[[Command], Awaitable[Any]], command: Command, refresh: bool
) -> Any:
    """The reply to ``command``, or the failure the exchange is given instead (it may tidy up;
    a refresh is given every failure, so that it releases its lock)."""
    try:
        return await reply(command)
    except REDIS_DOWN as exc:
        return exc
    except BaseException as exc:
        if not refresh:
            raise
        return exc


def _at_once(exchange: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits (the sync client's exchange) to its end, here."""
    try:
        exchange.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    exchange.close()
    raise RuntimeError("an exchange on the sync Redis client waited on an event loop")


def _resume(steps: Steps[Any], reply: Any) -> Command:
    """Give an exchange its reply, or the failure instead (it may tidy up)."""
    if isinstance(reply, BaseException):
        return steps.throw(reply)
    return steps.send(reply)
