"""A compiled form of the adapter files, so first use skips TOML parsing and validation.

The cache is plain JSON (no pickle: nothing in it can run code), keyed by a
hash of the adapter files' bytes and of the Python modules that shape the
compiled data (class defaults, models, envelopes), and kept in the user's
cache directory. Any problem reading or writing it just means the files are
read and validated as usual. ``PAYERR_NO_CACHE=1`` turns it off. A wheel
carries the same compiled form of its own adapter files, made when it was
built (``hatch_build.py``): it is read first, and nothing is written.

One file of JSON lines: first every provider without its code tables (hosts,
envelopes, success codes, statuses), then each code table as a line of keys
and a line per entry. First use reads the first line only; a provider is
built when it is first asked for, a table read when it is first used, and an
entry built when it is first looked up (``LazyTable``). A table read later
still matches the first line read before, even if the file was written again
meanwhile: its name is its key, and the tables depend on nothing else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import orjson

from .codec import info_data, info_from, line, token_from
from .envelopes import Envelope
from .generic import FALLBACKS, Generic
from .model import CodeInfo, PendingSpec, ProviderSpec
from .tables import LazyTable

T = TypeVar("T")

FORMAT = 4

_SHAPING_MODULES = (
    "_catalog/model.py",
    "_catalog/file_format.py",
    "_catalog/loader.py",
    "_catalog/cache.py",
    "_enums.py",
    "_catalog/envelopes.py",
    "_errors.py",
    "_catalog/provider_data.py",
    "_catalog/fields.py",
    "_catalog/patterns.py",
    "_catalog/tables.py",
    "_catalog/codec.py",
    "_values.py",
    "_catalog/generic.py",
    "_catalog/generic.toml",
)
"""Modules whose code decides what the compiled data holds: a change to any of them
(a class default, a model field) must never be answered from an old cache."""

_TABLES = ("codes", "sub_codes")
"""The tables read lazily (1,600 entries); the rest of a provider is small."""

_DAMAGED = (ValueError, KeyError, TypeError, IndexError, AttributeError)
"""What reading a cache file that was changed after it was written can raise."""


def cache_dir() -> Path | None:
    """Where the cache lives, or None when this process has nowhere to keep one.

    ``XDG_CACHE_HOME`` counts only when absolute (as the XDG spec says); otherwise
    ``~/.cache``, unless there is no home at all (``HOME`` unset and a uid with no
    passwd entry, as containers run with ``--user N``): then no cache.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            home = Path.home()
        except (RuntimeError, KeyError, OSError):
            return None
        if not home.is_absolute():  # HOME="" or relative: nowhere to keep it
            return None
        base = str(home / ".cache")
    return Path(base) / "payerr"


def cache_path(key: str) -> Path | None:
    directory = cache_dir()
    return None if directory is None else directory / f"adapters-{key}.jsonl"


_told = False


def _unused(why: object) -> None:
    """Say once per process, at debug level, that the cache is not used and why."""
    global _told
    if not _told:
        _told = True
        import logging

        logging.getLogger("payerr").debug("payerr: adapter cache not used (%s)", why)


def _head(spec: ProviderSpec) -> dict[str, Any]:
    """A provider without its code tables, which follow it in the file."""
    return {
        "name": spec.name,
        "display": spec.display,
        "envelopes": [envelope.as_dict() for envelope in spec.envelopes],
        "hosts": list(spec.hosts),
        "request_id_headers": list(spec.request_id_headers),
        "success": {k: info_data(v) for k, v in spec.success.items()},
        "idempotent_methods": list(spec.idempotent_methods),
        "idempotency_keys": dict(spec.idempotency_keys),
        "money_methods": list(spec.money_methods),
        "token_paths": list(spec.token_paths),
        "secret_names": list(spec.secret_names),
        "statuses": {str(k): info_data(v) for k, v in spec.statuses.items()},
        "source": spec.source,
        "order": spec.order,
        "error_class": spec.error_class,
        "day_reset": spec.day_reset,
        "nested_fields": list(spec.nested_fields),
        "token": spec.token.as_dict() if spec.token else None,
    }


def _section(table: Mapping[str, CodeInfo]) -> bytes:
    """A code table: its keys on one line, then one line per entry."""
    return b"\n".join([line(list(table)), *(line(info_data(info)) for info in table.values())])


def dump(
    specs: Iterable[ProviderSpec],
    generic: Generic | None = None,
    built_from: dict[str, int] | None = None,
) -> bytes:
    """The cache file: the providers and ``generic.toml`` on the first line, then the
    providers' code tables.

    Each provider says where its tables are (byte offsets after the first line),
    so a table is read only when it is first used. A wheel's compiled catalog also
    records the sizes of the files it was compiled from (``built_from``, ``key_of``).
    """
    if generic is None:
        from .generic import validated_generic

        generic = validated_generic()
    heads, sections, position = [], [], 0
    for spec in specs:
        head = _head(spec)
        for table in _TABLES:
            section = _section(getattr(spec, table))
            head[table] = [position, position + len(section)]
            sections.append(section)
            position += len(section) + 1
        heads.append(head)
    first: dict[str, Any] = {"providers": heads, "generic": _generic(generic)}
    if built_from is not None:
        first["built_from"] = built_from
    return b"\n".join([line(first), *sections])


def _generic(generic: Generic) -> dict[str, Any]:
    return {
        "statuses": {str(k): info_data(v) for k, v in generic.statuses.items()},
        "fallbacks": {name: info_data(getattr(generic, name)) for name in FALLBACKS},
        "content_types": list(generic.content_types),
    }


def first_line(path: Path, keep: bool = False) -> tuple[dict[str, Any], int, int]:
    """The file's first line, read; its length and the file's. ``keep``: held for the next
    read of the same unchanged file, which takes it (the key's check, then ``load``: one
    parse per start, and nothing held after)."""
    with open(path, "rb") as file:
        found = os.fstat(file.fileno())
        stamp = (path, found.st_size, found.st_mtime_ns, found.st_ino)
        if _KEPT[0] == stamp:
            kept: tuple[dict[str, Any], int, int] = _KEPT[1]
            _KEPT[:] = [None, None]
            return kept
        first = file.readline()
    read: tuple[dict[str, Any], int, int] = (orjson.loads(first), len(first), found.st_size)
    _KEPT[:] = [stamp, read] if keep else [None, None]
    return read


_KEPT: list[Any] = [None, None]
"""A first line read with ``keep``: (path, size, time, inode), and what ``first_line`` made
of it, until the next read takes it."""


def load(path: Path) -> list[PendingSpec]:
    """Providers from a cache file's first line, each built when first asked for.

    The code tables (nine tenths of the file) are not read here: a table is
    read from the file when it is first used (see ``_rows``).
    """
    from .._reading.redact import add_secret_names

    first, length, size = first_line(path)
    specs, end = [], -1
    for head in first["providers"]:
        end = head[_TABLES[-1]][1]
        add_secret_names(*head["secret_names"])  # masked before the provider is built
        build = _builder(head, path)
        specs.append(
            PendingSpec(
                head["name"], tuple(head["hosts"]), build, head["order"], head["error_class"]
            )
        )
    if length + end != size:
        raise ValueError("the cache file is not as long as its first line says")
    return specs


def load_generic(path: Path) -> Generic:
    """``generic.toml`` as a cache file's first line holds it."""
    data = first_line(path)[0]["generic"]
    return Generic(
        statuses={int(k): info_from(v) for k, v in data["statuses"].items()},
        content_types=tuple(data["content_types"]),
        **{name: info_from(data["fallbacks"][name]) for name in FALLBACKS},
    )


def _builder(head: dict[str, Any], path: Path) -> Callable[[], ProviderSpec]:
    """Builds one provider from its line; its code tables are read when first used."""

    def build() -> ProviderSpec:
        tables: dict[str, LazyTable] = {}
        try:
            for table in _TABLES:
                start, end = head[table]
                rows = _rows(path, start, end, head["name"], table)
                tables[table] = LazyTable(rows, _decoder(head["name"], table))
            return _spec(head, tables)
        except _DAMAGED:
            return _validated()[head["name"]]

    return build


def _spec(head: dict[str, Any], tables: Mapping[str, LazyTable]) -> ProviderSpec:
    return ProviderSpec(
        name=head["name"],
        display=head["display"],
        envelopes=tuple(Envelope.from_dict(e) for e in head["envelopes"]),
        hosts=tuple(head["hosts"]),
        request_id_headers=tuple(head["request_id_headers"]),
        success={k: info_from(v) for k, v in head["success"].items()},
        idempotent_methods=tuple(head["idempotent_methods"]),
        idempotency_keys=dict(head["idempotency_keys"]),
        money_methods=tuple(head["money_methods"]),
        token_paths=tuple(head["token_paths"]),
        secret_names=tuple(head["secret_names"]),
        codes=tables["codes"],
        sub_codes=tables["sub_codes"],
        statuses={int(k): info_from(v) for k, v in head["statuses"].items()},
        source=head["source"],
        order=head["order"],
        error_class=head["error_class"],
        day_reset=head["day_reset"],
        nested_fields=tuple(head["nested_fields"]),
        token=token_from(head["token"]),
    )


def _rows(
    path: Path, start: int, end: int, provider: str, table: str
) -> Callable[[], dict[str, bytes]]:
    """Reads one table's keys and lines from the file (its offsets count from the end of
    the first line). A file gone or damaged since is answered from the adapter files."""

    def rows() -> dict[str, bytes]:
        try:
            with open(path, "rb") as file:
                base = len(file.readline())
                file.seek(base + start)
                keys, *lines = file.read(end - start).split(b"\n")
            names = json.loads(keys)
            if isinstance(names, list):
                return dict(zip(names, lines, strict=True))
        except (OSError, *_DAMAGED):
            pass
        validated: Mapping[str, CodeInfo] = getattr(_validated()[provider], table)
        return {key: line(info_data(info)) for key, info in validated.items()}

    return rows


def _decoder(provider: str, table: str) -> Callable[[str, bytes], CodeInfo]:
    """Builds one entry from its line; a line that will not parse (the file was
    damaged after it was written) is answered from the adapter files instead."""

    def decode(key: str, line: bytes) -> CodeInfo:
        try:
            return info_from(json.loads(line))
        except _DAMAGED:
            validated: Mapping[str, CodeInfo] = getattr(_validated()[provider], table)
            return validated[key]

    return decode


@cache
def _validated() -> dict[str, ProviderSpec]:
    """The shipped adapters read and validated from their files (no cache involved)."""
    from .loader import adapter_files, load_adapter_file

    specs = (load_adapter_file(path) for path in adapter_files())
    return {spec.name: spec for spec in specs}


def shipped_name(key: str) -> str:
    """The compiled catalog a wheel carries beside its adapter files (see hatch_build.py)."""
    return f"compiled-{key}.jsonl"


def shipped_path(key: str) -> Path:
    return Path(__file__).parents[1] / "adapters" / shipped_name(key)


def _read(key: str, load: Callable[[Path], T]) -> T | None:
    """What ``load`` reads from the wheel's own compiled catalog when its key matches the
    files installed with it (no cache to write, so a read-only or homeless process starts
    as fast as a warm one), else from the user's cache; None when neither has it."""
    try:
        return load(shipped_path(key))
    except (OSError, *_DAMAGED):
        pass  # a checkout or an editable install: compiled on first use
    if os.environ.get("PAYERR_NO_CACHE"):
        return None
    path = cache_path(key)
    if path is None:
        _unused("no home directory and no absolute XDG_CACHE_HOME")
        return None
    try:
        return load(path)
    except (OSError, *_DAMAGED):
        return None


def read(key: str) -> list[PendingSpec] | None:
    return _read(key, load)


def read_generic(key: str) -> Generic | None:
    return _read(key, load_generic)


def write(key: str, specs: Iterable[ProviderSpec], generic: Generic | None = None) -> None:
    """Store the compiled form atomically; a read-only home is no error."""
    if os.environ.get("PAYERR_NO_CACHE"):
        return
    import tempfile  # only when writing: reading is on every process's first use

    directory, path = cache_dir(), cache_path(key)
    if directory is None or path is None:
        return  # read() has said why
    temporary = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(dump(specs, generic))
        os.replace(temporary, path)
        temporary = None
    except Exception as exc:  # the cache only saves time: it never stops payerr loading
        _unused(exc)
        return
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
    _forget_older(directory, path)


def _forget_older(directory: Path, kept: Path) -> None:
    """Remove the files of older keys (another adapter set, another version): one file
    stays, not one per upgrade. A process still reading an older file reads the adapter
    files instead when its file is gone."""
    try:
        for old in directory.glob("adapters-*.jsonl"):
            if old != kept:
                old.unlink(missing_ok=True)
    except OSError:
        pass
