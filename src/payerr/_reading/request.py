"""What the request said that matters when its answer is an error: its fields and path.

``RequestFacts`` is what ``RetryPolicy.is_idempotent`` is shown; the reader asks it for
the fields an envelope names the call by and the secrets to mask.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .._catalog.model import ProviderSpec
from .._values import Value
from .decode import parse_json
from .raw import RawResponse


class RequestFacts(Value):
    """What the request said that matters when its answer is an error."""

    _fields = ("http_method", "url", "body", "headers", "marked_idempotent")
    __slots__ = (*_fields, "_parsed", "_rulings")
    http_method: str
    url: str
    body: bytes
    headers: Mapping[str, str]
    marked_idempotent: bool | None

    def __init__(
        self,
        http_method: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        marked_idempotent: bool | None = None,
    ) -> None:
        self.http_method = http_method
        self.url = url
        self.body = body
        self.headers = headers
        self.marked_idempotent = marked_idempotent
        self._parsed: tuple[tuple[str, ...], dict[str, Any]] | None = None
        self._rulings: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        """What each kind of error answer meant for this request (``build._ruling``)."""

    def fields(self, nested: tuple[str, ...] = ()) -> dict[str, Any]:
        """Top-level parameters from the query, a form or a JSON body, and those of the
        ``nested`` fields holding a JSON object (the adapter's ``nested_fields``).

        Parsed once per request: every failed attempt of a call asks again (its hint,
        its secrets to mask) of the same body. Each caller gets a dict of its own."""
        parsed = self._parsed
        if parsed is None or parsed[0] != nested:
            parsed = self._parsed = (nested, self._parse(nested))
        return dict(parsed[1])

    def _parse(self, nested: tuple[str, ...]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        try:
            query = urlsplit(self.url).query
            if query:  # most API URLs have none: ``parse_qsl("")`` costs as much as one
                found.update(parse_qsl(query))
        except ValueError:
            pass
        body = self.body.strip()
        if body.startswith(b"{"):
            # the reader's own parse: ``json.loads`` of bytes first guesses their encoding
            # in Python; what orjson does not read as exactly is read as before
            parsed = parse_json(body)[0]
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
