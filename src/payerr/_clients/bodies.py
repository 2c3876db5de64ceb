"""Reading at most ``body_cap`` bytes of a body, raw and decoded, and handing it all back.

payerr reads the raw (still encoded) bytes of an answer, up to the cap, and
decodes them itself with a bounded decoder: a 600 KiB gzip bomb never becomes
a gigabyte. Whatever it read is replayed to the caller byte for byte, so
``iter_raw()``, ``iter_bytes()``, ``r.raw.read(decode_content=False)`` and
``iter_content()`` see exactly what the server sent. A body declared over the
cap is never touched; one that turns out over the cap is handed back unread
beyond the bytes already taken (replayed in front of the rest).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, NamedTuple

import httpx

from .inflate import BodyDecodeError, Pipeline, decode_bounded, decode_head, pipeline

__all__ = ["BodyDecodeError", "Pipeline", "decode_bounded", "decode_head"]

PEEK = 64
"""Bytes of a file-typed body looked at to tell a file from an error envelope."""
ERROR_HEAD = 64 * 1024
"""Bytes of an error body over the cap kept for the error's ``raw`` (as much as it keeps)."""


class ReadDeadline(TimeoutError):
    """Reading the body would pass the retry policy's deadline."""


def plain_headers(headers: Any) -> Any:
    """httpx headers as a plain lower-cased dict (for the error path's many look-ups)."""
    entries = getattr(headers, "_list", None)
    if type(entries) is not list:
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
    entries = getattr(headers, "_list", None)
    if type(entries) is list:
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


def _is_file_head(coding: str | None, head: bytes) -> bool:
    from .._catalog.envelopes import looks_like_envelope

    if not head:  # no bytes at all: read as an answer, for the provider's envelope to decide
        return False
    decoded = decode_head(coding, head)
    return decoded is not None and not looks_like_envelope(decoded)


# --- httpx ----------------------------------------------------------------------------


class _Replay(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The raw chunks read so far, then whatever the original stream still holds."""

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
    """A fresh response whose stream gives the caller every raw byte the server sent."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=_Replay(head, rest, response),
        extensions=response.extensions,
    )


def _in_memory(response: httpx.Response) -> bytes | None:
    """A body already read (a mock, a cache): its bytes, whatever their size."""
    if not response.is_stream_consumed:
        return None
    try:
        return response.content
    except httpx.ResponseNotRead:  # streamed by someone else: nothing to read
        return None


Read = tuple[httpx.Response, "bytes | None", bytes]
"""(the response to hand back, the decoded body or None when over the cap, the raw head)."""


def _decode_kept(coding: str | None, raw: list[bytes], cap: int) -> bytes | None:
    """``decode_bounded``, with the raw bytes kept on the error when decoding fails."""
    try:
        return decode_bounded(coding, raw, cap)
    except BodyDecodeError as exc:
        exc.raw = b"".join(raw)[:ERROR_HEAD]  # type: ignore[attr-defined]
        raise


def _whole(response: httpx.Response, cap: int, coding: str | None) -> Read:
    """A body httpx already holds in memory: read it the cheap way, bounded all the same."""
    return _finish(response, list(response.iter_raw()), cap, coding)


def _finish(response: httpx.Response, chunks: list[bytes], cap: int, coding: str | None) -> Read:
    """All of the body is read: hand the same response back, readable again from byte one.

    Its stream becomes the raw bytes, so ``iter_raw`` gives them exactly; without
    an encoding its content is the body too, so the client's read() costs nothing
    (httpx's own attribute, set as ``httpx.Response(content=...)`` sets it).
    """
    if coding:
        content = _decode_kept(coding, chunks, cap)
    else:  # nothing to decode: the body is the content (one chunk: not even a copy)
        content = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        content = content if len(content) <= cap else None
    if content is None:
        return _replayed(response, chunks, None), None, b"".join(chunks)[:ERROR_HEAD]
    raw = content if not coding else b"".join(chunks)
    response.stream = httpx.ByteStream(raw)
    response.is_stream_consumed = False
    response.is_closed = False
    if not coding:
        response._content = content
    return response, content, b""


class _Reading:
    """One bounded read of an httpx body: what to skip, when to stop, what to hand back."""

    def __init__(self, response: httpx.Response, cap: int, deadline_at: float, facts: Head) -> None:
        self.response, self.cap, self.deadline_at = response, cap, deadline_at
        self.coding = facts.coding
        self.chunks: list[bytes] = []
        self.size = 0
        self.over = facts.length is not None and facts.length > cap
        # An error over the cap is read only for a head of its raw bytes.
        self.limit = ERROR_HEAD if self.over else cap

    def skip(self) -> Read | None:
        """The answer without reading: a body already in memory, a success over the cap."""
        response = self.response
        if not response.is_stream_consumed and type(response.stream) is httpx.ByteStream:
            return _whole(response, self.cap, self.coding)  # a mock's body: nothing to wait for
        known = _in_memory(response)
        if known is not None:
            return self.response, known if len(known) <= self.cap else None, known[: self.cap]
        if self.over and self.response.status_code < 400:
            return self.response, None, b""
        return None

    def take(self, chunk: bytes) -> bool:
        """Keep a chunk; True when reading must stop here (the cap, or the deadline)."""
        self.chunks.append(chunk)
        self.size += len(chunk)
        return (
            self.size > self.limit
            or (self.over and self.size >= self.limit)
            or time.monotonic() > self.deadline_at
        )

    def stopped(self, rest: Any) -> Read:
        """Stopped early: over the cap (replayed in front of the rest), or the deadline."""
        if self.size > self.limit or (self.over and self.size >= self.limit):
            head = b"".join(self.chunks)[:ERROR_HEAD]
            return _replayed(self.response, self.chunks, rest), None, head
        raise ReadDeadline("reading the answer passed the deadline")

    def done(self) -> Read:
        return _finish(self.response, self.chunks, self.cap, self.coding)


def read_bounded(response: httpx.Response, cap: int, deadline_at: float, facts: Head) -> Read:
    """Read up to ``cap`` raw bytes and decode them, bounded; never past ``deadline_at``."""
    fits = facts.length is not None and facts.length <= cap
    if fits and not response.is_stream_consumed and type(response.stream) is not httpx.ByteStream:
        # The common answer, declared under the cap: one tight loop (no bookkeeping per chunk).
        chunks = []
        for chunk in response.iter_raw():
            chunks.append(chunk)
            if time.monotonic() > deadline_at:
                response.close()  # the connection is given up, not left half read
                raise ReadDeadline("reading the answer passed the deadline")
        return _finish(response, chunks, cap, facts.coding)
    reading = _Reading(response, cap, deadline_at, facts)
    early = reading.skip()
    if early is not None:
        return early
    stream = response.iter_raw()
    for chunk in stream:
        if reading.take(chunk):
            try:
                return reading.stopped(stream)
            except ReadDeadline:
                response.close()  # the connection is given up, not left half read
                raise
    return reading.done()


async def aread_bounded(
    response: httpx.Response, cap: int, deadline_at: float, facts: Head
) -> Read:
    """``read_bounded`` for the async transport."""
    reading = _Reading(response, cap, deadline_at, facts)
    early = reading.skip()
    if early is not None:
        return early
    stream = response.aiter_raw()
    async for chunk in stream:
        if reading.take(chunk):
            try:
                return reading.stopped(stream)
            except ReadDeadline:
                await response.aclose()  # the connection is given up, not left half read
                raise
    return reading.done()


def peek_file(response: httpx.Response, facts: Head) -> tuple[httpx.Response, bool]:
    """(response, True) for a file success, handed over unread; (response, False) otherwise.

    Only a 2xx whose headers say file is peeked at, and only its first bytes:
    a download stays a stream, whatever its size.
    """
    if not facts.file or response.is_stream_consumed:
        return response, False
    head: list[bytes] = []
    size = 0
    raw: Any = response.iter_raw()
    for chunk in raw:
        head.append(chunk)
        size += len(chunk)
        if size >= PEEK:
            break
    else:
        raw = None
    return _replayed(response, head, raw), _is_file_head(facts.coding, b"".join(head))


async def apeek_file(response: httpx.Response, facts: Head) -> tuple[httpx.Response, bool]:
    """``peek_file`` for the async transport."""
    if not facts.file or response.is_stream_consumed:
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
    return _replayed(response, head, raw), _is_file_head(facts.coding, b"".join(head))


# --- requests ---------------------------------------------------------------------------


class ReplayRaw:
    """For requests: a urllib3-like raw body that gives the bytes payerr read, then the rest.

    ``decode_content=False`` gives the raw bytes exactly as sent; otherwise they
    are decoded (by payerr's own decoders, so a body payerr started reading still
    decodes from its first byte). Mixing the two on one body is not supported.
    """

    def __init__(self, raw: bytes, rest: Any, coding: str | None, decoded: bytes | None) -> None:
        self._raw = raw
        self._rest = rest
        self._flow = pipeline(coding)
        self._decoded = b""
        if decoded is not None:  # payerr read and decoded it all: nothing more to decode
            self._decoded, self._raw_done = decoded, True
        else:
            self._raw_done = False
        self.decode_content = True

    def _next_raw(self, amt: int) -> bytes:
        if self._raw:
            data, self._raw = self._raw, b""
            return data
        if self._rest is None:
            return b""
        more: bytes = self._rest.read(amt, decode_content=False) or b""
        return more

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        decode = self.decode_content if decode_content is None else decode_content
        if not decode:
            data = self._raw
            while amt is None or len(data) < amt:
                more = b"" if self._rest is None else self._rest.read(amt or 65536, False)
                if not more:
                    break
                data += more
            self._raw = b"" if amt is None else data[amt:]
            return data if amt is None else data[:amt]
        if amt is None:
            pieces = [self._decoded]
            while piece := self._decode_step(65536):
                pieces.append(piece)
            self._decoded = b""
            return b"".join(pieces)
        while len(self._decoded) < amt:
            piece = self._decode_step(amt - len(self._decoded))
            if not piece:
                break
            self._decoded += piece
        data, self._decoded = self._decoded[:amt], self._decoded[amt:]
        return data

    def _decode_step(self, limit: int) -> bytes:
        """At most ``limit`` more decoded bytes (one bounded step), reading raw as needed.

        Each call decodes only what it returns: a later read never inflates the
        rest of a bomb in one go, whatever was asked before.
        """
        flow = self._flow
        while True:
            if flow is not None:
                piece = flow.read(limit)
                if piece:
                    return piece
            if self._raw_done:
                return b""
            chunk = self._next_raw(65536)
            if not chunk:
                self._raw_done = True
                return b""
            if flow is None:
                return chunk
            flow.feed(chunk)

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        """What is at hand: the replayed bytes first, then one read of the rest."""
        decode = self.decode_content if decode_content is None else decode_content
        if decode or self._raw or self._rest is None:
            return self.read(amt, decode_content)
        read = getattr(self._rest, "read1", None) or self._rest.read
        more: bytes = read(amt, decode_content=False) or b""
        return more

    def stream(self, amt: int = 65536, decode_content: bool | None = None) -> Iterator[bytes]:
        while data := self.read(amt, decode_content):
            yield data

    def release_conn(self) -> None:
        if self._rest is not None:
            self._rest.release_conn()

    def close(self) -> None:
        if self._rest is not None:
            self._rest.close()

    def __getattr__(self, name: str) -> Any:
        rest = self.__dict__.get("_rest")
        if rest is None:
            raise AttributeError(name)
        return getattr(rest, name)


def read_bounded_requests(
    response: Any, cap: int, deadline_at: float, facts: Head
) -> tuple[bytes | None, bytes]:
    """Read a requests body up to ``cap`` (raw and decoded); (decoded or None, raw head).

    The response's ``raw`` is replaced by a ``ReplayRaw`` that gives the caller
    everything, from the first byte.
    """
    coding, length = facts.coding, facts.length
    over = length is not None and length > cap
    if over and response.status_code < 400:
        return None, b""  # a success over the cap: never touched
    limit = ERROR_HEAD if over else cap  # an error over it: a head for its raw bytes
    original = response.raw
    read = getattr(original, "read1", None) or original.read  # read1: what has arrived
    chunks: list[bytes] = []
    size = 0
    while data := read(65536, decode_content=False):
        chunks.append(data)
        size += len(data)
        if size > limit or (over and size >= limit):
            head = b"".join(chunks)
            response.raw = ReplayRaw(head, original, coding, None)
            return None, head[:ERROR_HEAD]
        if time.monotonic() > deadline_at:
            original.close()  # the connection is given up, not left half read
            original.release_conn()
            raise ReadDeadline("reading the answer passed the deadline")
    if time.monotonic() > deadline_at:  # the end came from the deadline's watchdog, not the server
        raise ReadDeadline("reading the answer passed the deadline")
    content = _decode_kept(coding, chunks, cap)
    raw = b"".join(chunks)
    response.raw = ReplayRaw(raw, None, coding, content)
    if content is not None:  # what .content would read again: handed over as it is
        response._content, response._content_consumed = content, True
    original.release_conn()
    return content, raw[:ERROR_HEAD] if content is None else b""


def peek_file_requests(response: Any, facts: Head) -> bool:
    """For requests: True for a file success (left streamable); the peeked bytes are replayed."""
    if not facts.file:
        return False
    head = response.raw.read(PEEK, decode_content=False) or b""
    response.raw = ReplayRaw(head, response.raw, facts.coding, None)
    return _is_file_head(facts.coding, head)
