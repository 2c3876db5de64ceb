"""The retry policy: an immutable value that decides, and never sleeps.

The sync and async loops ask ``RetryPolicy.decide`` what to do after each
failed attempt and carry the answer out; the only shared mutable state is the
retry budget a transport's coordinator keeps.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .._enums import Category, RetryHint
from .._errors import PayError
from .._values import Frozen, unfrozen

if TYPE_CHECKING:
    from .._reading.request import RequestFacts


class Attempt(Frozen):
    """One failed attempt and what was done about it (for ``on_retry`` and ``err.history``)."""

    __slots__ = _fields = ("number", "error", "delay", "hint", "refresh")
    number: int
    error: PayError
    delay: float
    hint: RetryHint
    refresh: bool

    def __init__(
        self, number: int, error: PayError, delay: float, hint: RetryHint, refresh: bool = False
    ) -> None:
        set_ = object.__setattr__
        set_(self, "number", number)
        set_(self, "error", error)
        set_(self, "delay", delay)
        set_(self, "hint", hint)
        set_(self, "refresh", refresh)

    @property
    def provider(self) -> str | None:
        return self.error.provider

    @property
    def code(self) -> str | None:
        return self.error.code


class Stop(StrEnum):
    """Why a request was not sent again (a control signal, and the text logs show)."""

    HINT = "the hint does not allow a retry"
    MAX_ATTEMPTS = "max_attempts reached"
    NO_CREDENTIALS = "credentials need renewing and no credentials object was given"
    REFRESHED = "credentials were already refreshed once for this request"
    RETRY_AFTER = "the provider asks to wait longer than max_retry_after"
    DEADLINE = "waiting would pass the deadline"
    BUDGET_EXHAUSTED = "retry budget exhausted"
    BODY_NOT_REPLAYABLE = "the request body is a stream that cannot be sent again"


class Decision(Frozen):
    """The policy's answer after a failed attempt."""

    __slots__ = _fields = ("retry", "delay", "refresh", "reason", "detail")
    retry: bool
    delay: float
    refresh: bool
    reason: Stop | None
    detail: str
    """The numbers behind ``reason``, for logs."""

    def __init__(
        self,
        retry: bool,
        delay: float = 0.0,
        refresh: bool = False,
        reason: Stop | None = None,
        detail: str = "",
    ) -> None:
        set_ = object.__setattr__
        set_(self, "retry", retry)
        set_(self, "delay", delay)
        set_(self, "refresh", refresh)
        set_(self, "reason", reason)
        set_(self, "detail", detail)


_UNFROZEN_DECISION = unfrozen(Decision)


def _retrying(delay: float, refresh: bool) -> Decision:
    """``Decision(retry=True, delay=delay, refresh=refresh)``, made once per failed attempt
    (``unfrozen``)."""
    decision: Any = object.__new__(_UNFROZEN_DECISION)
    decision.retry = True
    decision.delay = delay
    decision.refresh = refresh
    decision.reason = None
    decision.detail = ""
    decision.__class__ = Decision
    return decision  # type: ignore[no-any-return]


def _stop(reason: Stop, detail: str = "") -> Decision:
    return Decision(retry=False, reason=reason, detail=detail)


class RetryPolicy(Frozen):
    """How hard to try: attempts, backoff with full jitter, a deadline, a retry budget.

    Only ``BACKOFF`` and ``REFRESH_CREDENTIALS`` errors are retried; whether a
    request that may already have been processed is safe to resend is settled
    before the policy sees the error (its hint is then ``QUERY_FIRST``). Change
    one setting with ``policy.replace(max_attempts=5)``; a subclass that overrides
    ``decide`` (or ``cost_of``) is given each failed attempt's whole typed error.
    """

    _fields = (
        "max_attempts",
        "backoff_initial",
        "backoff_max",
        "deadline",
        "max_retry_after",
        "max_cooldown",
        "budget",
        "retry_cost",
        "timeout_retry_cost",
        "success_refund",
        "jitter",
        "raise_errors",
        "body_cap",
        "is_idempotent",
        "on_retry",
    )
    _compared = _fields[:-2]
    """Two policies that differ only in their callbacks are equal (and hash alike)."""
    __slots__ = _fields
    max_attempts: int
    backoff_initial: float
    backoff_max: float
    deadline: float
    max_retry_after: float
    max_cooldown: float
    """Longest a Retry-After holds other requests back (a documented quota window
    lasts as documented)."""
    budget: int | None
    """Retry-budget tokens per provider app (kept by the coordinator); None turns it off."""
    retry_cost: int
    timeout_retry_cost: int
    success_refund: int
    jitter: bool
    raise_errors: bool
    """False: after the last attempt return the provider's response instead of raising."""
    body_cap: int
    """Bodies larger than this pass through unread (a chunked one after ``body_cap`` bytes)."""
    is_idempotent: Callable[[RequestFacts], bool | None] | None
    """Your own mark for each request: True (safe to send twice: a key of your own),
    False (never resend after an uncertain outcome), or None (let the adapter decide)."""
    on_retry: Callable[[Attempt], None] | None
    """Called before every retry, for metrics."""

    # Long because: one line per setting, what ``@dataclass`` would write (``_values``).
    def __init__(
        self,
        max_attempts: int = 3,
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        deadline: float = 30.0,
        max_retry_after: float = 60.0,
        max_cooldown: float = 300.0,
        budget: int | None = 500,
        retry_cost: int = 5,
        timeout_retry_cost: int = 10,
        success_refund: int = 1,
        jitter: bool = True,
        raise_errors: bool = True,
        body_cap: int = 1024 * 1024,
        is_idempotent: Callable[[RequestFacts], bool | None] | None = None,
        on_retry: Callable[[Attempt], None] | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "max_attempts", max_attempts)
        set_(self, "backoff_initial", backoff_initial)
        set_(self, "backoff_max", backoff_max)
        set_(self, "deadline", deadline)
        set_(self, "max_retry_after", max_retry_after)
        set_(self, "max_cooldown", max_cooldown)
        set_(self, "budget", budget)
        set_(self, "retry_cost", retry_cost)
        set_(self, "timeout_retry_cost", timeout_retry_cost)
        set_(self, "success_refund", success_refund)
        set_(self, "jitter", jitter)
        set_(self, "raise_errors", raise_errors)
        set_(self, "body_cap", body_cap)
        set_(self, "is_idempotent", is_idempotent)
        set_(self, "on_retry", on_retry)
        self._check()

    def _check(self) -> None:
        """Every field checked: a bad value is a ValueError naming the field and its range."""
        _whole("max_attempts", self.max_attempts, low=1)
        for name in (
            "backoff_initial",
            "backoff_max",
            "deadline",
            "max_retry_after",
            "max_cooldown",
        ):
            _seconds(name, getattr(self, name))
        if self.budget is not None:
            _whole("budget", self.budget, low=0, none="or None")
        for name in ("retry_cost", "timeout_retry_cost", "success_refund"):
            _whole(name, getattr(self, name), low=0)
        _whole("body_cap", self.body_cap, low=1)
        for name in ("jitter", "raise_errors"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(self, name)!r}")
        for name in ("is_idempotent", "on_retry"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise ValueError(f"{name} must be a callable or None, not {value!r}")

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """The wait before retry ``retry_number`` (1-based): full jitter under a doubling cap."""
        exponent = min(max(retry_number - 1, 0), 64)  # 2**64 * anything is past any cap
        cap = min(self.backoff_max, self.backoff_initial * (2.0**exponent))
        if not self.jitter:
            return cap
        return (rng or random).uniform(0.0, cap)

    def decide(
        self,
        error: PayError,
        *,
        attempt: int,
        elapsed: float,
        refreshed: bool = False,
        can_refresh: bool = False,
        rng: random.Random | None = None,
    ) -> Decision:
        """Whether and when to send again after ``error`` ended attempt number ``attempt``."""
        return self._decide_for(
            error.retry, error.retry_after, attempt, elapsed, refreshed, can_refresh, rng
        )

    def _decide_for(
        self,
        hint: RetryHint,
        retry_after: float | None,
        attempt: int,
        elapsed: float,
        refreshed: bool,
        can_refresh: bool,
        rng: random.Random | None,
    ) -> Decision:
        """``decide`` from the two things it reads of an error, its hint and its wait: the
        retry loop asks this way when ``decide`` is the stock one, before any error is
        made (most retried attempts never need theirs)."""
        if hint is not RetryHint.BACKOFF and hint is not RetryHint.REFRESH_CREDENTIALS:
            return _stop(Stop.HINT, f"hint is {hint.value}")
        if attempt >= self.max_attempts:
            return _stop(Stop.MAX_ATTEMPTS, f"max_attempts ({self.max_attempts}) reached")
        refresh = False
        if hint is RetryHint.REFRESH_CREDENTIALS:
            if not can_refresh:
                return _stop(Stop.NO_CREDENTIALS)
            if refreshed:
                return _stop(Stop.REFRESHED)
            delay, refresh = 0.0, True
        else:
            delay = self.backoff(attempt, rng)
            if retry_after is not None:
                if retry_after > self.max_retry_after:
                    return _stop(
                        Stop.RETRY_AFTER,
                        f"provider asks to wait {retry_after:g}s, "
                        f"more than max_retry_after ({self.max_retry_after:g}s)",
                    )
                delay = retry_after
        remaining = self.deadline - elapsed
        if delay > remaining:
            return _stop(
                Stop.DEADLINE, f"waiting {delay:.2f}s would pass the deadline ({self.deadline:g}s)"
            )
        return _retrying(delay, refresh)

    def cost_of(self, error: PayError) -> int:
        """Budget tokens one retry of this error takes: timeouts cost more.

        A credentials refresh is free: the provider answered, and each request
        refreshes at most once anyway.
        """
        return self._cost_for(error.retry, error.category)

    def _cost_for(self, hint: RetryHint, category: Category) -> int:
        """``cost_of`` from what it reads of an error (as ``_decide_for``)."""
        if hint is RetryHint.REFRESH_CREDENTIALS:
            return 0
        if category is Category.OUTCOME_UNKNOWN:
            return self.timeout_retry_cost
        return self.retry_cost


def _whole(name: str, value: object, *, low: int, none: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        allowed = f"a whole number >= {low}" + (f" {none}" if none else "")
        raise ValueError(f"{name} must be {allowed}, not {value!r}")


def _seconds(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")
