"""The error model: every failure is a category *and* a provider.

    PayError
    ├── ProviderError                the provider answered with an error
    │   ├── AuthError                who you are could not be verified
    │   ├── ForbiddenError           known, but not allowed
    │   ├── InvalidRequestError      the request itself is wrong
    │   ├── NotFoundError            the order, card, user or record does not exist
    │   ├── ConflictError            it already exists or was already done
    │   ├── RateLimitError           too many calls
    │   ├── ServiceUnavailableError  the provider failed or is busy
    │   ├── BusinessError            a business rule refused it
    │   ├── RiskControlError         refused for risk
    │   ├── ConfigurationError       the app or merchant is not set up for this
    │   ├── PendingError             accepted, not final yet
    │   └── UnknownCodeError         a code the catalog does not know
    └── TransportError               no usable provider answer
        ├── NetworkError             the request never left
        ├── OutcomeUnknownError      it may have been processed
        └── MalformedResponseError   a 2xx whose body cannot be read

    AlipayError, WeChatError, HuaweiError, CMIError  (mixed into every error of that provider)

An Alipay rate limit is an ``AlipayRateLimitError``, a subclass of both
``RateLimitError`` and ``AlipayError``; the combined classes are made once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ._enums import Category, Processed, RetryHint

RAW_CAP = 64 * 1024
"""How many bytes of a response body an error keeps."""


class PayError(Exception):
    """Base of every payerr error; carries all a caller needs to decide and debug."""

    category: ClassVar[Category] = Category.UNKNOWN
    default_retry: ClassVar[RetryHint] = RetryHint.NEVER
    default_processed: ClassVar[Processed] = Processed.MAYBE
    response: Any = None
    """The client's own response object (httpx or requests), where there was one.
    Not pickled: it belongs to the process that received it."""

    def __init__(
        self,
        message: str = "",
        *,
        provider: str | None = None,
        code: str | None = None,
        sub_code: str | None = None,
        sub_message: str | None = None,
        http_status: int | None = None,
        retry: RetryHint | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        solution: str | None = None,
        solution_zh: str | None = None,
        body: Mapping[str, Any] | None = None,
        raw: bytes = b"",
        url: str | None = None,
        api_method: str | None = None,
        processed: Processed | None = None,
        known: bool = True,
        attempts: int = 1,
        history: tuple[PayError, ...] = (),
        delays: tuple[float, ...] = (),
    ) -> None:
        # One keyword per attribute of the error model: long by design.
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.code = code
        self.sub_code = sub_code
        self.sub_message = sub_message
        self.http_status = http_status
        self.retry = retry if retry is not None else self.default_retry
        self.retry_after = retry_after
        self.request_id = request_id
        self.solution = solution
        self.solution_zh = solution_zh
        self.body = dict(body) if body is not None else None
        self.raw = bytes(raw[:RAW_CAP])
        self.url = url
        self.api_method = api_method
        self.processed = processed if processed is not None else self.default_processed
        self.known = known
        """False when the provider's code is not in the catalog (the status then decides)."""
        self.attempts = attempts
        self.history = tuple(history)
        self.delays = tuple(delays)

    @property
    def retryable(self) -> bool:
        """Whether sending the same request again (after a delay or a token refresh) may work."""
        return self.retry in (RetryHint.BACKOFF, RetryHint.REFRESH_CREDENTIALS)

    def __str__(self) -> str:
        codes = "/".join(c for c in (self.code, self.sub_code) if c)
        head = f"{self.provider or 'payerr'} {codes}".rstrip()
        text = self.sub_message or self.message or type(self).__name__
        if self.sub_message and self.message and self.message != self.sub_message:
            text = f"{text} ({self.message})"
        facts = [f"retry={self.retry.value}"]
        if self.retry_after is not None:
            facts.append(f"retry_after={self.retry_after:g}s")
        if self.http_status is not None:
            facts.append(f"http={self.http_status}")
        if self.request_id:
            facts.append(f"request_id={self.request_id}")
        if self.attempts > 1:
            facts.append(f"attempts={self.attempts}")
        return _one_line(f"{head}: {_clip(text)} [{', '.join(facts)}]")

    def __repr__(self) -> str:
        shown = ("provider", "code", "sub_code", "http_status", "retry", "request_id", "attempts")
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type(self).__name__}({fields}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The client's live objects (a response, its request) stay behind: they hold
        # sockets, and an error must travel between processes.
        state = {k: v for k, v in self.__dict__.items() if k not in _LIVE}
        compatible = type(self).__dict__.get("_payerr_compatible")
        if compatible is not None:
            return (_restore_compatible, (*compatible, state))
        if self.provider and type(self) is _COMBINED.get((self.provider, self.category)):
            return (_restore_combined, (self.provider, self.category.value, state))
        return (_restore, (type(self), state))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _restore(cls: type[PayError], state: dict[str, Any]) -> PayError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


_LIVE = frozenset({"response", "request", "_request", "client"})


def _restore_compatible(
    base: type[PayError], client: type[BaseException], state: dict[str, Any]
) -> PayError:
    return _restore(compatible_class(base, client), state)


_COMPATIBLE: dict[tuple[type, type], type[PayError]] = {}


def compatible_class(base: type[PayError], client: type[BaseException]) -> type[PayError]:
    """``base`` that is also the client's own exception class (``httpx.ReadTimeout``,
    ``requests.ConnectionError``...), so handlers written for the client keep catching."""
    found = _COMPATIBLE.get((base, client))
    if found is None:
        namespace = {
            "__module__": __name__,
            "__doc__": base.__doc__,
            "_payerr_compatible": (base, client),
        }
        found = type(base.__name__, (base, client), namespace)
        _COMPATIBLE[base, client] = found
    return found


def as_client_error(
    error: PayError, client: type[BaseException], cause: BaseException | None
) -> PayError:
    """The same error, also an instance of ``client``; the client's request stays reachable."""
    cls = compatible_class(type(error), client)
    twin = cls.__new__(cls)
    try:
        client.__init__(twin, error.message)
    except TypeError:
        Exception.__init__(twin, error.message)
    twin.__dict__.update(error.__dict__)
    for name in ("request", "_request"):
        value = getattr(cause, "__dict__", {}).get(name)
        if value is not None:
            twin.__dict__[name] = value
    return twin


def _restore_combined(provider: str, category: str, state: dict[str, Any]) -> PayError:
    return _restore(error_class(Category(category), provider), state)


class ProviderError(PayError):
    """The provider answered, and its answer is an error."""


class AuthError(ProviderError):
    """Who you are could not be verified: bad or expired token, bad signature."""

    category = Category.AUTH
    default_retry = RetryHint.REFRESH_CREDENTIALS
    default_processed = Processed.NO


class ForbiddenError(ProviderError):
    """You are known but not allowed to use this API or resource."""

    category = Category.FORBIDDEN
    default_processed = Processed.NO


class InvalidRequestError(ProviderError):
    """The request itself is wrong: missing or malformed parameters."""

    category = Category.INVALID_REQUEST
    default_processed = Processed.NO


class NotFoundError(ProviderError):
    """The order, card, user or record does not exist."""

    category = Category.NOT_FOUND
    default_processed = Processed.NO


class ConflictError(ProviderError):
    """It already exists or was already done: this is a repeat."""

    category = Category.CONFLICT
    default_processed = Processed.YES


class RateLimitError(ProviderError):
    """Too many calls: back off, or wait for the quota window."""

    category = Category.RATE_LIMITED
    default_retry = RetryHint.BACKOFF
    default_processed = Processed.NO


class ServiceUnavailableError(ProviderError):
    """The provider failed or is busy on its side."""

    category = Category.UNAVAILABLE
    default_retry = RetryHint.BACKOFF


class BusinessError(ProviderError):
    """A business rule refused it: balance, amount, state."""

    category = Category.BUSINESS
    default_processed = Processed.NO


class RiskControlError(ProviderError):
    """The account or payment was refused for risk."""

    category = Category.RISK
    default_processed = Processed.NO


class ConfigurationError(ProviderError):
    """The app or merchant is not set up for this call."""

    category = Category.CONFIGURATION
    default_processed = Processed.NO


class PendingError(ProviderError):
    """Accepted but not final yet: query for the outcome, do not resend."""

    category = Category.PENDING
    default_retry = RetryHint.QUERY_FIRST
    default_processed = Processed.YES


class UnknownCodeError(ProviderError):
    """A code the catalog does not know; everything the provider said is kept."""

    category = Category.UNKNOWN


class TransportError(PayError):
    """No usable answer from the provider."""


class NetworkError(TransportError):
    """The request never reached the provider (connection refused, connect timeout)."""

    category = Category.NETWORK
    default_retry = RetryHint.BACKOFF
    default_processed = Processed.NO


class OutcomeUnknownError(TransportError):
    """The request was sent but no answer came: it may have been processed."""

    category = Category.OUTCOME_UNKNOWN
    default_retry = RetryHint.QUERY_FIRST


class MalformedResponseError(TransportError):
    """A success status whose body cannot be read; ``raw`` keeps the bytes."""

    category = Category.MALFORMED
    default_retry = RetryHint.QUERY_FIRST


class CoordinatorUnavailableError(NetworkError):
    """Not sent: the shared coordinator (Redis) that guards the fleet's token is unreachable.

    Fetching a token alone would void every other worker's, so the request is
    held back instead; it is retried (``BACKOFF``) within the policy's deadline.
    """


class AlipayError(PayError):
    """Anything Alipay said, or failed to say."""


class WeChatError(PayError):
    """Anything WeChat said, or failed to say."""


class HuaweiError(PayError):
    """Anything Huawei IAP said, or failed to say."""


class CMIError(PayError):
    """Anything China Mobile International said, or failed to say."""


CATEGORY_CLASSES: Mapping[Category, type[PayError]] = {
    cls.category: cls
    for cls in (
        AuthError,
        ForbiddenError,
        InvalidRequestError,
        NotFoundError,
        ConflictError,
        RateLimitError,
        ServiceUnavailableError,
        BusinessError,
        RiskControlError,
        ConfigurationError,
        PendingError,
        UnknownCodeError,
        NetworkError,
        OutcomeUnknownError,
        MalformedResponseError,
    )
}

PROVIDER_CLASSES: dict[str, type[PayError]] = {
    "alipay": AlipayError,
    "wechat": WeChatError,
    "huawei": HuaweiError,
    "cmi": CMIError,
}

_COMBINED: dict[tuple[str, Category], type[PayError]] = {}


def provider_class(provider: str) -> type[PayError]:
    """The provider's own base class, made on first use for providers added at run time."""
    cls = PROVIDER_CLASSES.get(provider)
    if cls is None:
        name = "".join(part.title() for part in provider.replace("-", "_").split("_")) + "Error"
        cls = type(
            name, (PayError,), {"__module__": __name__, "__doc__": f"Anything {provider} said."}
        )
        PROVIDER_CLASSES[provider] = cls
    return cls


def error_class(category: Category, provider: str | None) -> type[PayError]:
    """The class for this category and provider: both ``except`` styles catch it."""
    base = CATEGORY_CLASSES[category]
    if provider is None:
        return base
    cls = _COMBINED.get((provider, category))
    if cls is None:
        owner = provider_class(provider)
        name = owner.__name__.removesuffix("Error") + base.__name__
        cls = type(name, (base, owner), {"__module__": __name__, "__doc__": base.__doc__})
        cls.__qualname__ = name
        _COMBINED[provider, category] = cls
        globals()[name] = cls
    return cls


for _provider in tuple(PROVIDER_CLASSES):
    for _category in CATEGORY_CLASSES:
        error_class(_category, _provider)
