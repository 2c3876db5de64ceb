"""aiohttp middleware: ``AiohttpMiddleware``, one of a session's client middlewares.

    session = aiohttp.ClientSession(middlewares=[payerr.AiohttpMiddleware()])

Needs aiohttp >= 3.14.1: client middlewares came in 3.12, and from 3.14.1 aiohttp
inflates a compressed body a bounded step at a time, so reading ``body_cap``
decoded bytes never holds more. The bytes payerr read are given back to the
response's stream: ``await r.json()``, ``r.read()`` and ``r.content`` read them as
if payerr had not been there, and the first ``await r.json()`` is payerr's own parse
of a JSON success (``handover``), not a second one. Mark a request safe to resend with the
``Payerr-Idempotent: 1`` header; it is removed before sending. Requests to hosts
no adapter claims pass through untouched.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Unpack

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .._engine.call import Call
from .._engine.engine import IDEMPOTENT_HEADER, Engine, EngineViews
from .._enums import Category
from .._errors import PayError, as_client_error
from .._lazy import Lazy
from .._reading.outcome import Failure, Outcome
from .._reading.raw import RawResponse, answer_of
from .._retry.safety import parse_mark
from .aiohttp_reading import ParsedResponse, is_file, read_answer, read_head, read_held
from .handover import offer
from .inflate import BodyDecodeError
from .options import Options, engine_args

if TYPE_CHECKING:
    from .._engine import failures as _failures
else:  # the typed errors of a send or a read that broke: loaded with the first one
    _failures = Lazy("payerr._engine.failures")

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


class _Deadline:
    """The policy's deadline over a call's attempts (status line, headers and body).

    It cancels the task only while an attempt is under way (an attempt begun after it
    passed is cancelled at its first wait), and that cancellation leaves the attempt
    as ``TimeoutError``, as ``asyncio.timeout`` has it. ``_Deadlines`` says when it passed.
    """

    __slots__ = ("attempting", "cancelling", "fired", "passed", "task", "watch")

    def __init__(self, watch: _Deadlines, when: float) -> None:
        self.task: asyncio.Task[Any] = asyncio.current_task()  # type: ignore[assignment]  # the caller's
        self.attempting = self.passed = self.fired = False
        self.cancelling = 0
        self.watch = watch
        watch.add(self, when)

    def expire(self) -> None:
        self.passed = True
        if self.attempting:
            self.fired = True
            self.task.cancel()

    def __enter__(self) -> None:
        self.attempting = True
        self.cancelling = self.task.cancelling()
        if self.passed:
            self.fired = True
            self.task.cancel()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> None:
        self.attempting = False
        if self.fired:
            self.fired = False
            if self.task.uncancel() <= self.cancelling and kind is asyncio.CancelledError:
                raise TimeoutError from exc


class _Deadlines:
    """The deadlines of the calls under way on one event loop, behind one timer.

    A timer per call (armed with ``loop.call_at``, cancelled as the call ends) made a
    handle, a heap entry and a cancelled entry for the loop to pop on every call. Calls
    end long before their deadline, so one timer armed for the earliest is re-armed only
    when it fires or an earlier deadline comes.
    """

    __slots__ = ("armed_for", "loop", "timer", "watched")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.watched: dict[_Deadline, float] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.armed_for = math.inf

    def add(self, deadline: _Deadline, when: float) -> None:
        self.watched[deadline] = when
        if when < self.armed_for:
            self._arm(when)

    def _arm(self, when: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_at(when, self._wake) if when < math.inf else None
        self.armed_for = when

    def _wake(self) -> None:
        self.timer, now, earliest = None, self.loop.time(), math.inf
        for deadline, when in list(self.watched.items()):
            if when <= now:
                del self.watched[deadline]
                deadline.expire()
            elif when < earliest:
                earliest = when
        self.armed_for = math.inf
        self._arm(earliest)


@dataclass
class _Sending:
    """One logical request: aiohttp's request object, the next handler, its body bytes."""

    request: aiohttp.ClientRequest
    handler: Handler
    body: bytes
    response: aiohttp.ClientResponse | None = None
    text: str | None = None
    """The URL as text, made once: a failed attempt's error names it twice."""
    deadline: _Deadline | None = None

    def url(self) -> str:
        if self.text is None:
            self.text = str(self.request.url)
        return self.text


_AS_BYTES = aiohttp.payload.BytesPayload.as_bytes


@cache
def _payload_kind(kind: type) -> tuple[bool | None, bool]:
    """(how a body of this class is had: True: aiohttp's own bytes payload, whose
    ``as_bytes`` is its ``_value``; None: another bytes payload, its ``as_bytes`` asked;
    False: a stream, never read for a look — and whether aiohttp can send it twice),
    once per class: ``isinstance`` with aiohttp's abstract payload classes is a
    Python-level check, and the coroutine ``as_bytes`` makes would be one per request."""
    held = issubclass(kind, aiohttp.payload.BytesPayload)
    own = held and kind.as_bytes is _AS_BYTES  # type: ignore[attr-defined]
    # aiohttp replays bytes and files itself; an async generator goes out once
    return (own or None) if held else False, not issubclass(
        kind, aiohttp.payload.AsyncIterablePayload
    )


class AiohttpMiddleware(EngineViews):
    """Typed errors and safe retries for an ``aiohttp.ClientSession`` (its ``middlewares``).

    ``AiohttpMiddleware(policy=None, provider=None, credentials=None, coordinator=None,
    app="default")``: each keyword means what it means for ``payerr.AsyncTransport``.
    """

    def __init__(self, **options: Unpack[Options]) -> None:
        self._engine = Engine(*engine_args(options, "AiohttpMiddleware"))
        self._deadlines: _Deadlines | None = None
        """The deadlines of this middleware's calls, on the loop it last ran on."""

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
        if request.response_class is aiohttp.ClientResponse:
            # made as the class that hands payerr's parse to ``json()``: a response whose
            # class is changed after it is made keeps its attributes in a dict (CPython
            # 3.11), and every look-up aiohttp makes on it after takes the slower path
            request.response_class = ParsedResponse
        payload: Any = request.body
        held, replayable = _payload_kind(payload.__class__)
        body = payload._value if held else b""
        if held is None or type(body) is not bytes:
            body = await payload.as_bytes()
        sending = _Sending(request, handler, body)
        call = Call(engine, route, marked, sending, _where, _sent)
        call.replayable = replayable
        try:
            return await call.arun(self._attempt, self._end, (call, sending))
        finally:
            if sending.deadline is not None:
                sending.deadline.watch.watched.pop(sending.deadline, None)

    async def _attempt(self, call: Call, sending: _Sending) -> aiohttp.ClientResponse | Failure:
        if not call.ready_at_once() and not await call.aready():
            await call.aprepare()
            await self._apply(call, sending)
        sending.response = None
        deadline = sending.deadline
        if deadline is None:
            loop = asyncio.get_running_loop()
            watch = self._deadlines
            if watch is None or watch.loop is not loop:
                watch = self._deadlines = _Deadlines(loop)
            when = loop.time() + call.deadline_at - time.monotonic()
            deadline = sending.deadline = _Deadline(watch, when)
        try:  # the policy's deadline covers the status line, the headers and the body
            with deadline:
                response = sending.response = await sending.handler(sending.request)
                declared = read_head(response.status, response.headers)
                if declared.file and await is_file(response, declared):
                    return call.passed(response)
                cap = self._engine.policy.body_cap
                answer = read_held(response, cap, declared)
                if answer is None:  # the rest of the body is still on its way
                    answer = await read_answer(response, cap, declared)
                body, head = answer
        except (aiohttp.ClientError, OSError, BodyDecodeError) as exc:
            error = self._failed(call, sending, exc)
            if error is None:
                raise  # a local mistake (an invalid URL): aiohttp's own error, as it was
            raise error from exc
        if body is None:  # over the cap: a success goes back as a stream, a failure by status
            if response.status < 400:
                return call.passed(response)
            body = head
        return call.settle(response, response.status, response.headers, body, self, sending)

    @staticmethod
    async def _apply(call: Call, sending: _Sending) -> None:
        """Let the credentials put the current token on the request (URL, header or body)."""
        request = sending.request
        view = call.apply(_View(sending.url(), request.headers, sending.body))
        if view.url != sending.url():
            request.url = URL(view.url, encoded=True)
            sending.text = None
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
            error = _failures.unreadable(call.spec, exc, response.status, facts)
        else:
            error = _failures.no_answer(call.spec, category, exc, facts)
        return as_client_error(error, _client_kind(exc), exc)

    @staticmethod
    def _facts(call: Call, sending: _Sending) -> Any:
        request = sending.request
        return call.facts(request.method, sending.url(), sending.body, request.headers)

    @staticmethod
    def answered(response: aiohttp.ClientResponse, outcome: Outcome) -> None:
        """A success read: its outcome kept, and its parse for ``json()``."""
        response._payerr_outcome = outcome  # type: ignore[attr-defined]  # aiohttp's has no extensions
        if type(response) is ParsedResponse:  # a session's own response_class has no hand-over
            offer(response, outcome.data)

    @staticmethod
    def path_of(sending: _Sending) -> str:
        return sending.request.url.path

    @staticmethod
    def details(
        call: Call, sending: _Sending, response: aiohttp.ClientResponse, body: bytes
    ) -> tuple[RawResponse, Any]:
        request, url = sending.request, sending.text or sending.url()
        raw = answer_of(
            response.status,
            response.headers,
            body,
            url,
            request.method,
            sending.body,
            request.headers,
        )
        return raw, call.facts(request.method, url, sending.body, request.headers)

    @staticmethod
    def _end(call: Call, sending: _Sending, error: PayError) -> aiohttp.ClientResponse:
        return call.end(error, partial(_local_answer, sending.request))


def _where(sending: _Sending) -> tuple[str, str]:
    url = sending.request.url
    return url.path, url.host or ""


def _sent(sending: _Sending) -> tuple[str, bytes]:
    return sending.url(), sending.body


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
