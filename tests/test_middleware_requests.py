"""requests middleware over a real loopback server: same decisions as httpx."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import payerr
from payerr import RetryHint as H
from payerr import testing
from support.loopback import Script, Step, serve


def wx(errcode: int, errmsg: str = "x") -> Step:
    return Step(body=json.dumps({"errcode": errcode, "errmsg": errmsg}).encode())


def ali(method: str, code: str, sub_code: str = "") -> Step:
    node = {"code": code, "msg": "m", **({"sub_code": sub_code} if sub_code else {})}
    return Step(body=json.dumps({method.replace(".", "_") + "_response": node}).encode())


@pytest.fixture(autouse=True)
def sleeps() -> Iterator[list[float]]:
    with testing.instant_sleeps() as recorded:
        yield recorded


def session(provider: str, **kwargs: Any) -> requests.Session:
    s = requests.Session()
    s.mount("http://", payerr.RequestsAdapter(provider=provider, **kwargs))
    return s


def test_success_passes_through() -> None:
    """A success is the provider's response, unchanged and readable."""
    script = Script(wx(0, "ok"))
    with serve(script) as base, session("wechat") as s:
        response = s.get(base + "/cgi-bin/user/info")
    assert response.json() == {"errcode": 0, "errmsg": "ok"}
    assert payerr.inspect(response).ok
    assert len(script.seen) == 1


def test_cookies_an_answer_sets_are_kept_by_the_session() -> None:
    """As with requests' own adapter: a cookie set by an answer payerr read is in the
    session's jar and goes out with the next request; ``raw`` still shows the headers."""
    set_cookie = {"Set-Cookie": "sid=7f3a; Path=/"}
    script = Script(Step(200, b'{"errcode": 0, "errmsg": "ok"}', set_cookie))
    with serve(script) as base, session("wechat") as s:
        first = s.get(base + "/cgi-bin/user/info")
        s.get(base + "/cgi-bin/user/info")
    assert s.cookies.get("sid") == "7f3a"
    assert first.raw.headers["Set-Cookie"] == "sid=7f3a; Path=/"
    assert script.seen[1].headers.get("cookie") == "sid=7f3a"


def test_transient_error_is_retried(sleeps: list[float]) -> None:
    """WeChat -1 on a read: retried until success."""
    script = Script(wx(-1), wx(-1), wx(0, "ok"))
    with serve(script) as base, session("wechat") as s:
        assert s.get(base + "/cgi-bin/user/info").json()["errcode"] == 0
    assert len(script.seen) == 3
    assert len(sleeps) == 2


def test_payment_answered_20000_is_sent_once() -> None:
    """alipay.trade.pay answered 20000 is never resent; the error says query first."""
    script = Script(ali("alipay.trade.pay", "20000", "isp.unknow-error"))
    with serve(script) as base, session("alipay") as s:
        with pytest.raises(payerr.AlipayError) as info:
            s.post(base + "/gateway.do", data={"method": "alipay.trade.pay"})
    assert len(script.seen) == 1
    assert info.value.retry is H.QUERY_FIRST
    assert info.value.attempts == 1


def test_query_answered_20000_is_retried() -> None:
    """alipay.trade.query answered 20000 is sent again."""
    script = Script(
        ali("alipay.trade.query", "20000", "isp.unknow-error"), ali("alipay.trade.query", "10000")
    )
    with serve(script) as base, session("alipay") as s:
        s.post(base + "/gateway.do", data={"method": "alipay.trade.query"})
    assert len(script.seen) == 2


def test_connection_refused_is_a_network_error_and_retried() -> None:
    """Nothing listening: NetworkError after max_attempts sends that never left."""
    with serve(Script(wx(0))) as base:
        dead = base  # the port is free once the server stops
    with session("wechat") as s, pytest.raises(payerr.NetworkError) as info:
        s.post(dead + "/shop/order/add", json={})
    assert info.value.attempts == 3
    assert info.value.retry is H.BACKOFF


def test_reset_after_sending_a_payment_is_outcome_unknown() -> None:
    """A connection reset with no answer leaves a POST's outcome unknown: not resent."""
    script = Script(Step(reset=True), wx(0))
    with serve(script) as base, session("wechat") as s:
        with pytest.raises(payerr.OutcomeUnknownError) as info:
            s.post(base + "/shop/order/add", json={})
    assert len(script.seen) == 1
    assert info.value.retry is H.QUERY_FIRST


def test_marked_post_is_resent_and_the_mark_is_not_sent() -> None:
    """The Payerr-Idempotent header makes a POST resendable and never reaches the server."""
    script = Script(Step(reset=True), wx(0))
    with serve(script) as base, session("wechat") as s:
        s.post(base + "/shop/order/add", json={}, headers={"Payerr-Idempotent": "1"})
    assert len(script.seen) == 2
    assert all("payerr-idempotent" not in seen.headers for seen in script.seen)


def test_retry_after_honoured(sleeps: list[float]) -> None:
    """503 with Retry-After: 1 waits one second, then succeeds."""
    busy = Step(503, b"<html>busy</html>", {"Retry-After": "1", "Content-Type": "text/html"})
    script = Script(busy, wx(0))
    with serve(script) as base, session("wechat") as s:
        s.get(base + "/cgi-bin/user/info")
    assert sleeps == [1.0]


def test_refresh_once_then_raise() -> None:
    """A token that keeps failing is refreshed once per request, then AuthError."""
    issued: list[str] = []

    def fetch() -> str:
        issued.append(f"T{len(issued) + 1}")
        return issued[-1]

    script = Script(wx(40001, "invalid credential"))
    creds = payerr.QueryParamToken(fetch)
    with serve(script) as base, session("wechat", credentials=creds) as s:
        with pytest.raises(payerr.AuthError) as info:
            s.post(base + "/cgi-bin/message/custom/send", json={})
    assert issued == ["T1", "T2"]
    assert [seen.path.rsplit("=", 1)[1] for seen in script.seen] == ["T1", "T2"]
    assert info.value.attempts == 2
    assert "T2" not in str(info.value)


def test_final_response_returned_when_asked() -> None:
    """raise_errors=False hands back the last response instead of raising."""
    script = Script(wx(-1))
    policy = payerr.RetryPolicy(raise_errors=False, max_attempts=2)
    with serve(script) as base, session("wechat", policy=policy) as s:
        response = s.get(base + "/cgi-bin/user/info")
    assert response.json()["errcode"] == -1
    assert len(script.seen) == 2


def test_unclaimed_host_passes_through() -> None:
    """Without a pinned provider, 127.0.0.1 belongs to no adapter: untouched."""
    script = Script(Step(500, b"oops"))
    with serve(script) as base, requests.Session() as s:
        s.mount("http://", payerr.RequestsAdapter())
        assert s.get(base + "/").status_code == 500
    assert len(script.seen) == 1


def test_adapter_pickles() -> None:
    """The adapter survives pickling, as requests adapters must."""
    adapter = payerr.RequestsAdapter(provider="cmi", policy=payerr.RetryPolicy(max_attempts=2))
    restored = pickle.loads(pickle.dumps(adapter))
    assert restored.policy.max_attempts == 2
