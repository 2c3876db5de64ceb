"""Handlers written for the client keep catching: transport failures are also the client's
own exception types, still payerr types, still picklable; provider errors keep .response."""

from __future__ import annotations

import asyncio
import pickle

import httpx
import pytest
import requests

import payerr
from payerr import testing
from support.faultserver import FaultServer, refused_url
from support.loopback import Script, Step, serve

ONE = payerr.RetryPolicy(max_attempts=1)


@pytest.fixture(autouse=True)
def instant() -> object:
    with testing.instant_sleeps():
        yield


def test_httpx_connect_error_is_still_an_httpx_connect_error() -> None:
    """except httpx.ConnectError (and httpx.TransportError) keep catching."""
    transport = payerr.Transport(provider="wechat", policy=ONE)
    with refused_url() as url, httpx.Client(transport=transport) as client:
        with pytest.raises(httpx.ConnectError) as info:
            client.get(url + "/cgi-bin/user/info")
    assert isinstance(info.value, payerr.NetworkError)
    assert isinstance(info.value, httpx.TransportError)
    assert info.value.request is not None


def test_httpx_read_timeout_is_still_a_timeout_exception() -> None:
    """A read timeout after sending: payerr's OutcomeUnknownError and httpx's TimeoutException."""
    with FaultServer("no_answer") as server:
        transport = payerr.Transport(provider="wechat", policy=ONE)
        with httpx.Client(transport=transport, timeout=0.3) as client:
            with pytest.raises(httpx.TimeoutException) as info:
                client.post(server.url + "/cgi-bin/message/custom/send", json={})
    error = info.value
    assert isinstance(error, payerr.OutcomeUnknownError) and isinstance(error, payerr.WeChatError)
    restored = pickle.loads(pickle.dumps(error))
    assert isinstance(restored, httpx.ReadTimeout) and isinstance(restored, payerr.PayError)
    assert restored.code == error.code and restored.retry is error.retry


def test_async_httpx_errors_are_httpx_errors_too() -> None:
    async def go() -> None:
        with refused_url() as url:
            transport = payerr.AsyncTransport(provider="wechat", policy=ONE)
            async with httpx.AsyncClient(transport=transport) as client:
                await client.get(url + "/cgi-bin/user/info")

    with pytest.raises(httpx.ConnectError) as info:
        asyncio.run(go())
    assert isinstance(info.value, payerr.NetworkError)


@pytest.mark.parametrize(
    ("fault", "client_class"),
    [
        ("refused", requests.ConnectionError),
        ("reset", requests.ConnectionError),
        ("no_answer", requests.Timeout),
    ],
)
def test_requests_errors_are_requests_exceptions_too(fault: str, client_class: type) -> None:
    """except requests.ConnectionError / requests.Timeout keep catching through the adapter."""
    with requests.Session() as session:
        session.mount("http://", payerr.RequestsAdapter(provider="wechat", policy=ONE))
        if fault == "refused":
            with refused_url() as url, pytest.raises(client_class) as info:
                session.get(url + "/cgi-bin/user/info", timeout=0.3)
        else:
            with FaultServer(fault) as server, pytest.raises(client_class) as info:
                session.get(server.url + "/cgi-bin/user/info", timeout=0.3)
    assert isinstance(info.value, payerr.TransportError)
    assert isinstance(info.value, requests.RequestException)
    assert type(pickle.loads(pickle.dumps(info.value))) is type(info.value)


@pytest.mark.parametrize("kind", ["httpx", "requests"])
def test_provider_error_keeps_the_client_response(kind: str) -> None:
    """A provider error carries the client's own response object (not pickled)."""
    script = Script(Step(200, b'{"errcode":40013,"errmsg":"invalid appid"}'))
    with serve(script) as url:
        if kind == "httpx":
            with httpx.Client(transport=payerr.Transport(provider="wechat")) as client:
                with pytest.raises(payerr.ConfigurationError) as info:
                    client.get(url + "/cgi-bin/user/info")
            assert isinstance(info.value.response, httpx.Response)
        else:
            with requests.Session() as session:
                session.mount("http://", payerr.RequestsAdapter(provider="wechat"))
                with pytest.raises(payerr.ConfigurationError) as info:
                    session.get(url + "/cgi-bin/user/info")
            assert isinstance(info.value.response, requests.Response)
    assert info.value.response.status_code == 200
    assert pickle.loads(pickle.dumps(info.value)).response is None
