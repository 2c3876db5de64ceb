"""The public surface: what DESIGN.md names, and nothing private leaking."""

from __future__ import annotations

import payerr
import payerr._errors
from payerr._catalog.file_format import part_of
from payerr._catalog.loader import adapter_files

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


def _provider_class_names() -> list[str]:
    return [payerr._errors.PROVIDER_CLASSES[p].__name__ for p in payerr.PROVIDERS]


def test_all_is_sorted_and_importable() -> None:
    """Every name in __all__ resolves from the package root; the hand-written names are
    sorted, then come the provider classes written from the adapter files."""
    generated = sorted(_provider_class_names())
    written = payerr.__all__[: len(payerr.__all__) - len(generated)]
    assert written == sorted(written, key=lambda n: (not n.isupper(), n))
    assert payerr.__all__[len(written) :] == generated
    for name in payerr.__all__:
        assert getattr(payerr, name) is not None


def test_design_names_are_exported() -> None:
    """The names DESIGN.md fixes are all public."""
    assert set(DESIGN_NAMES) <= set(payerr.__all__)


def test_providers_are_the_adapter_files_in_their_declared_order() -> None:
    """PROVIDERS is read from adapters/*.toml, ordered by ``[provider] order``."""
    declared = []
    for path in adapter_files():
        provider = part_of(path.read_text(encoding="utf-8"), "provider")["provider"]
        declared.append((provider.get("order", 1000), provider["name"]))
    assert tuple(name for _, name in sorted(declared)) == payerr.PROVIDERS
    assert payerr.PROVIDERS[:4] == ("alipay", "wechat", "huawei", "cmi")


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
