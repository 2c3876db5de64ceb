"""The small vocabularies every other module speaks: categories, retry hints, processing."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """What kind of failure this is, chosen by what the caller must do next."""

    AUTH = "auth"
    FORBIDDEN = "forbidden"
    INVALID_REQUEST = "invalid_request"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    BUSINESS = "business"
    RISK = "risk"
    CONFIGURATION = "configuration"
    PENDING = "pending"
    UNKNOWN = "unknown"
    NETWORK = "network"
    OUTCOME_UNKNOWN = "outcome_unknown"
    MALFORMED = "malformed"


class RetryHint(StrEnum):
    """What to do about the request that failed."""

    NEVER = "never"
    """Fix the request, the account or the configuration first."""
    BACKOFF = "backoff"
    """Send the same request again after a delay."""
    REFRESH_CREDENTIALS = "refresh_credentials"
    """Renew the access token or re-sign, then send again."""
    QUERY_FIRST = "query_first"
    """The outcome is uncertain: query the order before doing anything else."""
    AFTER_RESET = "after_reset"
    """A quota window is exhausted: wait for it to reset, do not spin."""


class Processed(StrEnum):
    """Whether the provider may already have acted on the request (moved money, shipped)."""

    NO = "no"
    MAYBE = "maybe"
    YES = "yes"
