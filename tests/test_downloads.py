"""Downloads over real sockets: a file is a success, streamed, sent once, in flat memory.

WeChat QR codes and media, and WeChat Pay bills, answer a file on success and
a JSON (or XML) error envelope on failure, whatever type they declare.
"""

from __future__ import annotations

import asyncio
import socket
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import requests

import payerr
from support import aiohttp_client
from support.rawserver import RawServer

CLIENTS = ["httpx", "httpx-async", "requests", "aiohttp"]
MiB = 1024 * 1024
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PIECE = JPEG_HEAD + bytes(range(256)) * 255  # about 64 KiB, the first bytes a JPEG's


class FileServer(RawServer):
    """Answers every request with the same head and a body of ``size`` bytes; counts requests."""

    def __init__(self, size: int, head: bytes, body: bytes | None = None) -> None:
        super().__init__()
        self.size = size
        self.head = head
        self.body = body

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5.0)
            if self.read_head(conn) is None:
                return
            self.requests += 1
            conn.sendall(self.head)
            if self.body is not None:
                conn.sendall(self.body)
            else:
                sent = 0
                while sent < self.size and not self._stop.is_set():
                    piece = PIECE[: self.size - sent]
                    conn.sendall(piece)
                    sent += len(piece)
        except OSError:
            pass
        finally:
            conn.close()


def file_head(size: int, content_type: str = "image/jpeg", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {size}\r\nConnection: close\r\n{extra}\r\n"
    ).encode()


@contextmanager
def traced() -> Iterator[list[int]]:
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
        peak.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def stream(kind: str, url: str) -> tuple[int, bytes, Any]:
    """Stream one download through payerr: (bytes received, first bytes, the response)."""
    policy = payerr.RetryPolicy(max_attempts=3)
    if kind == "aiohttp":
        answer, size = aiohttp_client.send("GET", url, policy=policy, timeout=10, stream="count")
        return size, answer.content, answer
    if kind == "httpx":
        transport = payerr.Transport(provider="wechat", policy=policy)
        with (
            httpx.Client(transport=transport, timeout=10) as client,
            client.stream("GET", url) as response,
        ):
            return _count(response.iter_raw(), response)
    if kind == "httpx-async":

        async def go() -> tuple[int, bytes, Any]:
            transport = payerr.AsyncTransport(provider="wechat", policy=policy)
            async with (
                httpx.AsyncClient(transport=transport, timeout=10) as client,
                client.stream("GET", url) as response,
            ):
                size, first = 0, b""
                async for chunk in response.aiter_raw():
                    first = first or chunk[:16]
                    size += len(chunk)
                return size, first, response

        return asyncio.run(go())
    with requests.Session() as session:
        session.mount("http://", payerr.RequestsAdapter(provider="wechat", policy=policy))
        response = session.get(url, timeout=10, stream=True)
        try:
            return _count(response.iter_content(65536), response)
        finally:
            response.close()


def _count(chunks: Any, response: Any) -> tuple[int, bytes, Any]:
    size, first = 0, b""
    for chunk in chunks:
        first = first or chunk[:16]
        size += len(chunk)
    return size, first, response


def _streamed_in_flat_memory(kind: str, size: int) -> None:
    with FileServer(1, file_head(1), b"\xff") as warm:  # catalog and clients loaded, not traced
        stream(kind, warm.url + "/wxa/getwxacodeunlimit")
    with FileServer(size, file_head(size)) as server:
        with traced() as peak:
            received, first, response = stream(kind, server.url + "/wxa/getwxacodeunlimit")
        assert response.status_code == 200
        assert received == size
        assert first == PIECE[:16]
        assert server.requests == 1
    cap = payerr.RetryPolicy().body_cap
    assert peak[0] < cap + MiB, f"{peak[0] / MiB:.1f} MiB held for a {size // MiB} MiB file"


@pytest.mark.parametrize("kind", CLIENTS)
def test_file_download_streams_in_flat_memory(kind: str) -> None:
    """A 24 MiB image streams through whole, once, with under body_cap + 1 MiB held."""
    _streamed_in_flat_memory(kind, 24 * MiB)


@pytest.mark.slow
@pytest.mark.parametrize("kind", CLIENTS)
def test_two_hundred_megabyte_download_streams_in_flat_memory(kind: str) -> None:
    """200 MB through each client: still one request and flat memory."""
    _streamed_in_flat_memory(kind, 200 * MiB)


@pytest.mark.parametrize("kind", CLIENTS)
def test_small_file_is_returned_untouched(kind: str) -> None:
    """A small image (under the cap) comes back byte for byte, read by the caller."""
    body = PIECE[:5000]
    with FileServer(len(body), file_head(len(body)), body) as server:
        received, first, response = stream(kind, server.url + "/cgi-bin/media/get")
        assert (received, first) == (len(body), body[:16])
        assert server.requests == 1
    assert payerr.inspect(response).ok


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("content_type", ["text/plain", "image/jpeg", "application/json"])
def test_json_error_on_a_download_is_raised_once(kind: str, content_type: str) -> None:
    """The same endpoint's JSON error is the typed error, and an invalid id is not resent."""
    body = b'{"errcode":40007,"errmsg":"invalid media_id rid: 6581-1c2a"}'
    with FileServer(len(body), file_head(len(body), content_type), body) as server:
        with pytest.raises(payerr.WeChatError) as info:
            stream(kind, server.url + "/cgi-bin/media/get")
        assert server.requests == 1
    assert info.value.code == "40007"
    assert info.value.request_id == "6581-1c2a"


@pytest.mark.parametrize("kind", CLIENTS)
def test_transient_json_error_on_a_download_is_retried(kind: str) -> None:
    """A download answered with WeChat -1 ("system busy") is asked again: it is a read."""
    body = b'{"errcode":-1,"errmsg":"system error"}'
    with FileServer(len(body), file_head(len(body), "text/plain"), body) as server:
        with payerr.testing.instant_sleeps(), pytest.raises(payerr.ServiceUnavailableError):
            stream(kind, server.url + "/cgi-bin/media/get")
        assert server.requests == 3


@pytest.mark.parametrize("kind", CLIENTS)
def test_text_bill_is_a_success(kind: str) -> None:
    """WeChat Pay v2 downloadbill answers a text bill on success."""
    body = "交易时间,公众账号ID,商户号\n`2024-01-01 10:00:00,`wx1,`1900000109\n".encode()
    head = file_head(len(body), "text/plain;charset=utf-8")
    with FileServer(len(body), head, body) as server:
        received, first, _ = stream(kind, server.url + "/pay/downloadbill")
        assert (received, first) == (len(body), body[:16])
        assert server.requests == 1


@pytest.mark.parametrize("kind", CLIENTS)
def test_gzip_encoded_json_error_is_seen_through(kind: str) -> None:
    """A compressed body is peeked at decoded: the JSON error inside is found."""
    import gzip

    body = gzip.compress(b'{"errcode":40007,"errmsg":"invalid media_id"}')
    head = file_head(len(body), "text/plain", "Content-Encoding: gzip\r\n")
    with FileServer(len(body), head, body) as server:
        with pytest.raises(payerr.WeChatError) as info:
            stream(kind, server.url + "/cgi-bin/media/get")
        assert server.requests == 1
    assert info.value.code == "40007"
