"""An ``httpx.Response`` as a client-neutral ``RawResponse``, for ``payerr.inspect``."""

from __future__ import annotations

from typing import Any

import httpx

from .._reading.raw import RawResponse, _body_of


def from_httpx(response: Any) -> RawResponse:
    """The response read whole (a streamed one is read now) with its request's view."""
    try:
        body = response.content
    except httpx.ResponseNotRead:
        body = response.read()
    try:
        request = response.request
    except RuntimeError:
        request = None
    return RawResponse(
        status_code=response.status_code,
        headers=response.headers,
        body=body,
        url=str(request.url) if request is not None else "",
        method=request.method if request is not None else "POST",
        request_body=_body_of(request) if request is not None else b"",
        request_headers=request.headers if request is not None else {},
    )
