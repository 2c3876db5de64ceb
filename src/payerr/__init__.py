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
    AuthError,
    BusinessError,
    ConfigurationError,
    ConflictError,
    CoordinatorUnavailableError,
    ForbiddenError,
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
)
from ._raw import RawResponse
from ._redact import add_secret_names

if TYPE_CHECKING:
    PROVIDERS: tuple[str, ...]
    """The providers payerr ships adapters for, in the order their files declare."""

    from ._aiohttp import AiohttpMiddleware as AiohttpMiddleware  # not in __all__: needs aiohttp
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


# Names whose modules import httpx or requests (or, like _wsse, that no
# request needs): loaded on first use so that ``import payerr`` stays cheap.
_LAZY = {
    "Transport": "._httpx",
    "AiohttpMiddleware": "._aiohttp",
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
    if name == "PROVIDERS":
        from ._catalog import catalog

        return catalog().shipped  # not kept: the catalog may be reloaded
    if name.endswith("Error"):
        from . import _errors

        try:
            return getattr(_errors, name)  # a provider class whose file is newer than the code
        except AttributeError:
            pass
    if name == "__version__":
        from importlib.metadata import version

        return version("payerr")
    raise AttributeError(f"module 'payerr' has no attribute {name!r}")


__all__ = [
    "PROVIDERS",
    "AdapterFileError",
    "AsyncTransport",
    "Attempt",
    "AuthError",
    "BusinessError",
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

# BEGIN GENERATED provider classes: `python -m payerr._codegen` writes this block from
# adapters/*.toml ([provider] error_class); a test compares.
from ._errors import (  # noqa: E402
    AlipayError,
    CMIError,
    HuaweiError,
    UnionPayError,
    WeChatError,
    WeComError,
)

__all__ += [
    "AlipayError",
    "CMIError",
    "HuaweiError",
    "UnionPayError",
    "WeChatError",
    "WeComError",
]
# END GENERATED provider classes
