"""The retry policy decides, purely: properties that hold for every input."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import payerr
from payerr import RetryHint as H
from support.strategies import errors, policies


@given(policies, errors, st.integers(1, 30), st.floats(0, 200), st.booleans(), st.booleans())
def test_decisions_respect_every_limit(
    policy: payerr.RetryPolicy,
    error: payerr.PayError,
    attempt: int,
    elapsed: float,
    refreshed: bool,
    can_refresh: bool,
) -> None:
    """Never past max_attempts, the deadline, backoff_max (unless told) or max_retry_after."""
    before = policy.replace()
    decision = policy.decide(
        error,
        attempt=attempt,
        elapsed=elapsed,
        refreshed=refreshed,
        can_refresh=can_refresh,
        rng=random.Random(attempt),
    )
    assert policy == before
    if not decision.retry:
        return
    assert attempt < policy.max_attempts
    assert error.retry in (H.BACKOFF, H.REFRESH_CREDENTIALS)
    assert 0 <= decision.delay <= policy.deadline - elapsed
    if error.retry_after is None:
        assert decision.delay <= policy.backoff_max
    else:
        assert decision.delay <= policy.max_retry_after
    if decision.refresh:
        assert can_refresh and not refreshed


@given(policies, st.integers(1, 200))
def test_backoff_is_capped_and_grows_without_jitter(policy: payerr.RetryPolicy, n: int) -> None:
    """Without jitter the backoff doubles up to backoff_max and never shrinks."""
    steady = policy.replace(jitter=False)
    assert 0 <= steady.backoff(n) <= policy.backoff_max
    assert steady.backoff(n) <= steady.backoff(n + 1)


def test_policy_is_immutable() -> None:
    """A policy is a value: it cannot be changed in place."""
    policy = payerr.RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"deadline": -1}, {"backoff_max": float("inf")}, {"budget": -5}],
)
def test_nonsense_settings_are_refused(kwargs: dict[str, float]) -> None:
    """Settings that cannot work fail at construction."""
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        payerr.RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_budget_never_goes_negative() -> None:
    """The token bucket refuses a withdrawal it cannot cover and never overfills."""
    coordinator = payerr.LocalCoordinator()
    assert coordinator.withdraw("wechat:app", 5, 7)
    assert not coordinator.withdraw("wechat:app", 5, 7)
    coordinator.deposit("wechat:app", 100, 7)
    assert coordinator.available("wechat:app", 7) == 7


def test_set_testing_makes_every_sleep_instant() -> None:
    """The process-wide switch turns real sleeps off until it is turned back on."""
    import time

    from payerr import testing

    testing.set_testing(True)
    try:
        started = time.monotonic()
        testing.sleep(5.0)
        assert time.monotonic() - started < 1.0
    finally:
        testing.set_testing(False)
    with testing.instant_sleeps() as sleeps:
        testing.sleep(0.5)
    assert sleeps == [0.5]


_FIELDS = {
    "max_attempts": (1, None),
    "backoff_initial": (0, None),
    "backoff_max": (0, None),
    "deadline": (0, None),
    "max_retry_after": (0, None),
    "max_cooldown": (0, None),
    "budget": (0, None),
    "retry_cost": (0, None),
    "timeout_retry_cost": (0, None),
    "success_refund": (0, None),
    "body_cap": (1, None),
}
_WHOLE = {
    "max_attempts",
    "budget",
    "retry_cost",
    "timeout_retry_cost",
    "success_refund",
    "body_cap",
}
_ANY = (
    st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.text(max_size=3)
    | st.none()
)


@given(st.sampled_from(sorted(_FIELDS)), _ANY)
def test_every_field_is_validated(name: str, value: object) -> None:
    """Any value is accepted only when it is in range; otherwise a ValueError names the field."""
    low = _FIELDS[name][0]
    whole = name in _WHOLE
    import math

    valid = (value is None and name == "budget") or (
        not isinstance(value, bool)
        and (isinstance(value, int) if whole else isinstance(value, int | float))
        and math.isfinite(value)  # type: ignore[arg-type]
        and value >= low  # type: ignore[operator]
    )
    if valid:
        assert getattr(payerr.RetryPolicy(**{name: value}), name) == value
    else:
        with pytest.raises(ValueError, match=name):
            payerr.RetryPolicy(**{name: value})


@pytest.mark.parametrize("name", ["jitter", "raise_errors", "is_idempotent", "on_retry"])
def test_flags_and_hooks_are_checked(name: str) -> None:
    """A flag must be a bool and a hook callable."""
    with pytest.raises(ValueError, match=name):
        payerr.RetryPolicy(**{name: "yes"})
