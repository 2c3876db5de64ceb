"""A real redis-server on a free loopback port, started and stopped by the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str]:
    """Yields a redis:// URL; skips locally when redis-server is absent (CI installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: .ci/run should have installed it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def slow_proxy(url: str, delay: float) -> Iterator[str]:
    """A TCP forwarder to the Redis at ``url`` that holds every reply ``delay`` seconds.

    Yields the proxy's redis:// URL. Each client connection gets two threads:
    commands pass at once, replies wait, as from a Redis far away or overloaded.
    """
    import threading
    from urllib.parse import urlsplit

    target = urlsplit(url)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # so the accepting thread notices the end
    port = listener.getsockname()[1]
    stopping = threading.Event()
    opened: list[socket.socket] = []

    def pipe(source: socket.socket, sink: socket.socket, wait: float) -> None:
        try:
            while chunk := source.recv(65536):
                if wait:
                    time.sleep(wait)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def accept() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection((target.hostname, target.port))
            opened.extend((client, upstream))
            for source, sink, wait in ((client, upstream, 0.0), (upstream, client, delay)):
                threading.Thread(target=pipe, args=(source, sink, wait), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{port}{target.path or '/0'}"
    finally:
        stopping.set()
        listener.close()
        thread.join(timeout=5)
        for end in opened:
            end.close()
