"""One view of a response, whatever client produced it (httpx, requests, or none)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._values import Frozen, unfrozen

OUTCOME_KEY = "payerr.outcome"
"""Where the middleware leaves its reading of a response, so nobody parses twice."""


class RawResponse(Frozen):
    """A response from any client: an aiohttp result, an official SDK's raw string.

    Header names are matched case-insensitively.
    """

    _fields = (
        "status_code",
        "headers",
        "body",
        "url",
        "method",
        "request_body",
        "request_headers",
    )
    __slots__ = _fields
    status_code: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    method: str
    request_body: bytes
    request_headers: Mapping[str, str]

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        body: bytes,
        url: str,
        method: str = "POST",
        request_body: bytes = b"",
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        set_ = object.__setattr__
        if isinstance(body, str):
            body = body.encode("utf-8")
        set_(self, "status_code", int(status_code))
        set_(self, "headers", _lower(headers))
        set_(self, "body", bytes(body) if body is not None else b"")
        set_(self, "url", url)
        set_(self, "method", str(method).upper())
        set_(self, "request_body", request_body)
        set_(self, "request_headers", _lower(request_headers))

    # read from the URL when asked: a retried attempt's error seldom asks
    @property
    def host(self) -> str:
        """The URL's host name, lower-cased ("" when the URL has none or does not parse)."""
        return _host(self.url)

    @property
    def path(self) -> str:
        """The URL's path ("" when the URL does not parse)."""
        return _path(self.url)


_UNFROZEN = unfrozen(RawResponse)
_new = object.__new__


def answer_of(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
    url: str,
    method: str,
    request_body: bytes,
    request_headers: Mapping[str, str],
) -> RawResponse:
    """A ``RawResponse`` of what a client holds in its final shape already (an int status,
    bytes, an upper-case method, header names that ignore case or are lower-cased): one is
    made for every answer that is not a success, so nothing is converted or checked."""
    raw: Any = _new(_UNFROZEN)
    raw.status_code = status_code
    raw.headers = headers
    raw.body = body
    raw.url = url
    raw.method = method
    raw.request_body = request_body
    raw.request_headers = request_headers
    raw.__class__ = RawResponse
    return raw  # type: ignore[no-any-return]


_CASELESS = frozenset({"Headers", "CIMultiDict", "CIMultiDictProxy"})
"""Mappings that already match names case-insensitively (httpx, aiohttp's multidict)."""


def _lower(headers: Any) -> Mapping[str, str]:
    """Header names lower-cased, unless the mapping already ignores case (httpx, requests)."""
    if not headers:
        return {}
    if type(headers).__name__ in _CASELESS or hasattr(headers, "lower_items"):
        return headers  # type: ignore[no-any-return]
    items = headers.items() if hasattr(headers, "items") else headers
    return {str(k).lower(): str(v) for k, v in items}


def _host(url: str) -> str:
    """The URL's host name, lower-cased. ``urlsplit`` keeps its own cache, but its
    ``hostname`` parses the netloc again on every look: kept here per netloc."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return ""
    host = _HOSTS.get(netloc)
    if host is None:
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        if len(_HOSTS) >= 256:  # any host may be asked for: the memory stays bounded
            _HOSTS.clear()
        _HOSTS[netloc] = host
    return host


_HOSTS: dict[str, str] = {}


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def _body_of(request: Any) -> bytes:
    body = getattr(request, "body", None)  # requests.PreparedRequest
    if body is None and hasattr(request, "content"):
        try:
            body = request.content  # httpx.Request
        except Exception:  # a streaming request body that was never read
            return b""
    if isinstance(body, str):
        return body.encode("utf-8", "replace")
    return body if isinstance(body, bytes) else b""


def from_requests(response: Any) -> RawResponse:
    request = getattr(response, "request", None)
    return RawResponse(
        status_code=response.status_code,
        headers=response.headers,
        body=response.content or b"",
        url=str(response.url or getattr(request, "url", "") or ""),
        method=(getattr(request, "method", None) or "POST"),
        request_body=_body_of(request) if request is not None else b"",
        request_headers=getattr(request, "headers", None) or {},
    )


def as_raw(response: Any) -> RawResponse:
    """Normalise any supported response object; TypeError for anything else."""
    if isinstance(response, RawResponse):
        return response
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(response, httpx.Response):
        from .._clients.raw_httpx import from_httpx  # the client's own reading of its answer

        return from_httpx(response)
    requests = sys.modules.get("requests")
    if requests is not None and isinstance(response, requests.Response):
        return from_requests(response)
    raise TypeError(
        "payerr reads httpx.Response, requests.Response or payerr.RawResponse, "
        f"not {type(response).__name__}"
    )


def cached_outcome(response: Any) -> Any:
    """The outcome the middleware already attached to this response, if any."""
    extensions = getattr(response, "extensions", None)
    if isinstance(extensions, dict):
        return extensions.get(OUTCOME_KEY)
    return getattr(response, "_payerr_outcome", None)


def attach_outcome(response: Any, outcome: Any) -> None:
    extensions = getattr(response, "extensions", None)
    if isinstance(extensions, dict):
        extensions[OUTCOME_KEY] = outcome
    elif not isinstance(response, RawResponse):
        response._payerr_outcome = outcome
