"""The engine of one transport or adapter: its policy, budget, credentials and routes.

Each client wrapper holds one ``Engine`` and shows it through ``EngineViews``;
every request it sends is a ``Call`` (``call``) made with the engine's ``Route``
for the request's host.
"""

from __future__ import annotations

import logging
import random
from contextvars import ContextVar
from typing import TYPE_CHECKING, NamedTuple

from .._catalog import registry as _catalog_module
from .._catalog.model import ProviderSpec
from .._catalog.registry import catalog
from .._coordination.local import Coordinator, LocalCoordinator
from .._retry.budget import RetryBudget
from .._retry.policy import RetryPolicy

if TYPE_CHECKING:  # credentials are loaded when a transport is given some
    from .credentials import Credentials, RefreshGate

logger = logging.getLogger("payerr")

REFRESHING: ContextVar[bool] = ContextVar("payerr_refreshing", default=False)
"""True while this context fetches a token: its own requests (the token endpoint,
through the same client) neither wait for the gate nor carry the old token."""

IDEMPOTENT_MARK = "payerr.idempotent"
"""httpx: ``extensions={"payerr.idempotent": True}`` marks a request safe to send twice."""
IDEMPOTENT_HEADER = "Payerr-Idempotent"
"""requests: this header marks a request safe to send twice; it is removed before sending."""


class Engine:
    """Policy, budget, credentials and provider choice of one transport or adapter."""

    def __init__(
        self,
        policy: RetryPolicy | None,
        provider: str | None,
        credentials: Credentials | None,
        coordinator: Coordinator | None = None,
        app: str = "default",
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.provider = provider
        self.app = app
        self.coordinator: Coordinator = coordinator or LocalCoordinator()
        self.gate: RefreshGate | None = None
        if credentials is not None:
            from .credentials import gate_for

            self.gate = gate_for(credentials, self.coordinator)
        self._rng = random.Random()
        self._routes: dict[str, Route] = {}
        self._passed_hosts: set[str | None] = set()
        self._last: tuple[object, str | None, Route | None] = (None, None, None)
        """The last host routed, its route and the catalog generation it was found in."""
        self.budget = RetryBudget(self.policy.budget, self.policy.success_refund, self.coordinator)
        if provider is not None:
            catalog().spec(provider)  # fail at construction, not on the first request

    def route(self, host: str | None) -> Route | None:
        """The adapter and scope for a request's host, or None: nobody claims it, it passes.

        The catalog remembers which adapter a host maps to; the engine only keeps
        a ``Route`` per adapter, made again when an override replaces the spec.
        """
        cat = _catalog_module._catalog or catalog()
        generation, last_host, last_route = self._last
        if generation is cat.generation and last_host == host:
            return last_route  # the same host as last time, and nothing in the catalog changed
        generation = cat.generation  # read first: a change while we look is seen next time
        spec = (
            cat.spec(self.provider) if self.provider is not None else cat.spec_for_host(host or "")
        )
        if spec is None:
            if host not in self._passed_hosts and len(self._passed_hosts) < 1024:
                self._passed_hosts.add(host)
                logger.debug(
                    "payerr: no adapter claims host %r; its requests pass through untouched "
                    "(payerr.register_host() or provider= claims it)",
                    host,
                    extra={"host": host},
                )
            return None
        route = self._routes.get(spec.name)
        if route is None or route.spec is not spec:
            route = self._routes[spec.name] = Route(spec, f"{spec.name}:{self.app}")
        self._last = (generation, host, route)
        return route

    def budget_available(self, provider: str | None = None) -> int | None:
        """Retry-budget tokens left for a provider's scope (None when the budget is off)."""
        name = provider or self.provider
        if name is None and self.budget.capacity is not None:
            raise ValueError("name the provider: this transport serves several")
        return self.budget.left(f"{name}:{self.app}")

    def cooldowns(self) -> list[Cooldown]:
        """Every cooldown holding requests back right now, longest first."""
        from .._retry.decide import reason_parts  # asked for seldom: not loaded at start

        found = [
            Cooldown(scope, left, *reason_parts(reason)[:2])
            for scope, (left, reason) in self.coordinator.cooldowns().items()
        ]
        return sorted(found, key=lambda c: -c.remaining)

    def clear_cooldown(self, scope: str | None = None) -> None:
        self.coordinator.clear_cooldown(scope)


class EngineViews:
    """What every payerr client wrapper shows of its engine: policy, budget, cooldowns."""

    _engine: Engine

    @property
    def policy(self) -> RetryPolicy:
        return self._engine.policy

    def budget_left(self, provider: str | None = None) -> int | None:
        """Retry-budget tokens left for a provider app (None when the budget is off)."""
        return self._engine.budget_available(provider)

    def cooldowns(self) -> list[Cooldown]:
        """Every cooldown holding requests back right now (scope, seconds left, code, message)."""
        return self._engine.cooldowns()

    def clear_cooldown(self, scope: str | None = None) -> None:
        """End one cooldown (its ``scope``), or all of them, here and for every worker."""
        self._engine.clear_cooldown(scope)


class Cooldown(NamedTuple):
    """A cooldown: who it holds (``provider:app``, ``…@api`` (its name, else its path),
    ``…@host:name``)."""

    scope: str
    remaining: float
    """Seconds left."""
    code: str
    """The provider code that started it ("" for a bare Retry-After)."""
    message: str


# Where a request goes: the provider's adapter, and the app scope it counts against (what
# one cooldown, budget and token are shared by). Declared by call: a class's string
# annotations are each compiled when payerr is imported.
Route = NamedTuple("Route", [("spec", ProviderSpec), ("scope", str)])  # noqa: UP014
