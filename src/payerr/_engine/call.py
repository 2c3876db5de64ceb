"""What every client shares: one logical request's life, with its one sync and one async loop.

A ``Call`` follows one request across its attempts: ``run`` (``arun``) sends, and after a
failure (an answer's ``Failure``, or an error raised) obeys what ``_retry.decide`` answers
for its ``RetryState``; what happened is kept for logs, hooks and the final error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._coordination.local import LocalCoordinator
from .._errors import PayError
from .._lazy import Lazy
from .._reading.classify import judge
from .._reading.deferred import complete
from .._reading.outcome import Failed, Failure, Outcome, made
from .._reading.parsed import Parsed, read_again, read_body, read_by
from .._reading.raw import attach_outcome
from .._reading.request import RequestFacts
from .._retry.policy import Attempt, Decision
from .._retry.safety import parse_mark
from . import telemetry as _telemetry
from .admission import Admission
from .engine import REFRESHING, Engine, Route
from .sleep import asleep, sleep

logger = logging.getLogger("payerr")
T = TypeVar("T")

_UNDECIDED = Decision(retry=False)
_state_of = _parsed = tuple.__new__
"""``RetryState(...)`` (and ``Parsed(...)``) without a NamedTuple's Python-level
``__new__``: once per failed attempt."""


def _nowhere(request: Any) -> tuple[str, str]:
    return "", ""


if TYPE_CHECKING:  # a Protocol is for type checkers: not built on every start
    from .._retry import decide as _decide
    from . import failures as _failures
    from .answers import Answers
else:  # the error path's: loaded with the first failed attempt, not on every start
    _decide = Lazy("payerr._retry.decide")
    _failures = Lazy("payerr._engine.failures")


class Call(Admission):
    """One logical request across its attempts.

    Most calls end in one successful send, so everything a retry needs starts as
    a class-level default and is only set on the instance when it changes.
    """

    failed: tuple[Failed, ...] = ()
    """What ended each attempt retried so far: an answer's ``Failure`` has its error made
    only if someone reads it (an ``Attempt`` is built only for ``on_retry``)."""
    delays: tuple[float, ...] = ()
    marked: bool | None = None
    refreshed = False
    decision = _UNDECIDED
    last_response: Any = None
    last_failure: Failure | None = None
    last_facts: RequestFacts | None = None
    last_read: tuple[int, bytes, str, tuple[str | None, ...], tuple[Any, Any, Any]] | None = None
    """The last failed answer (status, body, path, the headers it is read by) and how it
    read: a resend answered with the same bytes is not read again."""
    spent = 0
    replayable = True
    """False when the request body is a stream that cannot be sent a second time."""

    def __init__(
        self,
        engine: Engine,
        route: Route,
        marked_idempotent: bool | None,
        request: Any = None,
        where: Callable[[Any], tuple[str, str]] = _nowhere,
        sent: Callable[[Any], tuple[str, bytes]] | None = None,
    ) -> None:
        self.engine = engine
        self.policy = engine.policy
        self.spec, self.scope = route
        if marked_idempotent is not None:
            self.marked = marked_idempotent
        self.started = started = time.monotonic()
        self.deadline_at = started + self.policy.deadline
        """When reading an answer must stop: the policy's deadline for the whole call."""
        self.request = request
        self._where = where
        """(URL path, host) of ``request``, asked for only when needed: URL parsing is not
        free. A plain function of the client's, so no closure is made per request."""
        self._sent = sent
        """(URL, body) of ``request``, asked for only to name the API of a provider that
        names its calls by a request field (Alipay's ``method``, UnionPay's ``txnType``)."""
        gate = engine.gate
        if gate is not None and (REFRESHING.get() or self.spec.fetches_token(where(request)[0])):
            gate = None  # the token's own fetch: no token to carry, no refresh to wait for
        self.gate = gate

    # --- one attempt's result ---------------------------------------------

    def facts(self, method: str, url: str, body: bytes, headers: Any) -> RequestFacts:
        """The request's view for an answer that is not a success: one per request sent,
        so a resend of the same request reuses what its first failure parsed."""
        last = self.last_facts
        if (
            last is not None
            and last.body is body
            and last.headers is headers
            and last.url == url
            and last.http_method == method
        ):
            return last
        facts = self.last_facts = RequestFacts(method, url, body, headers, self.marked)
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
        client: Answers,
        sent: Any,
    ) -> T | Failure:
        """The response on success; else the answer's ``Failure`` for the loop to decide on
        (its error made only if someone will see it). A success is read with one parse and
        nothing else built: ``client.details`` is asked for only when something is wrong."""
        spec = self.spec
        path = client.path_of(sent) if spec.reads_path else ""
        last = self.last_read
        if last is None or (read := read_again(last, status, body, path, headers)) is None:
            read = read_body(spec, status, body, headers, path)
        reading = read[2]
        if reading is not None and reading.ok and 200 <= status < 400:
            outcome = Outcome(True, read[0], None, spec.name)
            client.answered(response, outcome)
            return self.passed(response, outcome)
        raw, facts = client.details(self, sent, response, body)
        # what the answer said is built only when someone will see it (``complete``)
        judged = judge(raw, spec, facts, None, _parsed(Parsed, read), True)
        if isinstance(judged, Outcome):  # a success after all (a 3xx, a 204 with no envelope)
            client.answered(response, judged)
            return self.passed(response, judged)
        # its outcome goes on the answer the caller will see (``end``), not on retried ones
        self.last_response, self.last_failure = response, judged
        self.last_read = status, body, path, read_by(status, headers), read
        judged.response = response  # its error's, the client's own object
        return judged.rule()

    def cooldown_due(self, error: Failed) -> tuple[str, float, str] | None:
        """The cooldown a provider's rate limit starts for every worker: (scope, seconds, why).

        A server's wait is first capped to what payerr honours, ``max_cooldown`` (its own
        value stays on ``server_retry_after``); a documented window payerr computed itself
        lasts as computed.
        """
        if error.server_retry_after is not None and error.retry_after is not None:
            error.retry_after = min(error.server_retry_after, self.policy.max_cooldown)
        if self.held or error.retry_after is None:
            return None  # no wait to share: the scopes are not even named
        scope = _decide.cooldown_scope(self.spec, error, self.scopes)
        if scope is None:
            return None
        return scope, error.retry_after, _decide.cooldown_reason(complete(made(error)))

    def passed(self, response: T, outcome: Outcome | None = None) -> T:
        """A success: the response goes back as it is (a file unread, still a stream)."""
        if _telemetry.hook is not None:
            _telemetry.hook.answered(self.spec.name)
        if outcome is None:
            attach_outcome(response, Outcome(True, {}, None, self.spec.name))
        if self.spent or self.failed:
            self._recovered()
        else:
            budget = self.engine.budget
            # a plain success tops the bucket up; an in-process one that is full needs nothing
            if budget.refund and getattr(budget.coordinator, "short", True):
                budget.give(self.scope, budget.refund)
        return response

    def _recovered(self) -> None:
        """A retry that worked costs nothing in the end; failed retries drain the budget."""
        self.engine.budget.give(self.scope, self.spent or self.policy.success_refund)
        if self.failed and logger.isEnabledFor(logging.INFO):
            name, attempt = self.spec.name, len(self.failed) + 1
            extra = {"provider": name, "attempt": attempt}
            logger.info("payerr: %s succeeded on attempt %d", name, attempt, extra=extra)

    # --- after a failed attempt ---------------------------------------------

    def next_delay(self, error: Failed) -> float | None:
        """After a failed attempt: seconds to wait before the next one, or None to stop.

        The policy decides; the budget can still say no; a body that cannot be
        sent twice is never sent twice. A retry is recorded (history, logs,
        ``on_retry``) before the caller's loop sleeps.
        """
        if error.retry_after is not None:
            due = self.cooldown_due(error)
            if due is not None:
                self.engine.coordinator.start_cooldown(*due)
        decision, cost = self._decide(error)
        if cost and not self.engine.budget.take(self.scope, cost):
            decision, cost = _decide.BUDGET_REFUSED, 0
        return self._record(error, decision, cost)

    async def anext_delay(self, error: Failed) -> float | None:
        """``next_delay`` for the async transport: its Redis calls never block the loop."""
        if error.retry_after is not None:
            due = self.cooldown_due(error)
            if due is not None:
                await self.engine.coordinator.astart_cooldown(*due)
        decision, cost = self._decide(error)
        if cost and not await self.engine.budget.atake(self.scope, cost):
            decision, cost = _decide.BUDGET_REFUSED, 0
        return self._record(error, decision, cost)

    def _decide(self, error: Failed) -> tuple[Decision, int]:
        """What ``_retry.decide`` answers for this call's state after ``error``."""
        state = (
            self.policy,
            error,
            len(self.failed) + 1,
            time.monotonic() - self.started,
            self.refreshed,
            self.gate is not None,
            self.replayable,
            self.engine._rng,
        )
        return _decide.decide(_state_of(_decide.RetryState, state))

    def _record(self, error: Failed, decision: Decision, cost: int) -> float | None:
        """Keep what was decided, and tell telemetry about every failed attempt."""
        self.spent += cost
        self.decision = decision
        retry = self._retry(error, decision) if decision.retry else None
        if _telemetry.hook is not None:
            _telemetry.hook.failed(complete(made(error)), retry, not self.unsent)
        self.unsent = False
        return decision.delay if decision.retry else None

    def _retry(self, failed: Failed, decision: Decision) -> Attempt | None:
        """A retry: keep it in the history, log it and tell ``on_retry``."""
        attempt = len(self.failed) + 1
        logged = logger.isEnabledFor(logging.INFO)
        on_retry = self.policy.on_retry
        error = None
        if decision.refresh or on_retry is not None or logged or _telemetry.hook is not None:
            # someone will read what it said: a hook, the log, a token refresh
            error = complete(made(failed))
        if isinstance(failed, PayError):
            # the retried attempt's frames are not kept: its traceback would hold this
            # call, its response and its error in a cycle only the garbage collector can free
            failed.__traceback__ = None
        self.failed = (*self.failed, failed)
        self.delays = (*self.delays, decision.delay)
        self.covered_until = time.monotonic() + decision.delay
        if decision.refresh:
            self.refreshed = True
            self.refresh_due = error
        self.discard()
        if error is None:
            return None
        if logged:
            _failures.log_retry(error, attempt, decision)
        if on_retry is None and _telemetry.hook is None:
            return None
        retry = Attempt(attempt, error, decision.delay, error.retry, decision.refresh)
        if on_retry is not None:
            on_retry(retry)
        return retry

    # --- the end ------------------------------------------------------------

    def run(
        self,
        attempt: Callable[..., T | Failure],
        end: Callable[..., T],
        args: tuple[Any, ...] = (),
        again: Callable[[], None] | None = None,
    ) -> T:
        """The sync retry loop: send; after a failure, ask ``next_delay``, sleep, send again.

        ``attempt(*args)`` sends once: the response, the answer's ``Failure``, or a typed
        error raised (no answer, a broken one); ``end(*args, error)`` turns the last error
        into the result (raise, or the response with ``raise_errors=False``); ``again``
        readies the request to go again. The arguments go in a tuple: no closure per call.
        """
        while True:
            failed: Failed
            try:
                result = attempt(*args)
            except PayError as error:
                failed = error
            else:
                if type(result) is not Failure:
                    return result  # type: ignore[return-value]  # not a Failure: a T
                failed = result
            try:
                delay = self.next_delay(failed)
            except BaseException:
                complete(made(failed))  # it travels on as the new exception's context
                raise
            if delay is None:
                return end(*args, made(failed))
            if delay > 0:
                sleep(delay)
            if again is not None:
                again()

    async def arun(
        self,
        attempt: Callable[..., Awaitable[T | Failure]],
        end: Callable[..., T],
        args: tuple[Any, ...] = (),
    ) -> T:
        """``run`` for event loops: the same steps, its waits never block the loop."""
        while True:
            failed: Failed
            try:
                result = await attempt(*args)
            except PayError as error:
                failed = error
            else:
                if type(result) is not Failure:
                    return result  # type: ignore[return-value]  # not a Failure: a T
                failed = result
            try:
                if type(self.engine.coordinator) is LocalCoordinator:
                    delay = self.next_delay(failed)  # in-process state: nothing waits
                else:
                    delay = await self.anext_delay(failed)
            except BaseException:
                complete(made(failed))
                raise
            if delay is None:
                return end(*args, made(failed))
            if delay > 0:
                await asleep(delay)

    def end(self, error: PayError, local_answer: Callable[[int, dict[str, str], bytes], T]) -> T:
        """Raise the final error, or hand back the last response when asked to.

        With ``raise_errors=False`` a request a cooldown held back (nothing was
        sent) is answered by ``local_answer``: a 429 with ``Retry-After`` and the error.
        """
        error = self.give_up(error)
        last: T | None = self.last_response
        if last is not None:  # ``inspect`` of the answer the caller sees reads this error
            failure = self.last_failure
            attach_outcome(last, failure.outcome() if failure is not None else None)
        if not self.policy.raise_errors:
            if last is not None:
                return last
            if self.held:
                answer = local_answer(*_failures.held_answer(error))
                attach_outcome(answer, Outcome(False, None, error, error.provider))
                return answer
        self.discard()  # nobody will read the last answer: its connection goes back
        # the caller's frames, not the retry loop's; the cause stays attached
        raise error.with_traceback(None) from error.__cause__

    def discard(self) -> None:
        response, self.last_response, self.last_failure = self.last_response, None, None
        close = getattr(response, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # an async response closes itself with its stream
                pass

    def give_up(self, error: PayError) -> PayError:
        """The last attempt's error, carrying the attempt count and what came before."""
        if self.spent and _decide.refunds_budget(error):
            self.engine.budget.give(self.scope, self.spent)  # the provider answered: it is alive
        error.attempts = len(self.failed) + 1
        error.history = tuple(complete(made(failed)) for failed in self.failed)
        complete(error)
        error.delays = self.delays
        reason, said = _decide.stop_reason(self.decision, error)
        if said:
            error.message = f"{error.message} (not retried: {reason})".strip()
        _failures.log_stop(error, reason)
        return error
