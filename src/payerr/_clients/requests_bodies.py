"""Bounded reading for requests: at most ``body_cap`` bytes, and all of it handed back.

urllib3's ``raw`` is read undecoded up to the cap and replaced by a
``ReplayRaw`` that gives the caller every byte from the first, raw or decoded
by payerr's own bounded decoders.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from .bounds import ERROR_HEAD, PEEK, Head, ReadDeadline, decode_kept, is_file_head
from .inflate import pipeline


class ReplayRaw:
    """For requests: a urllib3-like raw body that gives the bytes payerr read, then the rest.

    ``decode_content=False`` gives the raw bytes exactly as sent; otherwise they
    are decoded (by payerr's own decoders, so a body payerr started reading still
    decodes from its first byte). Mixing the two on one body is not supported.
    Any other attribute (``headers``, ``status``, the ``_original_response`` requests
    reads the session's cookies from) is the original urllib3 response's.
    """

    # what a body payerr read and decoded whole holds: only what differs is set per answer
    _flow: Any = None
    _raw_done = True
    decode_content = True

    def __init__(
        self,
        raw: bytes,
        rest: Any,
        coding: str | None,
        decoded: bytes | None,
        original: Any = None,
    ) -> None:
        self._raw = raw
        self._rest = rest
        self._original = original = rest if original is None else original
        # requests reads the session's cookies from it three times an answer: an attribute
        # of ours, not a look through ``__getattr__`` after a failed one
        self._original_response = getattr(original, "_original_response", None)
        if decoded is not None:  # payerr read and decoded it all: nothing more to decode
            self._decoded = decoded
        else:
            self._decoded, self._flow, self._raw_done = b"", pipeline(coding), False

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
                piece: bytes = flow.read(limit)
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
        original = self.__dict__.get("_original")
        if original is None:
            raise AttributeError(name)
        return getattr(original, name)


def read_bounded_requests(
    response: Any, cap: int, deadline_at: float, declared: Head
) -> tuple[bytes | None, bytes, Any]:
    """Read a requests body up to ``cap``: (decoded or None, raw head, the urllib3 response
    read to its end, which the caller releases once its deadline watch ended, or None).

    ``raw`` becomes a ``ReplayRaw`` that gives the caller everything, from the first byte.
    """
    coding, length = declared.coding, declared.length
    over = length is not None and length > cap
    if over and response.status_code < 400:
        return None, b"", None  # a success over the cap: never touched
    limit = ERROR_HEAD if over else cap  # an error over it: a head for its raw bytes
    original = response.raw
    read = getattr(original, "read1", None) or original.read  # read1: what has arrived
    chunks: list[bytes] = []
    size = 0
    while data := read(65536, False):  # (amt, decode_content) by position: no keywords
        chunks.append(data)
        size += len(data)
        if size > limit or (over and size >= limit):
            head = b"".join(chunks)
            response.raw = ReplayRaw(head, original, coding, None)
            return None, head[:ERROR_HEAD], None
        if time.monotonic() > deadline_at:
            original.close()  # the connection is given up, not left half read
            original.release_conn()
            raise ReadDeadline("reading the answer passed the deadline")
        # all it declared by urllib3's own count (None when chunked): no read more for the end
        if size == length and getattr(original, "length_remaining", None) == 0:
            break
    if time.monotonic() > deadline_at:  # the end came from the deadline's watchdog, not the server
        raise ReadDeadline("reading the answer passed the deadline")
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    content = decode_kept(coding, chunks, cap) if coding else raw  # the read stopped at the cap
    response.raw = ReplayRaw(raw, None, coding, content, original)
    if content is not None:  # what .content would read again: handed over as it is
        response._content, response._content_consumed = content, True
    return content, raw[:ERROR_HEAD] if content is None else b"", original


def peek_file_requests(response: Any, declared: Head) -> bool:
    """For requests: True for a file success (left streamable); the peeked bytes are replayed."""
    if not declared.file:
        return False
    head = response.raw.read(PEEK, decode_content=False) or b""
    response.raw = ReplayRaw(head, response.raw, declared.coding, None)
    return is_file_head(declared.coding, head)
