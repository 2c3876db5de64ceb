"""The network backend payerr puts under httpx's pool: every wait clamped to the deadline.

Kept apart from ``httpx_head`` because it subclasses httpcore's classes: httpcore (and
trio, which it imports when installed) is imported when a transport is first watched,
not when ``payerr.Transport`` is.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore

from .httpx_head import DEADLINE


class HeadDeadline(httpcore.ReadTimeout):
    """The status line and headers were not in by the deadline (httpx: ``ReadTimeout``)."""


class ConnectDeadline(httpcore.ConnectTimeout):
    """The deadline passed before a connection was made: nothing was sent."""


def _clamp(timeout: float | None, late: type[Exception] = HeadDeadline) -> float | None:
    """The socket timeout to use now: what httpx asked, never past the deadline."""
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise late("the answer was not in by the retry policy's deadline")
    return left if timeout is None or timeout > left else timeout


def _timed_out(exc: Exception) -> Exception:
    """A socket timeout caused by the clamp reads as the deadline, not as a slow read."""
    deadline = DEADLINE.get()
    if deadline is not None and time.monotonic() >= deadline:
        return HeadDeadline("the answer was not in by the retry policy's deadline")
    return exc


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        # what needs no deadline is the inner stream's own method: no frame of ours per call
        self.close = inner.close  # type: ignore[method-assign]
        self.get_extra_info = inner.get_extra_info  # type: ignore[method-assign]

    # ``_clamp`` written out: the read runs on every answer, and a call is a frame more
    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = DEADLINE.get()
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HeadDeadline("the answer was not in by the retry policy's deadline")
            if timeout is None or timeout > left:
                timeout = left
        try:
            data: bytes = self._inner.read(max_bytes, timeout)
        except httpcore.ReadTimeout as exc:
            raise _timed_out(exc) from exc
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # an empty write (h11 ends every body with one) sends nothing and cannot block
        self._inner.write(buffer, _clamp(timeout) if buffer else timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            data: bytes = await self._inner.read(max_bytes, _clamp(timeout))
        except httpcore.ReadTimeout as exc:
            raise _timed_out(exc) from exc
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _clamp(timeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout))
        return _AsyncStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


_TCP = ("host", "port", "timeout", "local_address", "socket_options")
_UNIX = ("path", "timeout", "socket_options")


def _connecting(names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A backend's connect arguments by name, the timeout clamped to the deadline: one
    description for the sync and the async backend, TCP and Unix sockets alike."""
    named = dict(zip(names, args, strict=False), **kwargs)
    named["timeout"] = _clamp(named.get("timeout"), ConnectDeadline)
    return named


class Backend(httpcore.NetworkBackend):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(**_connecting(_TCP, args, kwargs)))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(**_connecting(_UNIX, args, kwargs)))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        inner = self._inner.connect_tcp(**_connecting(_TCP, args, kwargs))
        return _AsyncStream(await inner)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        inner = self._inner.connect_unix_socket(**_connecting(_UNIX, args, kwargs))
        return _AsyncStream(await inner)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
