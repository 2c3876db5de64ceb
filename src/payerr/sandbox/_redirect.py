"""Clients whose requests reach the sandbox while payerr reads them as sent to the real host.

The redirect sits below payerr: payerr decides, retries and builds errors
from ``https://api.weixin.qq.com/...``; only the socket goes to 127.0.0.1.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
from requests.adapters import HTTPAdapter

from .._clients.httpx_transport import AsyncTransport, Transport
from .._clients.requests_adapter import RequestsAdapter


def _moved(base: str, url: str) -> str:
    parts = urlsplit(url)
    return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class _ToSandbox(HTTPAdapter):
    sandbox_url = ""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        moved = request.copy()
        moved.url = _moved(self.sandbox_url, request.url or "")
        moved.headers["Host"] = urlsplit(request.url or "").netloc  # as the real host sees it
        return super().send(moved, *args, **kwargs)


class SandboxAdapter(RequestsAdapter, _ToSandbox):
    """payerr's adapter over one that sends to the sandbox."""


def sandbox_adapter(url: str, **options: Any) -> RequestsAdapter:
    adapter = SandboxAdapter(**options)
    adapter.sandbox_url = url
    return adapter


class _Moving(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, base: str, inner: Any) -> None:
        self.base = base
        self.inner = inner

    def _move(self, request: httpx.Request) -> httpx.Request:
        return httpx.Request(
            request.method,
            _moved(self.base, str(request.url)),
            headers=request.headers,
            content=request.content,
            extensions=request.extensions,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(self._move(request))  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return await self.inner.handle_async_request(self._move(request))  # type: ignore[no-any-return]

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()


def sandbox_transport(url: str, *, asyncio: bool = False, **options: Any) -> Any:
    if asyncio:
        return AsyncTransport(_Moving(url, httpx.AsyncHTTPTransport()), **options)
    return Transport(_Moving(url, httpx.HTTPTransport()), **options)
