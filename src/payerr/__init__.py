"""Typed errors and payments-safe retries for Alipay, WeChat, Huawei IAP and CMI.

Read a response with ``inspect`` / ``raise_for_response``, look a code up with
``explain``, or wrap a client with ``Transport`` / ``AsyncTransport`` (httpx)
or ``RequestsAdapter`` (requests) and let payerr retry what is safe to retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._catalog import (
    AdapterFileError,
    CodeInfo,
    UnknownProviderError,
    explain,
    load_adapter,
    override_code,
    register_host,
)
from ._classify import Outcome, inspect, raise_for_response
from ._coordinator import Coordinator, LocalCoordinator
from ._enums import Category, Processed, RetryHint
from ._errors import (
    AlipayError,
    AuthError,
    BusinessError,
    CMIError,
    ConfigurationError,
    ConflictError,
    CoordinatorUnavailableError,
    ForbiddenError,
    HuaweiError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    PayError,
    PendingError,
    ProviderError,
    RateLimitError,
    RiskControlError,
    ServiceUnavailableError,
    TransportError,
    UnknownCodeError,
    WeChatError,
)
from ._raw import RawResponse
from ._redact import add_secret_names

if TYPE_CHECKING:
    from ._classify import RequestFacts
    from ._credentials import (
        Credentials,
        HeaderToken,
        JsonBodyToken,
        QueryParamToken,
    )
    from ._engine import Cooldown
    from ._httpx import AsyncTransport, Transport
    from ._policy import Attempt, RetryPolicy
    from ._redis import RedisCoordinator
    from ._requests import RequestsAdapter
    from ._wsse import wsse_headers
    from .integrations.alipay import alipay_result

import logging as _logging

_logging.getLogger("payerr").addHandler(_logging.NullHandler())

PROVIDERS: tuple[str, ...] = ("alipay", "wechat", "huawei", "cmi")
"""The providers payerr ships adapters for."""

# Names whose modules import httpx or requests (or, like _wsse, that no
# request needs): loaded on first use so that ``import payerr`` stays cheap.
_LAZY = {
    "Transport": "._httpx",
    "AsyncTransport": "._httpx",
    "RequestsAdapter": "._requests",
    "RetryPolicy": "._policy",
    "Cooldown": "._engine",
    "RequestFacts": "._classify",
    "RedisCoordinator": "._redis",
    "Attempt": "._policy",
    "Credentials": "._credentials",
    "QueryParamToken": "._credentials",
    "HeaderToken": "._credentials",
    "JsonBodyToken": "._credentials",
    "alipay_result": ".integrations.alipay",
    "wsse_headers": "._wsse",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name == "__version__":
        from importlib.metadata import version

        return version("payerr")
    raise AttributeError(f"module 'payerr' has no attribute {name!r}")


__all__ = [
    "PROVIDERS",
    "AdapterFileError",
    "AlipayError",
    "AsyncTransport",
    "Attempt",
    "AuthError",
    "BusinessError",
    "CMIError",
    "Category",
    "CodeInfo",
    "ConfigurationError",
    "ConflictError",
    "Cooldown",
    "Coordinator",
    "CoordinatorUnavailableError",
    "Credentials",
    "ForbiddenError",
    "HeaderToken",
    "HuaweiError",
    "InvalidRequestError",
    "JsonBodyToken",
    "LocalCoordinator",
    "MalformedResponseError",
    "NetworkError",
    "NotFoundError",
    "Outcome",
    "OutcomeUnknownError",
    "PayError",
    "PendingError",
    "Processed",
    "ProviderError",
    "QueryParamToken",
    "RateLimitError",
    "RawResponse",
    "RedisCoordinator",
    "RequestFacts",
    "RequestsAdapter",
    "RetryHint",
    "RetryPolicy",
    "RiskControlError",
    "ServiceUnavailableError",
    "Transport",
    "TransportError",
    "UnknownCodeError",
    "UnknownProviderError",
    "WeChatError",
    "add_secret_names",
    "alipay_result",
    "explain",
    "inspect",
    "load_adapter",
    "override_code",
    "raise_for_response",
    "register_host",
    "wsse_headers",
]
