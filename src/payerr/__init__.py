"""Typed errors and payments-safe retries for Alipay, WeChat, Huawei IAP and CMI.

Read a response with ``inspect`` / ``raise_for_response``, look a code up with
``explain``, or wrap a client with ``Transport`` / ``AsyncTransport`` (httpx)
or ``RequestsAdapter`` (requests) and let payerr retry what is safe to retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._catalog.model import AdapterFileError, CodeInfo
from ._catalog.registry import (
    UnknownProviderError,
    explain,
    load_adapter,
    override_code,
    register_host,
)
from ._coordination.local import Coordinator, LocalCoordinator
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
from ._reading.classify import inspect, raise_for_response
from ._reading.outcome import Outcome
from ._reading.raw import RawResponse
from ._reading.redact import add_secret_names

if TYPE_CHECKING:
    PROVIDERS: tuple[str, ...]
    """The providers payerr ships adapters for, in the order their files declare."""

    from ._clients.aiohttp_middleware import (
        AiohttpMiddleware as AiohttpMiddleware,  # not in __all__: needs aiohttp
    )
    from ._clients.httpx_transport import AsyncTransport, Transport
    from ._clients.requests_adapter import RequestsAdapter
    from ._coordination.redis import RedisCoordinator
    from ._engine.credentials import (
        Credentials,
        HeaderToken,
        JsonBodyToken,
        QueryParamToken,
    )
    from ._engine.engine import Cooldown
    from ._engine.wsse import wsse_headers
    from ._reading.request import RequestFacts
    from ._retry.policy import Attempt, RetryPolicy
    from .integrations.alipay import alipay_result

import logging as _logging

_logging.getLogger("payerr").addHandler(_logging.NullHandler())


# Names whose modules import httpx or requests (or, like _wsse, that no
# request needs): loaded on first use so that ``import payerr`` stays cheap.
_LAZY = {
    "Transport": "._clients.httpx_transport",
    "AiohttpMiddleware": "._clients.aiohttp_middleware",
    "AsyncTransport": "._clients.httpx_transport",
    "RequestsAdapter": "._clients.requests_adapter",
    "RetryPolicy": "._retry.policy",
    "Cooldown": "._engine.engine",
    "RequestFacts": "._reading.request",
    "RedisCoordinator": "._coordination.redis",
    "Attempt": "._retry.policy",
    "Credentials": "._engine.credentials",
    "QueryParamToken": "._engine.credentials",
    "HeaderToken": "._engine.credentials",
    "JsonBodyToken": "._engine.credentials",
    "alipay_result": ".integrations.alipay",
    "wsse_headers": "._engine.wsse",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name == "PROVIDERS":
        from ._catalog.registry import catalog

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

# BEGIN GENERATED provider classes: `python -m payerr._tools.codegen` writes this block from
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
