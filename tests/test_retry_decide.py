"""``_retry.decide``: every reason to send again or stop, from one frozen state value."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import payerr
from payerr import RetryHint as H
from payerr._retry.decide import RetryState, decide, hold
from payerr._retry.policy import Stop
from support.strategies import errors, policies


def _state(policy: payerr.RetryPolicy, error: payerr.PayError, **changes: Any) -> RetryState:
    state = RetryState(policy, error, 1, 0.0, False, True, True, random.Random(7))
    return state._replace(**changes)


def test_the_state_is_frozen() -> None:
    error = payerr.PayError("x", provider="wechat", retry=H.BACKOFF)
    with pytest.raises(AttributeError):
        _state(payerr.RetryPolicy(), error).attempt = 2  # type: ignore[misc]


@given(policies, errors, st.integers(1, 30), st.floats(0, 200))
def test_decide_is_the_policy_plus_what_the_call_knows(
    policy: payerr.RetryPolicy, error: payerr.PayError, attempt: int, elapsed: float
) -> None:
    """A replayable body: the policy's own answer; a stream body: never sent again."""
    state = _state(policy, error, attempt=attempt, elapsed=elapsed)
    decision, cost = decide(state)
    expected = policy.decide(
        error,
        attempt=attempt,
        elapsed=elapsed,
        refreshed=False,
        can_refresh=True,
        rng=random.Random(7),
    )
    assert decision == expected
    assert cost == (policy.cost_of(error) if expected.retry else 0)
    streamed, streamed_cost = decide(state._replace(replayable=False, rng=random.Random(7)))
    assert not streamed.retry and streamed_cost == 0
    if expected.retry:
        assert streamed.reason is Stop.BODY_NOT_REPLAYABLE


@given(policies, st.floats(-5, 300), st.booleans(), st.floats(-5, 300))
def test_a_cooldown_is_waited_only_within_every_limit(
    policy: payerr.RetryPolicy, remaining: float, covered: bool, left: float
) -> None:
    pause = hold(policy, remaining, covered, left)
    if remaining <= 0 or covered:
        assert pause == 0.0
    elif remaining > policy.max_retry_after or remaining > left:
        assert pause is None  # fail at once, with retry_after set
    else:
        assert pause == remaining
