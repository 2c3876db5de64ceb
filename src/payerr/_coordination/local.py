"""Coordination between everything that talks to one provider app: in-process, or on Redis.

Provider limits are per app, not per process: WeChat's minute quota and CMI's
QPS limit are shared, and a WeChat token re-fetch voids the token every other
worker holds. A coordinator holds what must be shared, per *scope*
(``provider:app``):

- a cooldown, started when any worker is rate limited with a known window;
- the retry budget (a token bucket);
- the current access token and its generation, refreshed single-flight.

``LocalCoordinator`` does this inside one process (the default, no set-up);
``payerr.RedisCoordinator`` does it across processes and machines.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from concurrent.futures import Future

Fetch = Callable[[], "str | Awaitable[str]"]


@runtime_checkable
class Coordinator(Protocol):
    """Shared state for the workers of one provider app."""

    def cooldown(self, scope: str) -> float:
        """Seconds left in the scope's cooldown (0 when there is none)."""
        ...

    def start_cooldown(self, scope: str, seconds: float, reason: str = "") -> None:
        """Every worker of the scope holds off for ``seconds``; ``reason`` names the code."""
        ...

    def cooldown_reason(self, scope: str) -> str:
        """What started the scope's cooldown (``"code message"``), or ""."""
        ...

    async def acooldown(self, scope: str) -> float:
        """``cooldown`` for the async transport: never blocks the event loop."""
        ...

    async def astart_cooldown(self, scope: str, seconds: float, reason: str = "") -> None:
        """``start_cooldown`` for the async transport."""
        ...

    async def awithdraw(self, scope: str, cost: int, capacity: int) -> bool:
        """``withdraw`` for the async transport."""
        ...

    def cooldowns(self) -> dict[str, tuple[float, str]]:
        """Every active cooldown: scope → (seconds left, reason)."""
        ...

    def clear_cooldown(self, scope: str | None = None) -> None:
        """End one scope's cooldown, or every one."""
        ...

    def withdraw(self, scope: str, cost: int, capacity: int) -> bool:
        """Take ``cost`` retry tokens, if the budget has them."""
        ...

    def deposit(self, scope: str, amount: int, capacity: int) -> None:
        """Give tokens back, up to ``capacity``."""
        ...

    def available(self, scope: str, capacity: int) -> int:
        """Retry tokens left."""
        ...

    def shared_token(self, scope: str) -> tuple[str | None, int]:
        """The current access token and its generation (``(None, 0)`` before any)."""
        ...

    def refresh_token(self, scope: str, seen: int, fetch: Callable[[], str]) -> tuple[str, int]:
        """A token newer than generation ``seen``: fetched here, or taken from whoever did.

        A coordinator with ``compares_tokens = True`` also takes ``carried=``, the token
        the failing request carried: a shared token other than it is taken as it is
        (someone refreshed), the same one is fetched anew by exactly one worker.
        """
        ...

    async def arefresh_token(self, scope: str, seen: int, fetch: Fetch) -> tuple[str, int]:
        """The async twin of ``refresh_token`` (``fetch`` may be a coroutine function)."""
        ...


async def resolve(fetch: Fetch) -> str:
    """Call a fetch that may be sync or async."""
    result = fetch()
    if inspect.isawaitable(result):
        return await result
    return result


def moved_on(token: str | None, generation: int, seen: int, carried: str | None) -> bool:
    """Whether the shared token is already newer than what the failing request used.

    With ``carried`` (the token that request carried): the shared one differs from it,
    so someone refreshed; a worker restarted since cannot mistake it for news. Without:
    the generation moved past ``seen``.
    """
    if token is None:
        return False
    return token != carried if carried is not None else generation != seen


class LocalCoordinator:
    """The coordinator of one process: locks and dictionaries."""

    compares_tokens = True
    """``refresh_token`` takes ``carried=``: the token the failing request carried."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cooldowns: dict[str, float] = {}
        self.cooling = False
        """Whether any scope has a cooldown (possibly expired); False: none at all. An
        attribute, not a property: every send asks, and a property is a call."""
        self._reasons: dict[str, str] = {}
        self._budgets: dict[str, int] = {}
        """Retry tokens of the buckets below capacity; a full bucket has no entry."""
        self.short = False
        """Whether any bucket is below capacity; False: a success has nothing to put back.
        An attribute, as ``cooling`` is: every success asks."""
        self._tokens: dict[str, tuple[str | None, int]] = {}
        self._refresh_locks: dict[str, threading.Lock] = {}
        self._flights: dict[str, Future[None]] = {}

    def cooldown(self, scope: str) -> float:
        if not self._cooldowns:
            return 0.0
        until = self._cooldowns.get(scope)
        if until is None:
            return 0.0
        return max(0.0, until - time.monotonic())

    def start_cooldown(self, scope: str, seconds: float, reason: str = "") -> None:
        with self._lock:
            until = time.monotonic() + seconds
            if until > self._cooldowns.get(scope, 0.0):
                self._cooldowns[scope] = until
                self._reasons[scope] = reason
                self.cooling = True

    def cooldown_reason(self, scope: str) -> str:
        return self._reasons.get(scope, "")

    # In-process state needs no I/O: the async forms are the sync ones.
    async def acooldown(self, scope: str) -> float:
        return self.cooldown(scope)

    async def astart_cooldown(self, scope: str, seconds: float, reason: str = "") -> None:
        self.start_cooldown(scope, seconds, reason)

    async def awithdraw(self, scope: str, cost: int, capacity: int) -> bool:
        return self.withdraw(scope, cost, capacity)

    def cooldowns(self) -> dict[str, tuple[float, str]]:
        now = time.monotonic()
        with self._lock:
            for scope in [s for s, until in self._cooldowns.items() if until <= now]:
                del self._cooldowns[scope]
                self._reasons.pop(scope, None)
            self.cooling = bool(self._cooldowns)
            return {s: (u - now, self._reasons.get(s, "")) for s, u in self._cooldowns.items()}

    def clear_cooldown(self, scope: str | None = None) -> None:
        with self._lock:
            if scope is None:
                self._cooldowns.clear()
                self._reasons.clear()
            else:
                self._cooldowns.pop(scope, None)
                self._reasons.pop(scope, None)
            self.cooling = bool(self._cooldowns)

    def withdraw(self, scope: str, cost: int, capacity: int) -> bool:
        with self._lock:
            tokens = self._budgets.get(scope, capacity)
            if tokens < cost:
                return False
            if cost > 0:
                self._budgets[scope] = tokens - cost
                self.short = True
            return True

    def deposit(self, scope: str, amount: int, capacity: int) -> None:
        tokens = self._budgets.get(scope, capacity)
        if amount <= 0 or tokens >= capacity:
            return  # a full bucket needs no lock: the common case on every success
        with self._lock:
            tokens = self._budgets.get(scope, capacity) + amount
            if tokens < capacity:
                self._budgets[scope] = tokens
            else:  # full again: no entry, and when none is left no success looks
                self._budgets.pop(scope, None)
                self.short = bool(self._budgets)

    def available(self, scope: str, capacity: int) -> int:
        return self._budgets.get(scope, capacity)

    def shared_token(self, scope: str) -> tuple[str | None, int]:
        return self._tokens.get(scope, (None, 0))

    def _refresh_lock(self, scope: str) -> threading.Lock:
        with self._lock:
            return self._refresh_locks.setdefault(scope, threading.Lock())

    def refresh_token(
        self, scope: str, seen: int, fetch: Callable[[], str], carried: str | None = None
    ) -> tuple[str, int]:
        with self._refresh_lock(scope):
            token, generation = self.shared_token(scope)
            if token is not None and moved_on(token, generation, seen, carried):
                return token, generation
            fresh = fetch()
            self._tokens[scope] = (fresh, generation + 1)
            return fresh, generation + 1

    async def arefresh_token(
        self, scope: str, seen: int, fetch: Fetch, carried: str | None = None
    ) -> tuple[str, int]:
        from concurrent.futures import Future  # only async users pay for these

        from .aio import wait

        while True:
            with self._lock:
                token, generation = self.shared_token(scope)
                if token is not None and moved_on(token, generation, seen, carried):
                    return token, generation
                flight = self._flights.get(scope)
                owner = flight is None
                if flight is None:
                    flight = self._flights[scope] = Future()
            if not owner:
                await wait(flight)  # whoever fetches, on any thread or event loop
                continue
            try:
                fresh = await resolve(fetch)
            except BaseException as exc:
                with self._lock:
                    del self._flights[scope]
                flight.set_exception(exc)
                raise
            with self._lock:
                self._tokens[scope] = (fresh, generation + 1)
                del self._flights[scope]
            flight.set_result(None)
            return fresh, generation + 1
