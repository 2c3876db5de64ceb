"""The token every worker of an app shares through Redis (for ``redis``): one fetch at a
time across processes, under a lock, and never a fetch of its own while Redis is away.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import partial

from .._errors import CoordinatorUnavailableError
from .aio import _library
from .local import Fetch, moved_on, resolve
from .redis_link import REDIS_DOWN, RedisLink
from .redis_steps import Steps, token_of


class SharedToken(RedisLink):
    """``shared_token`` and ``refresh_token`` of ``RedisCoordinator``."""

    lock_ttl: float
    refresh_without_redis: bool

    compares_tokens = True
    """``refresh_token`` takes ``carried=``: the token the failing request carried."""

    def shared_token(self, scope: str) -> tuple[str | None, int]:
        if self.degraded:
            return self.fallback.shared_token(scope)
        try:
            values = self._redis.hmget(self._key(scope, "token"), ["token", "generation"])
        except REDIS_DOWN as exc:
            self._went_down(exc)
            return self.fallback.shared_token(scope)
        return token_of(values)

    def _refresh_steps(
        self, scope: str, seen: int, carried: str | None
    ) -> Steps[tuple[str, int] | None]:
        """Single-flight across processes: one holder of the lock fetches (``("fetch",)``),
        the rest adopt what it stored. None: the holder is stuck past ``lock_wait``."""
        lock, owner = self._key(scope, "lock"), secrets.token_hex(8)
        key = self._key(scope, "token")
        give_up_at = time.monotonic() + self.lock_wait
        while True:
            token, generation = token_of((yield ("hmget", key, ["token", "generation"])))
            if token is not None and moved_on(token, generation, seen, carried):
                return token, generation
            if (yield ("set", lock, owner, None, int(self.lock_ttl * 1000), True)):
                try:
                    token, generation = token_of((yield ("hmget", key, ["token", "generation"])))
                    if token is not None and moved_on(token, generation, seen, carried):
                        return token, generation
                    fresh = str((yield ("fetch",)))
                    yield ("script", "store", [key], [fresh, generation + 1])
                    return fresh, generation + 1
                finally:
                    yield ("script", "release", [lock], [owner])
            if time.monotonic() > give_up_at:
                return None
            yield ("sleep", 0.02)

    def refresh_token(
        self, scope: str, seen: int, fetch: Callable[[], str], carried: str | None = None
    ) -> tuple[str, int]:
        """Single-flight across processes: one holder of the lock fetches, the rest adopt.

        Tried on Redis even while other calls fall back (degraded): a refresh is rare,
        and fetching alone would void every other worker's token.
        """
        found = self._run_sync(self._refresh_steps(scope, seen, carried), _none, fetch)
        return found if found is not None else self._alone(scope, seen, fetch, carried)

    async def arefresh_token(
        self, scope: str, seen: int, fetch: Fetch, carried: str | None = None
    ) -> tuple[str, int]:
        if _library() == "trio":  # the sync exchange in a worker thread, fetching on trio
            return await self._refresh_on_trio(scope, seen, fetch, carried)
        steps = self._refresh_steps(scope, seen, carried)
        found = await self._run_async(steps, _none, fetch)  # no asyncio client: None
        return found if found is not None else await self._aalone(scope, seen, fetch, carried)

    async def _refresh_on_trio(
        self, scope: str, seen: int, fetch: Fetch, carried: str | None
    ) -> tuple[str, int]:
        import trio

        def fetch_on_trio() -> str:
            return str(trio.from_thread.run(resolve, fetch))

        exchange = partial(self.refresh_token, scope, seen, fetch_on_trio, carried)
        return await trio.to_thread.run_sync(exchange)

    def _refused(self, scope: str) -> CoordinatorUnavailableError:
        return CoordinatorUnavailableError(
            "not sent: the shared token cannot be refreshed while Redis is unreachable "
            "(fetching one here would void every other worker's token)",
            provider=scope.partition(":")[0] or None,
            solution="Retried within the deadline; check Redis, or pass "
            "refresh_without_redis=True for a single worker.",
            solution_zh="会在截止时间内重试；请检查 Redis（单进程部署可设 "
            "refresh_without_redis=True）。",
        )

    def _alone(
        self, scope: str, seen: int, fetch: Callable[[], str], carried: str | None
    ) -> tuple[str, int]:
        if not self.refresh_without_redis:
            raise self._refused(scope)
        return self.fallback.refresh_token(scope, seen, fetch, carried)

    async def _aalone(
        self, scope: str, seen: int, fetch: Fetch, carried: str | None
    ) -> tuple[str, int]:
        if not self.refresh_without_redis:
            raise self._refused(scope)
        return await self.fallback.arefresh_token(scope, seen, fetch, carried)


def _none() -> None:
    """A refresh Redis could not take: the caller decides whether to fetch alone."""
    return None
