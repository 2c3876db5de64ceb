"""Each client applies a credentials ``TokenEdit`` to its own request type.

Credentials say where a token goes (a query parameter, a header, a JSON field)
without naming a client; this module is where that meets httpx's immutable
requests and the mutable ones of requests and aiohttp.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .._engine.credentials import TokenEdit


def apply_edit(request: Any, edit: TokenEdit) -> Any:
    """The request with the token placed: a new httpx request, or the same mutable one."""
    if type(request).__module__.startswith("httpx"):
        return _httpx(request, edit)
    return _mutable(request, edit)


def _httpx(request: Any, edit: TokenEdit) -> Any:
    """httpx: a new request, so that attempts never share a mutated request object."""
    if edit.place == "query":
        return _httpx_copy(request, url=request.url.copy_set_param(edit.name, edit.value))
    if edit.place == "header":
        headers = request.headers.copy()
        headers[edit.name] = edit.value
        return _httpx_copy(request, headers=headers)
    body = edit.json_body(request.content)
    return request if body is None else _httpx_copy(request, body=body)


def _mutable(request: Any, edit: TokenEdit) -> Any:
    """requests' ``PreparedRequest`` (a copy per attempt) or aiohttp's request view."""
    if edit.place == "query":
        request.url = _set_query(request.url, edit.name, edit.value)
    elif edit.place == "header":
        request.headers[edit.name] = edit.value
    else:
        body = edit.json_body(request.body)
        if body is not None:
            request.body = body
            request.headers["Content-Length"] = str(len(body))
    return request


def _httpx_copy(
    request: Any, url: Any = None, headers: Any = None, body: bytes | None = None
) -> Any:
    import httpx

    new_headers = httpx.Headers(headers if headers is not None else request.headers)
    content = request.content if body is None else body
    if body is not None:
        new_headers["Content-Length"] = str(len(body))
    return httpx.Request(
        request.method,
        url if url is not None else request.url,
        headers=new_headers,
        content=content,
        extensions=request.extensions,
    )


def _set_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    pairs.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))
