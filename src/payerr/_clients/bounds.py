"""What every client's bounded reading shares: what a head declares, the limits, the deadline.

``head_of`` reads Content-Length, Content-Encoding and whether a 2xx is a file
in one pass over the headers; ``bodies`` (httpx), ``requests_bodies`` and
``aiohttp_middleware`` read the body itself with these bounds.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, NamedTuple

from .inflate import BodyDecodeError, decode_bounded, decode_head

PEEK = 64
"""Bytes of a file-typed body looked at to tell a file from an error envelope."""
ERROR_HEAD = 64 * 1024
"""Bytes of an error body over the cap kept for the error's ``raw`` (as much as it keeps)."""


class ReadDeadline(TimeoutError):
    """Reading the body would pass the retry policy's deadline."""


def raw_entries(headers: Any) -> list[tuple[bytes, bytes, bytes]] | None:
    """httpx's own (raw name, lower-cased name, value) list, or None: use the public API.

    ``Headers._list`` is private to httpx, and walking it is many times faster than
    ``Headers.get``; it is trusted only while it is laid out as expected (a list of
    three bytes values), so a new httpx that changes it is read the slower, public way.
    """
    return _laid_out(getattr(headers, "_list", None))


def _laid_out(entries: Any) -> list[tuple[bytes, bytes, bytes]] | None:
    """``entries`` when it is a list of (raw name, lower-cased name, value) bytes values."""
    if type(entries) is not list:
        return None
    if entries:  # the names and values read are the last two of three bytes values
        first = entries[0]
        if (
            type(first) is not tuple
            or len(first) != 3
            or type(first[1]) is not bytes
            or type(first[2]) is not bytes
        ):
            return None
    return entries


def plain_headers(headers: Any) -> Any:
    """httpx headers as a plain lower-cased dict (for the error path's many look-ups)."""
    entries = raw_entries(headers)
    if entries is None:
        return headers
    return {entry[1].decode("latin-1"): entry[2].decode("latin-1") for entry in entries}


# What the headers say about the body, read in one pass; ``file``: a 2xx declared as a file
# (worth a peek, never read whole). Declared by call, not by class: a class's string
# annotations are each compiled when payerr is imported.
Head = NamedTuple("Head", [("length", int | None), ("coding", str | None), ("file", bool)])  # noqa: UP014


# Long because: every response passes here; one frame for both clients' layouts costs
# less than a call per layout.
def head_of(status: int, headers: Any) -> Head:
    """Content-Length, Content-Encoding and whether the body is a file, in one pass.

    httpx's ``Headers.get`` costs microseconds a call; its own (name, lower-cased
    name, value) list is walked once instead, when it is there (requests: its store).
    """
    asked = True
    # httpx's and requests' private layouts (``getattr`` with a default raises nothing for
    # an attribute a plain class lacks; ``__dict__`` would make each instance a dict), not
    # looked for in a class already seen to have neither (aiohttp's)
    public = type(headers) in _PUBLIC
    entries = None if public else getattr(headers, "_list", None)
    if entries is not None and (
        type(headers) in _LISTS_LAID_OUT
        or _remember(_LISTS_LAID_OUT, headers, entries, _laid_out(entries) is not None)
    ):
        said = dict(map(_NAME_AND_VALUE, entries))  # the pairs made and looked up in C
        length, raw_kind = said.get(b"content-length"), said.get(b"content-type")
        raw_coding = said.get(b"content-encoding")
        coding = None if raw_coding is None else raw_coding.decode("latin-1")
        # an API answer: no file, nothing more to decode (find(): ``bytes in bytes`` first
        # tries the needle as an int, and raises and catches a TypeError doing so)
        if raw_kind is not None and raw_kind.find(b"json") >= 0:
            size = int(length) if length is not None and length.isdigit() else None
            return _head(Head, (size, coding, False))
        kind = None if raw_kind is None else raw_kind.decode("latin-1")
        raw_disposition = said.get(b"content-disposition")
        disposition = None if raw_disposition is None else raw_disposition.decode("latin-1")
    else:
        store = None if public else getattr(headers, "_store", None)
        stored = None if store is None else _stored(headers, store)
        if stored is not None:
            length, kind, coding, disposition = stored
        else:  # another mapping, or one laid out differently: its public API
            if not public:
                _remember(_PUBLIC, headers, True, entries is None and store is None)
            get = headers.get
            length, kind = get("content-length"), get("content-type")
            coding, disposition, asked = get("content-encoding"), None, False
    # is it a file? Only a 2xx not typed as JSON may be
    file = 200 <= status < 300 and (kind is None or "json" not in kind)
    if file:
        if not asked:  # asked only now that it may matter
            disposition = headers.get("content-disposition")
        file = _is_file_type(kind, disposition)
    size = int(length) if length is not None and length.isdigit() else None
    return _head(Head, (size, coding, file))


_LISTS_LAID_OUT: set[type] = set()
"""Header classes whose ``_list`` was seen laid out as ``_laid_out`` expects."""
_STORES_LAID_OUT: set[type] = set()
"""Header classes whose ``_store`` was seen holding (name, value) pairs of strings."""
_PUBLIC: set[type] = set()
"""Header classes seen with neither private layout: read through their public ``get``."""


def _remember(seen: set[type], headers: Any, layout: Any, fits: bool) -> bool:
    """``fits`` (whether a private header layout is as expected), remembered in ``seen``
    for the headers' class: a class's layout is its code's, so one look per class and
    process, not one per answer (an empty layout shows nothing, so it is not kept)."""
    if fits and layout and len(seen) < 16:
        seen.add(type(headers))
    return fits


_head = tuple.__new__
"""``Head(...)`` without the Python-level ``__new__`` of a NamedTuple."""


def _stored(headers: Any, store: Any) -> list[Any] | None:
    """requests' headers read through their own store (lower-cased name → (name, value)),
    the four a head needs: ``CaseInsensitiveDict.get`` raises and catches a ``KeyError``
    for every header that is missing. None when the store is not laid out as expected."""
    if not isinstance(store, dict):  # requests keeps an OrderedDict
        return None
    if type(headers) not in _STORES_LAID_OUT and not _remember(
        _STORES_LAID_OUT, headers, store, _store_fits(store)
    ):
        return None
    get = store.get
    return [
        get("content-length", _NO_ENTRY)[1],
        get("content-type", _NO_ENTRY)[1],
        get("content-encoding", _NO_ENTRY)[1],
        get("content-disposition", _NO_ENTRY)[1],
    ]


def _store_fits(store: dict[Any, Any]) -> bool:
    """Whether every entry of ``store`` is a (name, value) pair of strings."""
    return all(
        type(entry) is tuple and len(entry) == 2 and type(entry[1]) is str
        for entry in store.values()
    )


_NO_ENTRY = ("", None)
"""A header the store does not hold: (name, value) with no value."""


_NAME_AND_VALUE = itemgetter(1, 2)
"""An httpx header entry's (lower-cased name, value)."""


def _is_file_type(kind: str | None, disposition: str | None) -> bool:
    if kind is not None and "json" in kind:
        return False  # an API answer: read as one (the common case, decided cheaply)
    from .._catalog.generic import is_file

    return is_file(kind, disposition)


def is_file_head(coding: str | None, head: bytes) -> bool:
    from .._reading.formats import looks_like_envelope

    if not head:  # no bytes at all: read as an answer, for the provider's envelope to decide
        return False
    decoded = decode_head(coding, head)
    return decoded is not None and not looks_like_envelope(decoded)


def decode_kept(coding: str | None, raw: list[bytes], cap: int) -> bytes | None:
    """``decode_bounded``, with the raw bytes kept on the error when decoding fails."""
    try:
        return decode_bounded(coding, raw, cap)
    except BodyDecodeError as exc:
        exc.raw = b"".join(raw)[:ERROR_HEAD]  # type: ignore[attr-defined]
        raise
