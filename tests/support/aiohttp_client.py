"""Drive one request through ``payerr.AiohttpMiddleware`` from a sync test.

The shared suites (fault matrix, hostile bodies, corpus, retry semantics) send
through every client with one call; this is that call for aiohttp. The answer
comes back read to the end and shaped like the other clients' responses
(``status_code``, ``headers``, ``content``, ``json()``), the aiohttp response
itself still behind it for ``payerr.inspect``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

import payerr


class Answer:
    """An aiohttp response read to the end, with the attributes the shared tests read."""

    def __init__(self, response: aiohttp.ClientResponse, content: bytes) -> None:
        self.response = response
        self.content = content
        self.status_code = response.status
        self.headers = response.headers

    def json(self) -> Any:
        return json.loads(self.content)

    def __getattr__(self, name: str) -> Any:  # what payerr attached to the response
        return getattr(self.response, name)


async def _drain(response: aiohttp.ClientResponse, keep: bool) -> tuple[int, bytes]:
    """Read a stream to its end in chunks, as a download would: (size, the bytes if kept,
    else the first 16)."""
    size, kept = 0, []
    async for chunk in response.content.iter_any():
        if keep or not size:
            kept.append(chunk if keep else chunk[:16])
        size += len(chunk)
    return size, b"".join(kept)


async def _send(
    method: str, url: str, middleware: Any, timeout: float, stream: str, options: dict[str, Any]
) -> Any:
    limits = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
    # A stream is read as sent (auto_decompress off), as the other clients' raw streams are.
    async with aiohttp.ClientSession(
        middlewares=[middleware], timeout=limits, auto_decompress=not stream
    ) as session:
        async with session.request(method, url, **options) as response:
            if not stream:
                return Answer(response, await response.read())
            size, raw = await _drain(response, keep=stream == "keep")
            return Answer(response, raw), (raw if stream == "keep" else size)


def send(
    method: str,
    url: str,
    *,
    provider: str | None = "wechat",
    policy: payerr.RetryPolicy | None = None,
    timeout: float = 5.0,
    stream: str = "",
    **options: Any,
) -> Any:
    """One logical request on a fresh session and event loop.

    ``stream="keep"`` returns (answer, the raw bytes); ``stream="count"`` returns
    (answer, how many raw bytes) without holding them, the answer's content then being
    the first 16 bytes only.
    """
    middleware = payerr.AiohttpMiddleware(provider=provider, policy=policy)
    return asyncio.run(_send(method, url, middleware, timeout, stream, options))
