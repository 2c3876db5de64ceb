"""Every reason to send again or stop, decided from one frozen state value.

The engine builds a ``RetryState`` after each failed attempt and obeys what
``decide`` answers: the policy's verdict (hint, attempts, credentials,
Retry-After, deadline), then a body that cannot be sent twice. The budget's
"no" (``BUDGET_REFUSED``), a cooldown's hold (``hold``), the scope a rate limit
cools (``cooldown_scope``) and the rule that gives a live provider its budget
back (``refunds_budget``) are pure functions here too: no sleeping, no I/O.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, NamedTuple

from .._enums import Category
from .._errors import PayError
from .policy import Decision, RetryPolicy, Stop

if TYPE_CHECKING:
    from .._catalog.model import ProviderSpec
    from .._reading.outcome import Failed

BUDGET_REFUSED = Decision(retry=False, reason=Stop.BUDGET_EXHAUSTED)
"""What a retry the budget had no tokens for becomes."""

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


# Everything a decision after a failed attempt may look at, and nothing else: ``error``
# ended the attempt (an answer's ``Failure`` until its error is made); ``attempt``
# is the attempt that just failed (from 1); ``replayable`` is False when the request body
# is a stream that cannot be sent a second time. A tuple: one is made per failed attempt,
# and a tuple is made in one step where a frozen class sets each field in turn. Declared
# by call: a class's string annotations are each compiled when payerr is imported.
RetryState = NamedTuple(  # noqa: UP014
    "RetryState",
    [
        ("policy", RetryPolicy),
        ("error", "Failed"),
        ("attempt", int),
        ("elapsed", float),
        ("refreshed", bool),
        ("can_refresh", bool),
        ("replayable", bool),
        ("rng", random.Random),
    ],
)


_STOCK_DECIDE = RetryPolicy.decide
_STOCK_COST = RetryPolicy.cost_of


def decide(state: RetryState) -> tuple[Decision, int]:
    """The decision, and what a retry would cost the budget (0: no retry).

    The stock policy decides from the hint and the wait, so an answer's error is not
    made for it; a policy of the caller's own gets the whole typed error (``RetryPolicy``).
    """
    policy, failed = state.policy, state.error
    kind = type(policy)
    if kind.decide is _STOCK_DECIDE:
        decision = policy._decide_for(
            failed.retry,
            failed.retry_after,
            state.attempt,
            state.elapsed,
            state.refreshed,
            state.can_refresh,
            state.rng,
        )
    else:
        decision = policy.decide(
            _error_of(failed),
            attempt=state.attempt,
            elapsed=state.elapsed,
            refreshed=state.refreshed,
            can_refresh=state.can_refresh,
            rng=state.rng,
        )
    if not decision.retry:
        return decision, 0
    if not state.replayable:
        return Decision(retry=False, reason=Stop.BODY_NOT_REPLAYABLE), 0
    if kind.cost_of is _STOCK_COST:
        return decision, policy._cost_for(failed.retry, failed.category)
    return decision, policy.cost_of(_error_of(failed))


def _error_of(failed: Failed) -> PayError:
    """The typed error a policy of the caller's own is given: made now, and whole (what
    the answer said too), as the caller would see it."""
    from .._reading.deferred import complete  # only for a policy of the caller's own

    return complete(failed if isinstance(failed, PayError) else failed.error())


def hold(policy: RetryPolicy, remaining: float, covered: bool, left: float) -> float | None:
    """What a cooldown of ``remaining`` seconds means for a request: seconds to wait
    (0: go now), or None: fail now with ``retry_after`` set.

    ``covered``: the request's own retry delay already waited for it; ``left``:
    seconds until the policy's deadline.
    """
    if remaining <= 0 or covered:
        return 0.0
    if remaining > policy.max_retry_after or remaining > left:
        return None
    return remaining


def cooldown_scope(spec: ProviderSpec, error: Failed, scopes: tuple[str, str, str]) -> str | None:
    """The scope a provider's rate limit cools for every worker, or None.

    The adapter says what each code's quota covers (``cooldown`` in its TOML):
    one API, the host, the app, or one subject (a payee, a user), which holds
    nothing else. A Retry-After that names no code holds the host.
    """
    if error.category is not Category.RATE_LIMITED or not error.retry_after:
        return None
    info = spec.lookup(error.code, error.sub_code) if error.code else None
    app, api, host = scopes
    if info is None:
        return host if error.code is None else app
    if info.cooldown == "subject":
        return None  # one payee's or one user's limit: everyone else goes on
    return {"api": api, "host": host}.get(info.cooldown, app)


def refunds_budget(error: PayError) -> bool:
    """A final error from a provider that answered: it is alive, the spent budget goes back."""
    return error.category not in _PROVIDER_FAILING


def stop_reason(decision: Decision, error: PayError) -> tuple[str, bool]:
    """Why the call stopped, and whether the error's message should say so (a limit of
    payerr's own, not the provider's answer, stopped it)."""
    reason = decision.detail or str(decision.reason or f"hint is {error.retry.value}")
    return reason, decision.reason in (Stop.BUDGET_EXHAUSTED, Stop.BODY_NOT_REPLAYABLE)


def cooldown_reason(error: PayError) -> str:
    """What a cooldown remembers of the error that started it, for the requests it holds."""
    parts = (error.code or "", error.message, error.retry.value, error.sub_code or "")
    return "\t".join(" ".join(part.split("\t")) for part in parts)


def reason_parts(reason: str) -> tuple[str, str, str, str]:
    """(code, message, hint, sub code) of a stored reason; older ones lack the last two."""
    code, message, hint, sub_code, *_ = (*reason.split("\t"), "", "", "")
    return code, message, hint, sub_code
