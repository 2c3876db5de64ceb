"""``RedisCoordinator``: cooldowns, retry budget and token refresh shared through Redis.

Install with ``pip install 'payerr[redis]'``. When Redis is down or slow,
every call falls back to an in-process ``LocalCoordinator`` for a while, with a
warning: payments never wait on the coordinator.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar, cast

import redis
import redis.asyncio

from ._coordinator import Fetch, LocalCoordinator, resolve
from ._errors import CoordinatorUnavailableError

logger = logging.getLogger("payerr")

_WITHDRAW = """
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[2])
local cost = tonumber(ARGV[1])
if tokens < cost then return 0 end
redis.call('SET', KEYS[1], tokens - cost, 'EX', 86400)
return 1
"""
_DEPOSIT = """
local capacity = tonumber(ARGV[2])
local tokens = tonumber(redis.call('GET', KEYS[1]) or capacity)
if tokens >= capacity then return tokens end
tokens = math.min(capacity, tokens + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], tokens, 'EX', 86400)
return tokens
"""
_COOLDOWN = """
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1]) end
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_STORE_TOKEN = """
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'generation', ARGV[2])
return 1
"""

_SOURCES = {
    "withdraw": _WITHDRAW,
    "deposit": _DEPOSIT,
    "cooldown": _COOLDOWN,
    "release": _RELEASE,
    "store": _STORE_TOKEN,
}

_REDIS_DOWN = (redis.RedisError, OSError)

T = TypeVar("T")
Command = tuple[Any, ...]
Steps = Generator[Command, Any, T]
"""An exchange with Redis: yields commands, receives their replies, returns a result."""


class RedisCoordinator:
    """Coordinates every worker of a provider app through one Redis.

        coordinator = payerr.RedisCoordinator.from_url("redis://127.0.0.1:6379/0")
        payerr.Transport(provider="wechat", app="wx123", coordinator=coordinator, ...)

    ``lock_ttl`` bounds how long a crashed token refresher can hold the others
    back; ``socket_timeout`` bounds how long any request waits on Redis.
    Successes put budget back in batches, one round trip per ``deposit_every``
    seconds at most, so a success costs no round trip of its own.
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
        deposit_every: float = 0.05,
        refresh_without_redis: bool = False,
    ) -> None:
        if client is None:
            raise TypeError("give a redis.Redis client, or use RedisCoordinator.from_url(url)")
        self._redis = client
        self._async = async_client
        self._prefix = prefix
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        self.down_for = down_for
        self.refresh_without_redis = refresh_without_redis
        """False (the default): a worker that cannot see the fleet's token never fetches
        one of its own (WeChat voids every other worker's token when one is fetched);
        its request fails with ``CoordinatorUnavailableError`` and is retried within
        the policy's deadline. True: fetch in-process (a single-worker deployment)."""
        self._warned_no_async = False
        self.cooldown_cache = cooldown_cache
        self.fallback = LocalCoordinator()
        self._down_until = 0.0
        self._state_lock = threading.Lock()
        self._cooldown_seen: dict[str, tuple[float, float]] = {}
        self.deposit_every = deposit_every
        self._deposits: dict[str, tuple[int, int]] = {}
        """Budget returned since the last flush: scope → (tokens, capacity)."""
        self._deposit_lock = threading.Lock()
        self._flushed_at = 0.0
        self._scripts = {name: client.register_script(src) for name, src in _SOURCES.items()}
        self._async_scripts: dict[str, Any] = {}

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
        """Close the asyncio client (before its event loop ends)."""
        if self._async is not None:
            await self._async.aclose()

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

    # --- cooldowns ---------------------------------------------------------------

    # One description of each hot-path exchange with Redis, as a generator that yields
    # the commands it needs ("pttl", key) / ("script", name, keys, args) and receives
    # their replies; ``_sync`` runs it on the sync client, ``_async`` on the asyncio one.
    # So the async transport never blocks its event loop, and nothing is written twice.

    def _usable(self, steps: Steps[Any], need_async: bool = False) -> bool:
        """Whether Redis can take this exchange now (else the in-process fallback does)."""
        if need_async and self._async is None:
            self._warn_no_async()
        elif not self.degraded:
            return True
        steps.close()
        return False

    def _run_sync(self, steps: Steps[T], fallback: Callable[[], T]) -> T:
        if not self._usable(steps):
            return fallback()
        try:
            command = next(steps)
            while True:
                try:
                    reply: Any = self._call_sync(command)
                except _REDIS_DOWN as exc:  # the exchange may tidy up; it re-raises
                    reply = exc
                command = _resume(steps, reply)
        except StopIteration as done:
            return cast(T, done.value)
        except _REDIS_DOWN as exc:
            return self._without_redis(exc, fallback)

    async def _run_async(self, steps: Steps[T], fallback: Callable[[], T]) -> T:
        if not self._usable(steps, need_async=True):
            return fallback()
        try:
            command = next(steps)
            while True:
                try:
                    reply: Any = await self._call_async(command)
                except _REDIS_DOWN as exc:
                    reply = exc
                command = _resume(steps, reply)
        except StopIteration as done:
            return cast(T, done.value)
        except _REDIS_DOWN as exc:
            return self._without_redis(exc, fallback)

    def _without_redis(self, exc: BaseException, fallback: Callable[[], T]) -> T:
        self._went_down(exc)
        return fallback()

    def _call_sync(self, command: Command) -> Any:
        if command[0] == "script":
            _, name, keys, args = command
            return self._scripts[name](keys=keys, args=args)
        return getattr(self._redis, command[0])(*command[1:])

    async def _call_async(self, command: Command) -> Any:
        client = self._async
        assert client is not None
        if command[0] == "script":
            _, name, keys, args = command
            if name not in self._async_scripts:
                self._async_scripts[name] = client.register_script(_SOURCES[name])
            return await self._async_scripts[name](keys=keys, args=args)
        return await getattr(client, command[0])(*command[1:])

    # --- cooldowns ---------------------------------------------------------------

    def _cooldown_steps(self, scope: str) -> Steps[float]:
        now = time.monotonic()
        if self._deposits and now - self._flushed_at >= self.deposit_every:
            yield from self._flush_steps()  # every request passes here: budget goes back soon
        seen = self._cooldown_seen.get(scope)
        if seen is not None and now - seen[0] < self.cooldown_cache:
            return max(0.0, seen[1] - now)
        # One look per scope per cache period: requests arriving while it is out reuse
        # the last answer instead of each asking Redis (fifty tasks, one round trip).
        self._cooldown_seen[scope] = (now, seen[1] if seen is not None else now)
        left = int((yield ("pttl", self._key(scope, "cooldown"))))
        until = now + max(left, 0) / 1000.0
        self._cooldown_seen[scope] = (now, until)
        return max(0.0, until - now)

    def cooldown(self, scope: str) -> float:
        return self._run_sync(self._cooldown_steps(scope), lambda: self.fallback.cooldown(scope))

    async def acooldown(self, scope: str) -> float:
        steps = self._cooldown_steps(scope)
        return await self._run_async(steps, lambda: self.fallback.cooldown(scope))

    def _start_steps(self, scope: str, seconds: float, reason: str) -> Steps[None]:
        self.fallback.start_cooldown(scope, seconds, reason)
        self._cooldown_seen.pop(scope, None)
        milliseconds = max(1, int(seconds * 1000))
        key = self._key(scope, "cooldown")
        yield ("script", "cooldown", [key], [milliseconds, reason or "-"])

    def start_cooldown(self, scope: str, seconds: float, reason: str = "") -> None:
        self._run_sync(self._start_steps(scope, seconds, reason), lambda: None)

    async def astart_cooldown(self, scope: str, seconds: float, reason: str = "") -> None:
        await self._run_async(self._start_steps(scope, seconds, reason), lambda: None)

    def cooldown_reason(self, scope: str) -> str:
        if self.degraded:
            return self.fallback.cooldown_reason(scope)
        try:
            value = self._redis.get(self._key(scope, "cooldown"))
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return self.fallback.cooldown_reason(scope)
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
        return "" if text in ("-", "1", "None") else text

    def cooldowns(self) -> dict[str, tuple[float, str]]:
        if self.degraded:
            return self.fallback.cooldowns()
        found: dict[str, tuple[float, str]] = {}
        head, tail = f"{self._prefix}:", ":cooldown"
        try:
            for key in self._redis.scan_iter(match=f"{head}*{tail}", count=500):
                name = key.decode() if isinstance(key, bytes) else str(key)
                scope = name[len(head) : -len(tail)]
                left = int(self._redis.pttl(name))
                if left > 0:
                    found[scope] = (left / 1000.0, self.cooldown_reason(scope))
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return self.fallback.cooldowns()
        return found

    def clear_cooldown(self, scope: str | None = None) -> None:
        self.fallback.clear_cooldown(scope)
        self._cooldown_seen.clear()
        if self.degraded:
            return
        try:
            if scope is not None:
                self._redis.delete(self._key(scope, "cooldown"))
                return
            keys = list(self._redis.scan_iter(match=f"{self._prefix}:*:cooldown", count=500))
            if keys:
                self._redis.delete(*keys)
        except _REDIS_DOWN as exc:
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
        with self._deposit_lock:
            gathered, _ = self._deposits.get(scope, (0, capacity))
            self._deposits[scope] = (min(capacity, gathered + amount), capacity)

    def _flush_steps(self) -> Steps[None]:
        with self._deposit_lock:
            batch, self._deposits = self._deposits, {}
            self._flushed_at = time.monotonic()
        items = list(batch.items())
        for number, (scope, (amount, capacity)) in enumerate(items):
            try:
                yield ("script", "deposit", [self._key(scope, "budget")], [amount, capacity])
            except _REDIS_DOWN:
                for left, (more, limit) in items[number:]:  # kept here, not lost
                    self.fallback.deposit(left, more, limit)
                raise

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
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return self.fallback.available(scope, capacity)
        return capacity if value is None else int(value)

    # --- the shared token ------------------------------------------------------

    def shared_token(self, scope: str) -> tuple[str | None, int]:
        if self.degraded:
            return self.fallback.shared_token(scope)
        try:
            values = self._redis.hmget(self._key(scope, "token"), ["token", "generation"])
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return self.fallback.shared_token(scope)
        return _token(values)

    def refresh_token(self, scope: str, seen: int, fetch: Callable[[], str]) -> tuple[str, int]:
        """Single-flight across processes: one holder of the lock fetches, the rest adopt.

        Tried on Redis even while other calls fall back (degraded): a refresh is rare,
        and fetching alone would void every other worker's token.
        """
        lock, owner = self._key(scope, "lock"), secrets.token_hex(8)
        give_up_at = time.monotonic() + self.lock_wait
        try:
            while True:
                token, generation = _token(
                    self._redis.hmget(self._key(scope, "token"), ["token", "generation"])
                )
                if token is not None and generation != seen:
                    return token, generation
                if self._redis.set(lock, owner, nx=True, px=int(self.lock_ttl * 1000)):
                    try:
                        token, generation = _token(
                            self._redis.hmget(self._key(scope, "token"), ["token", "generation"])
                        )
                        if token is not None and generation != seen:
                            return token, generation
                        fresh = fetch()
                        self._scripts["store"](
                            keys=[self._key(scope, "token")], args=[fresh, generation + 1]
                        )
                        return fresh, generation + 1
                    finally:
                        self._scripts["release"](keys=[lock], args=[owner])
                if time.monotonic() > give_up_at:  # the holder is stuck
                    return self._alone(scope, seen, fetch)
                time.sleep(0.02)
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return self._alone(scope, seen, fetch)

    async def arefresh_token(self, scope: str, seen: int, fetch: Fetch) -> tuple[str, int]:
        if self._async is None:
            self._warn_no_async()
            return await self._aalone(scope, seen, fetch)
        client = self._async  # tried even while degraded: see refresh_token
        lock, owner = self._key(scope, "lock"), secrets.token_hex(8)
        key = self._key(scope, "token")
        give_up_at = time.monotonic() + self.lock_wait
        try:
            while True:
                token, generation = _token(await client.hmget(key, ["token", "generation"]))
                if token is not None and generation != seen:
                    return token, generation
                if await client.set(lock, owner, nx=True, px=int(self.lock_ttl * 1000)):
                    try:
                        fields = await client.hmget(key, ["token", "generation"])
                        token, generation = _token(fields)
                        if token is not None and generation != seen:
                            return token, generation
                        fresh = await resolve(fetch)
                        await client.hset(
                            key, mapping={"token": fresh, "generation": generation + 1}
                        )
                        return fresh, generation + 1
                    finally:
                        await client.eval(_RELEASE, 1, lock, owner)
                if time.monotonic() > give_up_at:
                    return await self._aalone(scope, seen, fetch)
                await asyncio.sleep(0.02)
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return await self._aalone(scope, seen, fetch)

    # --- when the fleet's token cannot be seen ------------------------------------

    def _warn_no_async(self) -> None:
        if not self._warned_no_async:
            self._warned_no_async = True
            logger.warning(
                "payerr: RedisCoordinator has no asyncio client; an AsyncTransport cannot "
                "share tokens through it without blocking its event loop (use "
                "RedisCoordinator.from_url, or pass async_client=)",
                extra={"coordinator": "redis"},
            )

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

    def _alone(self, scope: str, seen: int, fetch: Callable[[], str]) -> tuple[str, int]:
        if not self.refresh_without_redis:
            raise self._refused(scope)
        return self.fallback.refresh_token(scope, seen, fetch)

    async def _aalone(self, scope: str, seen: int, fetch: Fetch) -> tuple[str, int]:
        if not self.refresh_without_redis:
            raise self._refused(scope)
        return await self.fallback.arefresh_token(scope, seen, fetch)


def _resume(steps: Steps[Any], reply: Any) -> Command:
    """Give an exchange its reply, or the Redis failure instead (it may tidy up)."""
    if isinstance(reply, _REDIS_DOWN):
        return steps.throw(reply)
    return steps.send(reply)


def _token(values: Any) -> tuple[str | None, int]:
    token, generation = values
    if token is None:
        return None, int(generation or 0)
    text = token.decode() if isinstance(token, bytes) else str(token)
    return text, int(generation or 0)
