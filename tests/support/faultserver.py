"""A raw-socket HTTP server that misbehaves on purpose, on 127.0.0.1.

Unlike the sandbox it works below HTTP: it can reset in the middle of a body,
or send half a status block and stall.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager

from support.rawserver import RawServer

STALL = 3.0  # longest any fault holds a connection; client timeouts are shorter
BIG = 50 * 1024 * 1024
DEEP = b"[" * 100_000 + b"]" * 100_000
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
GBK_BUSY = '{"errcode":-1,"errmsg":"系统繁忙，请稍后再试"}'.encode("gbk")
OK = b'{"errcode":0,"errmsg":"ok"}'


def _response(status: str, body: bytes, *headers: str) -> bytes:
    head = [
        f"HTTP/1.1 {status}",
        "Content-Type: application/json; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *headers,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class FaultServer(RawServer):
    """Answers every request with the current fault; counts the requests it saw."""

    def __init__(self, fault: str) -> None:
        super().__init__()
        self.fault = fault
        self.last_request = b""

    def _read_request(self, conn: socket.socket) -> bool:
        conn.settimeout(2.0)
        data = self.read_head(conn)
        if data is None:
            return False
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        self.last_request = head + b"\r\n\r\n" + body
        return True

    def _reset(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if not self._read_request(conn):
                return
            self.requests += 1
            fault = self.fault
            if fault == "reset":
                return self._reset(conn)
            if fault == "reset_mid_body":
                conn.sendall(_response("200 OK", OK * 100)[:300])
                time.sleep(0.05)
                return self._reset(conn)
            if fault in ("no_answer", "stall_headers"):
                if fault == "stall_headers":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                self._stop.wait(STALL)
                return conn.close()
            if fault == "big_chunked":
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                )
                piece = b"x" * 65536
                for _ in range(BIG // len(piece)):
                    conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.sendall(b"0\r\n\r\n")
                return conn.close()
            if fault == "big":
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % BIG
                )
                piece = b"x" * 65536
                for _ in range(BIG // len(piece)):
                    conn.sendall(piece)
                return conn.close()
            if fault == "echo":  # a provider that quotes the whole request back in its error
                text = self.last_request.decode("utf-8", "replace")
                body = json.dumps(
                    {
                        "errcode": 40001,
                        "errmsg": text,
                        "code": "1000008",
                        "description": text,
                        "responseCode": "6",
                        "responseMessage": text,
                    }
                ).encode()
                conn.sendall(_response("200 OK", body))
                return conn.close()
            replies = {
                "html502": _response("502 Bad Gateway", HTML_502, "Server: nginx"),
                "retry_after_503": _response("503 Service Unavailable", HTML_502, "Retry-After: 1"),
                "truncated": _response("200 OK", OK[:12]),
                "empty": _response("200 OK", b""),
                "gbk": _response("200 OK", GBK_BUSY),
                "deep": _response("200 OK", DEEP),
                "ok": _response("200 OK", OK),
            }
            conn.sendall(replies[fault])
            conn.close()
        except OSError:
            pass


@contextmanager
def refused_url() -> Iterator[str]:
    """A URL on a loopback port nothing listens on."""
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    yield f"http://127.0.0.1:{port}"
