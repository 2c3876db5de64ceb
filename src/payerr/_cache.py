"""A compiled form of the adapter files, so first use skips TOML parsing and validation.

The cache is plain JSON (no pickle: nothing in it can run code), keyed by a
hash of the adapter files' bytes and of the Python modules that shape the
compiled data (class defaults, models, envelopes), and kept in the user's
cache directory. Any problem reading or writing it just means the files are
read and validated as usual. ``PAYERR_NO_CACHE=1`` turns it off.

One file, one JSON document per line: first every provider without its code
tables (hosts, envelopes, success codes, statuses, and the table keys), then
one line per code-table entry. Reading it parses the first line only; an
entry is parsed and built when it is first looked up (``LazyTable``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from ._catalog import CodeInfo, LazyTable, MethodRule, ProviderSpec
from ._enums import Category, Processed, RetryHint
from ._envelopes import Envelope

FORMAT = 3

_SHAPING_MODULES = ("_catalog.py", "_cache.py", "_enums.py", "_envelopes.py", "_errors.py")
"""Modules whose code decides what the compiled data holds: a change to any of them
(a class default, a model field) must never be answered from an old cache."""

_TABLES = ("codes", "sub_codes")
"""The tables kept as one line per entry and built lazily; the rest is small."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "payerr"


def cache_path(key: str) -> Path:
    return cache_dir() / f"adapters-{key}.jsonl"


def digest(files: Sequence[Path]) -> str:
    """Changes whenever an adapter file or the cache format changes."""
    hasher = hashlib.sha256(f"payerr-cache-{FORMAT}".encode())
    here = Path(__file__).parent
    for name in _SHAPING_MODULES:
        hasher.update((here / name).read_bytes())
    for path in files:
        hasher.update(path.name.encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()[:32]


def _json(value: Any) -> bytes:
    """One line of JSON: compact, and never a raw newline (JSON escapes them in strings)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _info(info: CodeInfo) -> dict[str, Any]:
    return {
        "provider": info.provider,
        "code": info.code,
        "category": info.category.value if info.category else None,
        "retry": info.retry.value,
        "processed": info.processed.value,
        "message_zh": info.message_zh,
        "message_en": info.message_en,
        "solution_zh": info.solution_zh,
        "solution_en": info.solution_en,
        "provider_message": info.provider_message,
        "sub_code": info.sub_code,
        "window": info.window,
        "cooldown": info.cooldown,
        "rules": [
            {"methods": list(rule.methods), "changes": {k: str(v) for k, v in rule.changes.items()}}
            for rule in info.rules
        ],
    }


_ENUMS = {"category": Category, "retry": RetryHint, "processed": Processed}


def _rule(data: dict[str, Any]) -> MethodRule:
    changes = {k: _ENUMS[k](v) if k in _ENUMS else v for k, v in data["changes"].items()}
    return MethodRule(tuple(data["methods"]), changes)


def _from_info(data: dict[str, Any]) -> CodeInfo:
    return CodeInfo(
        provider=data["provider"],
        code=data["code"],
        category=Category(data["category"]) if data["category"] else None,
        retry=RetryHint(data["retry"]),
        processed=Processed(data["processed"]),
        message_zh=data["message_zh"],
        message_en=data["message_en"],
        solution_zh=data["solution_zh"],
        solution_en=data["solution_en"],
        provider_message=data["provider_message"],
        sub_code=data["sub_code"],
        window=data["window"],
        cooldown=data["cooldown"],
        rules=tuple(_rule(rule) for rule in data["rules"]),
    )


def _head(spec: ProviderSpec) -> dict[str, Any]:
    """A provider without its code tables, which follow as lines (only their keys here)."""
    return {
        "name": spec.name,
        "display": spec.display,
        "envelopes": [envelope.as_dict() for envelope in spec.envelopes],
        "hosts": list(spec.hosts),
        "request_id_headers": list(spec.request_id_headers),
        "success": {k: _info(v) for k, v in spec.success.items()},
        "idempotent_methods": list(spec.idempotent_methods),
        "idempotency_keys": dict(spec.idempotency_keys),
        "money_methods": list(spec.money_methods),
        "token_paths": list(spec.token_paths),
        "secret_names": list(spec.secret_names),
        "codes": list(spec.codes),
        "sub_codes": list(spec.sub_codes),
        "statuses": {str(k): _info(v) for k, v in spec.statuses.items()},
        "source": spec.source,
    }


def dump(specs: Iterable[ProviderSpec]) -> bytes:
    """The cache file: the providers on the first line, then one line per table entry."""
    specs = list(specs)
    lines = [_json([_head(spec) for spec in specs])]
    for spec in specs:
        for table in _TABLES:
            lines.extend(_json(_info(info)) for info in getattr(spec, table).values())
    return b"\n".join(lines)


def load(blob: bytes) -> list[ProviderSpec]:
    """Providers from a cache file; their tables keep the raw lines until looked up."""
    lines = blob.split(b"\n")
    heads = json.loads(lines[0])
    position, specs = 1, []
    for head in heads:
        tables: dict[str, LazyTable] = {}
        for table in _TABLES:
            keys = head[table]
            entries = lines[position : position + len(keys)]
            position += len(keys)
            tables[table] = LazyTable(dict(zip(keys, entries)), _decoder(head["name"], table))
        specs.append(_spec(head, tables))
    if position != len(lines):
        raise ValueError("cache file has the wrong number of entries")
    return specs


def _spec(head: dict[str, Any], tables: Mapping[str, LazyTable]) -> ProviderSpec:
    return ProviderSpec(
        name=head["name"],
        display=head["display"],
        envelopes=tuple(Envelope.from_dict(e) for e in head["envelopes"]),
        hosts=tuple(head["hosts"]),
        request_id_headers=tuple(head["request_id_headers"]),
        success={k: _from_info(v) for k, v in head["success"].items()},
        idempotent_methods=tuple(head["idempotent_methods"]),
        idempotency_keys=dict(head["idempotency_keys"]),
        money_methods=tuple(head["money_methods"]),
        token_paths=tuple(head["token_paths"]),
        secret_names=tuple(head["secret_names"]),
        codes=tables["codes"],
        sub_codes=tables["sub_codes"],
        statuses={int(k): _from_info(v) for k, v in head["statuses"].items()},
        source=head["source"],
    )


def _decoder(provider: str, table: str) -> Callable[[str, bytes], CodeInfo]:
    """Builds one entry from its line; a line that will not parse (the file was
    damaged after it was written) is answered from the adapter files instead."""

    def decode(key: str, line: bytes) -> CodeInfo:
        try:
            return _from_info(json.loads(line))
        except (ValueError, KeyError, TypeError):
            validated: Mapping[str, CodeInfo] = getattr(_validated()[provider], table)
            return validated[key]

    return decode


@cache
def _validated() -> dict[str, ProviderSpec]:
    """The shipped adapters read and validated from their files (no cache involved)."""
    from ._catalog import adapter_dir, load_adapter_file

    specs = (load_adapter_file(path) for path in sorted(adapter_dir().glob("*.toml")))
    return {spec.name: spec for spec in specs}


def read(key: str) -> list[ProviderSpec] | None:
    if os.environ.get("PAYERR_NO_CACHE"):
        return None
    try:
        return load(cache_path(key).read_bytes())
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def write(key: str, specs: Iterable[ProviderSpec]) -> None:
    """Store the compiled form atomically; a read-only home is no error."""
    if os.environ.get("PAYERR_NO_CACHE"):
        return
    directory = cache_dir()
    temporary = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(dump(specs))
        os.replace(temporary, cache_path(key))
        temporary = None
    except Exception:  # the cache only saves time: it never stops payerr loading
        pass
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
