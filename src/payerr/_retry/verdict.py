"""What an entry of the code tables makes of this very answer and request, as pure functions.

The tables say what a code means in general; a 429 status and the request's own
safety (may it be sent twice?) refine that for one answer. ``_reading.build`` asks
here, so every reason to resend or stop stays in ``_retry``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._enums import Category, Processed, RetryHint
from .safety import resolve_hint, safe_to_resend

if TYPE_CHECKING:
    from .._catalog.model import ProviderSpec


def throttled(
    status: int, category: Category, retry: RetryHint, processed: Processed
) -> tuple[Category, RetryHint, Processed]:
    """A 429 is the door throttling: whatever the code says, nothing ran and waiting helps."""
    if status == 429 and category is not Category.RATE_LIMITED:
        return Category.RATE_LIMITED, RetryHint.BACKOFF, Processed.NO
    return category, retry, processed


def request_hint(
    spec: ProviderSpec | None,
    retry: RetryHint,
    processed: Processed,
    http_method: str,
    api_method: str | None,
    fields: Mapping[str, Any],
    marked: bool | None,
) -> RetryHint:
    """A code's hint for this very request: the payments-safety rule applied to it."""
    resendable = safe_to_resend(spec, http_method, api_method, fields, marked)
    return resolve_hint(retry, processed, resendable)
