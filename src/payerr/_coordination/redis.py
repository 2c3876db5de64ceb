"""``RedisCoordinator``: cooldowns, retry budget and token refresh shared through Redis.

Install with ``pip install 'payerr[redis]'``. When Redis is down or slow,
every call falls back to an in-process ``LocalCoordinator`` for a while, with a
warning: payments never wait on the coordinator.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from functools import partial
from typing import Any

import redis
import redis.asyncio

from .redis_link import REDIS_DOWN
from .redis_steps import (
    AGAIN,
    Steps,
    as_list,
    merge,
    reason_text,
    stored_reason,
)
from .redis_token import SharedToken

logger = logging.getLogger("payerr")


class RedisCoordinator(SharedToken):
    """Coordinates every worker of a provider app through one Redis.

        coordinator = payerr.RedisCoordinator.from_url("redis://127.0.0.1:6379/0")
        payerr.Transport(provider="wechat", app="wx123", coordinator=coordinator, ...)

    ``lock_ttl`` bounds how long a crashed token refresher can hold the others
    back; ``socket_timeout`` bounds how long any request waits on Redis.
    Successes put budget back in batches, one round trip per ``deposit_every``
    seconds at most, so a success costs no round trip of its own. A request's
    cooldown look is one round trip for all its scopes, shared by every request
    that needs it meanwhile; a cooling answer is kept ``cooldown_cache`` seconds
    (how late a cooldown cleared elsewhere is noticed), a "not cooling" one
    ``clear_cache`` seconds (0: never).
    """

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        async_client: redis.asyncio.Redis | None = None,
        prefix: str = "payerr",
        lock_ttl: float = 10.0,
        lock_wait: float = 15.0,
        down_for: float = 5.0,
        cooldown_cache: float = 0.05,
        clear_cache: float = 0.0,
        deposit_every: float = 0.05,
        refresh_without_redis: bool = False,
    ) -> None:
        super().__init__(client, async_client, prefix, lock_wait, down_for)
        self.lock_ttl = lock_ttl
        self.refresh_without_redis = refresh_without_redis
        """False (the default): a worker that cannot see the fleet's token never fetches
        one of its own (WeChat voids every other worker's token when one is fetched);
        its request fails with ``CoordinatorUnavailableError`` and is retried within
        the policy's deadline. True: fetch in-process (a single-worker deployment)."""
        self.cooldown_cache = cooldown_cache
        self.clear_cache = clear_cache
        """Seconds a "not cooling" answer is reused. 0 (the default): never, so no worker
        sends once another has started a cooldown; more saves the round trip of each
        request's look at the cost of learning of another worker's cooldown that late."""
        self._cooldown_seen: dict[str, tuple[float, float, str]] = {}
        """Cooling answers from Redis: scope → (asked at, cooling until, reason)."""
        self._looks: dict[tuple[str, ...], Future[Any]] = {}
        """Look-ups out right now: whoever needs the same answer waits for it."""
        self._written: dict[str, float] = {}
        """Cooldowns this worker started that Redis acknowledged: scope → when."""
        self.deposit_every = deposit_every
        self._deposits: dict[str, tuple[int, int]] = {}
        """Budget returned since the last flush: scope → (tokens, capacity)."""
        self._deposit_lock = threading.Lock()
        self._flushed_at = 0.0

    @classmethod
    def from_url(cls, url: str, *, socket_timeout: float = 0.25, **kwargs: Any) -> RedisCoordinator:
        """Sync and asyncio clients for one URL, with short timeouts."""
        # Commands answer in well under 0.25 s; connecting may take longer when many
        # workers start at once on a busy machine.
        timeouts = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": max(socket_timeout, 1.0),
        }
        return cls(
            redis.Redis.from_url(url, **timeouts),
            async_client=redis.asyncio.Redis.from_url(url, **timeouts),  # type: ignore[arg-type]
            **kwargs,
        )

    def close(self) -> None:
        """Send what is gathered and close the sync client."""
        self.flush()
        self._redis.close()

    async def aclose(self) -> None:
        """Send what is gathered and close the asyncio client (before its loop ends)."""
        if self._deposits:
            await self._run_async(self._flush_steps(), lambda: None)
        if self._async is not None:
            await self._async.aclose()

    # --- cooldowns ---------------------------------------------------------------

    # What this worker knows, in memory first: a cooldown it started itself (in
    # ``fallback``) holds at once, before Redis has even been told; a cooling answer
    # from Redis is trusted for ``cooldown_cache`` seconds; a "not cooling" answer is
    # never kept. Requests that arrive while a look-up is out wait for its answer
    # instead of assuming one, so fifty of them cost one round trip and none slips by.

    def _known(self, scope: str, now: float) -> float | None:
        """Seconds left from memory alone, or None: only Redis can say."""
        mine = self.fallback.cooldown(scope) if self.fallback.cooling else 0.0
        if mine > 0 and scope not in self._written:
            return mine  # started here, not yet (or not) acknowledged by Redis
        seen = self._cooldown_seen.get(scope)
        if seen is None:
            return None
        if seen[1] > now:
            return seen[1] - now if now - seen[0] < self.cooldown_cache else None
        return 0.0 if now - seen[0] < self.clear_cache else None

    def _look_steps(self, scopes: tuple[str, ...]) -> Steps[list[float]]:
        """Seconds left for each scope: from memory, or one shared look-up for them all."""
        now = time.monotonic()
        if self._deposits and now - self._flushed_at >= self.deposit_every:
            yield from self._flush_steps()  # every request passes here: budget goes back soon
        known = [self._known(scope, now) for scope in scopes]
        ask = tuple(scope for scope, left in zip(scopes, known, strict=True) if left is None)
        if not ask:
            return [left or 0.0 for left in known]
        while True:
            with self._state_lock:
                flight = self._looks.get(ask)
                owner = flight is None
                if flight is None:
                    flight = self._looks[ask] = Future()
            if owner:
                break
            answer = yield ("wait", flight)
            if answer is AGAIN:
                continue  # its asker was cancelled: ask again
            found = answer if answer is not None else self._fallback_looks(ask)
            return merge(scopes, known, found)
        outcome: Any = None
        try:
            sent = time.monotonic()
            keys = [self._key(scope, "cooldown") for scope in ask]
            reply = yield ("script", "look", keys, [])
            outcome = self._learn(ask, reply, sent)
        except GeneratorExit:
            outcome = AGAIN
            raise
        finally:
            with self._state_lock:
                del self._looks[ask]
            flight.set_result(outcome)
        return merge(scopes, known, outcome)

    def _fallback_looks(self, scopes: tuple[str, ...]) -> dict[str, float]:
        return {scope: self.fallback.cooldown(scope) for scope in scopes}

    def _learn(self, scopes: tuple[str, ...], reply: Any, sent: float) -> dict[str, float]:
        """Remember what Redis said (and why), merged with what this worker started."""
        now = time.monotonic()
        found: dict[str, float] = {}
        for number, scope in enumerate(scopes):
            left_ms, value = int(reply[2 * number]), reply[2 * number + 1]
            written = self._written.get(scope)
            if left_ms == -2 and written is not None and sent >= written:
                self.fallback.clear_cooldown(scope)  # ended fleet-wide since we started it
                self._written.pop(scope, None)
            left = max(left_ms, 0) / 1000.0
            if left > 0 or self.clear_cache:
                self._cooldown_seen[scope] = (now, now + left, reason_text(value))
            else:
                self._cooldown_seen.pop(scope, None)
            found[scope] = max(left, self.fallback.cooldown(scope))
        return found

    def cooldown_all(self, scopes: tuple[str, ...]) -> list[float]:
        """Seconds left for each of ``scopes``, in one round trip at most."""
        fallback = partial(as_list, self._fallback_looks, scopes)
        return self._run_sync(self._look_steps(scopes), fallback)

    async def acooldown_all(self, scopes: tuple[str, ...]) -> list[float]:
        """``cooldown_all`` for the async transport: never blocks the event loop."""
        fallback = partial(as_list, self._fallback_looks, scopes)
        return await self._run_async(self._look_steps(scopes), fallback)

    def cooldown(self, scope: str) -> float:
        return self.cooldown_all((scope,))[0]

    async def acooldown(self, scope: str) -> float:
        return (await self.acooldown_all((scope,)))[0]

    def _start_steps(self, scope: str, seconds: float, reason: str) -> Steps[None]:
        self.fallback.start_cooldown(scope, seconds, reason)  # this worker holds at once
        self._written.pop(scope, None)
        milliseconds = max(1, int(seconds * 1000))
        key = self._key(scope, "cooldown")
        yield ("script", "cooldown", [key], [milliseconds, stored_reason(reason)])
        self._written[scope] = time.monotonic()  # from now on Redis knows, and may end it

    def start_cooldown(self, scope: str, seconds: float, reason: str = "") -> None:
        here = partial(self.fallback.start_cooldown, scope, seconds, reason)  # Redis away
        self._run_sync(self._start_steps(scope, seconds, reason), here)

    async def astart_cooldown(self, scope: str, seconds: float, reason: str = "") -> None:
        here = partial(self.fallback.start_cooldown, scope, seconds, reason)
        await self._run_async(self._start_steps(scope, seconds, reason), here)

    def cooldown_reason(self, scope: str) -> str:
        """From memory only (the look-up that found the cooldown brought its reason):
        holding a request back never waits on Redis, on any path."""
        seen = self._cooldown_seen.get(scope)
        if seen is not None and seen[2]:
            return seen[2]
        return self.fallback.cooldown_reason(scope)

    def cooldowns(self) -> dict[str, tuple[float, str]]:
        if self.degraded:
            return self.fallback.cooldowns()
        head, tail = f"{self._prefix}:", ":cooldown"
        try:
            keys = [
                key.decode() if isinstance(key, bytes) else str(key)
                for key in self._redis.scan_iter(match=f"{head}*{tail}", count=500)
            ]
            reply = self._scripts["look"](keys=keys, args=[]) if keys else []
        except REDIS_DOWN as exc:
            self._went_down(exc)
            return self.fallback.cooldowns()
        found = dict(self.fallback.cooldowns())
        for number, name in enumerate(keys):
            left = int(reply[2 * number])
            if left > 0:
                found[name[len(head) : -len(tail)]] = (
                    left / 1000.0,
                    reason_text(reply[2 * number + 1]),
                )
        return found

    def clear_cooldown(self, scope: str | None = None) -> None:
        self.fallback.clear_cooldown(scope)
        self._cooldown_seen.clear()
        if scope is None:
            self._written.clear()
        else:
            self._written.pop(scope, None)
        if self.degraded:
            return
        try:
            if scope is not None:
                self._redis.delete(self._key(scope, "cooldown"))
                return
            keys = list(self._redis.scan_iter(match=f"{self._prefix}:*:cooldown", count=500))
            if keys:
                self._redis.delete(*keys)
        except REDIS_DOWN as exc:
            self._went_down(exc)

    # --- the retry budget --------------------------------------------------------

    def _withdraw_steps(self, scope: str, cost: int, capacity: int) -> Steps[bool]:
        if self._deposits:
            yield from self._flush_steps()  # what this process gave back counts first
        key = self._key(scope, "budget")
        return bool(int((yield ("script", "withdraw", [key], [cost, capacity]))))

    def withdraw(self, scope: str, cost: int, capacity: int) -> bool:
        steps = self._withdraw_steps(scope, cost, capacity)
        return self._run_sync(steps, lambda: self.fallback.withdraw(scope, cost, capacity))

    async def awithdraw(self, scope: str, cost: int, capacity: int) -> bool:
        steps = self._withdraw_steps(scope, cost, capacity)
        return await self._run_async(steps, lambda: self.fallback.withdraw(scope, cost, capacity))

    def deposit(self, scope: str, amount: int, capacity: int) -> None:
        """Gathered in memory; sent with the next cooldown look or withdraw (no I/O here)."""
        if amount <= 0:
            return
        if self.degraded:
            self.fallback.deposit(scope, amount, capacity)
            return
        self._regather([(scope, (amount, capacity))])

    def _flush_steps(self) -> Steps[None]:
        with self._deposit_lock:
            batch, self._deposits = self._deposits, {}
            self._flushed_at = time.monotonic()
        items = list(batch.items())
        for number, (scope, (amount, capacity)) in enumerate(items):
            try:
                yield ("script", "deposit", [self._key(scope, "budget")], [amount, capacity])
            except REDIS_DOWN:
                for left, (more, limit) in items[number:]:  # kept here, not lost
                    self.fallback.deposit(left, more, limit)
                raise
            except BaseException:  # cancelled mid-flush: the one in flight was sent (it
                self._regather(items[number + 1 :])  # may have landed); the rest goes later
                raise

    def _regather(self, items: list[tuple[str, tuple[int, int]]]) -> None:
        """Budget to send later, added to what is gathered (capped by each capacity)."""
        with self._deposit_lock:
            for scope, (amount, capacity) in items:
                gathered, _ = self._deposits.get(scope, (0, capacity))
                self._deposits[scope] = (min(capacity, gathered + amount), capacity)

    def flush(self) -> None:
        """Send the budget gathered from successes: one script call per scope."""
        self._run_sync(self._flush_steps(), lambda: None)

    def available(self, scope: str, capacity: int) -> int:
        if self.degraded:
            return self.fallback.available(scope, capacity)
        if self._deposits:
            self.flush()
        try:
            value = self._redis.get(self._key(scope, "budget"))
        except REDIS_DOWN as exc:
            self._went_down(exc)
            return self.fallback.available(scope, capacity)
        return capacity if value is None else int(value)
