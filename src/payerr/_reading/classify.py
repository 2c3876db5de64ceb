"""Reading a response: success, or one typed error that says what to do next.

``inspect`` never raises for a response; every path ends in an ``Outcome``. The
decision is here; the body is read in ``parsed`` and the error made in ``build``.
"""

from __future__ import annotations

import time
from typing import Any

from .._catalog import registry as _catalog_module
from .._catalog.envelopes import Reading
from .._catalog.generic import generic
from .._catalog.model import ProviderSpec
from .._catalog.registry import catalog
from .decode import parse_json
from .outcome import Failure, Outcome, build_module
from .parsed import Parsed, is_file_success, read_envelope
from .raw import RawResponse, as_raw, attach_outcome, cached_outcome
from .request import RequestFacts

NOTHING_READ = Reading(ok=False)
"""An answer with no envelope in it (an error page): one for all, as nothing changes a
``Reading`` once it is read."""


def classify(
    raw: RawResponse,
    spec: ProviderSpec | None,
    facts: RequestFacts | None = None,
    *,
    now: float | None = None,
    parsed: Parsed | None = None,
    defer: bool = False,
) -> Outcome:
    """The one place a response becomes success or an error (the error built on demand;
    ``defer``: what the answer said is left for ``deferred.complete``)."""
    judged = judge(raw, spec, facts, now, parsed, defer)
    return judged if isinstance(judged, Outcome) else judged.outcome()


def judge(
    raw: RawResponse,
    spec: ProviderSpec | None,
    facts: RequestFacts | None,
    now: float | None,
    parsed: Parsed | None,
    defer: bool,
) -> Outcome | Failure:
    """``classify``: a success's ``Outcome``, or the answer's ``Failure`` (the retry loop
    decides from it, and makes an ``Outcome`` only for the answer the caller sees).

    Long because it is the decision table of the reading rules, kept whole
    (docs/architecture.md, "The retry decision path", step 2).
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
        info = build_module().status_rule(None, status)
        return Failure(raw, None, info, NOTHING_READ, data, facts, now, defer)
    if parsed is None:
        parsed = read_envelope(spec, status, raw.body, raw.headers, raw.path)
    data, problem, reading = parsed
    if reading is not None:
        if reading.ok and status < 400:
            return Outcome(True, data, None, spec.name)
        if not reading.ok:
            return Failure(raw, spec, None, reading, data, facts, now, defer, True)
    elif data is not None and type(data) is not dict:
        problem = f"JSON {type(data).__name__}, not an object"
    if status < 400:
        if 200 <= status < 300 and not (status in (204, 205) or raw.method == "HEAD"):
            why = problem or f"no {spec.display} response envelope"
            reading = Reading(ok=False, message=f"unreadable {spec.display} response: {why}")
            malformed = generic().malformed
            return Failure(raw, spec, malformed, reading, data, facts, now, defer)
        return Outcome(True, data if isinstance(data, dict) else {}, None, spec.name)
    if reading is None:
        reading = NOTHING_READ
    info = build_module().status_rule(spec, status)
    return Failure(raw, spec, info, reading, data, facts, now, defer)


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
