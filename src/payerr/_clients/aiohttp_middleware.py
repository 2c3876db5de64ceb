"""aiohttp middleware: ``AiohttpMiddleware``, one of a session's client middlewares.

    session = aiohttp.ClientSession(middlewares=[payerr.AiohttpMiddleware()])

Needs aiohttp >= 3.14.1: client middlewares came in 3.12, and from 3.14.1 aiohttp
inflates a compressed body a bounded step at a time, so reading ``body_cap``
decoded bytes never holds more. The bytes payerr read are given back to the
response's stream: ``await r.json()``, ``r.read()`` and ``r.content`` read them as
if payerr had not been there. Mark a request safe to resend with the
``Payerr-Idempotent: 1`` header; it is removed before sending. Requests to hosts
no adapter claims pass through untouched.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Unpack

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .._engine.call import Call
from .._engine.engine import IDEMPOTENT_HEADER, Engine, EngineViews
from .._enums import Category
from .._errors import PayError, as_client_error
from .._reading.raw import RawResponse
from .._retry.safety import parse_mark
from .bounds import ERROR_HEAD, PEEK, Head, head_of
from .inflate import BodyDecodeError, decode_bounded, decode_head
from .options import Options, engine_args

Handler = Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]]

# The request never reached the provider; any other failure after sending leaves its
# outcome unknown (an OSError here is one aiohttp has not wrapped yet).
_NEVER_SENT = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    aiohttp.ServerFingerprintMismatch,
)
_NO_ANSWER = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    aiohttp.ClientResponseError,  # a status line or headers that do not parse
    OSError,
)
# aiohttp sends an idempotent request once more after these (a stale keep-alive
# connection): payerr has retried already, so its error is the nearest aiohttp class
# that aiohttp does not resend on.
_RESENT = (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)


def _category(exc: BaseException) -> Category | None:
    if isinstance(exc, _NEVER_SENT):
        return Category.NETWORK
    if isinstance(exc, _NO_ANSWER):
        return Category.OUTCOME_UNKNOWN
    return None


def _client_kind(exc: BaseException) -> type[BaseException]:
    """The aiohttp exception payerr's error is also an instance of, so that handlers
    written for aiohttp (``except aiohttp.ClientConnectionError``) keep catching."""
    if isinstance(exc, BodyDecodeError | aiohttp.ClientResponseError):
        return aiohttp.ClientPayloadError  # not ClientResponseError: its ``code`` is the status
    if isinstance(exc, aiohttp.ClientConnectorError) or not isinstance(exc, _RESENT):
        return type(exc) if isinstance(exc, aiohttp.ClientError) else aiohttp.SocketTimeoutError
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return aiohttp.ServerConnectionError
    return aiohttp.ClientConnectionError


@dataclass
class _View:
    """What credentials see of an aiohttp request: requests' shape (URL text, headers,
    body bytes), which every built-in token knows how to edit."""

    url: str
    headers: Any
    body: bytes


@dataclass
class _Sending:
    """One logical request: aiohttp's request object, the next handler, its body bytes."""

    request: aiohttp.ClientRequest
    handler: Handler
    body: bytes
    response: aiohttp.ClientResponse | None = None


async def _body_bytes(request: aiohttp.ClientRequest) -> bytes:
    """The request body, when aiohttp holds it in memory (a stream is never read for a look)."""
    body = request.body
    if isinstance(body, aiohttp.payload.BytesPayload):
        return await body.as_bytes()
    return b""


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


async def _read(
    response: aiohttp.ClientResponse, cap: int, declared: Head
) -> tuple[bytes | None, bytes]:
    """(the body, decoded, or None when over ``cap``; the raw head an error keeps).

    A success declared over the cap is not touched; anything read is given back.
    """
    over = declared.length is not None and declared.length > cap
    if over and response.status < 400:
        return None, b""
    stop = ERROR_HEAD if over else cap + 1  # an error over the cap: a head for its raw bytes
    chunks: list[bytes] = []
    taken = 0
    while taken < stop and (chunk := await response.content.readany()):
        chunks.append(chunk)
        taken += len(chunk)
    _give_back(response, chunks)
    if taken >= stop:
        return None, _head(chunks)
    raw = b"".join(chunks)
    try:
        body = decode_bounded(_coding(response, declared), [raw], cap)
    except BodyDecodeError as exc:
        exc.raw = raw[:ERROR_HEAD]  # type: ignore[attr-defined]
        raise
    return body, (raw[:ERROR_HEAD] if body is None else b"")


async def _is_file(response: aiohttp.ClientResponse, declared: Head) -> bool:
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


class AiohttpMiddleware(EngineViews):
    """Typed errors and safe retries for an ``aiohttp.ClientSession`` (its ``middlewares``).

    ``AiohttpMiddleware(policy=None, provider=None, credentials=None, coordinator=None,
    app="default")``: each keyword means what it means for ``payerr.AsyncTransport``.
    """

    def __init__(self, **options: Unpack[Options]) -> None:
        self._engine = Engine(*engine_args(options, "AiohttpMiddleware"))

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: Handler
    ) -> aiohttp.ClientResponse:
        marked = None
        if IDEMPOTENT_HEADER in request.headers:
            mark = request.headers.pop(IDEMPOTENT_HEADER)
            marked = parse_mark(mark, source=f"header {IDEMPOTENT_HEADER}")
        engine = self._engine
        route = engine.route(request.url.host if engine.provider is None else None)
        if route is None:
            return await handler(request)
        sending = _Sending(request, handler, await _body_bytes(request))
        call = Call(
            engine,
            route,
            marked,
            lambda: (request.url.path, request.url.host or ""),
            lambda: (str(request.url), sending.body),
        )
        # aiohttp replays bytes and files itself; an async generator goes out once
        call.replayable = not isinstance(request.body, aiohttp.payload.AsyncIterablePayload)
        end = partial(self._end, call, sending)
        return await call.arun(partial(self._attempt, call, sending), end)

    async def _attempt(self, call: Call, sending: _Sending) -> aiohttp.ClientResponse:
        if not await call.aready():
            await call.aprepare()
            await self._apply(call, sending)
        sending.response = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + call.read_deadline() - time.monotonic()
        try:  # the policy's deadline covers the status line, the headers and the body
            async with asyncio.timeout_at(deadline):
                response = sending.response = await sending.handler(sending.request)
                declared = head_of(response.status, response.headers)
                if declared.file and await _is_file(response, declared):
                    return call.passed(response)
                body, head = await _read(response, self._engine.policy.body_cap, declared)
        except (aiohttp.ClientError, OSError, BodyDecodeError) as exc:
            error = self._failed(call, sending, exc)
            if error is None:
                raise  # a local mistake (an invalid URL): aiohttp's own error, as it was
            raise error from exc
        if body is None:  # over the cap: a success goes back as a stream, a failure by status
            if response.status < 400:
                return call.passed(response)
            body = head
        request = sending.request
        details = partial(self._details, call, sending, response, body)
        return call.settle(
            response, response.status, response.headers, body, lambda: request.url.path, details
        )

    @staticmethod
    async def _apply(call: Call, sending: _Sending) -> None:
        """Let the credentials put the current token on the request (URL, header or body)."""
        request = sending.request
        view = call.apply(_View(str(request.url), request.headers, sending.body))
        if view.url != str(request.url):
            request.url = URL(view.url, encoded=True)
        if view.body is not sending.body:
            await request.update_body(view.body)
            sending.body = view.body

    def _failed(self, call: Call, sending: _Sending, exc: BaseException) -> PayError | None:
        """The typed error for a send or a read that broke; also aiohttp's own exception."""
        response = sending.response
        category = Category.OUTCOME_UNKNOWN if response is not None else _category(exc)
        if category is None:
            return None
        facts = self._facts(call, sending)
        if response is not None:  # the answer broke while read: its outcome is not known
            response.close()
            error = call.unreadable(exc, response.status, facts)
        else:
            error = call.no_answer(category, exc, facts)
        return as_client_error(error, _client_kind(exc), exc)

    @staticmethod
    def _facts(call: Call, sending: _Sending) -> Any:
        request = sending.request
        return call.facts(request.method, str(request.url), sending.body, request.headers)

    def _details(
        self, call: Call, sending: _Sending, response: aiohttp.ClientResponse, body: bytes
    ) -> tuple[RawResponse, Any]:
        request = sending.request
        raw = RawResponse(
            response.status,
            response.headers,
            body,
            str(request.url),
            request.method,
            sending.body,
            request.headers,
        )
        return raw, self._facts(call, sending)

    @staticmethod
    def _end(call: Call, sending: _Sending, error: PayError) -> aiohttp.ClientResponse:
        return call.end(error, partial(_local_answer, sending.request))


def _local_answer(
    request: aiohttp.ClientRequest, status: int, headers: dict[str, str], body: bytes
) -> aiohttp.ClientResponse:
    """A response payerr answers itself (a request a cooldown held back), already read.

    aiohttp has no public way to make one, and its constructor changes between
    releases: the response is laid out as a finished read leaves it.
    """
    response = aiohttp.ClientResponse.__new__(aiohttp.ClientResponse)
    response.method = request.method
    response._url = response._real_url = request.url
    response.status, response.reason = status, "Too Many Requests"
    response._headers = CIMultiDictProxy(CIMultiDict(headers))
    response._raw_headers = tuple((k.encode(), v.encode()) for k, v in headers.items())
    response._body = body
    response._request_info = request.request_info
    response._cache, response._traces = {}, []
    response._loop = asyncio.get_running_loop()
    return response
