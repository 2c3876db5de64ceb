"""The typed errors of attempts that got no answer, and what the logs say of each end.

A call that failed before a provider answered (never sent, broke while read)
still ends in a ``PayError`` with the client's exception, its secrets masked,
as the cause; a retry and a final stop are logged with the same fields.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from .._catalog.model import ProviderSpec
from .._enums import Category
from .._errors import RAW_CAP, PayError
from .._reading.redact import redact_text, secret_values
from .._reading.request import RequestFacts
from .._retry.policy import Decision

logger = logging.getLogger("payerr")


def unreadable(
    spec: ProviderSpec, exc: BaseException, status: int, facts: RequestFacts
) -> PayError:
    """A typed error for an answer that broke while read: its outcome is not known.

    A body that does not decode, or one still dripping at the deadline, may
    follow a payment that went through: ``OutcomeUnknownError``, which the
    safety rule makes ``QUERY_FIRST`` for anything not safe to resend.
    """
    error = no_answer(spec, Category.OUTCOME_UNKNOWN, exc, facts)
    error.http_status = status or None
    raw = getattr(exc, "raw", b"")
    if raw:
        fields = facts.fields(spec.nested_fields)
        for value in secret_values(facts.url, facts.headers, fields):
            raw = raw.replace(value.encode(), b"***")
        error.raw = raw[:RAW_CAP]
    return error


def no_answer(
    spec: ProviderSpec, category: Category, exc: BaseException, facts: RequestFacts
) -> PayError:
    """A typed error for a request that was never sent, or never answered.

    The client's exception stays attached as ``__cause__``, its text masked:
    requests puts the full URL, token and all, into its messages.
    """
    secrets = secret_values(facts.url, facts.headers, facts.fields(spec.nested_fields))
    _mask_chain(exc, secrets)
    message = f"{type(exc).__name__}: {exc}" if exc.args else type(exc).__name__
    from .._reading.build import transport_error  # loaded with the first error

    return transport_error(category, message, spec, facts)


def held_answer(error: PayError) -> tuple[int, dict[str, str], bytes]:
    """What a client answers locally for a request a cooldown held back."""
    body = {"payerr": "cooling down: not sent", "code": error.code, "message": error.message}
    headers = {
        "Content-Type": "application/json",
        "Retry-After": str(math.ceil(error.retry_after or 0)),
    }
    return 429, headers, json.dumps(body, ensure_ascii=False).encode()


def log_retry(error: PayError, attempt: int, decision: Decision) -> None:
    logger.info(
        "payerr: %s %s on attempt %d, retrying in %.2fs (%s)",
        error.provider,
        error.code or error.category.value,
        attempt,
        decision.delay,
        "refreshing credentials" if decision.refresh else error.retry.value,
        extra=_extra(error, attempt, decision.delay),
    )


def log_stop(error: PayError, reason: str) -> None:
    """A final error: a warning when a limit stopped what could have been retried."""
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
