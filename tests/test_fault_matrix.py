"""The fault matrix: every way a connection or body can go wrong, through every client.

Each fault ends in the exact error class with the right retry behaviour, the
attempt count the policy allows, and the received bytes kept on the error.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests

import payerr
from payerr import RetryHint as H
from payerr import testing
from payerr._errors import RAW_CAP
from support import aiohttp_client
from support.faultserver import BIG, DEEP, GBK_BUSY, HTML_502, OK, FaultServer, refused_url

TIMEOUT = 0.4
POLICY = payerr.RetryPolicy(max_attempts=2)
# aiohttp's column waits out the same timeouts again (3 s): in the slow tier; its own file
# checks refused, reset, timed-out and stalled answers in the fast one.
CLIENTS = ["httpx", "httpx-async", "requests", pytest.param("aiohttp", marks=pytest.mark.slow)]


@dataclass(frozen=True)
class Fault:
    name: str
    error: type[payerr.PayError]
    raw: bytes = b""
    post_hint: H = H.QUERY_FIRST
    post_attempts: int = 1


FAULTS = [
    Fault("refused", payerr.NetworkError, post_hint=H.BACKOFF, post_attempts=2),
    Fault("reset", payerr.OutcomeUnknownError),
    Fault("reset_mid_body", payerr.OutcomeUnknownError),
    Fault("no_answer", payerr.OutcomeUnknownError),
    Fault("stall_headers", payerr.OutcomeUnknownError),
    Fault("html502", payerr.ServiceUnavailableError, HTML_502),
    Fault("retry_after_503", payerr.ServiceUnavailableError, HTML_502),
    Fault("truncated", payerr.MalformedResponseError, OK[:12]),
    Fault("empty", payerr.MalformedResponseError, b""),
    # WeChat -1 ("system busy, retry later"): resent, even on a POST
    Fault("gbk", payerr.ServiceUnavailableError, GBK_BUSY, post_hint=H.BACKOFF, post_attempts=2),
    Fault("deep", payerr.MalformedResponseError, DEEP[:RAW_CAP]),
]


def payerr_base(error: Exception) -> type:
    """The error's own payerr class (a transport error is also the client's exception)."""
    return getattr(type(error), "_payerr_compatible", (type(error),))[0]


@contextmanager
def target(fault: str) -> Iterator[tuple[str, FaultServer | None]]:
    if fault == "refused":
        with refused_url() as url:
            yield url, None
    else:
        with FaultServer(fault) as server:
            yield server.url, server


def send(kind: str, method: str, url: str, *, stream: bool = False) -> Any:
    """One logical request through payerr with the given client; returns what it returned."""
    if kind == "aiohttp":
        body = {"json": {}} if method == "POST" else {}
        mode = "count" if stream else ""
        return aiohttp_client.send(method, url, policy=POLICY, timeout=TIMEOUT, stream=mode, **body)
    if kind == "httpx":
        transport = payerr.Transport(provider="wechat", policy=POLICY)
        with httpx.Client(transport=transport, timeout=TIMEOUT) as client:
            if stream:
                with client.stream(method, url) as response:
                    size = sum(len(chunk) for chunk in response.iter_raw())
                    return response, size
            return client.request(method, url, json={} if method == "POST" else None)
    if kind == "httpx-async":

        async def go() -> Any:
            transport = payerr.AsyncTransport(provider="wechat", policy=POLICY)
            async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as client:
                if stream:
                    async with client.stream(method, url) as response:
                        size = 0
                        async for chunk in response.aiter_raw():
                            size += len(chunk)
                        return response, size
                return await client.request(method, url, json={} if method == "POST" else None)

        return asyncio.run(go())
    with requests.Session() as session:
        session.mount("http://", payerr.RequestsAdapter(provider="wechat", policy=POLICY))
        response = session.request(
            method, url, json={} if method == "POST" else None, timeout=TIMEOUT, stream=stream
        )
        if stream:
            size = sum(len(chunk) for chunk in response.iter_content(65536))
            response.close()
            return response, size
        return response


@pytest.fixture(autouse=True)
def instant() -> Iterator[list[float]]:
    with testing.instant_sleeps() as sleeps:
        yield sleeps


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_payment_post_is_never_resent_when_it_may_have_run(kind: str, fault: Fault) -> None:
    """A non-idempotent POST: the exact class, QUERY_FIRST unless it never left, bytes kept."""
    with target(fault.name) as (url, server):
        with pytest.raises(payerr.PayError) as info:
            send(kind, "POST", url + "/shop/order/add")
        if server is not None:
            assert server.requests == fault.post_attempts
    error = info.value
    assert payerr_base(error).__mro__[1] is fault.error
    assert isinstance(error, payerr.WeChatError)
    assert error.retry is fault.post_hint
    assert error.attempts == fault.post_attempts
    assert error.raw == fault.raw


# Two timeouts waited out per case (0.8 s): in the slow tier; the POST test above waits
# out one of each in the fast tier.
RETRIED = [
    pytest.param(f, marks=pytest.mark.slow) if f.name in ("no_answer", "stall_headers") else f
    for f in FAULTS
]


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("fault", RETRIED, ids=lambda f: f.name)
def test_idempotent_get_is_retried(kind: str, fault: Fault, instant: list[float]) -> None:
    """A GET is safe to repeat: every fault is retried up to max_attempts."""
    with target(fault.name) as (url, server):
        with pytest.raises(payerr.PayError) as info:
            send(kind, "GET", url + "/cgi-bin/user/info")
        if server is not None:
            assert server.requests == 2
    assert payerr_base(info.value).__mro__[1] is fault.error
    assert info.value.attempts == 2
    assert info.value.retry is H.BACKOFF
    if fault.name == "retry_after_503":
        assert instant == [1.0]


def test_gbk_body_is_decoded() -> None:
    """A GBK error body under a UTF-8 header reads as Chinese text, not mojibake."""
    with target("gbk") as (url, _), pytest.raises(payerr.ServiceUnavailableError) as info:
        send("httpx", "GET", url + "/cgi-bin/user/info")
    assert info.value.message == "系统繁忙，请稍后再试"


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("fault", ["big", "big_chunked"])
def test_fifty_megabytes_pass_through_in_bounded_memory(kind: str, fault: str) -> None:
    """A 50 MB body streams through payerr whole, while payerr holds at most about its cap."""
    with FaultServer(fault) as server:
        tracemalloc.start()
        try:
            response, size = send(kind, "GET", server.url + "/cgi-bin/media/get", stream=True)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert response.status_code == 200
    assert size >= BIG
    assert peak < 8 * 1024 * 1024
