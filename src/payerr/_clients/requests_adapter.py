"""requests middleware: an ``HTTPAdapter`` that reads provider errors and retries safely.

    session.mount("https://", payerr.RequestsAdapter(policy=payerr.RetryPolicy()))

urllib3's own retries are off underneath (``max_retries=0``): payerr decides.
Mark a POST as safe to resend with the ``Payerr-Idempotent: 1`` header; it is
removed before the request is sent.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Unpack

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from .._engine.call import Call
from .._engine.engine import IDEMPOTENT_HEADER, Engine, EngineViews
from .._enums import Category
from .._errors import PayError, as_client_error
from .._lazy import Lazy
from .._reading.outcome import Failure, Outcome
from .._reading.raw import RawResponse, _body_of, _host, _path, answer_of, attach_outcome
from .._retry.safety import parse_mark
from .bounds import ReadDeadline, head_of
from .handover import MISSING, offer, take
from .inflate import BodyDecodeError
from .options import OPTION_NAMES, Options, engine_args
from .requests_bodies import peek_file_requests, read_bounded_requests
from .requests_head import WATCH, Watch, passed, unwatch, watched_pools

if TYPE_CHECKING:
    from .._engine import failures as _failures
else:  # the typed errors of a send or a read that broke: loaded with the first one
    _failures = Lazy("payerr._engine.failures")

_NEVER_SENT_CAUSES = (
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.NameResolutionError,
)


def _client_kind(exc: Exception) -> type[requests.RequestException]:
    """The requests exception an answer's failure is also an instance of, so handlers
    written for requests (``except requests.ConnectionError``) keep catching."""
    if isinstance(exc, requests.RequestException):
        return type(exc)
    if isinstance(exc, BodyDecodeError):
        return requests.exceptions.ContentDecodingError
    if isinstance(exc, ReadDeadline | urllib3.exceptions.ReadTimeoutError):
        return requests.exceptions.ReadTimeout
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return requests.exceptions.ChunkedEncodingError
    return requests.exceptions.ConnectionError


def _category(exc: Exception) -> Category | None:
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.ProxyError):
        return Category.NETWORK
    if isinstance(exc, urllib3.exceptions.HTTPError | requests.exceptions.InvalidHeader):
        return Category.OUTCOME_UNKNOWN  # the answer broke while being read (or its headers)
    if isinstance(
        exc,
        requests.ReadTimeout
        | requests.exceptions.ChunkedEncodingError
        | requests.exceptions.ContentDecodingError,
    ):
        return Category.OUTCOME_UNKNOWN
    if isinstance(exc, requests.ConnectionError):
        cause: Any = exc.args[0] if exc.args else None
        cause = getattr(cause, "reason", cause)  # MaxRetryError wraps the real cause
        if isinstance(cause, _NEVER_SENT_CAUSES):
            return Category.NETWORK
        return Category.OUTCOME_UNKNOWN
    return None


class ParsedResponse(requests.Response):
    """A ``requests.Response`` whose first ``json()`` is the parse payerr already made."""

    def json(self, **kwargs: Any) -> Any:
        if not kwargs:
            content = self._content  # what payerr read: its own, without the property's call
            if type(content) is not bytes:
                content = self.content
            data = take(self, content, self.encoding)
            if data is not MISSING:
                return data
        return super().json(**kwargs)


def _building(kind: type[requests.Response]) -> Callable[..., requests.Response] | None:
    """requests' own ``HTTPAdapter.build_response``, run with its ``Response`` meaning
    ``kind``: the response is made as ``kind``, as requests makes its own, whatever its
    version. Changing a made response's class instead moves its attributes into a dict on
    CPython 3.11 (``bench/instructions.py``, "Round 9"). None when requests' code names no
    ``Response`` to rebind: responses are then made as requests makes them."""
    own = HTTPAdapter.build_response
    if (
        own.__closure__  # not requests' plain function over its module's ``Response``
        or own.__globals__.get("Response") is not requests.Response
        or "Response" not in own.__code__.co_names
    ):
        return None
    scope = {**own.__globals__, "Response": kind}
    made = types.FunctionType(own.__code__, scope, own.__name__, own.__defaults__)
    made.__kwdefaults__ = own.__kwdefaults__
    return made


_BUILD_PARSED = _building(ParsedResponse)


class AdapterOptions(Options, total=False):
    """``Options`` and the keywords of requests' own ``HTTPAdapter``."""

    pool_connections: int
    pool_maxsize: int
    max_retries: Any
    pool_block: bool


class RequestsAdapter(EngineViews, HTTPAdapter):
    """Typed errors and safe retries for a ``requests.Session``.

    ``RequestsAdapter(*, policy=None, provider=None, credentials=None, coordinator=None,
    app="default", **adapter)``: each keyword means what it means for ``payerr.Transport``;
    ``adapter`` holds ``HTTPAdapter``'s own (``pool_connections``, ``pool_maxsize``,
    ``pool_block``; ``max_retries`` is 0 unless given: payerr decides).
    """

    __attrs__ = [*HTTPAdapter.__attrs__, "_payerr_args"]  # noqa: RUF012  (requests pickles these)

    def __init__(self, **options: Unpack[AdapterOptions]) -> None:
        adapter: dict[str, Any] = {"max_retries": 0}  # urllib3 never retries: payerr decides
        adapter.update((k, v) for k, v in options.items() if k not in OPTION_NAMES)
        ours = {k: v for k, v in options.items() if k in OPTION_NAMES}
        self._payerr_args = engine_args(ours, "RequestsAdapter")
        self._engine = Engine(*self._payerr_args)
        self._cap = self._engine.policy.body_cap
        super().__init__(**adapter)

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        """requests' own, making a ``ParsedResponse`` (whose first ``json()`` is payerr's parse)."""
        if _BUILD_PARSED is None:
            return super().build_response(req, resp)
        return _BUILD_PARSED(self, req, resp)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        watched_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        return watched_pools(super().proxy_manager_for(proxy, **kwargs))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)  # type: ignore[misc]
        self._engine = Engine(*self._payerr_args)
        self._cap = self._engine.policy.body_cap

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        marked = None
        if _has_mark(request.headers):
            marked = parse_mark(request.headers.pop(IDEMPOTENT_HEADER), source=_MARK_SOURCE)
        engine = self._engine
        route = engine.route(_host(request.url or "") if engine.provider is None else None)
        if route is None:
            return super().send(request, stream, timeout, verify, cert, proxies)
        call = Call(engine, route, marked, request, _where, _sent)
        options = (stream, timeout, verify, cert, proxies)
        body = request.body  # bytes (or nothing) need no rewinding: decided without a call
        rewind = _nothing if body is None or type(body) is bytes else _rewinder(body)
        if rewind is None:
            call.replayable = False  # a generator body goes out once
        return call.run(self._attempt, self._end, (call, request, options), rewind)

    @staticmethod
    def _end(
        call: Call, request: requests.PreparedRequest, _options: object, error: PayError
    ) -> requests.Response:
        return call.end(error, partial(_local_response, request))

    def _attempt(
        self, call: Call, request: requests.PreparedRequest, options: tuple[Any, ...]
    ) -> requests.Response | Failure:
        sent = request if call.ready() else self._prepared(call, request)
        _stream, timeout, verify, cert, proxies = options
        response: requests.Response | None = None
        deadline = call.deadline_at
        watch: Watch = [deadline]  # the deadline covers the status line and headers
        watching = WATCH.set(watch)
        try:  # always streamed here, so a body over the cap is never loaded
            response = super().send(sent, True, timeout, verify, cert, proxies)
            declared = head_of(response.status_code, response.headers)
            if declared.file and peek_file_requests(response, declared):
                return call.passed(response)
            content, head, read = read_bounded_requests(response, self._cap, deadline, declared)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            failure = self._no_answer(call, sent, watch, exc)
            if failure is None:
                raise
            raise failure from exc
        except (BodyDecodeError, ReadDeadline) as exc:
            status = response.status_code if response is not None else 0
            error = _failures.unreadable(call.spec, exc, status, self._facts(call, sent))
            raise as_client_error(error, _client_kind(exc), None) from exc
        finally:
            if len(watch) > 1:
                unwatch(watch)
            WATCH.reset(watching)
        if read is not None:  # read to its end: back to the pool, now that no watch is on it
            read.release_conn()
        if content is None:  # over the cap: a success goes back as a stream, a failure by status
            if response.status_code < 400:
                return call.passed(response)
            content = head
        return self._settle(call, sent, response, content)

    @staticmethod
    def _prepared(call: Call, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """The request to send when there is something to do first (``call.ready()`` is
        False): credentials rewrite a copy per attempt, never the caller's."""
        call.prepare()
        sent: requests.PreparedRequest = call.apply(request, requests.PreparedRequest.copy)
        return sent

    def _no_answer(
        self, call: Call, sent: requests.PreparedRequest, watch: Watch, exc: Exception
    ) -> PayError | None:
        """The typed error for a send that got no answer; None: not ours, raise it as it is."""
        if passed(watch):  # the watchdog cut the connection: the deadline, typed as such
            late = ReadDeadline("the answer was not in by the retry policy's deadline")
            error = _failures.unreadable(call.spec, late, 0, self._facts(call, sent))
            return as_client_error(error, _client_kind(late), None)
        category = _category(exc)
        if category is None:
            return None
        error = _failures.no_answer(call.spec, category, exc, self._facts(call, sent))
        return as_client_error(error, _client_kind(exc), exc)

    def _settle(
        self, call: Call, sent: requests.PreparedRequest, response: requests.Response, body: bytes
    ) -> requests.Response | Failure:
        return call.settle(response, response.status_code, response.headers, body, self, sent)

    @staticmethod
    def answered(response: requests.Response, outcome: Outcome) -> None:
        """A success: its outcome kept on the response, its parse for the first json()."""
        kind = type(response)
        if kind is ParsedResponse or kind is requests.Response:  # not a subclass of yours
            response._payerr_outcome = outcome  # type: ignore[attr-defined]
            offer(response, outcome.data)
            if kind is not ParsedResponse:  # made by another build_response: requests' own class
                response.__class__ = ParsedResponse
        else:
            attach_outcome(response, outcome)

    @staticmethod
    def path_of(sent: requests.PreparedRequest) -> str:
        return _path(sent.url or "")

    def details(
        self, call: Call, sent: requests.PreparedRequest, response: requests.Response, body: bytes
    ) -> tuple[RawResponse, Any]:
        """The full view of an answer that is not a success (``Call.settle`` asks)."""
        raw = answer_of(
            response.status_code,
            response.headers,
            body,
            sent.url or "",
            (sent.method or "POST").upper(),  # a request prepared by hand may say "post"
            _body_of(sent),
            sent.headers or {},
        )
        return raw, self._facts(call, sent)

    @staticmethod
    def _facts(call: Call, sent: requests.PreparedRequest) -> Any:
        return call.facts(sent.method or "POST", sent.url or "", _body_of(sent), sent.headers)


_MARK_SOURCE = f"header {IDEMPOTENT_HEADER}"
_MARK_KEY = IDEMPOTENT_HEADER.lower()


def _has_mark(headers: Any) -> bool:
    """Whether the caller marked the request. requests' headers are looked at in their own
    store (lower-cased names): their ``in`` raises and catches a ``KeyError`` when absent."""
    store = getattr(headers, "_store", None)
    if isinstance(store, dict):
        return _MARK_KEY in store
    return IDEMPOTENT_HEADER in headers


def _where(request: requests.PreparedRequest) -> tuple[str, str]:
    url = request.url or ""
    return _path(url), _host(url)


def _sent(request: requests.PreparedRequest) -> tuple[str, bytes]:
    return request.url or "", _body_of(request)


def _rewinder(body: Any) -> Callable[[], None] | None:
    """How to send the body again: nothing to do for bytes, a seek for a file, None for
    a generator (it can be read once only)."""
    if body is None or isinstance(body, bytes | str):
        return _nothing
    seek, tell = getattr(body, "seek", None), getattr(body, "tell", None)
    if callable(seek) and callable(tell):
        try:
            start = tell()
        except OSError:
            return None
        return lambda: seek(start)
    return None


def _nothing() -> None:
    pass


def _local_response(
    request: requests.PreparedRequest, status: int, headers: dict[str, str], body: bytes
) -> requests.Response:
    """A response payerr answers itself (a request a cooldown held back)."""
    from requests.structures import CaseInsensitiveDict

    response = requests.Response()
    response.status_code = status
    response.reason = "Too Many Requests"
    response.headers = CaseInsensitiveDict(headers)
    response._content = body
    response.encoding = "utf-8"
    response.url = request.url or ""
    response.request = request
    return response
