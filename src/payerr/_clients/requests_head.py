"""The deadline over the whole answer for requests: status line and headers too.

urllib3's read timeout bounds each socket read, so a server dripping its head a
byte at a time holds a request as long as it likes. The pools payerr's adapter
makes use a connection that, once the request is sent, is handed to one shared
watchdog thread; at the call's deadline the watchdog shuts the socket down, the
blocked read returns, and the adapter reports the deadline. The watch lasts
while payerr reads the body and ends before the response is handed back.
"""

from __future__ import annotations

import math
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
"""One send's deadline, then the sockets watched for it (their watches end together): a
plain list, made once per send (``[deadline]``)."""


def passed(watch: Watch) -> bool:
    """Whether the send's deadline has passed."""
    deadline: float = watch[0]
    return time.monotonic() >= deadline


def unwatch(watch: Watch) -> None:
    """The send is over: the watchdog forgets its sockets. Called before the connection
    goes back to the pool, so a socket is never forgotten for the next send on it."""
    watched = WATCHDOG.watched
    for sock in watch[1:]:
        watched.pop(sock, None)
    del watch[1:]


WATCH: ContextVar[Watch | None] = ContextVar("payerr_requests_watch", default=None)


class _Watchdog:
    """One thread for every connection of the process: it sleeps until the earliest
    deadline of the sockets watched, and shuts down those still watched then.

    A send adds its socket to ``watched`` and wakes the thread only when its deadline
    comes before the thread's next look (``next_wake``): with one policy per client,
    deadlines come in order, so a send takes no lock and makes no heap entry.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition(threading.Lock())
        self.watched: dict[Any, float] = {}
        """Socket → the deadline of the send waiting on it; a send's end removes it."""
        self.next_wake = math.inf
        """When the thread looks next; infinity while it looks or waits for a send (or is
        not started): every send then wakes it."""
        self._running = False
        """Whether this process has its thread (a child after fork has none: ``forked``)."""

    def watch(self, deadline: float, sock: Any) -> None:
        self.watched[sock] = deadline
        if deadline < self.next_wake:  # before the thread's next look: wake it now
            with self._wake:
                if not self._running:  # first use, or a child after fork
                    self._running = True
                    threading.Thread(target=self._run, name="payerr-deadline", daemon=True).start()
                self._wake.notify()

    def forked(self) -> None:
        """In a child after fork: the parent's thread is not here, nor are its sockets."""
        self._wake = threading.Condition(threading.Lock())
        self.watched = {}
        self.next_wake = math.inf
        self._running = False

    def _run(self) -> None:
        with self._wake:
            while True:
                self.next_wake = math.inf  # a send watched while this looks wakes it again
                now = time.monotonic()
                earliest = math.inf
                for sock, deadline in self.watched.copy().items():
                    if deadline > now:
                        earliest = min(earliest, deadline)
                    elif self.watched.get(sock) == deadline:  # still that send's socket
                        _cut(sock)
                        self.watched.pop(sock, None)
                self.next_wake = earliest
                self._wake.wait(None if earliest == math.inf else earliest - now)


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
                WATCHDOG.watch(deadline, sock)
                watch.append(sock)
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
