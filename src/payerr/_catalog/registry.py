"""The catalog: every provider loaded, looked up by name or host, and the public calls on it.

``explain``, ``register_host``, ``override_code`` and ``load_adapter`` live here; the
providers come from ``loader`` on first use (importing payerr stays cheap).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .._enums import Category, Processed, RetryHint
from .._errors import category_defaults, provider_renamed
from .loader import load_adapter_file, shipped_specs
from .model import CodeInfo, PendingSpec, ProviderSpec
from .tables import with_entry


class UnknownProviderError(LookupError):
    """No adapter has this name."""


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
        updated = current.replace(**changes, rules=() if changes else current.rules)
        changed = with_entry(table, key, updated)
        with self._lock:
            if kind == "codes":
                self._specs[provider] = spec.replace(codes=changed)
            else:
                self._specs[provider] = spec.replace(sub_codes=changed)
            self.generation = object()
        return updated


_catalog: Catalog | None = None
_catalog_lock = threading.Lock()


def catalog() -> Catalog:
    """The process-wide catalog, loaded from the adapter files on first use."""
    global _catalog
    if _catalog is None:
        with _catalog_lock:
            if _catalog is None:
                _catalog = Catalog(shipped_specs())
    return _catalog


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
