"""The catalog's values on the hot path: a provider (``ProviderSpec``) and its codes (``CodeInfo``).

Built from a validated adapter file (``loader``) or from the compiled cache (``cache``);
frozen once built, so a request reads them without a lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase, translate
from typing import Any, Literal, cast

from .._enums import Category, Processed, RetryHint
from .._errors import CATEGORY_CLASSES, provider_class_name
from .envelopes import Envelope, Format
from .provider_data import TokenPlacement

Window = Literal["second", "minute", "day"]
_NOT_CHOSEN: Any = object()


def globs(patterns: Iterable[str]) -> re.Pattern[str]:
    """One compiled regex for a set of glob patterns (never matches when there are none)."""
    parts = [translate(pattern) for pattern in patterns]
    return re.compile("|".join(parts) if parts else r"(?!)")


@dataclass(frozen=True, slots=True)
class MethodRule:
    """A change to a code's meaning on some API methods (glob patterns)."""

    methods: tuple[str, ...]
    changes: Mapping[str, Any]

    def matches(self, api_method: str) -> bool:
        # Compiled on first use, shared by every rule with the same globs: loading
        # a thousand codes compiles nothing.
        return _compiled(self.methods).match(api_method) is not None


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What one provider code means and what to do about it (``payerr.explain``)."""

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
    provider_message: str = ""
    sub_code: str | None = None
    window: Window | None = None
    cooldown: Literal["api", "app", "host", "subject"] = "app"
    """How far a rate limit with this code reaches: the one API, the whole app, the
    host (a merchant's API), or one subject (a payee, a user): then nothing else waits."""
    rules: tuple[MethodRule, ...] = field(default=(), repr=False)

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
                return replace(self, **rule.changes)
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


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider's adapter, ready for the hot path."""

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
    order: int = 1000
    """Where the provider sits in ``payerr.PROVIDERS`` (then by name)."""
    error_class: str = ""
    """The name of the provider's own error class (``AlipayError``)."""
    day_reset: int = 0
    """``day_reset_offset`` of when the provider's daily quotas reset (0: UTC midnight)."""
    nested_fields: tuple[str, ...] = ()
    """Request fields whose value is a JSON object of more request fields (``biz_content``)."""
    token: TokenPlacement | None = None
    """How an access token travels with a request, when the provider uses one."""
    reads_path: bool = field(init=False, repr=False, compare=False)
    """Whether choosing the envelope needs the URL path (several envelopes, or paths given)."""
    reads_xml: bool = field(init=False, repr=False, compare=False)
    reads_form: bool = field(init=False, repr=False, compare=False)
    _chosen: dict[tuple[str, str], Envelope | None] = field(init=False, repr=False, compare=False)
    """The envelope chosen for each (path, format) seen, so choosing costs a dict look-up."""

    def __post_init__(self) -> None:
        if self.secret_names:
            from .._reading.redact import add_secret_names

            add_secret_names(*self.secret_names)
        if not self.error_class:
            object.__setattr__(self, "error_class", provider_class_name(self.name))
        envelopes = self.envelopes
        object.__setattr__(self, "reads_path", len(envelopes) > 1 or bool(envelopes[0].paths))
        object.__setattr__(self, "reads_xml", any(e.format == "xml" for e in envelopes))
        object.__setattr__(self, "reads_form", any(e.format == "form" for e in envelopes))
        object.__setattr__(self, "_chosen", {})

    def envelope_for(self, path: str, body_format: Format = "json") -> Envelope | None:
        """The envelope a response at this path and in this format is read with."""
        key = (path, body_format)
        found = self._chosen.get(key, _NOT_CHOSEN)
        if found is _NOT_CHOSEN:
            found = next((e for e in self.envelopes if e.covers(path, body_format)), None)
            if len(self._chosen) >= 1024:
                self._chosen.clear()
            self._chosen[key] = found
        return cast("Envelope | None", found)

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
        if _compiled(self.idempotent_methods).match(api_method):
            return True
        return self.has_dedup_key(api_method, fields)

    def fetches_token(self, path: str) -> bool:
        """Whether a request to this path fetches the token the credentials hold."""
        return bool(self.token_paths) and _compiled(self.token_paths).match(path) is not None

    def moves_money(self, api_method: str | None) -> bool:
        """Whether the adapter lists this call as one that charges, refunds or pays out."""
        if not api_method:
            return False
        return _compiled(self.money_methods).match(api_method) is not None

    def has_dedup_key(self, api_method: str | None, fields: Mapping[str, Any]) -> bool:
        """Whether the request carries the key the provider deduplicates this API on."""
        if not api_method:
            return False
        return any(
            bool(fields.get(key)) and fnmatchcase(api_method, pattern)
            for pattern, key in self.idempotency_keys.items()
        )

    def all_codes(self) -> Iterator[CodeInfo]:
        yield from self.success.values()
        yield from self.codes.values()
        yield from self.sub_codes.values()
        yield from self.statuses.values()


class LazyTable(Mapping[str, CodeInfo]):
    """A code table read on first use and whose entries are built on their first look-up.

    Building all 1,600 shipped entries from the compiled cache was most of
    payerr's first use (8 ms), and a success never looks a code up.
    """

    __slots__ = ("_built", "_decode", "_load", "_raw")

    def __init__(
        self,
        load: Callable[[], Mapping[str, bytes]],
        decode: Callable[[str, bytes], CodeInfo],
        built: Mapping[str, CodeInfo] | None = None,
    ) -> None:
        self._load = load
        self._decode = decode
        self._raw: Mapping[str, bytes] | None = None
        self._built: dict[str, CodeInfo] = dict(built or {})

    def _rows(self) -> Mapping[str, bytes]:
        raw = self._raw
        if raw is None:
            raw = self._raw = self._load()
        return raw

    def __getitem__(self, key: str) -> CodeInfo:
        found = self._built.get(key)
        if found is None:
            # setdefault: two threads building one entry both get the first one stored
            found = self._built.setdefault(key, self._decode(key, self._rows()[key]))
        return found

    def get(self, key: str, default: Any = None) -> Any:
        found = self._built.get(key)
        if found is not None:
            return found
        return self[key] if key in self._rows() else default

    def __contains__(self, key: object) -> bool:
        return key in self._rows()

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())

    def __repr__(self) -> str:
        return f"LazyTable({len(self)} entries, {len(self._built)} built)"

    def with_entry(self, key: str, info: CodeInfo) -> LazyTable:
        """A copy with one entry set, the rest still unbuilt (``override_code``)."""
        raw = self._rows()
        rows = raw if key in raw else {**raw, key: b""}
        return LazyTable(lambda: rows, self._decode, {**self._built, key: info})


def with_entry(table: Mapping[str, CodeInfo], key: str, info: CodeInfo) -> Mapping[str, CodeInfo]:
    """A copy of a code table with one entry set (a lazy table stays lazy)."""
    if isinstance(table, LazyTable):
        return table.with_entry(key, info)
    return {**table, key: info}


_GLOB_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    found = _GLOB_CACHE.get(patterns)
    if found is None:
        found = _GLOB_CACHE[patterns] = globs(patterns)
    return found


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
