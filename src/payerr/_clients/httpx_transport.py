"""httpx middleware: ``Transport`` and ``AsyncTransport`` wrap any httpx transport.

    client = httpx.Client(transport=payerr.Transport(policy=payerr.RetryPolicy()))

Requests to hosts no adapter claims pass through untouched.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Any, Generic, TypeVar, Unpack, cast

import httpx

from .._engine.call import Call
from .._engine.engine import IDEMPOTENT_MARK, Engine, EngineViews
from .._enums import Category
from .._errors import PayError, as_client_error
from .._reading.raw import OUTCOME_KEY, RawResponse, _body_of
from .._retry.safety import parse_mark
from .bodies import apeek_file, aread_bounded, peek_file, read_bounded
from .bounds import ReadDeadline, head_of, plain_headers
from .handover import MISSING, offer, take
from .httpx_head import DEADLINE, watch
from .inflate import BodyDecodeError
from .options import Options, engine_args

# Errors where the request never reached the provider; everything else after
# sending (read timeout, dropped connection) leaves the outcome unknown.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_NO_ANSWER = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


def _category(exc: httpx.TransportError) -> Category | None:
    if isinstance(exc, _NEVER_SENT):
        return Category.NETWORK
    if isinstance(exc, _NO_ANSWER):
        return Category.OUTCOME_UNKNOWN
    return None  # a local mistake (unsupported scheme, bad headers): not ours to retry


def _raw(response: httpx.Response, request: httpx.Request, body: bytes) -> RawResponse:
    return RawResponse(
        response.status_code,
        plain_headers(response.headers),
        body,
        str(request.url),
        request.method,
        request.content,
        request.headers,
    )


_DECODES_BYTES = tuple(int(part) for part in httpx.__version__.split(".")[:2]) >= (0, 28)
"""httpx 0.28 on gives ``json.loads`` the bytes; before, text decoded by the declared charset."""


class ParsedResponse(httpx.Response):
    """An ``httpx.Response`` whose first ``json()`` is the parse payerr already made."""

    def json(self, **kwargs: Any) -> Any:
        if not kwargs:
            charset = None if _DECODES_BYTES else self.charset_encoding
            data = take(self, self.content, charset)
            if data is not MISSING:
                return data
        return super().json(**kwargs)


Inner = TypeVar("Inner", httpx.BaseTransport, httpx.AsyncBaseTransport)


class _Base(EngineViews, Generic[Inner]):
    """What both transports share: the engine, and the httpx transport they wrap."""

    def __init__(self, transport: Inner | None = None, **options: Unpack[Options]) -> None:
        self._engine = Engine(*engine_args(options, type(self).__name__))
        self._cap = self._engine.policy.body_cap
        if transport is None:  # httpx's own transport of the same kind
            asynchronous = isinstance(self, httpx.AsyncBaseTransport)
            made = httpx.AsyncHTTPTransport() if asynchronous else httpx.HTTPTransport()
            transport = cast(Inner, made)
        self._inner: Inner = transport
        watch(transport)  # the deadline covers the status line and headers too

    def _start(self, request: httpx.Request) -> Call | None:
        engine = self._engine
        route = engine.route(request.url.host if engine.provider is None else None)
        if route is None:
            return None
        mark = parse_mark(
            request.extensions.get(IDEMPOTENT_MARK), source=f"extensions[{IDEMPOTENT_MARK!r}]"
        )
        url = request.url
        return Call(
            engine, route, mark, lambda: (url.path, url.host), lambda: (str(url), _body_of(request))
        )

    def _facts(self, call: Call, request: httpx.Request) -> Any:
        return call.facts(request.method, str(request.url), request.content, request.headers)

    def _settle(
        self,
        call: Call,
        sent: httpx.Request,
        response: httpx.Response,
        body: bytes | None,
        head: bytes,
    ) -> httpx.Response:
        # Read here, perhaps never read again by the client: time it as the client would.
        response.elapsed = timedelta(seconds=time.monotonic() - call.started)
        if body is None:  # over the cap: a success goes back as a stream, a failure by status
            if response.status_code < 400:
                return call.passed(response)
            body = head
        settled = call.settle(
            response,
            response.status_code,
            response.headers,
            body,
            lambda: sent.url.path,
            lambda: (_raw(response, sent, body), self._facts(call, sent)),
        )
        if type(settled) is httpx.Response:  # a subclass of the caller's own stays as it is
            offer(settled, settled.extensions[OUTCOME_KEY].data)
            settled.__class__ = ParsedResponse
        return settled

    def _unreadable(
        self, call: Call, sent: httpx.Request, response: httpx.Response, exc: Exception
    ) -> PayError:
        """A typed error for an answer that broke while being read or decoded; also the
        httpx exception such a break raises (``DecodingError``, ``ReadTimeout``)."""
        error = call.unreadable(exc, response.status_code, self._facts(call, sent))
        client = httpx.DecodingError if isinstance(exc, BodyDecodeError) else httpx.ReadTimeout
        return as_client_error(error, client, None)

    def _failed(self, call: Call, request: httpx.Request, exc: httpx.TransportError) -> Exception:
        category = _category(exc)
        if category is None:
            return exc
        error = call.no_answer(category, exc, self._facts(call, request))
        return as_client_error(error, type(exc), exc)  # old `except httpx.…` still catch

    @staticmethod
    def _end(call: Call, request: httpx.Request, error: PayError) -> httpx.Response:
        def local(status: int, headers: dict[str, str], body: bytes) -> httpx.Response:
            return httpx.Response(status, headers=headers, content=body, request=request)

        return call.end(error, local)


class _Guard:
    """One send and read, for either transport: the deadline set around them (it bounds
    the head too), and what breaks in them raised as a typed error."""

    __slots__ = ("_base", "_call", "_sent", "_watched", "response")

    def __init__(self, base: _Base[Any], call: Call, sent: httpx.Request) -> None:
        self._base, self._call, self._sent = base, call, sent
        self.response: httpx.Response | None = None

    def __enter__(self) -> _Guard:
        self._watched = DEADLINE.set(self._call.read_deadline())
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        DEADLINE.reset(self._watched)
        if isinstance(exc, httpx.TransportError):
            error = self._base._failed(self._call, self._sent, exc)
            if error is not exc:  # not ours (a local mistake): it goes on as it is
                raise error from exc
        elif isinstance(exc, BodyDecodeError | ReadDeadline) and self.response is not None:
            raise self._base._unreadable(self._call, self._sent, self.response, exc) from exc


class Transport(_Base[httpx.BaseTransport], httpx.BaseTransport):
    """Typed errors and safe retries for a sync ``httpx.Client``.

    ``Transport(transport=None, *, policy=None, provider=None, credentials=None,
    coordinator=None, app="default")``: ``transport`` is the httpx transport wrapped
    (httpx's own by default), ``policy`` the ``RetryPolicy``, ``provider`` one provider
    for every request (by default each request's host picks it), ``credentials`` put a
    token on each request, ``coordinator`` shares cooldowns, the retry budget and tokens
    with other transports and processes, ``app`` names the provider app they share them for.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call = self._start(request)
        if call is None:
            return self._inner.handle_request(request)
        request.read()
        return call.run(partial(self._attempt, call, request), partial(self._end, call, request))

    def _attempt(self, call: Call, request: httpx.Request) -> httpx.Response:
        sent = request
        if not call.ready():
            call.prepare()
            sent = call.apply(request)
        with _Guard(self, call, sent) as guard:
            response = guard.response = self._inner.handle_request(sent)
            declared = head_of(response.status_code, response.headers)
            if declared.file:
                response, is_file = peek_file(response, declared)
                if is_file:
                    return call.passed(response)
            response, body, head = read_bounded(response, self._cap, call.read_deadline(), declared)
        return self._settle(call, sent, response, body, head)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> Transport:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)


class AsyncTransport(_Base[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport):
    """Typed errors and safe retries for an ``httpx.AsyncClient``.

    ``AsyncTransport(transport=None, *, policy=None, provider=None, credentials=None,
    coordinator=None, app="default")``: each keyword means what it means for ``Transport``.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        call = self._start(request)
        if call is None:
            return await self._inner.handle_async_request(request)
        await request.aread()
        attempt = partial(self._attempt, call, request)
        return await call.arun(attempt, partial(self._end, call, request))

    async def _attempt(self, call: Call, request: httpx.Request) -> httpx.Response:
        sent = request
        if not await call.aready():
            await call.aprepare()
            sent = call.apply(request)
        with _Guard(self, call, sent) as guard:
            response = guard.response = await self._inner.handle_async_request(sent)
            declared = head_of(response.status_code, response.headers)
            if declared.file:
                response, is_file = await apeek_file(response, declared)
                if is_file:
                    return call.passed(response)
            deadline = call.read_deadline()
            response, body, head = await aread_bounded(response, self._cap, deadline, declared)
        return self._settle(call, sent, response, body, head)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> AsyncTransport:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)
