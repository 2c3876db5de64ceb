"""A raw-socket server on 127.0.0.1 for tests that work below HTTP: a free port,
one thread per connection, stopped on exit. Subclasses say how to answer."""

from __future__ import annotations

import socket
import threading
from typing import Self


class RawServer:
    """Accepts connections until stopped; ``serve(conn)`` answers each one."""

    def __init__(self) -> None:
        self.requests = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.02)  # how soon the accept loop sees a stop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def read_head(self, conn: socket.socket) -> bytes | None:
        """The request up to the blank line, or None when the client went away."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        return data

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=5)


class KeptOpen(RawServer):
    """Answers GET requests on connections it keeps open: ``first`` in turn (each a 200 of
    JSON), then ``then`` for every request after, or no answer at all when ``then`` is
    None. Counts the connections it accepted, to show a client reused one."""

    def __init__(self, *first: bytes, then: bytes | None = None) -> None:
        super().__init__()
        self.first, self.then = first, then
        self.connections = 0

    def _serve(self, conn: socket.socket) -> None:
        self.connections += 1
        while self.read_head(conn) is not None:
            self.requests += 1
            body = self.first[self.requests - 1] if self.requests <= len(self.first) else self.then
            if body is None:
                self._stop.wait(3)
                break
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d"
            conn.sendall(head % len(body) + b"\r\n\r\n" + body)
        conn.close()
