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
from typing import Any

import httpx

from .bounds import ERROR_HEAD, PEEK, Head, ReadDeadline, decode_kept, is_file_head

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
        content = decode_kept(coding, chunks, cap)
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

    def __init__(
        self, response: httpx.Response, cap: int, deadline_at: float, declared: Head
    ) -> None:
        self.response, self.cap, self.deadline_at = response, cap, deadline_at
        self.coding = declared.coding
        self.chunks: list[bytes] = []
        self.size = 0
        self.over = declared.length is not None and declared.length > cap
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


def read_bounded(response: httpx.Response, cap: int, deadline_at: float, declared: Head) -> Read:
    """Read up to ``cap`` raw bytes and decode them, bounded; never past ``deadline_at``."""
    fits = declared.length is not None and declared.length <= cap
    stream = response.stream
    if (
        fits
        and not response.is_stream_consumed
        and not response.is_closed
        and type(stream) is not httpx.ByteStream
        and isinstance(stream, httpx.SyncByteStream)
    ):
        # The common answer, declared under the cap: one tight loop over the transport's
        # own stream, as ``iter_raw`` walks it (without its chunker and two context
        # managers: a transport's response has no request yet for them to name).
        response.is_stream_consumed = True
        chunks = []
        for chunk in stream:
            chunks.append(chunk)
            if time.monotonic() > deadline_at:
                response.close()  # the connection is given up, not left half read
                raise ReadDeadline("reading the answer passed the deadline")
        response.is_closed = True
        stream.close()
        response._num_bytes_downloaded = sum(map(len, chunks))
        return _finish(response, chunks, cap, declared.coding)
    reading = _Reading(response, cap, deadline_at, declared)
    early = reading.skip()
    if early is not None:
        return early
    raw = response.iter_raw()
    for chunk in raw:
        if reading.take(chunk):
            try:
                return reading.stopped(raw)
            except ReadDeadline:
                response.close()  # the connection is given up, not left half read
                raise
    return reading.done()


async def aread_bounded(
    response: httpx.Response, cap: int, deadline_at: float, declared: Head
) -> Read:
    """``read_bounded`` for the async transport."""
    reading = _Reading(response, cap, deadline_at, declared)
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


class _Peek:
    """The first bytes of a 2xx whose headers say file: enough to tell a file from an
    error envelope, kept to be handed back in front of the rest."""

    def __init__(self, response: httpx.Response, declared: Head) -> None:
        self.response, self.coding = response, declared.coding
        self.head: list[bytes] = []
        self.size = 0

    @staticmethod
    def of(response: httpx.Response, declared: Head) -> _Peek | None:
        """A peek to make, or None: not declared a file, or already read by someone."""
        if not declared.file or response.is_stream_consumed:
            return None
        return _Peek(response, declared)

    def took(self, chunk: bytes) -> bool:
        """Keep a chunk; True once enough is seen."""
        self.head.append(chunk)
        self.size += len(chunk)
        return self.size >= PEEK

    def handed(self, rest: Any) -> tuple[httpx.Response, bool]:
        """The response to hand back (every byte, unread beyond the peek), and whether it
        is a file."""
        replayed = _replayed(self.response, self.head, rest)
        return replayed, is_file_head(self.coding, b"".join(self.head))


def peek_file(response: httpx.Response, declared: Head) -> tuple[httpx.Response, bool]:
    """(response, True) for a file success, handed over unread; (response, False) otherwise.

    Only a 2xx whose headers say file is peeked at, and only its first bytes:
    a download stays a stream, whatever its size.
    """
    peek = _Peek.of(response, declared)
    if peek is None:
        return response, False
    raw = response.iter_raw()
    for chunk in raw:
        if peek.took(chunk):
            return peek.handed(raw)
    return peek.handed(None)


async def apeek_file(response: httpx.Response, declared: Head) -> tuple[httpx.Response, bool]:
    """``peek_file`` for the async transport."""
    peek = _Peek.of(response, declared)
    if peek is None:
        return response, False
    raw = response.aiter_raw()
    async for chunk in raw:
        if peek.took(chunk):
            return peek.handed(raw)
    return peek.handed(None)


# --- requests ---------------------------------------------------------------------------
