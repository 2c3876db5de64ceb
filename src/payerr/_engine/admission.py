"""Before each send: the token fetched or refreshed, the app's cooldowns sat out or failed fast.

``Admission`` is the half of a ``Call`` (``call``) that runs before an attempt
goes out; what a cooldown means for the request is ``_retry.decide.hold``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from .._catalog.model import ProviderSpec
from .._coordination.local import LocalCoordinator
from .._enums import RetryHint
from .._errors import PayError
from .._lazy import Lazy
from .._reading.request import api_of_request
from .._retry.policy import RetryPolicy
from . import telemetry as _telemetry
from .engine import Engine
from .sleep import asleep, sleep

if TYPE_CHECKING:
    from .._retry import decide as _decide
    from .credentials import RefreshGate
else:  # loaded with the first cooldown, not on every start
    _decide = Lazy("payerr._retry.decide")

_HINTS = frozenset(hint.value for hint in RetryHint)


class Admission:
    """Credentials and cooldowns of one call, before each of its sends."""

    engine: Engine
    policy: RetryPolicy
    spec: ProviderSpec
    scope: str
    started: float
    gate: RefreshGate | None
    request: Any
    _where: Callable[[Any], tuple[str, str]]
    _sent: Callable[[Any], tuple[str, bytes]] | None
    refresh_due: PayError | None = None
    seen_generation = 0
    seen_token: str | None = None
    """The token the last attempt carried: a refresh compares it with the current one."""
    covered_until = 0.0
    held = False
    """True when a cooldown held the request back: nothing was sent."""
    unsent = False
    """True while the attempt being recorded sent nothing (held back, or its refresh failed)."""
    api: str | None = None
    """The API a per-API quota counts this request under (named once, when first asked)."""

    @property
    def scopes(self) -> tuple[str, str, str]:
        """Where a cooldown may hold this request: its app, its API (a per-API quota:
        the call's name where the envelope declares one, since every Alipay call shares
        ``/gateway.do``; else the path), its host (a Retry-After that named no code)."""
        path, host = self._where(self.request)
        if self.api is None:
            sent = self._sent
            fields = None if sent is None else partial(sent, self.request)
            self.api = api_of_request(self.spec, path, fields)
        return self.scope, f"{self.scope}@{self.api}", f"{self.scope}@host:{host}"

    # --- credentials --------------------------------------------------------

    def ready(self) -> bool:
        """Nothing to do before sending: no credentials to apply, no cooldown to sit out."""
        if self.gate is not None:
            return False
        coordinator = self.engine.coordinator  # ``_nothing_cooling``, on every send
        if type(coordinator) is LocalCoordinator and not coordinator.cooling:
            return True
        return all(left <= 0 for left in self._lefts(self.scopes))

    async def aready(self) -> bool:
        """``ready`` for the async transport: the cooldown looks never block the loop.

        An async loop asks ``ready_at_once`` first: most sends need no look at all, and
        then no coroutine is made for this one."""
        if self.gate is not None:
            return False
        if self._nothing_cooling():
            return True
        return all(left <= 0 for left in await self._alefts(self.scopes))

    def ready_at_once(self) -> bool:
        """``ready``, when it can be told without a look that might wait (Redis)."""
        return self.gate is None and self._nothing_cooling()

    def _nothing_cooling(self) -> bool:
        """In-process cooldowns, none anywhere: the common case, decided without a look."""
        coordinator = self.engine.coordinator
        return type(coordinator) is LocalCoordinator and not coordinator.cooling

    def _lefts(self, scopes: tuple[str, ...]) -> list[float]:
        """Seconds left in each scope's cooldown (one look-up for all, where it can)."""
        coordinator = self.engine.coordinator
        look_all = getattr(coordinator, "cooldown_all", None)
        if look_all is not None:
            return list(look_all(scopes))
        return [coordinator.cooldown(scope) for scope in scopes]

    async def _alefts(self, scopes: tuple[str, ...]) -> list[float]:
        """``_lefts`` for the async transport."""
        coordinator = self.engine.coordinator
        look_all = getattr(coordinator, "acooldown_all", None)
        if look_all is not None:
            return list(await look_all(scopes))
        return [await coordinator.acooldown(scope) for scope in scopes]

    def prepare(self) -> None:
        """Before a send: fetch or refresh credentials, and sit out the app's cooldown."""
        plan = self.refresh_plan()
        gate = self.gate
        if plan is not None and gate is not None:
            try:
                gate.refresh(*plan)
            except PayError:
                self._refresh_failed(plan[2])
                raise
        if self._nothing_cooling():
            return
        pause = self.cooldown_wait()
        if pause:
            sleep(pause)

    async def aprepare(self) -> None:
        """The async twin of ``prepare``."""
        plan = self.refresh_plan()
        gate = self.gate
        if plan is not None and gate is not None:
            try:
                await gate.arefresh(*plan)
            except PayError:
                self._refresh_failed(plan[2])
                raise
        if self._nothing_cooling():
            return
        pause = await self.acooldown_wait()
        if pause:
            await asleep(pause)

    def _refresh_failed(self, error: PayError | None) -> None:
        """Not refreshed: the next attempt tries again, and this one sent nothing."""
        self.refresh_due = error
        self.unsent = True

    def refresh_plan(self) -> tuple[str, int, PayError | None, str | None] | None:
        """What to refresh before the next send: (scope, generation seen, error, token
        carried), or None."""
        gate = self.gate
        if gate is None:
            return None
        if self.refresh_due is not None:
            error, self.refresh_due = self.refresh_due, None
            return self.scope, self.seen_generation, error, self.seen_token
        if gate.needs_first_fetch():
            return self.scope, gate.generation, None, None
        return None

    def cooldown_wait(self) -> float:
        """Seconds to hold off because the app is cooling down; raises when too long.

        Another worker was rate limited with a known window: every worker of the
        app waits it out, or fails at once with ``retry_after`` set.
        """
        scopes = self.scopes
        return self._hold(*max(zip(self._lefts(scopes), scopes, strict=True)))

    async def acooldown_wait(self) -> float:
        """``cooldown_wait`` for the async transport."""
        scopes = self.scopes
        return self._hold(*max(zip(await self._alefts(scopes), scopes, strict=True)))

    def _hold(self, remaining: float, scope: str) -> float:
        """What a cooldown of ``remaining`` seconds on ``scope`` means for this request."""
        now = time.monotonic()
        covered = now + remaining <= self.covered_until + 0.05
        left = self.policy.deadline - (now - self.started)
        pause = _decide.hold(self.policy, remaining, covered, left)
        if pause is None:
            raise self._cooling(scope, remaining)
        if pause and _telemetry.hook is not None:
            _telemetry.hook.waited(self.spec.name, pause)
        return pause

    def _cooling(self, scope: str, remaining: float) -> PayError:
        """The error for a request a cooldown holds back: the original code and message."""
        self.held = self.unsent = True
        code, message, hint, sub_code = _decide.reason_parts(
            self.engine.coordinator.cooldown_reason(scope)
        )
        from .._reading.build import cooldown_error  # loaded with the first error

        error = cooldown_error(self.spec, scope, f"{code}\t{message}", remaining)
        if hint in _HINTS:
            error.retry = RetryHint(hint)  # as the answer that started it said
        error.sub_code = sub_code or None
        return error

    def apply(self, request: Any, copy: Callable[[Any], Any] | None = None) -> Any:
        """The request with the current token on it: ``request`` as it is when it carries
        that token already (credentials that can tell, ``carries_current``), else
        ``copy(request)`` rewritten, so the caller's own request is never changed."""
        gate = self.gate
        if gate is None:
            return request
        credentials = gate.credentials
        self.seen_generation = gate.generation
        token = self.seen_token = getattr(credentials, "token", None)
        carries = getattr(credentials, "carries_current", None)
        if carries is not None and carries(request, token):
            return request
        return credentials.apply(request if copy is None else copy(request))
