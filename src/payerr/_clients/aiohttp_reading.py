"""How ``AiohttpMiddleware`` reads an aiohttp answer, and hands it on as if unread.

The body is looked at where aiohttp holds it when the answer came whole, or read
and given back to the response's stream; a file is only peeked at. Responses are made
as ``ParsedResponse`` (the request's ``response_class``), whose first ``json()`` of a
success is payerr's parse (``handover``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import aiohttp

from .bounds import ERROR_HEAD, PEEK, Head, head_of
from .handover import MISSING, take
from .inflate import BodyDecodeError, decode_bounded, decode_head


def read_head(status: int, headers: Any) -> Head:
    """``bounds.head_of`` for aiohttp's headers, through their own ``get`` (in C): an API
    answer is known at once, without the look for httpx's and requests' layouts; a 2xx
    that may be a file is looked at the whole way."""
    kind = headers.get("Content-Type")
    if 200 <= status < 300 and (kind is None or "json" not in kind):
        return head_of(status, headers)
    length = headers.get("Content-Length")
    size = int(length) if length is not None and length.isdigit() else None
    return _made_head(Head, (size, headers.get("Content-Encoding"), False))


_made_head = tuple.__new__
"""``Head(...)`` without the Python-level ``__new__`` of a NamedTuple."""


def _held(stream: aiohttp.StreamReader) -> list[bytes] | None:
    """The body's chunks when the answer has all arrived and nothing of it was read:
    looked at where aiohttp holds them, nothing is taken and given back (most answers
    come whole with their headers). None otherwise, or for a stream laid out otherwise."""
    try:
        if stream._eof and stream._exception is None and not stream._buffer_offset:
            return list(stream._buffer)
    except AttributeError:  # an empty body's stream, or another aiohttp's
        pass
    return None


def _give_back(response: aiohttp.ClientResponse, chunks: list[bytes]) -> None:
    """Put what payerr read in front of the response's stream, chunk by chunk as it came."""
    with warnings.catch_warnings():  # deprecated for users; aiohttp's multipart reader uses it
        warnings.simplefilter("ignore", DeprecationWarning)
        for chunk in reversed(chunks):
            response.content.unread_data(chunk)


def _head(chunks: list[bytes]) -> bytes:
    """The first bytes an error keeps as ``raw``, joined from no more chunks than needed."""
    kept, size = [], 0
    for chunk in chunks:
        if size >= ERROR_HEAD:
            break
        kept.append(chunk)
        size += len(chunk)
    return b"".join(kept)[:ERROR_HEAD]


def _coding(response: aiohttp.ClientResponse, declared: Head) -> str | None:
    """The coding payerr must undo: none when aiohttp already decodes (``auto_decompress``)."""
    decoding = getattr(response.content, "total_compressed_bytes", None) is not None
    return None if decoding else declared.coding


def read_held(
    response: aiohttp.ClientResponse, cap: int, declared: Head
) -> tuple[bytes | None, bytes] | None:
    """``read_answer`` without a coroutine, for an answer with nothing left to wait for: it
    arrived whole (most answers come with their headers), or it is a success over the cap.
    None when the rest of the body must be awaited."""
    over = declared.length is not None and declared.length > cap
    if over and response.status < 400:
        return None, b""
    chunks = _held(response.content)
    if chunks is None:
        return None
    return _answer(response, declared, chunks, ERROR_HEAD if over else cap + 1, cap)


async def read_answer(
    response: aiohttp.ClientResponse, cap: int, declared: Head
) -> tuple[bytes | None, bytes]:
    """``read_held`` for an answer still arriving (it said None): (the body, decoded, or
    None when over ``cap``; the raw head an error keeps). What is read is given back."""
    over = declared.length is not None and declared.length > cap
    stop = ERROR_HEAD if over else cap + 1  # an error over the cap: a head for its raw bytes
    stream = response.content
    chunks: list[bytes] = []
    taken = 0
    while taken < stop and (chunk := await stream.readany()):
        chunks.append(chunk)
        taken += len(chunk)
    _give_back(response, chunks)
    return _answer(response, declared, chunks, stop, cap)


def _answer(
    response: aiohttp.ClientResponse, declared: Head, chunks: list[bytes], stop: int, cap: int
) -> tuple[bytes | None, bytes]:
    """What ``read_answer`` gives for the chunks taken: over ``stop``, only a head."""
    if sum(map(len, chunks)) >= stop:
        return None, _head(chunks)
    raw = b"".join(chunks)
    coding = None if declared.coding is None else _coding(response, declared)
    if coding is None:  # it came plain, or aiohttp decoded it already
        return raw, b""
    try:
        body = decode_bounded(coding, [raw], cap)
    except BodyDecodeError as exc:
        exc.raw = raw[:ERROR_HEAD]  # type: ignore[attr-defined]
        raise
    return body, (raw[:ERROR_HEAD] if body is None else b"")


async def is_file(response: aiohttp.ClientResponse, declared: Head) -> bool:
    """True for a 2xx file (left unread but for a peek); an error envelope is read as one."""
    head = b""
    while len(head) < PEEK and (chunk := await response.content.read(PEEK - len(head))):
        head += chunk
    _give_back(response, [head])
    decoded = decode_head(_coding(response, declared), head)
    from .._reading.formats import looks_like_envelope

    if not head:  # no bytes at all: read as an answer, for the provider's envelope to decide
        return False
    return decoded is not None and not looks_like_envelope(decoded)


_expected_type: Callable[[str, str], bool] | None = getattr(
    aiohttp.client_reqrep, "_is_expected_content_type", None
)
"""aiohttp's own test of the response's Content-Type in ``json()``; without it (another
aiohttp), ``json()`` is always aiohttp's."""


class ParsedResponse(aiohttp.ClientResponse):
    """An ``aiohttp.ClientResponse`` whose first ``json()`` is the parse payerr already made.

    aiohttp's rules stay: the body is read first, a Content-Type other than
    ``content_type`` raises ``ContentTypeError``, the charset is ``encoding`` or the
    response's; a ``loads`` of the caller's own always parses (``handover``).
    """

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        if loads is json.loads and _expected_type is not None:
            body = self._body if self._body is not None else await self.read()
            declared = self.headers.get("Content-Type", "").lower()
            if not content_type or _expected_type(declared, content_type):
                data = take(self, body, encoding or self.get_encoding())
                if data is not MISSING:
                    return data
        return await super().json(encoding=encoding, loads=loads, content_type=content_type)
