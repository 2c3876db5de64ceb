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

from contextvars import ContextVar
from typing import Any

DEADLINE: ContextVar[float | None] = ContextVar("payerr_deadline", default=None)
"""``time.monotonic()`` by which the answer must be in, for the send under way."""


def watch(transport: Any) -> bool:
    """Put the deadline under an httpx transport's pool; False when it has none to wrap."""
    pool: Any = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        return False
    import httpcore  # here, not at import: httpcore (and trio with it) costs a start 80-350 M

    from .httpx_streams import AsyncBackend, Backend

    if isinstance(backend, Backend | AsyncBackend):
        return True
    if isinstance(backend, httpcore.AsyncNetworkBackend):
        pool._network_backend = AsyncBackend(backend)
    elif isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = Backend(backend)
    else:
        return False
    return True
