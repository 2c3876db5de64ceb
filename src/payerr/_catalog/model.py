"""The catalog's values on the hot path: a provider (``ProviderSpec``) and its codes (``CodeInfo``).

Built from a validated adapter file (``loader``) or from the compiled cache (``cache``);
frozen once built, so a request reads them without a lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from .._enums import Category, Processed, RetryHint
from .._errors import CATEGORY_CLASSES, provider_class_name
from .._values import Frozen
from .envelopes import Envelope, Format
from .patterns import globs
from .provider_data import TokenPlacement

Window = Literal["second", "minute", "day"]
Cooldown = Literal["api", "app", "host", "subject"]
_NOT_CHOSEN: Any = object()


class AdapterFileError(ValueError):
    """An adapter file is missing, unreadable, or fails validation."""


class MethodRule(Frozen):
    """A change to a code's meaning on some API methods (glob patterns)."""

    __slots__ = _fields = ("methods", "changes")
    methods: tuple[str, ...]
    changes: Mapping[str, Any]

    def __init__(self, methods: tuple[str, ...], changes: Mapping[str, Any]) -> None:
        object.__setattr__(self, "methods", methods)
        object.__setattr__(self, "changes", changes)

    def matches(self, api_method: str) -> bool:
        # Compiled on first use, shared by every rule with the same globs: loading
        # a thousand codes compiles nothing.
        return globs(self.methods).match(api_method)


class CodeInfo(Frozen):
    """What one provider code means and what to do about it (``payerr.explain``)."""

    __slots__ = _fields = (
        "provider",
        "code",
        "category",
        "retry",
        "processed",
        "message_zh",
        "message_en",
        "solution_zh",
        "solution_en",
        "provider_message",
        "sub_code",
        "window",
        "cooldown",
        "rules",
    )
    provider: str
    code: str
    category: Category | None
    """None for a success code: nothing went wrong."""
    retry: RetryHint
    processed: Processed
    message_zh: str
    message_en: str
    solution_zh: str
    solution_en: str
    provider_message: str
    sub_code: str | None
    window: Window | None
    cooldown: Cooldown
    """How far a rate limit with this code reaches: the one API, the whole app, the
    host (a merchant's API), or one subject (a payee, a user): then nothing else waits."""
    rules: tuple[MethodRule, ...]

    def __init__(
        self,
        provider: str,
        code: str,
        category: Category | None,
        retry: RetryHint,
        processed: Processed,
        message_zh: str,
        message_en: str,
        solution_zh: str,
        solution_en: str,
        provider_message: str = "",
        sub_code: str | None = None,
        window: Window | None = None,
        cooldown: Cooldown = "app",
        rules: tuple[MethodRule, ...] = (),
    ) -> None:
        set_ = object.__setattr__
        set_(self, "provider", provider)
        set_(self, "code", code)
        set_(self, "category", category)
        set_(self, "retry", retry)
        set_(self, "processed", processed)
        set_(self, "message_zh", message_zh)
        set_(self, "message_en", message_en)
        set_(self, "solution_zh", solution_zh)
        set_(self, "solution_en", solution_en)
        set_(self, "provider_message", provider_message)
        set_(self, "sub_code", sub_code)
        set_(self, "window", window)
        set_(self, "cooldown", cooldown)
        set_(self, "rules", rules)

    @property
    def ok(self) -> bool:
        """Whether this is a success code."""
        return self.category is None

    @property
    def error_class(self) -> type[Exception] | None:
        return CATEGORY_CLASSES[self.category] if self.category is not None else None

    def on(self, api_method: str | None) -> CodeInfo:
        """This code as it applies to one API method (Alipay pay vs refund)."""
        if not api_method or not self.rules:
            return self
        for rule in self.rules:
            if rule.matches(api_method):
                return self.replace(**rule.changes)
        return self

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output (CLI, docs)."""
        return {
            "provider": self.provider,
            "code": self.code,
            "sub_code": self.sub_code,
            "category": self.category.value if self.category else None,
            "class": self.error_class.__name__ if self.error_class else None,
            "retry": self.retry.value,
            "processed": self.processed.value,
            "provider_message": self.provider_message,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "solution_zh": self.solution_zh,
            "solution_en": self.solution_en,
            "window": self.window,
            "methods": [
                {"methods": list(rule.methods), **{k: str(v) for k, v in rule.changes.items()}}
                for rule in self.rules
            ],
        }


class ProviderSpec(Frozen):
    """One provider's adapter, ready for the hot path."""

    _fields = (
        "name",
        "display",
        "envelopes",
        "hosts",
        "request_id_headers",
        "success",
        "idempotent_methods",
        "idempotency_keys",
        "money_methods",
        "token_paths",
        "secret_names",
        "codes",
        "sub_codes",
        "statuses",
        "source",
        "order",
        "error_class",
        "day_reset",
        "nested_fields",
        "token",
    )
    __slots__ = (*_fields, "reads_path", "reads_xml", "reads_form", "_chosen")
    name: str
    display: str
    envelopes: tuple[Envelope, ...]
    hosts: tuple[str, ...]
    request_id_headers: tuple[str, ...]
    success: Mapping[str, CodeInfo]
    idempotent_methods: tuple[str, ...]
    idempotency_keys: Mapping[str, str]
    money_methods: tuple[str, ...]
    token_paths: tuple[str, ...]
    """URL paths that fetch an access token: never sent with one, never held at the gate."""
    secret_names: tuple[str, ...]
    """Parameter names this provider uses for credentials (masked everywhere)."""
    codes: Mapping[str, CodeInfo]
    sub_codes: Mapping[str, CodeInfo]
    statuses: Mapping[int, CodeInfo]
    source: str
    order: int
    """Where the provider sits in ``payerr.PROVIDERS`` (then by name)."""
    error_class: str
    """The name of the provider's own error class (``AlipayError``)."""
    day_reset: int
    """``day_reset_offset`` of when the provider's daily quotas reset (0: UTC midnight)."""
    nested_fields: tuple[str, ...]
    """Request fields whose value is a JSON object of more request fields (``biz_content``)."""
    token: TokenPlacement | None
    """How an access token travels with a request, when the provider uses one."""
    reads_path: bool
    """Whether choosing the envelope needs the URL path (several envelopes, or paths given)."""
    reads_xml: bool
    reads_form: bool
    _chosen: dict[tuple[str, str], Envelope | None]
    """The envelope chosen for each (path, format) seen, so choosing costs a dict look-up."""

    # Long because: one line per field, what ``@dataclass`` would write (``_values``).
    def __init__(
        self,
        name: str,
        display: str,
        envelopes: tuple[Envelope, ...],
        hosts: tuple[str, ...],
        request_id_headers: tuple[str, ...],
        success: Mapping[str, CodeInfo],
        idempotent_methods: tuple[str, ...],
        idempotency_keys: Mapping[str, str],
        money_methods: tuple[str, ...],
        token_paths: tuple[str, ...],
        secret_names: tuple[str, ...],
        codes: Mapping[str, CodeInfo],
        sub_codes: Mapping[str, CodeInfo],
        statuses: Mapping[int, CodeInfo],
        source: str,
        order: int = 1000,
        error_class: str = "",
        day_reset: int = 0,
        nested_fields: tuple[str, ...] = (),
        token: TokenPlacement | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "display", display)
        set_(self, "envelopes", envelopes)
        set_(self, "hosts", hosts)
        set_(self, "request_id_headers", request_id_headers)
        set_(self, "success", success)
        set_(self, "idempotent_methods", idempotent_methods)
        set_(self, "idempotency_keys", idempotency_keys)
        set_(self, "money_methods", money_methods)
        set_(self, "token_paths", token_paths)
        set_(self, "secret_names", secret_names)
        set_(self, "codes", codes)
        set_(self, "sub_codes", sub_codes)
        set_(self, "statuses", statuses)
        set_(self, "source", source)
        set_(self, "order", order)
        set_(self, "error_class", error_class or provider_class_name(name))
        set_(self, "day_reset", day_reset)
        set_(self, "nested_fields", nested_fields)
        set_(self, "token", token)
        set_(self, "reads_path", len(envelopes) > 1 or bool(envelopes[0].paths))
        set_(self, "reads_xml", any(e.format == "xml" for e in envelopes))
        set_(self, "reads_form", any(e.format == "form" for e in envelopes))
        set_(self, "_chosen", {})
        if secret_names:
            from .._reading.redact import add_secret_names

            add_secret_names(*secret_names)

    def envelope_for(self, path: str, body_format: Format = "json") -> Envelope | None:
        """The envelope a response at this path and in this format is read with."""
        key = (path, body_format)
        found = self._chosen.get(key, _NOT_CHOSEN)
        if found is _NOT_CHOSEN:
            found = next((e for e in self.envelopes if e.covers(path, body_format)), None)
            if len(self._chosen) >= 1024:
                self._chosen.clear()
            self._chosen[key] = found
        return found  # type: ignore[no-any-return]

    @property
    def envelope(self) -> Envelope:
        """The first (main) envelope."""
        return self.envelopes[0]

    def lookup(self, code: str | None, sub_code: str | None = None) -> CodeInfo | None:
        """The most specific error entry: the sub_code, then the code; None when unknown.

        A lone key may be either (Alipay v3 sends the former sub_code as ``code``).
        """
        if sub_code and sub_code in self.sub_codes:
            return self.sub_codes[sub_code]
        key = code if code is not None else sub_code
        if key is None:
            return None
        return self.codes.get(key) or self.sub_codes.get(key)

    def find(self, code: str, sub_code: str | None = None) -> CodeInfo | None:
        """Any entry a person may ask about: error codes, success codes, HTTP statuses."""
        if sub_code:
            return self.lookup(code, sub_code)
        found = self.lookup(code) or self.success.get(code)
        if found is None and len(code) == 3 and code.isdigit() and 100 <= int(code) <= 599:
            found = self.statuses.get(int(code))
        return found

    def is_idempotent(self, api_method: str | None, fields: Mapping[str, Any]) -> bool:
        """Whether the adapter knows this call is safe to send twice."""
        if not api_method:
            return False
        if globs(self.idempotent_methods).match(api_method):
            return True
        return self.has_dedup_key(api_method, fields)

    def fetches_token(self, path: str) -> bool:
        """Whether a request to this path fetches the token the credentials hold."""
        return bool(self.token_paths) and globs(self.token_paths).match(path)

    def moves_money(self, api_method: str | None) -> bool:
        """Whether the adapter lists this call as one that charges, refunds or pays out."""
        if not api_method:
            return False
        return globs(self.money_methods).match(api_method)

    def has_dedup_key(self, api_method: str | None, fields: Mapping[str, Any]) -> bool:
        """Whether the request carries the key the provider deduplicates this API on."""
        if not api_method:
            return False
        for pattern, key in self.idempotency_keys.items():  # most keys are absent: a loop
            if fields.get(key) and globs((pattern,)).match(api_method):
                return True
        return False

    def all_codes(self) -> Iterator[CodeInfo]:
        yield from self.success.values()
        yield from self.codes.values()
        yield from self.sub_codes.values()
        yield from self.statuses.values()


class PendingSpec:
    """A provider known by its name and hosts, built when first asked for.

    The compiled cache holds every shipped provider; a process usually talks to
    one, so the others' envelopes and tables are never built.
    """

    __slots__ = ("build", "error_class", "hosts", "name", "order")

    def __init__(
        self,
        name: str,
        hosts: tuple[str, ...],
        build: Callable[[], ProviderSpec],
        order: int = 1000,
        error_class: str = "",
    ):
        self.name = name
        self.hosts = hosts
        self.build = build
        self.order = order
        self.error_class = error_class or provider_class_name(name)
