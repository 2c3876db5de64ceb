"""httpx middleware: ``Transport`` and ``AsyncTransport`` wrap any httpx transport.

    client = httpx.Client(transport=payerr.Transport(policy=payerr.RetryPolicy()))

Requests to hosts no adapter claims pass through untouched.
"""

from __future__ import annotations

import time
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar, Unpack, cast

import httpx

from .._engine.call import Call
from .._engine.engine import IDEMPOTENT_MARK, Engine, EngineViews
from .._enums import Category
from .._errors import PayError, as_client_error
from .._lazy import Lazy
from .._reading.outcome import Failure, Outcome
from .._reading.raw import OUTCOME_KEY, RawResponse, _body_of, answer_of, attach_outcome
from .._retry.safety import parse_mark
from .bodies import apeek_file, aread_bounded, peek_file, read_bounded
from .bounds import ReadDeadline, head_of, plain_headers
from .handover import MISSING, offer, take
from .httpx_head import DEADLINE, watch
from .inflate import BodyDecodeError
from .options import Options, engine_args

if TYPE_CHECKING:
    from .._engine import failures as _failures
else:  # the typed errors of a send or a read that broke: loaded with the first one
    _failures = Lazy("payerr._engine.failures")

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


_BREAKS = (httpx.TransportError, BodyDecodeError, ReadDeadline)
"""What a send or a read can break with: each is raised as a typed error (``_broken``)."""
_MARK_SOURCE = f"extensions[{IDEMPOTENT_MARK!r}]"


def _where(request: httpx.Request) -> tuple[str, str]:
    url = request.url
    return url.path, url.host


def _sent(request: httpx.Request) -> tuple[str, bytes]:
    return str(request.url), _body_of(request)


def _raw(response: httpx.Response, request: httpx.Request, body: bytes) -> RawResponse:
    return answer_of(
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
        mark = request.extensions.get(IDEMPOTENT_MARK)
        if mark is not None:
            mark = parse_mark(mark, source=_MARK_SOURCE)
        return Call(engine, route, mark, request, _where, _sent)

    def _facts(self, call: Call, request: httpx.Request) -> Any:
        return call.facts(request.method, str(request.url), request.content, request.headers)

    @staticmethod
    def path_of(sent: httpx.Request) -> str:
        return sent.url.path

    def details(
        self, call: Call, sent: httpx.Request, response: httpx.Response, body: bytes
    ) -> tuple[RawResponse, Any]:
        """The full view of an answer that is not a success (``Call.settle`` asks)."""
        return _raw(response, sent, body), self._facts(call, sent)

    def _settle(
        self,
        call: Call,
        sent: httpx.Request,
        response: httpx.Response,
        body: bytes | None,
        head: bytes,
    ) -> httpx.Response | Failure:
        # Read here, perhaps never read again by the client: time it as the client would.
        # (days, seconds) given by position: the keyword form costs as much again
        response.elapsed = timedelta(0, time.monotonic() - call.started)
        if body is None:  # over the cap: a success goes back as a stream, a failure by status
            if response.status_code < 400:
                return call.passed(response)
            body = head
        return call.settle(response, response.status_code, response.headers, body, self, sent)

    @staticmethod
    def answered(response: httpx.Response, outcome: Outcome) -> None:
        """A success: its outcome kept on the response, its parse for the first json()."""
        extensions = response.extensions
        if type(extensions) is not dict:
            attach_outcome(response, outcome)  # a transport's own mapping: as inspect() does
            return
        extensions[OUTCOME_KEY] = outcome
        if type(response) is httpx.Response:  # a subclass of the caller's own stays as it is
            offer(response, outcome.data)
            response.__class__ = ParsedResponse

    def _broke(
        self, call: Call, sent: httpx.Request, response: httpx.Response | None, exc: Exception
    ) -> NoReturn:
        """Raise what a send or read that broke becomes: a typed error that is also the
        httpx exception such a break raises, or ``exc`` as it is when it is not ours."""
        error: Exception = exc
        if isinstance(exc, httpx.TransportError):
            error = self._failed(call, sent, exc)
        elif response is not None:  # a body that would not decode, or the deadline mid-read
            error = self._unreadable(call, sent, response, exc)
        if error is exc:
            raise  # not ours (a local mistake): it goes on as it is
        raise error from exc

    def _unreadable(
        self, call: Call, sent: httpx.Request, response: httpx.Response, exc: Exception
    ) -> PayError:
        """A typed error for an answer that broke while being read or decoded; also the
        httpx exception such a break raises (``DecodingError``, ``ReadTimeout``)."""
        error = _failures.unreadable(call.spec, exc, response.status_code, self._facts(call, sent))
        client = httpx.DecodingError if isinstance(exc, BodyDecodeError) else httpx.ReadTimeout
        return as_client_error(error, client, None)

    def _failed(self, call: Call, request: httpx.Request, exc: httpx.TransportError) -> Exception:
        category = _category(exc)
        if category is None:
            return exc
        error = _failures.no_answer(call.spec, category, exc, self._facts(call, request))
        return as_client_error(error, type(exc), exc)  # old `except httpx.…` still catch

    @staticmethod
    def _end(call: Call, request: httpx.Request, error: PayError) -> httpx.Response:
        def local(status: int, headers: dict[str, str], body: bytes) -> httpx.Response:
            return httpx.Response(status, headers=headers, content=body, request=request)

        return call.end(error, local)


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
        return call.run(self._attempt, self._end, (call, request))

    def _attempt(self, call: Call, request: httpx.Request) -> httpx.Response | Failure:
        sent = request
        if not call.ready():
            call.prepare()
            sent = call.apply(request)
        deadline = call.deadline_at
        watched = DEADLINE.set(deadline)  # the deadline covers the status line and headers too
        response = None
        try:
            response = self._inner.handle_request(sent)
            declared = head_of(response.status_code, response.headers)
            if declared.file:
                response, is_file = peek_file(response, declared)
                if is_file:
                    return call.passed(response)
            response, body, head = read_bounded(response, self._cap, deadline, declared)
        except _BREAKS as exc:
            self._broke(call, sent, response, exc)
        finally:
            DEADLINE.reset(watched)
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
        return await call.arun(self._attempt, self._end, (call, request))

    async def _attempt(self, call: Call, request: httpx.Request) -> httpx.Response | Failure:
        sent = request
        if not call.ready_at_once() and not await call.aready():
            await call.aprepare()
            sent = call.apply(request)
        deadline = call.deadline_at
        watched = DEADLINE.set(deadline)  # the deadline covers the status line and headers too
        response = None
        try:
            response = await self._inner.handle_async_request(sent)
            declared = head_of(response.status_code, response.headers)
            if declared.file:
                response, is_file = await apeek_file(response, declared)
                if is_file:
                    return call.passed(response)
            response, body, head = await aread_bounded(response, self._cap, deadline, declared)
        except _BREAKS as exc:
            self._broke(call, sent, response, exc)
        finally:
            DEADLINE.reset(watched)
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
