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

Provider classes, one per adapter file, mixed into every error of that provider:
    AlipayError, WeChatError, HuaweiError, CMIError, UnionPayError, WeComError

An Alipay rate limit is an ``AlipayRateLimitError``, a subclass of both
``RateLimitError`` and ``AlipayError``; the combined classes are made once, here.

The provider classes come from the adapter files (``[provider] error_class``):
the block at the end of this module and the list above are written by
``python -m payerr._tools.codegen`` and compared with the files by a test, so type
checkers see them; a provider added at run time (``load_adapter``) gets its
class on first use, and its errors pickle by provider and category, not by a
class reference another process could not resolve.
"""

# Long because every class and function a pickle names must be found in payerr._errors:
# the error model, its pickling and the generated provider classes stay together.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

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
    server_retry_after: float | None = None
    """The wait the server itself sent (``Retry-After``), uncapped; ``retry_after`` is
    what payerr honours (at most ``RetryPolicy.max_cooldown`` when sent by a server)."""

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
        # Long because it takes one keyword per attribute of the error model.
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

    @classmethod
    def _decided(
        cls,
        provider: str | None,
        code: str | None,
        sub_code: str | None,
        http_status: int | None,
        retry: RetryHint,
        retry_after: float | None,
        solution: str | None,
        solution_zh: str | None,
        api_method: str | None,
        processed: Processed,
        known: bool,
    ) -> Self:
        """``cls(provider=..., ...)`` with what a retry decision reads, the rest left at
        the defaults: one is made on every failed attempt, and matching eleven keywords
        against ``__init__``'s twenty costs more than the error itself.

        Long because it lays out every attribute of the error model at once."""
        error = cls.__new__(cls)
        error.args = ("",)
        error.__dict__.update(
            {
                "message": "",
                "provider": provider,
                "code": code,
                "sub_code": sub_code,
                "sub_message": None,
                "http_status": http_status,
                "retry": retry,
                "retry_after": retry_after,
                "request_id": None,
                "solution": solution,
                "solution_zh": solution_zh,
                "body": None,
                "raw": b"",
                "url": None,
                "api_method": api_method,
                "processed": processed,
                "known": known,
                "attempts": 1,
                "history": (),
                "delays": (),
            }
        )
        return error

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
        details = [f"retry={self.retry.value}"]
        if self.retry_after is not None:
            details.append(f"retry_after={self.retry_after:g}s")
        if self.http_status is not None:
            details.append(f"http={self.http_status}")
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        if self.attempts > 1:
            details.append(f"attempts={self.attempts}")
        return _one_line(f"{head}: {_clip(text)} [{', '.join(details)}]")

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
            base, client = compatible
            made = _MADE_FOR.get(base)
            if made is not None:  # named by provider: another process may lack the class
                return (_restore_compatible_combined, (*made, client, state))
            return (_restore_compatible, (base, client, state))
        made = _MADE_FOR.get(type(self))
        if made is not None:
            return (_restore_combined, (*made[:2], state, made[2]))
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


def _restore_compatible_combined(
    provider: str, category: str, owner: str, client: type[BaseException], state: dict[str, Any]
) -> PayError:
    base = error_class(_restored_category(category), provider, owner)
    return _restore(compatible_class(base, client), state)


def _restored_category(value: str) -> Category:
    """A pickled category; one this payerr lacks (a newer sender) restores as unknown,
    since an unpickling that raises leaves a ``multiprocessing.Pool`` waiting forever."""
    try:
        return Category(value)
    except ValueError:
        return Category.UNKNOWN


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


def _restore_combined(
    provider: str, category: str, state: dict[str, Any], owner: str | None = None
) -> PayError:
    return _restore(error_class(_restored_category(category), provider, owner), state)


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


def category_defaults(
    category: Category, retry: RetryHint | None = None, processed: Processed | None = None
) -> tuple[RetryHint, Processed]:
    """The hint and processed state of a code, where its entry leaves them to its category.

    The one place the rule is written: the category's class holds the defaults.
    """
    cls = CATEGORY_CLASSES[category]
    return retry or cls.default_retry, processed or cls.default_processed


def provider_class_name(provider: str) -> str:
    """The class name of a provider that declares none: ``my_bank`` -> ``MyBankError``."""
    return "".join(part.title() for part in provider.replace("-", "_").split("_")) + "Error"


PROVIDER_CLASSES: dict[str, type[PayError]] = {}
"""Each provider's own base class, by provider name (the generated ones, then any made)."""

_COMBINED: dict[tuple[str, Category], type[PayError]] = {}
_MADE_FOR: dict[type, tuple[str, str, str]] = {}
"""A combined class -> (provider, category, provider class name): how it pickles."""


def provider_renamed(provider: str, class_name: str) -> None:
    """A provider (re)loaded under another class name gets classes of that name from now
    on; the shipped providers' classes, written out for type checkers, stay."""
    cls = PROVIDER_CLASSES.get(provider)
    if cls is None or cls.__name__ == class_name or provider in _GENERATED:
        return
    del PROVIDER_CLASSES[provider]
    for key in [key for key in _COMBINED if key[0] == provider]:
        del _COMBINED[key]


def _declared_name(provider: str) -> str:
    """The class name the provider's adapter declares (catalog loaded on demand)."""
    from ._catalog.registry import catalog

    try:
        found = catalog().class_name(provider)
    except Exception:  # no adapter files at all: a name is still owed
        found = None
    return found or provider_class_name(provider)


def provider_class(provider: str, name: str | None = None) -> type[PayError]:
    """The provider's own base class, made on first use for providers added at run time.

    ``name`` is the class name a pickle carries, for a provider this process has
    not loaded; otherwise the adapter's ``error_class`` decides.
    """
    cls = PROVIDER_CLASSES.get(provider)
    if cls is None:
        name = name or _declared_name(provider)
        namespace = {"__module__": __name__, "__doc__": f"Anything {provider} said."}
        cls = PROVIDER_CLASSES.setdefault(provider, type(name, (PayError,), namespace))
        globals().setdefault(name, cls)
    return cls


def error_class(
    category: Category, provider: str | None, owner_name: str | None = None
) -> type[PayError]:
    """The class for this category and provider: both ``except`` styles catch it."""
    base = CATEGORY_CLASSES[category]
    if provider is None:
        return base
    cls = _COMBINED.get((provider, category))
    if cls is None:
        owner = provider_class(provider, owner_name)
        name = owner.__name__.removesuffix("Error") + base.__name__
        made = type(name, (base, owner), {"__module__": __name__, "__doc__": base.__doc__})
        made.__qualname__ = name
        cls = _COMBINED.setdefault((provider, category), made)
        _MADE_FOR[cls] = (provider, category.value, owner.__name__)
        globals().setdefault(name, cls)
    return cls


def __getattr__(name: str) -> Any:
    """A provider class (or a combined one) of an adapter file not in the generated block."""
    if name.endswith("Error") and not name.startswith("_"):
        from ._catalog.registry import catalog

        cat = catalog()
        provider = cat.provider_of_class(name)
        if provider is not None:
            return provider_class(provider)
        for provider in cat.names:
            owner = cat.class_name(provider) or ""
            for category, base in CATEGORY_CLASSES.items():
                if name == owner.removesuffix("Error") + base.__name__:
                    return error_class(category, provider)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# BEGIN GENERATED provider classes: `python -m payerr._tools.codegen` writes this block from
# adapters/*.toml ([provider] name, display, error_class, order); a test compares.
class AlipayError(PayError):
    """Anything Alipay said, or failed to say."""


PROVIDER_CLASSES["alipay"] = AlipayError


class WeChatError(PayError):
    """Anything WeChat said, or failed to say."""


PROVIDER_CLASSES["wechat"] = WeChatError


class HuaweiError(PayError):
    """Anything Huawei IAP said, or failed to say."""


PROVIDER_CLASSES["huawei"] = HuaweiError


class CMIError(PayError):
    """Anything CMI said, or failed to say."""


PROVIDER_CLASSES["cmi"] = CMIError


class UnionPayError(PayError):
    """Anything UnionPay said, or failed to say."""


PROVIDER_CLASSES["unionpay"] = UnionPayError


class WeComError(PayError):
    """Anything WeCom said, or failed to say."""


PROVIDER_CLASSES["wecom"] = WeComError
# END GENERATED provider classes

_GENERATED = frozenset(PROVIDER_CLASSES)
"""The shipped providers: their combined classes are made on first use (``__getattr__``)."""
