"""The deadline over the whole answer for requests: status line and headers too.

urllib3's read timeout bounds each socket read, so a server dripping its head a
byte at a time holds a request as long as it likes. The pools payerr's adapter
makes use a connection that, once the request is sent, is handed to one shared
watchdog thread; at the call's deadline the watchdog shuts the socket down, the
blocked read returns, and the adapter reports the deadline. The watch lasts
while payerr reads the body and ends before the response is handed back.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from contextvars import ContextVar
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager, ProxyManager

Watch = list[Any]
"""One send's deadline, then the watchdog's entries of the connections watched for it
(cancelled together): a plain list, made once per send (``[deadline]``)."""


def passed(watch: Watch) -> bool:
    """Whether the send's deadline has passed."""
    deadline: float = watch[0]
    return time.monotonic() >= deadline


def unwatch(watch: Watch) -> None:
    """The send is over: the watchdog skips its connections."""
    for entry in watch[1:]:
        entry[2] = None
    del watch[1:]


WATCH: ContextVar[Watch | None] = ContextVar("payerr_requests_watch", default=None)


class _Watchdog:
    """One thread for every connection of the process: it sleeps until the earliest
    deadline, and shuts down the socket of a connection still watched then."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        """Held as ``_lock`` on every send (no Python frames), as ``_wake`` by the thread."""
        self._heap: list[list[Any]] = []
        self._order = itertools.count()
        self._running = False
        """Whether this process has its thread (a child after fork has none: ``forked``)."""
        self._room = 4096
        """Entries the heap may hold before ended ones are swept out (amortised O(1))."""

    def watch(self, deadline: float, sock: Any) -> list[Any]:
        entry = [deadline, next(self._order), sock]
        with self._lock:
            if not self._running:  # first use, or a child after fork
                self._running = True
                threading.Thread(target=self._run, name="payerr-deadline", daemon=True).start()
            if len(self._heap) > self._room:  # ended watches wait for their deadline: sweep
                self._heap = [kept for kept in self._heap if kept[2] is not None]
                heapq.heapify(self._heap)
                self._room = max(4096, 2 * len(self._heap))
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._wake.notify()
        return entry

    def forked(self) -> None:
        """In a child after fork: the parent's thread is not here, nor are its sockets."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap = []
        self._running = False

    def _run(self) -> None:
        with self._wake:
            while True:
                heap = self._heap
                while heap and heap[0][2] is None:
                    heapq.heappop(heap)
                if not heap:
                    self._wake.wait()
                    continue
                wait = heap[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                _cut(heapq.heappop(heap)[2])


def _cut(sock: Any) -> None:
    """Unblock a read on a connection's socket: shut down, not just closed (the answer
    still holds it after a ``Connection: close`` has closed the connection object)."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=WATCHDOG.forked)


class _Watched:
    """Mixed into urllib3's connections: watched from the moment the answer is awaited."""

    def getresponse(self) -> Any:
        watch = WATCH.get()
        sock = getattr(self, "sock", None)
        if watch is not None and sock is not None:
            deadline = watch[0]
            if time.monotonic() >= deadline:  # passed already
                _cut(sock)
            else:
                watch.append(WATCHDOG.watch(deadline, sock))
        return _getresponse(self)  # type: ignore[arg-type]


_getresponse = HTTPConnection.getresponse
"""urllib3's own (HTTPS connections inherit it): called as a function, not through ``super()``."""


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def watched_pools(manager: Any) -> Any:
    """A urllib3 pool manager whose pools' connections honour ``WATCH``; any other kind
    of manager (SOCKS brings its own pools) is left as it is."""
    if type(manager) in (PoolManager, ProxyManager):
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager
