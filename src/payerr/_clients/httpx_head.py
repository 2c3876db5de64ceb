"""The deadline over the whole answer for httpx: status line and headers too.

httpx's timeouts bound each socket read, so a server dripping one byte of its
head every 0.25 s holds a request for as long as it likes. payerr puts its own
network backend under the pool of an ``httpx.HTTPTransport`` (or the async one):
every connect, read and write it passes on gets at most the time left before
the call's deadline, read from a context variable the transport sets around
each send. Nothing runs per byte and no thread is started; a transport whose
pool is laid out differently (a mock, a custom transport) is left as it is.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

import httpcore

DEADLINE: ContextVar[float | None] = ContextVar("payerr_deadline", default=None)
"""``time.monotonic()`` by which the answer must be in, for the send under way."""


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

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            data: bytes = self._inner.read(max_bytes, _clamp(timeout))
        except httpcore.ReadTimeout as exc:
            raise _timed_out(exc) from exc
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout))

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


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        wait = _clamp(timeout, ConnectDeadline)
        return _Stream(self._inner.connect_tcp(host, port, wait, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        wait = _clamp(timeout, ConnectDeadline)
        return _Stream(self._inner.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        wait = _clamp(timeout, ConnectDeadline)
        inner = self._inner.connect_tcp(host, port, wait, local_address, socket_options)
        return _AsyncStream(await inner)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        wait = _clamp(timeout, ConnectDeadline)
        inner = self._inner.connect_unix_socket(path, wait, socket_options)
        return _AsyncStream(await inner)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def watch(transport: Any) -> bool:
    """Put the deadline under an httpx transport's pool; False when it has none to wrap."""
    pool: Any = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        return False
    if isinstance(backend, _Backend | _AsyncBackend):
        return True
    if isinstance(backend, httpcore.AsyncNetworkBackend):
        pool._network_backend = _AsyncBackend(backend)
    elif isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _Backend(backend)
    else:
        return False
    return True
