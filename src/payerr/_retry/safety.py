"""The payments-safety rule, as two pure functions: is this request safe to send again,
and what does that make of a code's retry hint.

Everything else (reading responses, the retry loop) asks here; nothing else
decides whether money may move twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._enums import Processed, RetryHint

if TYPE_CHECKING:
    from .._catalog.model import ProviderSpec

IDEMPOTENT_HTTP_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_WORDS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def parse_mark(value: object, *, source: str) -> bool | None:
    """A caller's idempotency mark read strictly: a bool, or a clear ``ValueError``.

    ``None`` means "no mark". Header values ``1/true/yes/on`` and
    ``0/false/no/off/""`` are accepted (any case); anything else is refused,
    never silently read as yes.
    """
    if value is None or isinstance(value, bool):
        return value
    if type(value) is str and value in _WORDS:  # "1", as sent: nothing to strip or lower
        return _WORDS[value]
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(
        f"{source}: {value!r} is not a yes/no value; use 1/true/yes/on or 0/false/no/off"
    )


def safe_to_resend(
    spec: ProviderSpec | None,
    http_method: str,
    api_method: str | None,
    fields: Mapping[str, Any],
    marked: bool | None,
) -> bool:
    """Whether sending this very request again cannot do its work twice.

    The caller's mark wins. A call the adapter lists as moving money is decided
    by its API, never by its HTTP method: it is safe only with the idempotency
    key the provider documents for it. Other calls are safe when their HTTP
    method is idempotent or the adapter knows them as reads or keyed writes.
    """
    if marked is not None:
        return marked
    if spec is None:
        return http_method in IDEMPOTENT_HTTP_METHODS
    if spec.moves_money(api_method):
        return spec.has_dedup_key(api_method, fields)
    return http_method in IDEMPOTENT_HTTP_METHODS or spec.is_idempotent(api_method, fields)


def resolve_hint(retry: RetryHint, processed: Processed, resendable: bool) -> RetryHint:
    """A code's hint for this request: a resend that might repeat the work is a query first."""
    if retry is RetryHint.BACKOFF and processed is not Processed.NO and not resendable:
        return RetryHint.QUERY_FIRST
    return retry
