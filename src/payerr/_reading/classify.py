"""Reading a response: success, or one typed error that says what to do next.

``inspect`` never raises for a response; every path ends in an ``Outcome``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from .._catalog import registry as _catalog_module
from .._catalog.envelopes import (
    Format,
    Reading,
    looks_like_envelope,
    looks_like_form,
    looks_like_xml,
    parse_form,
    parse_xml,
)
from .._catalog.generic import generic, is_file
from .._catalog.registry import CodeInfo, ProviderSpec, catalog
from .._enums import Category, Processed, RetryHint
from .._errors import PayError, error_class
from .._retry.policy import RetryPolicy
from .._retry.safety import resolve_hint, safe_to_resend
from .decode import parse_json, parse_json_slowly
from .raw import RawResponse, as_raw, attach_outcome, cached_outcome
from .redact import is_secret_name, redact_text, redact_url, secret_values, spellings
from .retry_after import parse_retry_after, window_wait

DEFAULT_MAX_COOLDOWN = RetryPolicy().max_cooldown
"""The cap on a server's Retry-After for readers without a policy (``inspect``)."""


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


def status_rule(spec: ProviderSpec | None, status: int) -> CodeInfo:
    """How a status without a readable provider code maps: the adapter's own table,
    then the generic one (401/403/404/409/429), then 4xx / 5xx."""
    if spec is not None:
        found = spec.statuses.get(status)
        if found is not None:
            return found
    texts = generic()
    found = texts.statuses.get(status)
    if found is not None:
        return found
    return texts.server_error if status >= 500 else texts.client_error


def status_says_more(spec: ProviderSpec | None, status: int) -> bool:
    """Whether a status tells more than "it failed" (so an unknown code keeps its meaning)."""
    if status >= 500 or status in generic().statuses:
        return True
    return spec is not None and status in spec.statuses and status not in (200, 400)


@dataclass(slots=True)
class RequestFacts:
    """What the request said that matters when its answer is an error."""

    http_method: str
    url: str
    body: bytes
    headers: Mapping[str, str]
    marked_idempotent: bool | None = None

    def fields(self, nested: Iterable[str] = ()) -> dict[str, Any]:
        """Top-level parameters from the query, a form or a JSON body, and those of the
        ``nested`` fields holding a JSON object (the adapter's ``nested_fields``)."""
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
        for name in nested:
            value = found.get(name)
            if isinstance(value, str) and value.lstrip().startswith("{"):
                try:
                    inner = json.loads(value)
                except (ValueError, RecursionError):
                    inner = None
                if isinstance(inner, dict):
                    found = {**inner, **found}
        return found

    def path(self) -> str:
        try:
            return urlsplit(self.url).path
        except ValueError:
            return ""


def facts_of(raw: RawResponse) -> RequestFacts:
    return RequestFacts(raw.method, raw.url, raw.request_body, raw.request_headers)


Parsed = tuple[Any, "str | None", "Reading | None"]
"""A body read once: (parsed value, why it could not be read, what the envelope says)."""

FILE = Reading(ok=True)
"""A success whose body is a file: handed over as it is, never parsed."""


def read_envelope(
    spec: ProviderSpec, status: int, body: bytes, headers: Mapping[str, str], path: str
) -> Parsed:
    """Parse the body and read the provider's envelope, once per response."""
    body_format: Format = "json"
    try:
        data, problem = orjson.loads(body), None  # the common case, without a call more
    except orjson.JSONDecodeError:
        if is_file_success(status, headers, body, spec, path):
            return {}, None, FILE
        if spec.reads_xml and looks_like_xml(body):
            data, problem = parse_xml(body)
            body_format = "xml"
        elif spec.reads_form and looks_like_form(body):
            data, problem = parse_form(body, headers.get("content-type"))
            body_format = "form"
        else:
            data, problem = parse_json_slowly(body, headers.get("content-type"))
    envelope = spec.envelope_for(path, body_format) if spec.reads_path else spec.envelopes[0]
    if envelope is None:
        return data, problem, None
    if type(data) is dict:
        success = spec.success if status not in envelope.pending_statuses else ()
        reading = envelope.read(status, data, success)
    elif status in envelope.pending_statuses:
        reading = envelope.read(status, {})  # "accepted" with no body is still pending
    else:
        return data, problem, None
    if (
        reading is not None
        and not reading.ok
        and reading.code in spec.success
        and status not in envelope.pending_statuses
    ):
        reading.ok = True
    return data, problem, reading


def is_file_success(
    status: int,
    headers: Mapping[str, str],
    head: bytes,
    spec: ProviderSpec | None = None,
    path: str = "",
) -> bool:
    """A 2xx whose headers say file and whose first bytes are no error envelope.

    An empty body is a file only where the envelope declared for the path would read an
    answer with nothing in it as a success: a gateway that always names a code
    (``code_required``, an answer node) never answers a call with zero bytes.
    """
    return (
        200 <= status < 300
        and is_file(headers.get("content-type"), headers.get("content-disposition"))
        and not looks_like_envelope(head[:64])
        and (bool(head) or not _answer_required(spec, status, path))
    )


def _answer_required(spec: ProviderSpec | None, status: int, path: str) -> bool:
    """Whether the envelope declared for this path reads an empty answer as unreadable."""
    if spec is None:
        return False
    envelope = next((e for e in spec.envelopes if e.covers(path, e.format)), None)
    return envelope is not None and envelope.read(status, {}) is None


def classify(
    raw: RawResponse,
    spec: ProviderSpec | None,
    facts: RequestFacts | None = None,
    *,
    now: float | None = None,
    parsed: Parsed | None = None,
) -> Outcome:
    """The one place a response becomes success or an error (the error built on demand).

    Long because it is the decision table of DESIGN's reading rules, kept whole.
    """
    status = raw.status_code
    if now is None:
        now = time.time()  # Retry-After dates and quota windows count from the answer
    if spec is None:
        if is_file_success(status, raw.headers, raw.body):
            return Outcome(True, {}, None, None)
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
            build = partial(_build, raw, spec, generic().malformed, reading, data, facts, now)
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
    if reading.code is None:  # a status that is an answer of its own (WeChat Pay v3 202)
        return _build(raw, spec, status_rule(spec, raw.status_code), reading, data, facts, now)
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
    """An error from the table entry, with the hint resolved for this very request.

    Long only because the error carries every attribute of the error model.
    """
    facts = facts or facts_of(raw)
    fields = facts.fields(spec.nested_fields if spec else ())
    api_method = _name_of_call(spec, reading, facts.path() or raw.path, fields)
    info, known = _meaning(spec, info, raw.status_code, api_method)
    category, retry, processed = info.category or Category.UNKNOWN, info.retry, info.processed
    if raw.status_code == 429 and category is not Category.RATE_LIMITED:
        # Throttled at the door: whatever the code says, nothing ran and waiting helps.
        category, retry, processed = Category.RATE_LIMITED, RetryHint.BACKOFF, Processed.NO
    now = time.time() if now is None else now
    sent_wait = parse_retry_after(raw.headers, now)
    if sent_wait is None:
        retry_after = window_wait(info.window, now, spec.day_reset if spec else 0)
    else:  # what a reader honours by default; a transport caps with its own policy
        retry_after = min(sent_wait, DEFAULT_MAX_COOLDOWN)
    resendable = safe_to_resend(
        spec, facts.http_method, api_method, fields, facts.marked_idempotent
    )
    secrets = secret_values(facts.url, facts.headers, fields)
    body, data = _scrubbed(raw, data, secrets)
    message, request_id = _message_and_request_id(reading, spec, raw.headers)
    if not message and known:
        message = info.provider_message or info.message_en
    cls = error_class(category, spec.name if spec else None)
    error = cls(
        redact_text(message, secrets),
        provider=spec.name if spec else None,
        code=reading.code,
        sub_code=reading.sub_code,
        sub_message=redact_text(reading.sub_message, secrets) if reading.sub_message else None,
        http_status=raw.status_code,
        retry=resolve_hint(retry, processed, resendable),
        retry_after=retry_after,
        request_id=request_id,
        solution=info.solution_en,
        solution_zh=info.solution_zh,
        body=data if isinstance(data, dict) else None,
        raw=body,
        url=redact_url(facts.url or raw.url),
        api_method=api_method,
        processed=processed,
        known=known,
    )
    if sent_wait is not None:
        error.server_retry_after = sent_wait
    return error


def _name_of_call(
    spec: ProviderSpec | None, reading: Reading, path: str, fields: Mapping[str, Any]
) -> str | None:
    """The provider's name for the call, as its envelope says to find it."""
    if spec is None:
        return None
    envelope = reading.envelope or spec.envelope_for(path) or spec.envelope
    return envelope.name_of_call(reading, path, fields)


def api_of_request(
    spec: ProviderSpec, path: str, sent: Callable[[], tuple[str, bytes]] | None
) -> str:
    """The API a per-API quota counts a request under, known before any answer: the
    call's name where its envelope says a request field names it (Alipay's ``method``,
    UnionPay's ``txnType``), the name its path gives (``path:<prefix>``), else the path."""
    envelope = spec.envelope_for(path) or spec.envelope
    sources = envelope.api_method
    if sources == ("path",):
        return path
    fields: Mapping[str, Any] = {}
    if sent is not None and any(source.startswith("param:") for source in sources):
        url, body = sent()
        fields = RequestFacts("", url, body, {}).fields(spec.nested_fields)
    return envelope.name_of_call(None, path, fields)


def _meaning(
    spec: ProviderSpec | None, info: CodeInfo | None, status: int, api_method: str | None
) -> tuple[CodeInfo, bool]:
    """(what the answer means for this API, whether its code is in the catalog).

    A code the catalog does not know keeps what the HTTP status says, when it says
    more than 200/400; otherwise it is simply unknown.
    """
    known = info is not None
    if info is None:
        info = status_rule(spec, status) if status_says_more(spec, status) else None
        info = info or generic().unknown_code
    return info.on(api_method), known


OWN_SECRETS = 16
"""Secret-named fields a form answer may carry (UnionPay's carry a handful). A body with
more keeps neither its bytes nor its parse in the error: every spelling of every value,
each searched through the whole body, would be quadratic."""


def _scrubbed(raw: RawResponse, data: Any, secrets: tuple[str, ...]) -> tuple[bytes, Any]:
    """The body with every spelling of the request's secrets masked, and its parse.

    A form answer carries its own secrets by name (UnionPay's card number,
    signature and certificate): their values go too.
    """
    body = raw.body
    form = type(data) is dict and looks_like_form(body)
    if form:
        own = [v for k, v in data.items() if is_secret_name(k) and isinstance(v, str) and v]
        if len(own) > OWN_SECRETS:  # not an answer: masking each would cost fields × size
            return b"", None
        every = {*secrets, *(spelled for value in own for spelled in spellings(value))}
        secrets = tuple(sorted(every, key=len, reverse=True))  # longest first: none cut short
    if not secrets or not any(s.encode() in body for s in secrets):
        return body, data
    for value in secrets:
        body = body.replace(value.encode(), b"***")
    if form:
        return body, parse_form(body, raw.headers.get("content-type"))[0]
    if looks_like_xml(body):
        return body, parse_xml(body)[0]
    return body, parse_json(body, raw.headers.get("content-type"))[0]


def _message_and_request_id(
    reading: Reading, spec: ProviderSpec | None, headers: Mapping[str, str]
) -> tuple[str, str | None]:
    """The message, and the request id from the message or the provider's header."""
    message, request_id = reading.message_and_request_id()
    if request_id is None and spec is not None:
        for header in spec.request_id_headers:
            request_id = headers.get(header)
            if request_id:
                break
    return message, request_id


def transport_error(
    category: Category, message: str, spec: ProviderSpec | None, facts: RequestFacts
) -> PayError:
    """An error for a request that got no usable answer (never sent, or no reply)."""
    texts = generic()
    info = texts.network if category is Category.NETWORK else texts.outcome_unknown
    raw = RawResponse(0, {}, b"", facts.url, facts.http_method)
    error = _build(raw, spec, info, Reading(ok=False, message=message), None, facts, None)
    error.http_status = None
    return error


def cooldown_error(spec: ProviderSpec, scope: str, reason: str, remaining: float) -> PayError:
    """The error for a request a cooldown holds back: the original code and message."""
    code, _, message = reason.partition("\t")
    held = "this API" if "@/" in scope else "this host" if "@host:" in scope else "this app"
    return error_class(Category.RATE_LIMITED, spec.name)(
        f"{message or 'rate limited'} (cooling down: {spec.display} rate-limited "
        f"{held}; {remaining:.1f}s left, not sent)",
        provider=spec.name,
        code=code or None,
        retry=RetryHint.BACKOFF,
        retry_after=remaining,
        processed=Processed.NO,
        solution="Wait for the cooldown (retry_after) before calling again.",
        solution_zh="等待限流窗口结束（retry_after 秒）后再调用。",
    )


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
