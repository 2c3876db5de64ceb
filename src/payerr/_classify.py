"""Reading a response: success, or one typed error that says what to do next.

``inspect`` never raises for a response; every path ends in an ``Outcome``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from . import _catalog as _catalog_module
from ._catalog import CodeInfo, ProviderSpec, catalog
from ._decode import parse_json, parse_json_slowly
from ._enums import Category, Processed, RetryHint
from ._envelopes import READERS, Reading
from ._errors import PayError, error_class
from ._raw import RawResponse, as_raw, attach_outcome, cached_outcome
from ._redact import redact_text, redact_url, secret_values
from ._retry_after import parse_retry_after, window_wait

IDEMPOTENT_HTTP_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})


class Outcome:
    """What a response means: ``ok`` with ``data``, or an ``error`` (never raised here).

    The error is built when first asked for: a caller who only wants ``ok`` and
    ``data`` pays for reading the envelope, not for the exception.
    """

    __slots__ = ("_build", "_error", "data", "ok", "provider")

    def __init__(
        self,
        ok: bool,
        data: dict[str, Any] | None,
        error: PayError | None = None,
        provider: str | None = None,
        *,
        build: Callable[[], PayError] | None = None,
    ) -> None:
        self.ok = ok
        self.data = data
        self.provider = provider
        self._error = error
        self._build = build

    @property
    def error(self) -> PayError | None:
        """The typed error, or None on success; the same object on every access."""
        if self._build is not None:
            with _BUILDING:
                if self._build is not None:
                    self._error = self._build()
                    self._build = None  # only once built: a failed build is not a success
        return self._error

    def unwrap(self) -> dict[str, Any]:
        """The data on success; the error raised otherwise."""
        error = self.error
        if error is not None:
            raise error
        return self.data if self.data is not None else {}

    def __repr__(self) -> str:
        shown = "ok" if self.ok else repr(self.error)
        return f"Outcome({shown}, provider={self.provider!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Outcome, (self.ok, self.data, self.error, self.provider))


_BUILDING = threading.Lock()
"""Two threads asking for one outcome's error get the same object."""


def _generic(
    category: Category, zh: str, en: str, fix_zh: str, fix_en: str, retry: RetryHint | None = None
) -> CodeInfo:
    cls = error_class(category, None)
    return CodeInfo(
        provider="",
        code="",
        category=category,
        retry=retry or cls.default_retry,
        processed=cls.default_processed,
        message_zh=zh,
        message_en=en,
        solution_zh=fix_zh,
        solution_en=fix_en,
    )


_AUTH = _generic(
    Category.AUTH,
    "身份校验失败。",
    "Authentication failed.",
    "刷新访问令牌或重新签名后再试。",
    "Refresh the token or re-sign, then retry.",
)
_STATUS_RULES: Mapping[int, CodeInfo] = {
    401: _AUTH,
    403: _generic(
        Category.FORBIDDEN,
        "无权访问该接口或资源。",
        "Not allowed to use this API or resource.",
        "检查应用权限与签约产品。",
        "Check the app's permissions and contracted products.",
    ),
    404: _generic(
        Category.NOT_FOUND,
        "资源不存在。",
        "The resource does not exist.",
        "检查请求地址与资源标识。",
        "Check the URL and the resource identifiers.",
    ),
    429: _generic(
        Category.RATE_LIMITED,
        "请求过于频繁。",
        "Too many requests.",
        "降低调用频率，按 Retry-After 等待后重试。",
        "Slow down; wait as Retry-After says, then retry.",
    ),
}
_CLIENT_ERROR = _generic(
    Category.INVALID_REQUEST,
    "请求被拒绝（4xx）。",
    "The request was rejected (4xx).",
    "检查请求参数与格式。",
    "Check the request's parameters and format.",
)
_SERVER_ERROR = _generic(
    Category.UNAVAILABLE,
    "服务端错误或网关异常（5xx）。",
    "Server or gateway failure (5xx).",
    "稍后重试；涉及资金的请求先查询结果。",
    "Retry later; for requests that move money, query the outcome first.",
)
_MALFORMED = _generic(
    Category.MALFORMED,
    "成功状态码但响应体无法读取。",
    "A success status with an unreadable body.",
    "先查询该笔业务的结果，再决定是否重发。",
    "Query the outcome before sending again.",
    RetryHint.BACKOFF,  # resolved to QUERY_FIRST below unless the request is idempotent
)
_NETWORK = _generic(
    Category.NETWORK,
    "请求未能发出（连接被拒绝或连接超时）。",
    "The request never left (connection refused or connect timeout).",
    "稍后重试；请求未到达服务商。",
    "Retry later; the provider never saw the request.",
)
_OUTCOME_UNKNOWN = _generic(
    Category.OUTCOME_UNKNOWN,
    "请求已发出但没有得到应答，可能已被处理。",
    "The request was sent but no answer came; it may have been processed.",
    "先查询该笔业务的结果，再决定是否重发。",
    "Query the outcome before sending again.",
    RetryHint.BACKOFF,  # resolved to QUERY_FIRST below unless the request is idempotent
)
_UNKNOWN_HINT = (
    "目录中没有该错误码，请查阅服务商文档。",
    "The catalog does not know this code; see the provider's docs.",
)


def status_rule(spec: ProviderSpec | None, status: int) -> CodeInfo:
    """How a status without a provider envelope maps (DESIGN: 401/403/404/429, 4xx, 5xx)."""
    if spec is not None:
        found = spec.statuses.get(status)
        if found is not None:
            return found
    return _STATUS_RULES.get(status) or (_SERVER_ERROR if status >= 500 else _CLIENT_ERROR)


@dataclass(slots=True)
class RequestFacts:
    """What the request said that matters when its answer is an error."""

    http_method: str
    url: str
    body: bytes
    headers: Mapping[str, str]
    marked_idempotent: bool | None = None

    def fields(self) -> dict[str, Any]:
        """Top-level parameters from the query, a form or a JSON body (and Alipay biz_content)."""
        found: dict[str, Any] = {}
        try:
            found.update(parse_qsl(urlsplit(self.url).query))
        except ValueError:
            pass
        body = self.body.strip()
        if body.startswith(b"{"):
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict):
                found.update(parsed)
        elif body and b"=" in body:
            try:
                found.update(parse_qsl(body.decode("utf-8", "replace")))
            except ValueError:
                pass
        biz = found.get("biz_content")
        if isinstance(biz, str) and biz.lstrip().startswith("{"):
            try:
                inner = json.loads(biz)
            except (ValueError, RecursionError):
                inner = None
            if isinstance(inner, dict):
                found = {**inner, **found}
        return found

    def api_method(self, spec: ProviderSpec, fields: Mapping[str, Any]) -> str:
        """The provider's name for the call: Alipay's ``method``, otherwise the URL path."""
        if spec.envelope == "alipay":
            method = fields.get("method")
            if isinstance(method, str) and method:
                return method
        try:
            return urlsplit(self.url).path or "/"
        except ValueError:
            return "/"


def facts_of(raw: RawResponse) -> RequestFacts:
    return RequestFacts(raw.method, raw.url, raw.request_body, raw.request_headers)


Parsed = tuple[Any, "str | None", "Reading | None"]
"""A body read once: (JSON value, why it is not JSON, what the envelope says)."""


def read_envelope(
    spec: ProviderSpec, status: int, body: bytes, headers: Mapping[str, str], path: str
) -> Parsed:
    """Parse the body and read the provider's envelope, once per response."""
    try:
        data, problem = orjson.loads(body), None  # the common case, without a call more
    except orjson.JSONDecodeError:
        data, problem = parse_json_slowly(body, headers.get("content-type"))
    reading = READERS[spec.envelope](status, data, path) if type(data) is dict else None
    if reading is not None and not reading.ok and reading.code in spec.success:
        reading.ok = True
    return data, problem, reading


def classify(
    raw: RawResponse,
    spec: ProviderSpec | None,
    facts: RequestFacts | None = None,
    *,
    now: float | None = None,
    parsed: Parsed | None = None,
) -> Outcome:
    """The one place a response becomes success or an error (the error built on demand)."""
    status = raw.status_code
    if now is None:
        now = time.time()  # Retry-After dates and quota windows count from the answer
    if spec is None:
        data, problem = parse_json(raw.body, raw.headers.get("content-type"))
        if status < 400:
            return Outcome(True, data if isinstance(data, dict) else {}, None, None)
        info = status_rule(None, status)
        build = partial(_build, raw, None, info, Reading(ok=False), data, facts, now)
        return Outcome(False, _dict_or_none(data), None, None, build=build)
    if parsed is None:
        parsed = read_envelope(spec, status, raw.body, raw.headers, raw.path)
    data, problem, reading = parsed
    if reading is not None:
        if reading.ok and status < 400:
            return Outcome(True, data, None, spec.name)
        if not reading.ok:
            build = partial(_build_coded, raw, spec, reading, data, facts, now)
            return Outcome(False, data, None, spec.name, build=build)
    elif data is not None and type(data) is not dict:
        problem = f"JSON {type(data).__name__}, not an object"
    if status < 400:
        if 200 <= status < 300 and not (status in (204, 205) or raw.method == "HEAD"):
            why = problem or f"no {spec.display} response envelope"
            reading = Reading(ok=False, message=f"unreadable {spec.display} response: {why}")
            build = partial(_build, raw, spec, _MALFORMED, reading, data, facts, now)
            return Outcome(False, _dict_or_none(data), None, spec.name, build=build)
        return Outcome(True, data if isinstance(data, dict) else {}, None, spec.name)
    if reading is None:
        reading = Reading(ok=False)
    build = partial(_build, raw, spec, status_rule(spec, status), reading, data, facts, now)
    return Outcome(False, _dict_or_none(data), None, spec.name, build=build)


def _build_coded(
    raw: RawResponse,
    spec: ProviderSpec,
    reading: Reading,
    data: Any,
    facts: RequestFacts | None,
    now: float,
) -> PayError:
    """An error for a code the provider sent: looked up in the table, then built."""
    info = spec.lookup(reading.code, reading.sub_code)
    return _build(raw, spec, info, reading, data, facts, now)


def _dict_or_none(data: Any) -> dict[str, Any] | None:
    return data if isinstance(data, dict) else None


def _build(
    raw: RawResponse,
    spec: ProviderSpec | None,
    info: CodeInfo | None,
    reading: Reading,
    data: Any,
    facts: RequestFacts | None,
    now: float | None,
) -> PayError:
    """An error from the table entry, with the hint resolved for this very request."""
    facts = facts or facts_of(raw)
    fields = facts.fields()
    api_method = reading.api_method
    if spec is not None and (api_method is None or "method" in fields):
        api_method = facts.api_method(spec, fields)
    if info is not None:
        info = info.on(api_method)
    now = time.time() if now is None else now
    if info is None:
        category, retry, processed = Category.UNKNOWN, RetryHint.NEVER, Processed.MAYBE
        solution_zh, solution_en = _UNKNOWN_HINT
        window = None
    else:
        category = info.category or Category.UNKNOWN
        retry, processed = info.retry, info.processed
        solution_zh, solution_en, window = info.solution_zh, info.solution_en, info.window
    retry_after = parse_retry_after(raw.headers, now)
    if retry_after is None:
        retry_after = window_wait(window, now)
    idempotent = facts.marked_idempotent
    if idempotent is None:
        idempotent = facts.http_method in IDEMPOTENT_HTTP_METHODS or (
            spec is not None and spec.is_idempotent(api_method, fields)
        )
    if retry is RetryHint.BACKOFF and processed is not Processed.NO and not idempotent:
        retry = RetryHint.QUERY_FIRST  # resending might do it twice: find out first
    secrets = secret_values(facts.url, facts.headers, fields)
    body = raw.body
    if secrets and any(s.encode() in body for s in secrets):
        for value in secrets:
            body = body.replace(value.encode(), b"***")
        data, _ = parse_json(body, raw.headers.get("content-type"))
    message, request_id = reading.message_and_request_id()
    if request_id is None and spec is not None:
        for header in spec.request_id_headers:
            request_id = raw.headers.get(header)
            if request_id:
                break
    if not message and info is not None:
        message = info.provider_message or info.message_en
    cls = error_class(category, spec.name if spec else None)
    return cls(
        redact_text(message, secrets),
        provider=spec.name if spec else None,
        code=reading.code,
        sub_code=reading.sub_code,
        sub_message=redact_text(reading.sub_message, secrets) if reading.sub_message else None,
        http_status=raw.status_code,
        retry=retry,
        retry_after=retry_after,
        request_id=request_id,
        solution=solution_en,
        solution_zh=solution_zh,
        body=data if isinstance(data, dict) else None,
        raw=body,
        url=redact_url(facts.url or raw.url),
        api_method=api_method,
        processed=processed,
    )


def transport_error(
    category: Category, message: str, spec: ProviderSpec | None, facts: RequestFacts
) -> PayError:
    """An error for a request that got no usable answer (never sent, or no reply)."""
    info = _NETWORK if category is Category.NETWORK else _OUTCOME_UNKNOWN
    raw = RawResponse(0, {}, b"", facts.url, facts.http_method)
    error = _build(raw, spec, info, Reading(ok=False, message=message), None, facts, None)
    error.http_status = None
    return error


def resolve_spec(raw: RawResponse, provider: str | None) -> ProviderSpec | None:
    """The adapter for a response: the one named, or the one claiming the URL's host."""
    cat = _catalog_module._catalog or catalog()
    if provider is not None:
        return cat.spec(provider)
    return cat.spec_for_host(raw.host)


def inspect(response: Any, provider: str | None = None) -> Outcome:
    """Read a response into an ``Outcome``; never raises for anything the server sent.

    ``provider=None`` picks the adapter by the URL's host; a host no adapter
    claims is read by HTTP status alone.
    """
    if type(response) is RawResponse:  # immutable: nothing cached on it, nothing to attach
        return classify(response, resolve_spec(response, provider))
    cached = cached_outcome(response)
    if isinstance(cached, Outcome) and (provider is None or cached.provider == provider):
        return cached
    raw = as_raw(response)
    outcome = classify(raw, resolve_spec(raw, provider))
    attach_outcome(response, outcome)
    return outcome


def raise_for_response(response: Any, provider: str | None = None) -> dict[str, Any]:
    """The parsed body on success; the typed ``PayError`` raised otherwise."""
    return inspect(response, provider).unwrap()
