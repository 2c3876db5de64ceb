"""What every client's bounded reading shares: what a head declares, the limits, the deadline.

``head_of`` reads Content-Length, Content-Encoding and whether a 2xx is a file
in one pass over the headers; ``bodies`` (httpx), ``requests_bodies`` and
``aiohttp_middleware`` read the body itself with these bounds.
"""

from __future__ import annotations

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
    entries = getattr(headers, "_list", None)
    if type(entries) is not list:
        return None
    if entries:
        first = entries[0]
        if type(first) is not tuple or len(first) != 3:
            return None
        if not all(type(part) is bytes for part in first):
            return None
    return entries


def plain_headers(headers: Any) -> Any:
    """httpx headers as a plain lower-cased dict (for the error path's many look-ups)."""
    entries = raw_entries(headers)
    if entries is None:
        return headers
    return {entry[1].decode("latin-1"): entry[2].decode("latin-1") for entry in entries}


class Head(NamedTuple):
    """What the headers say about the body, read in one pass."""

    length: int | None
    coding: str | None
    file: bool
    """A 2xx declared as a file (worth a peek, never read whole)."""


def head_of(status: int, headers: Any) -> Head:
    """Content-Length, Content-Encoding and whether the body is a file, in one pass.

    httpx's ``Headers.get`` costs microseconds a call; its own (name, lower-cased
    name, value) list is walked once instead, when it is there.
    """
    entries = raw_entries(headers)
    if entries is not None:
        found: dict[str, str] = {}
        for _, name, value in entries:
            if name in _HEAD_KEYS:
                found[name.decode("latin-1")] = value.decode("latin-1")
        get = found.get
    else:  # requests, or an httpx that lays its headers out differently
        get = headers.get
    length = get("content-length")
    file = False
    if 200 <= status < 300:  # is it a file? The disposition is asked only when it may be
        kind = get("content-type")
        file = (kind is None or "json" not in kind) and _is_file_type(
            kind, get("content-disposition")
        )
    return Head(
        int(length) if length is not None and length.isdigit() else None,
        get("content-encoding"),
        file,
    )


_HEAD_NAMES = ("content-length", "content-type", "content-encoding", "content-disposition")
_HEAD_KEYS = frozenset(name.encode() for name in _HEAD_NAMES)


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
