"""Errors built for this very request: a table entry, the answer and the request, together.

``classify`` decides which entry an answer maps to; this module turns it into the typed
error, with the hint resolved for the request (is it safe to resend?), the wait the
provider asked for, and every secret of the request masked out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from typing import Any, NamedTuple

from .._catalog.envelopes import Reading
from .._catalog.generic import generic
from .._catalog.model import CodeInfo, ProviderSpec
from .._enums import Category, Processed, RetryHint
from .._errors import PayError, error_class
from .._retry.policy import RetryPolicy
from .._retry.verdict import request_hint, throttled
from .decode import parse_json
from .deferred import defer_details, fill
from .formats import looks_like_form, looks_like_xml, parse_form, parse_xml
from .outcome import Failure
from .raw import RawResponse
from .redact import is_secret_name, redact_text, redact_url, secret_values, spellings
from .request import RequestFacts, facts_of
from .retry_after import parse_retry_after, window_wait

DEFAULT_MAX_COOLDOWN = RetryPolicy().max_cooldown
"""The cap on a server's Retry-After for readers without a policy (``inspect``)."""


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


def build_coded(
    raw: RawResponse,
    spec: ProviderSpec,
    reading: Reading,
    data: Any,
    facts: RequestFacts | None,
    now: float,
    defer: bool = False,
) -> PayError:
    """An error for a code the provider sent: looked up in the table, then built."""
    return make(Failure(raw, spec, None, reading, data, facts, now, defer, True))


# What a table entry means for this very request: ``info`` as this API reads ``entry``,
# whether the code is in the catalog (``known``), the API's name, the request's fields,
# the category, the hint with the payments-safety rule applied, whether it was processed.
_Ruling = NamedTuple(  # noqa: UP014
    "_Ruling",
    [
        ("entry", CodeInfo | None),
        ("info", CodeInfo),
        ("known", bool),
        ("api_method", str | None),
        ("fields", Mapping[str, Any]),
        ("category", Category),
        ("retry", RetryHint),
        ("processed", Processed),
    ],
)
_made = tuple.__new__
"""``_Ruling(...)`` of a tuple, without a NamedTuple's Python-level ``__new__``."""


# What the answer said, with every secret of the request masked out.
_Said = NamedTuple(  # noqa: UP014
    "_Said",
    [
        ("message", str),
        ("sub_message", str | None),
        ("request_id", str | None),
        ("body", dict[str, Any] | None),
        ("raw", bytes),
        ("url", str | None),
    ],
)


def build_error(
    raw: RawResponse,
    spec: ProviderSpec | None,
    info: CodeInfo | None,
    reading: Reading,
    data: Any,
    facts: RequestFacts | None,
    now: float | None,
    defer: bool = False,
) -> PayError:
    """An error from the table entry, with the hint resolved for this very request.

    ``defer``: what the answer said (masked message, body, request id) is filled in by
    ``complete`` when someone will see it; a retried attempt only needs the verdict.
    """
    return make(Failure(raw, spec, info, reading, data, facts, now, defer))


def rule(failure: Failure) -> _Ruling:
    """What a failed answer means for this very request, set on it: the entry (looked up
    by the code it sent, when ``coded``), the ruling, the hint, the waits."""
    raw, spec, reading = failure.raw, failure.spec, failure.reading
    if failure.coded:  # a code the provider sent: its entry, or the status's own answer
        if reading.code is None or spec is None:  # a status that is an answer of its own
            failure.info = status_rule(spec, raw.status_code)
        else:
            failure.info = spec.lookup(reading.code, reading.sub_code)
    facts = failure.facts
    if facts is None:
        facts = failure.facts = facts_of(raw)
    ruling = failure.ruling = _ruling(raw, spec, failure.info, reading, facts)
    # the wait asked for: the server's ``Retry-After``, or the time left in the entry's
    # quota window (read anew for every answer: time passes)
    now = failure.now
    if now is None:
        now = failure.now = time.time()
    sent_wait = parse_retry_after(raw.headers, now)
    if sent_wait is None:
        retry_after = window_wait(ruling.info.window, now, spec.day_reset if spec else 0)
    else:  # what a reader honours by default; a transport caps with its own policy
        retry_after = min(sent_wait, DEFAULT_MAX_COOLDOWN)
    failure.category, failure.retry = ruling.category, ruling.retry
    failure.retry_after, failure.server_retry_after = retry_after, sent_wait
    return ruling


def make(failure: Failure) -> PayError:
    """The typed error of a failure (ruled now if it was not): what a retry decision reads
    at once, and what the answer said now or, ``defer``, on ``complete``."""
    ruling = failure.ruling or rule(failure)
    spec, reading, raw, facts = failure.spec, failure.reading, failure.raw, failure.facts
    info = ruling.info
    name = spec.name if spec else None
    error = error_class(failure.category, name)._decided(
        name,
        reading.code,
        reading.sub_code,
        raw.status_code,
        failure.retry,
        failure.retry_after,
        info.solution_en,
        info.solution_zh,
        ruling.api_method,
        ruling.processed,
        ruling.known,
    )
    if failure.server_retry_after is not None:
        error.server_retry_after = failure.server_retry_after
    if failure.response is not None:
        error.response = failure.response  # the client's own object, as its handlers expect
    assert facts is not None  # ruling found them
    known = info if ruling.known else None
    said = partial(_said, raw, spec, known, reading, failure.data, facts, ruling.fields)
    if failure.defer:
        defer_details(error, said)
    else:
        fill(error, said())
    return error


def _ruling(
    raw: RawResponse,
    spec: ProviderSpec | None,
    info: CodeInfo | None,
    reading: Reading,
    facts: RequestFacts,
) -> _Ruling:
    """What a table entry means for this very request (``_Ruling``).

    Kept on the request's facts: a resend answered with the same status and code (a
    503 again, WeChat's -1 again: most retries) is ruled as its first answer was. The
    entry it was keyed by is kept with it, so that no other entry is ever taken for it.
    """
    key = (raw.status_code, id(info), reading.code, reading.sub_code, reading.node)
    found = facts._rulings.get(key)
    if found is not None and found[0].entry is info and found[1] is reading.envelope:
        return found[0]  # type: ignore[no-any-return]
    fields = facts.fields(spec.nested_fields if spec else ())
    api_method = _name_of_call(spec, reading, facts.path() or raw.path, fields)
    meant, known = _meaning(spec, info, raw.status_code, api_method)
    category, retry, processed = throttled(
        raw.status_code, meant.category or Category.UNKNOWN, meant.retry, meant.processed
    )
    hint = request_hint(
        spec, retry, processed, facts.http_method, api_method, fields, facts.marked_idempotent
    )
    ruling = _made(_Ruling, (info, meant, known, api_method, fields, category, hint, processed))
    facts._rulings[key] = (ruling, reading.envelope)
    return ruling


def _said(
    raw: RawResponse,
    spec: ProviderSpec | None,
    known: CodeInfo | None,
    reading: Reading,
    data: Any,
    facts: RequestFacts,
    fields: Mapping[str, Any],
) -> _Said:
    """The message, request id and body of the answer, secrets masked; a known code
    whose answer has no message gets the catalog's."""
    message, request_id = _message_and_request_id(reading, spec, raw.headers)
    sub_message = reading.sub_message
    secrets = secret_values(
        facts.url, facts.headers, fields, within=(raw.body, message, sub_message or "")
    )
    body, data = _scrubbed(raw, data, secrets)
    if not message and known is not None:
        message = known.provider_message or known.message_en  # the catalog's: no secrets
    return _Said(
        redact_text(message, secrets),
        redact_text(sub_message, secrets) if sub_message else None,
        request_id,
        data if isinstance(data, dict) else None,
        body,
        redact_url(facts.url or raw.url),
    )


def _name_of_call(
    spec: ProviderSpec | None, reading: Reading, path: str, fields: Mapping[str, Any]
) -> str | None:
    """The provider's name for the call, as its envelope says to find it."""
    if spec is None:
        return None
    envelope = reading.envelope or spec.envelope_for(path) or spec.envelope
    return envelope.name_of_call(reading, path, fields)


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
    error = build_error(raw, spec, info, Reading(ok=False, message=message), None, facts, None)
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
