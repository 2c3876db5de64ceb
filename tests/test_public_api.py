"""The public surface: what DESIGN.md names, and nothing private leaking."""

from __future__ import annotations

import payerr

DESIGN_NAMES = [
    "PROVIDERS",
    "inspect",
    "raise_for_response",
    "explain",
    "RetryPolicy",
    "Transport",
    "AsyncTransport",
    "RequestsAdapter",
    "Credentials",
    "RawResponse",
    "PayError",
    "ProviderError",
    "TransportError",
    "AuthError",
    "ForbiddenError",
    "InvalidRequestError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServiceUnavailableError",
    "BusinessError",
    "RiskControlError",
    "ConfigurationError",
    "PendingError",
    "UnknownCodeError",
    "NetworkError",
    "OutcomeUnknownError",
    "MalformedResponseError",
    "AlipayError",
    "WeChatError",
    "HuaweiError",
    "CMIError",
    "Category",
    "RetryHint",
]


def test_all_is_sorted_and_importable() -> None:
    """Every name in __all__ resolves from the package root."""
    assert payerr.__all__ == sorted(payerr.__all__, key=lambda n: (not n.isupper(), n))
    for name in payerr.__all__:
        assert getattr(payerr, name) is not None


def test_design_names_are_exported() -> None:
    """The names DESIGN.md fixes are all public."""
    assert set(DESIGN_NAMES) <= set(payerr.__all__)


def test_providers() -> None:
    assert payerr.PROVIDERS == ("alipay", "wechat", "huawei", "cmi")


def test_category_members() -> None:
    """Category has exactly the members DESIGN.md lists."""
    assert [c.name for c in payerr.Category] == [
        "AUTH",
        "FORBIDDEN",
        "INVALID_REQUEST",
        "NOT_FOUND",
        "CONFLICT",
        "RATE_LIMITED",
        "UNAVAILABLE",
        "BUSINESS",
        "RISK",
        "CONFIGURATION",
        "PENDING",
        "UNKNOWN",
        "NETWORK",
        "OUTCOME_UNKNOWN",
        "MALFORMED",
    ]


def test_retry_hint_members() -> None:
    assert [h.name for h in payerr.RetryHint] == [
        "NEVER",
        "BACKOFF",
        "REFRESH_CREDENTIALS",
        "QUERY_FIRST",
        "AFTER_RESET",
    ]


def test_version() -> None:
    assert payerr.__version__
