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
from concurrent.futures import Future
from functools import partial
from typing import Any, TypeVar, cast

import redis
import redis.asyncio

from .._errors import CoordinatorUnavailableError
from .aio import _library
from .local import Fetch, LocalCoordinator, moved_on, resolve

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
_LOOK = """
local found = {}
for _, key in ipairs(KEYS) do
  found[#found + 1] = redis.call('PTTL', key)
  found[#found + 1] = redis.call('GET', key) or ''
end
return found
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
    "look": _LOOK,
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
        self.clear_cache = clear_cache
        """Seconds a "not cooling" answer is reused. 0 (the default): never, so no worker
        sends once another has started a cooldown; more saves the round trip of each
        request's look at the cost of learning of another worker's cooldown that late."""
        self.fallback = LocalCoordinator()
        self._down_until = 0.0
        self._state_lock = threading.Lock()
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
        """Send what is gathered and close the asyncio client (before its loop ends)."""
        if self._deposits:
            await self._run_async(self._flush_steps(), lambda: None)
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
        finally:
            steps.close()  # interrupted (a cancelled task): its waiters ask again

    async def _run_async(self, steps: Steps[T], fallback: Callable[[], T]) -> T:
        if _library() == "trio":  # redis.asyncio needs asyncio: a worker thread asks instead
            import trio

            return await trio.to_thread.run_sync(self._run_sync, steps, fallback)
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
        finally:
            steps.close()  # interrupted (a cancelled task): its waiters ask again

    def _without_redis(self, exc: BaseException, fallback: Callable[[], T]) -> T:
        self._went_down(exc)
        return fallback()

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
                self._async_scripts[name] = client.register_script(_SOURCES[name])
            return await self._async_scripts[name](keys=keys, args=args)
        return await getattr(client, command[0])(*command[1:])

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
            if answer is _AGAIN:
                continue  # its asker was cancelled: ask again
            found = answer if answer is not None else self._fallback_looks(ask)
            return _merge(scopes, known, found)
        outcome: Any = None
        try:
            sent = time.monotonic()
            keys = [self._key(scope, "cooldown") for scope in ask]
            reply = yield ("script", "look", keys, [])
            outcome = self._learn(ask, reply, sent)
        except GeneratorExit:
            outcome = _AGAIN
            raise
        finally:
            with self._state_lock:
                del self._looks[ask]
            flight.set_result(outcome)
        return _merge(scopes, known, outcome)

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
                self._cooldown_seen[scope] = (now, now + left, _text(value))
            else:
                self._cooldown_seen.pop(scope, None)
            found[scope] = max(left, self.fallback.cooldown(scope))
        return found

    def cooldown_all(self, scopes: tuple[str, ...]) -> list[float]:
        """Seconds left for each of ``scopes``, in one round trip at most."""
        fallback = partial(_as_list, self._fallback_looks, scopes)
        return self._run_sync(self._look_steps(scopes), fallback)

    async def acooldown_all(self, scopes: tuple[str, ...]) -> list[float]:
        """``cooldown_all`` for the async transport: never blocks the event loop."""
        fallback = partial(_as_list, self._fallback_looks, scopes)
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
        yield ("script", "cooldown", [key], [milliseconds, _stored_reason(reason)])
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
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return self.fallback.cooldowns()
        found = dict(self.fallback.cooldowns())
        for number, name in enumerate(keys):
            left = int(reply[2 * number])
            if left > 0:
                found[name[len(head) : -len(tail)]] = (left / 1000.0, _text(reply[2 * number + 1]))
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
        self._regather([(scope, (amount, capacity))])

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

    compares_tokens = True
    """``refresh_token`` takes ``carried=``: the token the failing request carried."""

    def refresh_token(
        self, scope: str, seen: int, fetch: Callable[[], str], carried: str | None = None
    ) -> tuple[str, int]:
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
                if token is not None and moved_on(token, generation, seen, carried):
                    return token, generation
                if self._redis.set(lock, owner, nx=True, px=int(self.lock_ttl * 1000)):
                    try:
                        token, generation = _token(
                            self._redis.hmget(self._key(scope, "token"), ["token", "generation"])
                        )
                        if token is not None and moved_on(token, generation, seen, carried):
                            return token, generation
                        fresh = fetch()
                        self._scripts["store"](
                            keys=[self._key(scope, "token")], args=[fresh, generation + 1]
                        )
                        return fresh, generation + 1
                    finally:
                        self._scripts["release"](keys=[lock], args=[owner])
                if time.monotonic() > give_up_at:  # the holder is stuck
                    return self._alone(scope, seen, fetch, carried)
                time.sleep(0.02)
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return self._alone(scope, seen, fetch, carried)

    async def arefresh_token(
        self, scope: str, seen: int, fetch: Fetch, carried: str | None = None
    ) -> tuple[str, int]:
        if _library() == "trio":  # the sync exchange in a worker thread, fetching on trio
            import trio

            def fetch_on_trio() -> str:
                return str(trio.from_thread.run(resolve, fetch))

            exchange = partial(self.refresh_token, scope, seen, fetch_on_trio, carried)
            return await trio.to_thread.run_sync(exchange)
        if self._async is None:
            self._warn_no_async()
            return await self._aalone(scope, seen, fetch, carried)
        client = self._async  # tried even while degraded: see refresh_token
        lock, owner = self._key(scope, "lock"), secrets.token_hex(8)
        key = self._key(scope, "token")
        give_up_at = time.monotonic() + self.lock_wait
        try:
            while True:
                token, generation = _token(await client.hmget(key, ["token", "generation"]))
                if token is not None and moved_on(token, generation, seen, carried):
                    return token, generation
                if await client.set(lock, owner, nx=True, px=int(self.lock_ttl * 1000)):
                    try:
                        fields = await client.hmget(key, ["token", "generation"])
                        token, generation = _token(fields)
                        if token is not None and moved_on(token, generation, seen, carried):
                            return token, generation
                        fresh = await resolve(fetch)
                        await client.hset(
                            key, mapping={"token": fresh, "generation": generation + 1}
                        )
                        return fresh, generation + 1
                    finally:
                        await client.eval(_RELEASE, 1, lock, owner)
                if time.monotonic() > give_up_at:
                    return await self._aalone(scope, seen, fetch, carried)
                await asyncio.sleep(0.02)
        except _REDIS_DOWN as exc:
            self._went_down(exc)
            return await self._aalone(scope, seen, fetch, carried)

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


def _resume(steps: Steps[Any], reply: Any) -> Command:
    """Give an exchange its reply, or the Redis failure instead (it may tidy up)."""
    if isinstance(reply, _REDIS_DOWN):
        return steps.throw(reply)
    return steps.send(reply)


_AGAIN = object()
"""A look-up's asker was cancelled before the answer: its waiters ask again."""


def _merge(scopes: tuple[str, ...], known: list[float | None], found: Any) -> list[float]:
    """Seconds left per scope: what memory knew, else what the look-up found."""
    answers = found if isinstance(found, dict) else {}
    return [
        left if left is not None else answers.get(scope, 0.0)
        for scope, left in zip(scopes, known, strict=True)
    ]


def _as_list(
    look: Callable[[tuple[str, ...]], dict[str, float]], scopes: tuple[str, ...]
) -> list[float]:
    found = look(scopes)
    return [found[scope] for scope in scopes]


REASON_FIELD_LIMIT = 512
"""Characters kept of each field of a cooldown's reason in Redis (the message, mostly): every
look of every worker reads it back, so a huge or hostile message must not ride along."""


def _stored_reason(reason: str) -> str:
    """``reason`` as a cooldown stores it in Redis: each tab-separated field bounded."""
    if not reason:
        return "-"
    return "\t".join(field[:REASON_FIELD_LIMIT] for field in reason.split("\t"))


def _text(value: Any) -> str:
    """A stored reason as text ("" for none)."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
    return "" if text in ("-", "1", "None") else text


def _token(values: Any) -> tuple[str | None, int]:
    token, generation = values
    if token is None:
        return None, int(generation or 0)
    text = token.decode() if isinstance(token, bytes) else str(token)
    return text, int(generation or 0)
