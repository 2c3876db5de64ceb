"""httpx middleware: ``Transport`` and ``AsyncTransport`` wrap any httpx transport.

    client = httpx.Client(transport=payerr.Transport(policy=payerr.RetryPolicy()))

Requests to hosts no adapter claims pass through untouched.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

import httpx

from .._coordination.local import Coordinator
from .._engine.call import Call
from .._engine.credentials import Credentials
from .._engine.engine import IDEMPOTENT_MARK, Engine, EngineViews
from .._enums import Category
from .._errors import PayError, as_client_error
from .._reading.raw import OUTCOME_KEY, RawResponse, _body_of
from .._retry.policy import RetryPolicy
from .._retry.safety import parse_mark
from .bodies import apeek_file, aread_bounded, peek_file, read_bounded
from .bounds import ReadDeadline, head_of, plain_headers
from .handover import MISSING, offer, take
from .httpx_head import DEADLINE, watch
from .inflate import BodyDecodeError

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

    def __init__(
        self,
        transport: Inner | None = None,
        *,
        policy: RetryPolicy | None = None,
        provider: str | None = None,
        credentials: Credentials | None = None,
        coordinator: Coordinator | None = None,
        app: str = "default",
    ) -> None:
        self._engine = Engine(policy, provider, credentials, coordinator, app)
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


class Transport(_Base[httpx.BaseTransport], httpx.BaseTransport):
    """Typed errors and safe retries for a sync ``httpx.Client``."""

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
        watched = DEADLINE.set(call.read_deadline())
        try:
            response = self._inner.handle_request(sent)
            facts = head_of(response.status_code, response.headers)
            if facts.file:
                response, is_file = peek_file(response, facts)
                if is_file:
                    return call.passed(response)
            response, body, head = read_bounded(response, self._cap, call.read_deadline(), facts)
        except httpx.TransportError as exc:
            raise self._failed(call, sent, exc) from exc
        except (BodyDecodeError, ReadDeadline) as exc:
            raise self._unreadable(call, sent, response, exc) from exc
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
    """Typed errors and safe retries for an ``httpx.AsyncClient``."""

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
        watched = DEADLINE.set(call.read_deadline())
        try:
            response = await self._inner.handle_async_request(sent)
            facts = head_of(response.status_code, response.headers)
            if facts.file:
                response, is_file = await apeek_file(response, facts)
                if is_file:
                    return call.passed(response)
            deadline = call.read_deadline()
            response, body, head = await aread_bounded(response, self._cap, deadline, facts)
        except httpx.TransportError as exc:
            raise self._failed(call, sent, exc) from exc
        except (BodyDecodeError, ReadDeadline) as exc:
            raise self._unreadable(call, sent, response, exc) from exc
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
