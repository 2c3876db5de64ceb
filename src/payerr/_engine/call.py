"""What the httpx transports and the requests adapter share: one logical request's life.

A ``Call`` follows one request across its attempts. Each client's loop is a
plain ``while`` that sends, and after a failure asks ``Call.next_delay`` (which
asks the ``RetryPolicy``) whether and when to send again; the call records what
happened for logs, hooks and the final error.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from .._catalog import registry as _catalog_module
from .._catalog.registry import ProviderSpec, catalog
from .._coordination.local import Coordinator, LocalCoordinator
from .._enums import Category, RetryHint
from .._errors import RAW_CAP, PayError
from .._reading.classify import (
    Outcome,
    RequestFacts,
    api_of_request,
    classify,
    cooldown_error,
    read_envelope,
    transport_error,
)
from .._reading.raw import RawResponse, attach_outcome
from .._reading.redact import redact_text, secret_values
from .._retry.budget import RetryBudget
from .._retry.policy import Attempt, Decision, RetryPolicy, Stop
from .._retry.safety import parse_mark
from . import telemetry as _telemetry
from .credentials import REFRESHING, Credentials, RefreshGate, gate_for
from .sleep import asleep, sleep

logger = logging.getLogger("payerr")
T = TypeVar("T")

_UNDECIDED = Decision(retry=False)
_PROVIDER_FAILING = frozenset(
    {
        Category.UNAVAILABLE,
        Category.RATE_LIMITED,
        Category.NETWORK,
        Category.OUTCOME_UNKNOWN,
        Category.MALFORMED,
        Category.UNKNOWN,
    }
)

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
        self.gate: RefreshGate | None = (
            gate_for(credentials, self.coordinator) if credentials is not None else None
        )
        self._rng = random.Random()
        self._routes: dict[str, Route] = {}
        self._passed_hosts: set[str | None] = set()
        self.budget = RetryBudget(self.policy.budget, self.policy.success_refund, self.coordinator)
        if provider is not None:
            catalog().spec(provider)  # fail at construction, not on the first request

    def route(self, host: str | None) -> Route | None:
        """The adapter and scope for a request's host, or None: nobody claims it, it passes.

        The catalog remembers which adapter a host maps to; the engine only keeps
        a ``Route`` per adapter, made again when an override replaces the spec.
        """
        cat = _catalog_module._catalog or catalog()
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
        return route

    def budget_available(self, provider: str | None = None) -> int | None:
        """Retry-budget tokens left for a provider's scope (None when the budget is off)."""
        name = provider or self.provider
        if name is None and self.budget.capacity is not None:
            raise ValueError("name the provider: this transport serves several")
        return self.budget.left(f"{name}:{self.app}")

    def cooldowns(self) -> list[Cooldown]:
        """Every cooldown holding requests back right now, longest first."""
        found = [
            Cooldown(scope, left, *_reason_parts(reason)[:2])
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


class Route(NamedTuple):
    """Where a request goes: the provider's adapter, and the app scope it counts against."""

    spec: ProviderSpec
    scope: str
    """What one cooldown, budget and token are shared by: a provider app."""


class Call:
    """One logical request across its attempts.

    Most calls end in one successful send, so everything a retry needs starts as
    a class-level default and is only set on the instance when it changes.
    """

    history: tuple[Attempt, ...] = ()
    marked: bool | None = None
    refreshed = False
    refresh_due: PayError | None = None
    seen_generation = 0
    seen_token: str | None = None
    """The token the last attempt carried: a refresh compares it with the current one."""
    decision = _UNDECIDED
    last_response: Any = None
    spent = 0
    covered_until = 0.0
    replayable = True
    """False when the request body is a stream that cannot be sent a second time."""
    held = False
    """True when a cooldown held the request back: nothing was sent."""
    unsent = False
    """True while the attempt being recorded sent nothing (held back, or its refresh failed)."""
    api: str | None = None
    """The API a per-API quota counts this request under (named once, when first asked)."""

    def __init__(
        self,
        engine: Engine,
        route: Route,
        marked_idempotent: bool | None,
        where: Callable[[], tuple[str, str]] = lambda: ("", ""),
        sent: Callable[[], tuple[str, bytes]] | None = None,
    ) -> None:
        self.engine = engine
        self.policy = engine.policy
        self.spec, self.scope = route
        if marked_idempotent is not None:
            self.marked = marked_idempotent
        self.started = time.monotonic()
        gate = engine.gate
        self._where = where
        """(URL path, host), asked for only when needed: URL parsing is not free."""
        self._sent = sent
        """(URL, body), asked for only to name the API of a provider that names its calls
        by a request field (Alipay's ``method``, UnionPay's ``txnType``)."""
        if gate is not None and (REFRESHING.get() or self.spec.fetches_token(where()[0])):
            gate = None  # the token's own fetch: no token to carry, no refresh to wait for
        self.gate = gate

    @property
    def scopes(self) -> tuple[str, str, str]:
        """Where a cooldown may hold this request: its app, its API (a per-API quota:
        the call's name where the envelope declares one, since every Alipay call shares
        ``/gateway.do``; else the path), its host (a Retry-After that named no code)."""
        path, host = self._where()
        if self.api is None:
            self.api = api_of_request(self.spec, path, self._sent)
        return self.scope, f"{self.scope}@{self.api}", f"{self.scope}@host:{host}"

    # --- credentials --------------------------------------------------------

    def ready(self) -> bool:
        """Nothing to do before sending: no credentials to apply, no cooldown to sit out."""
        engine = self.engine
        if self.gate is not None:
            return False
        coordinator = engine.coordinator
        if type(coordinator) is LocalCoordinator and not coordinator.cooling:
            return True  # nothing anywhere is cooling down: the common case, decided at once
        return all(left <= 0 for left in self._lefts())

    async def aready(self) -> bool:
        """``ready`` for the async transport: the cooldown looks never block the loop."""
        if self.gate is not None:
            return False
        return all(left <= 0 for left in await self._alefts())

    def _lefts(self) -> list[float]:
        """Seconds left in each scope's cooldown (one look-up for all, where it can)."""
        coordinator = self.engine.coordinator
        scopes = self.scopes
        look_all = getattr(coordinator, "cooldown_all", None)
        if look_all is not None:
            return list(look_all(scopes))
        return [coordinator.cooldown(scope) for scope in scopes]

    async def _alefts(self) -> list[float]:
        """``_lefts`` for the async transport."""
        coordinator = self.engine.coordinator
        scopes = self.scopes
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
        return self._hold(*max(zip(self._lefts(), self.scopes, strict=True)))

    async def acooldown_wait(self) -> float:
        """``cooldown_wait`` for the async transport."""
        return self._hold(*max(zip(await self._alefts(), self.scopes, strict=True)))

    def _hold(self, remaining: float, scope: str) -> float:
        """What a cooldown of ``remaining`` seconds on ``scope`` means for this request."""
        if remaining <= 0:
            return 0.0
        now = time.monotonic()
        if now + remaining <= self.covered_until + 0.05:
            return 0.0  # this request's own retry delay already waited for it
        left = self.policy.deadline - (now - self.started)
        if remaining > self.policy.max_retry_after or remaining > left:
            raise self._cooling(scope, remaining)
        if _telemetry.hook is not None:
            _telemetry.hook.waited(self.spec.name, remaining)
        return remaining

    def _cooling(self, scope: str, remaining: float) -> PayError:
        """The error for a request a cooldown holds back: the original code and message."""
        self.held = self.unsent = True
        code, message, hint, sub_code = _reason_parts(
            self.engine.coordinator.cooldown_reason(scope)
        )
        error = cooldown_error(self.spec, scope, f"{code}\t{message}", remaining)
        if hint in _HINTS:
            error.retry = RetryHint(hint)  # as the answer that started it said
        error.sub_code = sub_code or None
        return error

    def apply(self, request: Any) -> Any:
        gate = self.gate
        if gate is None:
            return request
        self.seen_generation = gate.generation
        self.seen_token = getattr(gate.credentials, "token", None)
        return gate.credentials.apply(request)

    # --- one attempt's result ---------------------------------------------

    def facts(self, method: str, url: str, body: bytes, headers: Any) -> RequestFacts:
        facts = RequestFacts(method, url, body, headers, self.marked)
        predicate = self.policy.is_idempotent
        if self.marked is None and predicate is not None:
            facts.marked_idempotent = parse_mark(predicate(facts), source="is_idempotent()")
        return facts

    def settle(
        self,
        response: T,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        path: Callable[[], str],
        details: Callable[[], tuple[RawResponse, RequestFacts]],
    ) -> T:
        """The response on success; the typed error raised (and the response kept) otherwise.

        A success is read with one parse and nothing else built; ``details`` (the
        full response and request view) is only asked for when something is wrong.
        """
        spec = self.spec
        parsed = read_envelope(spec, status, body, headers, path() if spec.reads_path else "")
        reading = parsed[2]
        if reading is not None and reading.ok and 200 <= status < 400:
            outcome = Outcome(True, parsed[0], None, spec.name)
        else:
            raw, facts = details()
            outcome = classify(raw, spec, facts, parsed=parsed)
        attach_outcome(response, outcome)
        if outcome.ok:
            return self.passed(response, outcome)
        self.last_response = response
        error = outcome.error
        assert error is not None
        error.response = response  # the client's own object, as its handlers expect
        raise error

    def cooldown_due(self, error: PayError) -> tuple[str, float, str] | None:
        """The cooldown a provider's rate limit starts for every worker: (scope, seconds, why).

        The adapter says what each code's quota covers (``cooldown`` in its TOML):
        one API, the host, the app, or one subject (a payee, a user), which holds
        nothing else. A Retry-After that names no code holds the host. A server's
        wait is already capped by ``max_cooldown`` (``capped``); a documented
        window payerr computed itself lasts as computed.
        """
        seconds = error.retry_after
        if error.category is not Category.RATE_LIMITED or not seconds or self.held:
            return None
        info = self.spec.lookup(error.code, error.sub_code) if error.code else None
        app, api, host = self.scopes
        if info is None:
            scope = host if error.code is None else app
        elif info.cooldown == "subject":
            return None  # one payee's or one user's limit: everyone else goes on
        else:
            scope = {"api": api, "host": host}.get(info.cooldown, app)
        return scope, seconds, _reason(error)

    def capped(self, error: PayError) -> None:
        """A server-sent wait becomes what payerr honours: at most ``max_cooldown``.

        The server's own value stays on ``error.server_retry_after``.
        """
        if error.server_retry_after is not None and error.retry_after is not None:
            error.retry_after = min(error.server_retry_after, self.policy.max_cooldown)

    def passed(self, response: T, outcome: Outcome | None = None) -> T:
        """A success: the response goes back as it is (a file unread, still a stream)."""
        if _telemetry.hook is not None:
            _telemetry.hook.answered(self.spec.name)
        if outcome is None:
            attach_outcome(response, Outcome(True, {}, None, self.spec.name))
        if self.spent or self.history:
            self._recovered()
        elif self.engine.budget.refund:  # a plain success tops the bucket up
            self.engine.budget.give(self.scope, self.engine.budget.refund)
        return response

    def _recovered(self) -> None:
        """A retry that worked costs nothing in the end; failed retries drain the budget."""
        self.engine.budget.give(self.scope, self.spent or self.policy.success_refund)
        if self.history:
            logger.info(
                "payerr: %s succeeded on attempt %d",
                self.spec.name,
                len(self.history) + 1,
                extra={"provider": self.spec.name, "attempt": len(self.history) + 1},
            )

    def read_deadline(self) -> float:
        """When reading an answer must stop: the policy's deadline for the whole call."""
        return self.started + self.policy.deadline

    def unreadable(self, exc: BaseException, status: int, facts: RequestFacts) -> PayError:
        """A typed error for an answer that broke while read: its outcome is not known.

        A body that does not decode, or one still dripping at the deadline, may
        follow a payment that went through: ``OutcomeUnknownError``, which the
        safety rule makes ``QUERY_FIRST`` for anything not safe to resend.
        """
        error = self.no_answer(Category.OUTCOME_UNKNOWN, exc, facts)
        error.http_status = status or None
        raw = getattr(exc, "raw", b"")
        if raw:
            fields = facts.fields(self.spec.nested_fields)
            for value in secret_values(facts.url, facts.headers, fields):
                raw = raw.replace(value.encode(), b"***")
            error.raw = raw[:RAW_CAP]
        return error

    def no_answer(self, category: Category, exc: BaseException, facts: RequestFacts) -> PayError:
        """A typed error for a request that was never sent, or never answered.

        The client's exception stays attached as ``__cause__``, its text masked:
        requests puts the full URL, token and all, into its messages.
        """
        secrets = secret_values(facts.url, facts.headers, facts.fields(self.spec.nested_fields))
        _mask_chain(exc, secrets)
        message = f"{type(exc).__name__}: {exc}" if exc.args else type(exc).__name__
        return transport_error(category, message, self.spec, facts)

    # --- after a failed attempt ---------------------------------------------

    def next_delay(self, error: PayError) -> float | None:
        """After a failed attempt: seconds to wait before the next one, or None to stop.

        The policy decides; the budget can still say no; a body that cannot be
        sent twice is never sent twice. A retry is recorded (history, logs,
        ``on_retry``) before the caller's loop sleeps.
        """
        self.capped(error)
        due = self.cooldown_due(error)
        if due is not None:
            self.engine.coordinator.start_cooldown(*due)
        decision, cost = self._decide(error)
        if cost and not self.engine.budget.take(self.scope, cost):
            decision, cost = Decision(retry=False, reason=Stop.BUDGET_EXHAUSTED), 0
        return self._record(error, decision, cost)

    async def anext_delay(self, error: PayError) -> float | None:
        """``next_delay`` for the async transport: its Redis calls never block the loop."""
        self.capped(error)
        due = self.cooldown_due(error)
        if due is not None:
            await self.engine.coordinator.astart_cooldown(*due)
        decision, cost = self._decide(error)
        if cost and not await self.engine.budget.atake(self.scope, cost):
            decision, cost = Decision(retry=False, reason=Stop.BUDGET_EXHAUSTED), 0
        return self._record(error, decision, cost)

    def _decide(self, error: PayError) -> tuple[Decision, int]:
        """The policy's answer, and what a retry would cost the budget (0: no retry)."""
        decision = self.policy.decide(
            error,
            attempt=len(self.history) + 1,
            elapsed=time.monotonic() - self.started,
            refreshed=self.refreshed,
            can_refresh=self.gate is not None,
            rng=self.engine._rng,
        )
        if decision.retry and not self.replayable:
            decision = Decision(retry=False, reason=Stop.BODY_NOT_REPLAYABLE)
        return decision, self.policy.cost_of(error) if decision.retry else 0

    def _record(self, error: PayError, decision: Decision, cost: int) -> float | None:
        """Keep what was decided, and tell telemetry about every failed attempt."""
        self.spent += cost
        self.decision = decision
        retry = self._retry(error, decision) if decision.retry else None
        if _telemetry.hook is not None:
            _telemetry.hook.failed(error, retry, not self.unsent)
        self.unsent = False
        return None if retry is None else decision.delay

    def _retry(self, error: PayError, decision: Decision) -> Attempt:
        """A retry: keep it in the history, log it and tell ``on_retry``."""
        attempt = len(self.history) + 1
        retry = Attempt(attempt, error, decision.delay, error.retry, decision.refresh)
        self.history = (*self.history, retry)
        self.covered_until = time.monotonic() + decision.delay
        if decision.refresh:
            self.refreshed = True
            self.refresh_due = error
        self.discard()
        if logger.isEnabledFor(logging.INFO):
            self._log_retry(error, attempt, decision)
        if self.policy.on_retry is not None:
            self.policy.on_retry(retry)
        return retry

    @staticmethod
    def _log_retry(error: PayError, attempt: int, decision: Decision) -> None:
        logger.info(
            "payerr: %s %s on attempt %d, retrying in %.2fs (%s)",
            error.provider,
            error.code or error.category.value,
            attempt,
            decision.delay,
            "refreshing credentials" if decision.refresh else error.retry.value,
            extra=_extra(error, attempt, decision.delay),
        )

    # --- the end ------------------------------------------------------------

    def run(
        self,
        attempt: Callable[[], T],
        end: Callable[[PayError], T],
        again: Callable[[], None] | None = None,
    ) -> T:
        """The sync retry loop: send; after a failure, ask ``next_delay``, sleep, send again.

        ``end`` turns the last error into the result (raise, or a response when
        ``raise_errors=False``); ``again`` readies the request for another send.
        """
        while True:
            try:
                return attempt()
            except PayError as error:
                delay = self.next_delay(error)
                if delay is None:
                    return end(error)
                if delay > 0:
                    sleep(delay)
                if again is not None:
                    again()

    async def arun(self, attempt: Callable[[], Awaitable[T]], end: Callable[[PayError], T]) -> T:
        """``run`` for event loops: the same steps, its waits never block the loop."""
        while True:
            try:
                return await attempt()
            except PayError as error:
                delay = await self.anext_delay(error)
                if delay is None:
                    return end(error)
                if delay > 0:
                    await asleep(delay)

    def end(self, error: PayError, local_answer: Callable[[int, dict[str, str], bytes], T]) -> T:
        """Raise the final error, or hand back the last response when asked to.

        With ``raise_errors=False`` a request a cooldown held back (nothing was
        sent) is answered by ``local_answer``: a 429 with ``Retry-After`` and the error.
        """
        error = self.give_up(error)
        if not self.policy.raise_errors:
            if self.last_response is not None:
                last: T = self.last_response
                return last
            if self.held:
                answer = local_answer(*self.held_answer(error))
                attach_outcome(answer, Outcome(False, None, error, error.provider))
                return answer
        self.discard()  # nobody will read the last answer: its connection goes back
        # the caller's frames, not the retry loop's; the cause stays attached
        raise error.with_traceback(None) from error.__cause__

    def held_answer(self, error: PayError) -> tuple[int, dict[str, str], bytes]:
        """What a client answers locally for a request a cooldown held back."""
        import json
        import math

        body = {"payerr": "cooling down: not sent", "code": error.code, "message": error.message}
        headers = {
            "Content-Type": "application/json",
            "Retry-After": str(math.ceil(error.retry_after or 0)),
        }
        return 429, headers, json.dumps(body, ensure_ascii=False).encode()

    def discard(self) -> None:
        response, self.last_response = self.last_response, None
        close = getattr(response, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # an async response closes itself with its stream
                pass

    def give_up(self, error: PayError) -> PayError:
        """The last attempt's error, carrying the attempt count and what came before."""
        if self.spent and error.category not in _PROVIDER_FAILING:
            self.engine.budget.give(self.scope, self.spent)  # the provider answered: it is alive
        error.attempts = len(self.history) + 1
        error.history = tuple(attempt.error for attempt in self.history)
        error.delays = tuple(attempt.delay for attempt in self.history)
        decision = self.decision
        reason = decision.detail or str(decision.reason or f"hint is {error.retry.value}")
        if self.decision.reason in (Stop.BUDGET_EXHAUSTED, Stop.BODY_NOT_REPLAYABLE):
            error.message = f"{error.message} (not retried: {reason})".strip()
        limited = error.retryable  # it could have been retried, but a limit said no
        logger.log(
            logging.WARNING if limited else logging.DEBUG,
            "payerr: %s %s after %d attempt(s), not retrying: %s",
            error.provider,
            error.code or error.category.value,
            error.attempts,
            reason,
            extra={**_extra(error, error.attempts, 0.0), "reason": reason},
        )
        return error


_HINTS = frozenset(hint.value for hint in RetryHint)


def _reason(error: PayError) -> str:
    """What a cooldown remembers of the error that started it, for the requests it holds."""
    parts = (error.code or "", error.message, error.retry.value, error.sub_code or "")
    return "\t".join(" ".join(part.split("\t")) for part in parts)


def _reason_parts(reason: str) -> tuple[str, str, str, str]:
    """(code, message, hint, sub code) of a stored reason; older ones lack the last two."""
    code, message, hint, sub_code, *_ = (*reason.split("\t"), "", "", "")
    return code, message, hint, sub_code


def _mask_chain(exc: BaseException, secrets: tuple[str, ...]) -> None:
    """Mask credentials in an exception and every exception it was raised from."""

    def masked(arg: object) -> object:
        text = arg if isinstance(arg, str) else str(arg)
        clean = redact_text(text, secrets)
        return arg if clean == text else clean

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(masked(arg) for arg in current.args)
        current = current.__cause__ or current.__context__


def _extra(error: PayError, attempt: int, delay: float) -> dict[str, Any]:
    return {
        "provider": error.provider,
        "code": error.code,
        "sub_code": error.sub_code,
        "category": error.category.value,
        "attempt": attempt,
        "delay": delay,
        "hint": error.retry.value,
        "request_id": error.request_id,
        "url": error.url,
    }
