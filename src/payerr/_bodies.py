"""Reading at most ``body_cap`` bytes of a body, and handing the rest over unread.

A body with a Content-Length over the cap is never touched. One without a
length (chunked) is read until it passes the cap; the bytes already read are
then replayed in front of the rest, so the caller still gets the whole body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx


def declared_length(headers: Any) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class _Replay(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The chunks read so far, then whatever the original stream still holds."""

    def __init__(self, head: list[bytes], rest: Any, original: httpx.Response) -> None:
        self._head = head
        self._rest = rest
        self._original = original

    def __iter__(self) -> Iterator[bytes]:
        yield from self._head
        if self._rest is not None:
            yield from self._rest

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._head:
            yield chunk
        if self._rest is not None:
            async for chunk in self._rest:
                yield chunk

    def close(self) -> None:
        self._original.close()

    async def aclose(self) -> None:
        await self._original.aclose()


def _replayed(response: httpx.Response, head: list[bytes], rest: Any) -> httpx.Response:
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=_Replay(head, rest, response),
        extensions=response.extensions,
    )


def _in_memory(response: httpx.Response) -> bool:
    """A body already read (a mock, a cache) needs no reading, whatever its size."""
    try:
        response.content  # noqa: B018
    except httpx.ResponseNotRead:  # streamed by someone else: nothing to read
        return False
    return True


def content_length(headers: httpx.Headers) -> int | None:
    """The declared Content-Length, if any, read in one cheap pass.

    ``Headers.get`` builds lists and lower-cases every name on each call; on the
    hot path we walk httpx's own (name, lower-cased name, value) list instead,
    and fall back to the public API if a future httpx lays it out differently.
    """
    entries = getattr(headers, "_list", None)
    if type(entries) is not list:
        return declared_length(headers)
    for entry in entries:
        if entry[1] == b"content-length":
            value = entry[2]
            return int(value) if value.isdigit() else None
    return None


def _before_reading(response: httpx.Response, cap: int) -> tuple[bool | None, int | None]:
    """What can be told without reading: (fits the cap, or None: read it; declared length).

    A body already in memory is answered by its size; one declared over the cap
    is never touched.
    """
    if response.is_stream_consumed and _in_memory(response):
        return len(response.content) <= cap, None
    length = content_length(response.headers)
    if length is not None and length > cap:
        return False, length
    return None, length


def read_capped(response: httpx.Response, cap: int) -> tuple[httpx.Response, bool]:
    """(response, True) once the body is read; (response, False) when it is over ``cap``.

    A chunked body over the cap is replayed: the caller still gets all of it.
    """
    known, length = _before_reading(response, cap)
    if known is not None:
        return response, known
    if length is not None:
        response.read()
        return response, True
    head: list[bytes] = []
    size = 0
    raw = response.iter_raw()
    for chunk in raw:
        head.append(chunk)
        size += len(chunk)
        if size > cap:
            return _replayed(response, head, raw), False
    complete = _replayed(response, head, None)
    complete.read()
    return complete, True


async def aread_capped(response: httpx.Response, cap: int) -> tuple[httpx.Response, bool]:
    """The async twin of ``read_capped``."""
    known, length = _before_reading(response, cap)
    if known is not None:
        return response, known
    if length is not None:
        await response.aread()
        return response, True
    head: list[bytes] = []
    size = 0
    raw = response.aiter_raw()
    async for chunk in raw:
        head.append(chunk)
        size += len(chunk)
        if size > cap:
            return _replayed(response, head, raw), False
    complete = _replayed(response, head, None)
    await complete.aread()
    return complete, True


class ReplayRaw:
    """For requests: a urllib3-like raw body that yields a decoded head, then the rest."""

    def __init__(self, head: bytes, raw: Any) -> None:
        self._head = head
        self._raw = raw

    def stream(self, amt: int = 65536, decode_content: bool | None = None) -> Iterator[bytes]:
        if self._head:
            yield self._head
            self._head = b""
        # read(), not stream(): urllib3's chunked stream() cannot resume after a read().
        while data := self._raw.read(amt, decode_content=True):
            yield data

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        head, self._head = self._head, b""
        if amt is not None and len(head) >= amt:
            self._head = head[amt:]
            return head[:amt]
        more: bytes = self._raw.read(None if amt is None else amt - len(head), decode_content=True)
        return head + (more or b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def read_capped_requests(response: Any, cap: int) -> bool:
    """Load a requests body when it fits the cap; otherwise leave it streamable. True if read."""
    length = declared_length(response.headers)
    if length is not None:
        if length > cap:
            return False
        _ = response.content
        return True
    import requests
    import urllib3.exceptions

    try:
        head = response.raw.read(cap + 1, decode_content=True) or b""
    except urllib3.exceptions.HTTPError as exc:  # the body broke off mid-way
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    if len(head) <= cap:
        response._content = head
        response._content_consumed = True
        response.raw.release_conn()
        return True
    response.raw = ReplayRaw(head, response.raw)
    return False


PEEK = 64
"""Bytes of a file-typed body looked at to tell a file from an error envelope."""


def decode_head(encoding: str | None, head: bytes) -> bytes | None:
    """The first decoded bytes of a body (bounded), or None when they cannot be told."""
    import zlib

    coding = (encoding or "").strip().lower()
    try:
        if coding in ("", "identity"):
            return head
        if coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
        if coding == "deflate":
            try:
                return zlib.decompressobj().decompress(head, 4096)
            except zlib.error:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(head, 4096)
        if coding == "br":
            import brotli  # type: ignore[import-not-found]

            return bytes(brotli.Decompressor().process(head[:256]))[:4096]
        if coding == "zstd":
            import zstandard  # type: ignore[import-not-found]

            return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(head[:256]))[:4096]
    except Exception:  # a broken or unknown coding: read the body the ordinary way
        return None
    return None


def file_headers(status: int, headers: Any) -> bool:
    """A 2xx whose headers describe a file (image, bill, attachment), worth a peek."""
    if not 200 <= status < 300:
        return False
    from ._generic import is_file

    return is_file(headers.get("content-type"), headers.get("content-disposition"))


def _is_file_head(response: httpx.Response, head: list[bytes]) -> bool:
    from ._envelopes import looks_like_envelope

    decoded = decode_head(response.headers.get("content-encoding"), b"".join(head))
    return decoded is not None and not looks_like_envelope(decoded)


def peek_file(response: httpx.Response) -> tuple[httpx.Response, bool]:
    """(response, True) for a file success, handed over unread; (response, False) otherwise.

    Only a 2xx whose headers say file is peeked at, and only its first bytes:
    a download stays a stream, whatever its size.
    """
    if not file_headers(response.status_code, response.headers) or response.is_stream_consumed:
        return response, False
    head: list[bytes] = []
    size = 0
    raw = response.iter_raw()
    for chunk in raw:
        head.append(chunk)
        size += len(chunk)
        if size >= PEEK:
            break
    else:
        raw = None  # type: ignore[assignment]
    return _replayed(response, head, raw), _is_file_head(response, head)


async def apeek_file(response: httpx.Response) -> tuple[httpx.Response, bool]:
    """The async twin of ``peek_file``."""
    if not file_headers(response.status_code, response.headers) or response.is_stream_consumed:
        return response, False
    head: list[bytes] = []
    size = 0
    raw: Any = response.aiter_raw()
    async for chunk in raw:
        head.append(chunk)
        size += len(chunk)
        if size >= PEEK:
            break
    else:
        raw = None
    return _replayed(response, head, raw), _is_file_head(response, head)


def peek_file_requests(response: Any) -> bool:
    """For requests: True for a file success (left streamable); the peeked bytes are replayed."""
    if not file_headers(response.status_code, response.headers):
        return False
    from ._envelopes import looks_like_envelope

    head = response.raw.read(PEEK, decode_content=True) or b""
    response.raw = ReplayRaw(head, response.raw)
    return not looks_like_envelope(head)
