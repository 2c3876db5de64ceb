"""Provider adapters: the ``adapters/*.toml`` files, validated once and looked up fast.

A file holds a provider's hosts, its envelopes (where the code, message and
request id live), which calls are safe to resend, and its code table. Files are
loaded on first use (importing payerr stays cheap) and checked with pydantic; a
broken file names itself, the code and the field.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase, translate
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

from .._enums import Category, Processed, RetryHint
from .._errors import CATEGORY_CLASSES, category_defaults, provider_class_name, provider_renamed
from .envelopes import Envelope, Format, safe_pattern
from .provider_data import TokenPlacement, day_reset_offset, sandbox_model

Window = Literal["second", "minute", "day"]
_NOT_CHOSEN: Any = object()


class AdapterFileError(ValueError):
    """An adapter file is missing, unreadable, or fails validation."""


class UnknownProviderError(LookupError):
    """No adapter has this name."""


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


def _with_entry(table: Mapping[str, CodeInfo], key: str, info: CodeInfo) -> Mapping[str, CodeInfo]:
    if isinstance(table, LazyTable):
        return table.with_entry(key, info)
    return {**table, key: info}


_GLOB_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    found = _GLOB_CACHE.get(patterns)
    if found is None:
        found = _GLOB_CACHE[patterns] = globs(patterns)
    return found


@cache
def _load_models() -> Any:
    """The pydantic models ``(AdapterFile, Code)``, imported only when a file is read.

    Long because it declares the whole file format in one place (the JSON Schema
    in docs/adapter.schema.json is made from it).
    """
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

    class Rule(Strict):
        methods: list[str] = Field(min_length=1)
        category: Category | None = None
        retry: RetryHint | None = None
        processed: Processed | None = None
        fix_zh: str | None = None
        fix_en: str | None = None

    class Code(Strict):
        category: Category
        retry: RetryHint | None = None
        processed: Processed | None = None
        message: str = ""
        zh: str = Field(min_length=1)
        en: str = Field(min_length=1)
        fix_zh: str = Field(min_length=1)
        fix_en: str = Field(min_length=1)
        code: str | None = None
        window: Window | None = None
        cooldown: Literal["api", "app", "host", "subject"] = "app"
        when: list[Rule] = []

    class ProviderToken(Strict):
        in_: Literal["query", "header", "json"] = Field(alias="in")
        name: str = Field(min_length=1)
        template: str = Field("{token}", pattern=r"\{token\}")
        prefix: str = ""
        encode: Literal["none", "base64"] = "none"

    class Provider(Strict):
        name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
        display: str
        order: int = Field(1000, ge=0)
        error_class: str | None = Field(None, pattern=r"^[A-Z][A-Za-z0-9]*Error$")
        hosts: list[str] = []
        request_id_headers: list[str] = []
        token_paths: list[str] = []
        token: ProviderToken | None = None
        secrets: list[str] = []
        nested_fields: list[str] = []
        day_reset: str = "00:00+00:00"

        @field_validator("day_reset")
        @classmethod
        def _reset(cls, value: str) -> str:
            day_reset_offset(value)
            return value

    class EnvelopeModel(Strict):
        name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
        format: Literal["json", "xml", "form"] = "json"
        paths: list[str] = []
        node: str | None = None
        error_nodes: list[str] = []
        text_node: Literal["success", "unreadable"] = "unreadable"
        code: list[str] = Field(min_length=1)
        sub_code: list[str] = []
        message: list[str] = []
        sub_message: list[str] = []
        request_id: list[str] = []
        status_decides: bool = False
        pending_statuses: list[int] = []
        api_method: list[str] = ["path"]
        message_request_id: str | None = None
        result_code: list[str] = []
        result_message: list[str] = []
        code_required: bool = False

        @field_validator("message_request_id")
        @classmethod
        def _compiles(cls, value: str | None) -> str | None:
            if value is not None:
                try:
                    safe_pattern(value)  # compiles it, and refuses one that could take forever
                except re.error as exc:
                    raise ValueError(f"not a regular expression: {exc}") from None
            return value

        @field_validator("api_method")
        @classmethod
        def _sources(cls, value: list[str]) -> list[str]:
            for source in value:
                kind, _, argument = source.partition(":")
                if kind not in ("param", "node", "path") or (kind == "param" and not argument):
                    raise ValueError(f"{source!r}: use param:<name>, node, path or path:<prefix>")
            return value

    SandboxModel = sandbox_model(Strict)

    class Idempotency(Strict):
        methods: list[str] = []
        keys: dict[str, str] = {}
        money: list[str] = []

    class Success(Strict):
        message: str = ""
        zh: str = Field(min_length=1)
        en: str = Field(min_length=1)

    class AdapterFile(Strict):
        provider: Provider
        envelope: list[EnvelopeModel] = Field(min_length=1)
        sandbox: SandboxModel | None = None  # type: ignore[valid-type]
        idempotency: Idempotency = Idempotency()
        success: dict[str, Success] = Field(min_length=1)
        statuses: dict[str, Code] = {}
        codes: dict[str, Code] = {}
        sub_codes: dict[str, Code] = {}

        @field_validator("statuses")
        @classmethod
        def _statuses_are_http(cls, value: dict[str, Code]) -> dict[str, Code]:
            for key in value:
                if not (key.isdigit() and 100 <= int(key) <= 599):
                    raise ValueError(f"{key!r} is not an HTTP status")
            return value

    return AdapterFile, Code, SandboxModel


def _code_info(
    provider: str, key: str, entry: Any, *, sub: bool, parent: CodeInfo | None = None
) -> CodeInfo:
    """A table entry as ``CodeInfo`` (long: one line per field, and its per-API rules)."""
    retry, processed = category_defaults(entry.category, entry.retry, entry.processed)
    rules = (
        parent.rules
        if parent is not None and not entry.when
        else tuple(
            MethodRule(
                methods=tuple(rule.methods),
                changes={
                    name: value
                    for name, value in (
                        ("category", rule.category),
                        ("retry", rule.retry),
                        ("processed", rule.processed),
                        ("solution_zh", rule.fix_zh),
                        ("solution_en", rule.fix_en),
                    )
                    if value is not None
                },
            )
            for rule in entry.when
        )
    )
    return CodeInfo(
        provider=provider,
        code=(entry.code or "") if sub else key,
        sub_code=key if sub else None,
        category=entry.category,
        retry=retry,
        processed=processed,
        provider_message=entry.message,
        message_zh=entry.zh,
        message_en=entry.en,
        solution_zh=entry.fix_zh,
        solution_en=entry.fix_en,
        window=entry.window,
        cooldown=entry.cooldown,
        rules=rules,
    )


def adapter_schema() -> dict[str, Any]:
    """The adapter file format as a JSON Schema (for editors and docs), from the models."""
    schema: dict[str, Any] = _load_models()[0].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "payerr adapter file"
    schema["description"] = (
        "One provider: hosts, envelopes, idempotency, success codes and the code table. "
        "Validated by payerr when the file is loaded."
    )
    return schema


def _part_of(text: str, part: str) -> dict[str, Any] | None:
    """The tables of one top-level key, parsed without the rest of the file (a code
    table of ten thousand lines is not read for the sandbox); None if that fails."""
    import tomllib

    lines, keep = [], False
    for line in text.splitlines():
        if line.startswith("["):
            keep = line.lstrip("[").startswith((f"{part}]", f"{part}."))
        if keep:
            lines.append(line)
    try:
        document = tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError:
        return None
    return document if part in document else None


def load_adapter_file(path: Path) -> ProviderSpec:
    """Read and validate one adapter file; every failure names the file and the key."""
    return _spec(validated_model(path), path)


def validated_model(path: Path, *, part: str | None = None) -> Any:
    """One adapter file as its validated pydantic model; with ``part="sandbox"`` only its
    ``[sandbox]`` table (None when absent), which the sandbox reads without the code table."""
    import tomllib

    from pydantic import ValidationError

    try:
        text = path.read_text(encoding="utf-8")
        document = _part_of(text, part) if part is not None else None
        document = document if document is not None else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AdapterFileError(f"{path}: cannot read adapter file: {exc}") from None
    model = _load_models()[0]
    prefix: tuple[str, ...] = ()
    if part is not None:
        model, prefix, document = _load_models()[2], (part,), document.get(part)
        if document is None:
            return None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in (*prefix, *err['loc']))}: {err['msg']}"
            for err in exc.errors()
        )
        raise AdapterFileError(f"{path}: {problems}") from None


def _success(provider: str, code: str, entry: Any) -> CodeInfo:
    return CodeInfo(
        provider=provider,
        code=code,
        category=None,
        retry=RetryHint.NEVER,
        processed=Processed.YES,
        provider_message=entry.message,
        message_zh=entry.zh,
        message_en=entry.en,
        solution_zh="无需处理。",
        solution_en="Nothing to do.",
    )


def _spec(model: Any, path: Path) -> ProviderSpec:
    """The hot-path form of a validated adapter file."""
    name, provider, idempotency = model.provider.name, model.provider, model.idempotency
    codes = {k: _code_info(name, k, v, sub=False) for k, v in model.codes.items()}
    for key, entry in model.sub_codes.items():
        if entry.code is not None and entry.code not in codes:
            raise AdapterFileError(
                f"{path}: sub_codes.{key}.code: no code {entry.code!r} in [codes]"
            )
    return ProviderSpec(
        name=name,
        display=provider.display,
        envelopes=tuple(Envelope.from_dict(e.model_dump()) for e in model.envelope),
        hosts=tuple(host.lower() for host in provider.hosts),
        request_id_headers=tuple(h.lower() for h in provider.request_id_headers),
        success={k: _success(name, k, v) for k, v in model.success.items()},
        idempotent_methods=tuple(idempotency.methods),
        idempotency_keys=dict(idempotency.keys),
        money_methods=tuple(idempotency.money),
        token_paths=tuple(provider.token_paths),
        secret_names=tuple(provider.secrets),
        codes=codes,
        sub_codes={
            k: _code_info(name, k, v, sub=True, parent=codes.get(v.code or ""))
            for k, v in model.sub_codes.items()
        },
        statuses={int(k): _code_info(name, k, v, sub=False) for k, v in model.statuses.items()},
        source=str(path),
        order=provider.order,
        error_class=provider.error_class or "",
        day_reset=day_reset_offset(provider.day_reset),
        nested_fields=tuple(provider.nested_fields),
        token=_token(provider.token),
    )


def _token(model: Any) -> TokenPlacement | None:
    if model is None:
        return None
    return TokenPlacement(model.in_, model.name, model.template, model.prefix, model.encode)


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


class Catalog:
    """Every loaded provider, plus the hosts and overrides users registered in code."""

    def __init__(self, specs: Iterable[ProviderSpec | PendingSpec]) -> None:
        ordered = sorted(specs, key=lambda spec: (spec.order, spec.name))
        given = {spec.name: spec for spec in ordered}
        self._names: dict[str, None] = dict.fromkeys(given)
        self.shipped: tuple[str, ...] = tuple(given)
        """The providers the catalog started with (``payerr.PROVIDERS``), in their order."""
        self._classes: dict[str, str] = {spec.name: spec.error_class for spec in ordered}
        for name, class_name in self._classes.items():
            provider_renamed(name, class_name)
        self._specs: dict[str, ProviderSpec] = {}
        """The providers built so far: a request's look-up is this one dict."""
        self._pending: dict[str, PendingSpec] = {}
        self._exact_hosts: dict[str, str] = {}
        self._host_patterns: list[tuple[str, str]] = []
        self._host_cache: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self.generation = object()
        """Replaced on every change, so whoever cached a spec knows to look again."""
        self._by_host: dict[str, tuple[object, ProviderSpec | None]] = {}
        for spec in given.values():
            if isinstance(spec, PendingSpec):
                self._pending[spec.name] = spec
            else:
                self._specs[spec.name] = spec
            for host in spec.hosts:
                self._add_host(host, spec.name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names)

    def class_name(self, provider: str) -> str | None:
        """The provider's error class name as its adapter declares it (None: unknown)."""
        return self._classes.get(provider)

    def provider_of_class(self, class_name: str) -> str | None:
        """The provider whose adapter declares this error class name."""
        return next((p for p, name in self._classes.items() if name == class_name), None)

    def spec(self, provider: str) -> ProviderSpec:
        try:
            return self._specs[provider]
        except KeyError:
            return self._build(provider)

    def _build(self, provider: str) -> ProviderSpec:
        pending = self._pending.get(provider)
        if pending is None:
            found = self._specs.get(provider)  # another thread has just built it
            if found is None:
                known = ", ".join(self._names)
                message = f"unknown provider {provider!r}; known: {known}"
                raise UnknownProviderError(message) from None
            return found
        built = pending.build()
        with self._lock:
            if self._pending.get(provider) is pending:
                self._specs[provider] = built
                del self._pending[provider]
        return self._specs[provider]  # ours, another thread's, or one a user added meanwhile

    def __iter__(self) -> Iterator[ProviderSpec]:
        return iter([self.spec(name) for name in list(self._names)])

    def _add_host(self, host: str, provider: str) -> None:
        if any(ch in host for ch in "*?["):
            self._host_patterns.append((host, provider))
        else:
            self._exact_hosts[host] = provider

    def register_host(self, host: str, provider: str) -> None:
        self.spec(provider)
        with self._lock:
            self._add_host(host.lower(), provider)
            self._host_cache.clear()
            self.generation = object()

    def provider_for_host(self, host: str) -> str | None:
        """The provider that answers on this host, or None (the request passes through)."""
        try:
            return self._host_cache[host]
        except KeyError:
            pass
        lowered = host.lower()
        found = self._exact_hosts.get(lowered)
        if found is None:
            for pattern, provider in self._host_patterns:
                if fnmatchcase(lowered, pattern):
                    found = provider
                    break
        if len(self._host_cache) < 4096:
            self._host_cache[host] = found
        return found

    def spec_for_host(self, host: str) -> ProviderSpec | None:
        """The adapter claiming this host, or None; remembered until the catalog changes."""
        entry = self._by_host.get(host)
        if entry is not None and entry[0] is self.generation:
            return entry[1]
        generation = self.generation  # read first: a change while we look is seen next time
        name = self.provider_for_host(host)
        spec = None if name is None else self.spec(name)
        if len(self._by_host) >= 4096:
            self._by_host.clear()
        self._by_host[host] = (generation, spec)
        return spec

    def add(self, spec: ProviderSpec, *, replace_existing: bool = False) -> None:
        with self._lock:
            if spec.name in self._names and not replace_existing:
                raise ValueError(f"provider {spec.name!r} is already loaded")
            self._specs[spec.name] = spec
            self._pending.pop(spec.name, None)
            self._names[spec.name] = None
            self._classes[spec.name] = spec.error_class
            provider_renamed(spec.name, spec.error_class)
            for host in spec.hosts:
                self._add_host(host, spec.name)
            self._host_cache.clear()
            self.generation = object()

    def override(self, provider: str, code: str, sub_code: str | None, **changes: Any) -> CodeInfo:
        spec = self.spec(provider)
        if sub_code is not None or (code not in spec.codes and code in spec.sub_codes):
            key = sub_code if sub_code is not None else code
            table, kind = spec.sub_codes, "sub_codes"
        else:
            key = code
            table, kind = spec.codes, "codes"
        current = table.get(key)
        if current is None:
            if "category" not in changes:
                raise KeyError(f"{provider} has no code {key!r}; pass category= to add one")
            retry, processed = category_defaults(changes["category"])
            current = CodeInfo(
                provider=provider,
                code=code,
                sub_code=sub_code,
                category=changes["category"],
                retry=retry,
                processed=processed,
                message_zh=changes.get("message_zh", "使用方自定义的错误码。"),
                message_en=changes.get("message_en", "A code defined by the caller."),
                solution_zh=changes.get("solution_zh", "按使用方的说明处理。"),
                solution_en=changes.get("solution_en", "Handle as the caller documented."),
            )
        updated = replace(current, **changes, rules=() if changes else current.rules)
        changed = _with_entry(table, key, updated)
        with self._lock:
            if kind == "codes":
                self._specs[provider] = replace(spec, codes=changed)
            else:
                self._specs[provider] = replace(spec, sub_codes=changed)
            self.generation = object()
        return updated


_catalog: Catalog | None = None
_catalog_lock = threading.Lock()


def _adapter_dirs() -> Iterator[Path]:
    """Where the shipped files may be; the second is resolved (system calls) only if needed."""
    yield Path(__file__).parents[1] / "adapters"  # installed wheel
    yield Path(__file__).resolve().parents[3] / "adapters"  # source checkout, editable install


def adapter_files() -> list[Path]:
    """The shipped adapter files in name order (one directory listing: every first use)."""
    for directory in _adapter_dirs():
        try:
            names = sorted(name for name in os.listdir(directory) if name.endswith(".toml"))
        except OSError:
            continue
        if names:
            return [directory / name for name in names]
    searched = " or ".join(map(str, _adapter_dirs()))
    raise AdapterFileError(f"no adapter files found in {searched}")


def adapter_dir() -> Path:
    return adapter_files()[0].parent


def catalog() -> Catalog:
    """The process-wide catalog, loaded from the adapter files on first use."""
    global _catalog
    if _catalog is None:
        with _catalog_lock:
            if _catalog is None:
                _catalog = Catalog(_shipped_specs())
    return _catalog


def _shipped_specs() -> list[ProviderSpec] | list[PendingSpec]:
    """The shipped adapters: from the compiled cache when it matches the files, else read."""
    from . import cache as _cache

    files = adapter_files()
    key = _cache.digest(files)
    cached = _cache.read(key)
    if cached is not None:
        return cached
    specs = [load_adapter_file(path) for path in files]
    _cache.write(key, specs)
    return specs


def explain(provider: str, code: str | int, sub_code: str | None = None) -> CodeInfo:
    """What a provider code means and what to do about it.

    ``explain("alipay", "40004", "ACQ.TRADE_NOT_EXIST")`` and
    ``explain("alipay", "ACQ.TRADE_NOT_EXIST")`` both find the sub_code.
    """
    key = str(code).strip()
    info = catalog().spec(provider).find(key, sub_code)
    if info is None:
        wanted = f"{key}/{sub_code}" if sub_code else key
        raise KeyError(f"{provider} has no code {wanted!r}")
    return info


def register_host(host: str, provider: str) -> None:
    """Claim another host (a private gateway, a proxy) for a provider's adapter."""
    catalog().register_host(host, provider)


def override_code(
    provider: str,
    code: str,
    sub_code: str | None = None,
    *,
    category: Category | None = None,
    retry: RetryHint | None = None,
    processed: Processed | None = None,
) -> CodeInfo:
    """Change what a code means for this process (or add one the catalog lacks)."""
    changes: dict[str, Any] = {
        name: value
        for name, value in (("category", category), ("retry", retry), ("processed", processed))
        if value is not None
    }
    return catalog().override(provider, str(code), sub_code, **changes)


def load_adapter(path: str | Path, *, replace_existing: bool = False) -> ProviderSpec:
    """Add a provider (or replace one) from an adapter file of your own."""
    spec = load_adapter_file(Path(path))
    catalog().add(spec, replace_existing=replace_existing)
    return spec
