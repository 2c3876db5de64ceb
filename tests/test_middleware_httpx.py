"""httpx middleware: what is retried, how often, and what the caller gets at the end."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import payerr
from payerr import RetryHint as H
from payerr import testing

ALIPAY = "https://openapi.alipay.com/gateway.do"
WECHAT = "https://api.weixin.qq.com"

Reply = httpx.Response | Exception


def alipay(method: str, code: str, sub_code: str | None = None, msg: str = "x") -> httpx.Response:
    node: dict[str, Any] = {"code": code, "msg": msg}
    if sub_code:
        node["sub_code"] = sub_code
    key = method.replace(".", "_") + "_response"
    return httpx.Response(200, json={key: node, "sign": "s"})


def wechat(errcode: int, errmsg: str = "x", **headers: str) -> httpx.Response:
    return httpx.Response(200, json={"errcode": errcode, "errmsg": errmsg}, headers=headers)


class Server:
    """A scripted MockTransport: each request takes the next reply; the last repeats."""

    def __init__(self, *replies: Reply | Callable[[httpx.Request], Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if callable(reply) and not isinstance(reply, httpx.Response):
            reply = reply(request)
        if isinstance(reply, Exception):
            raise reply
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)

    @property
    def calls(self) -> int:
        return len(self.requests)


def client(server: Server, **kwargs: Any) -> httpx.Client:
    policy = kwargs.pop("policy", payerr.RetryPolicy())
    return httpx.Client(
        transport=payerr.Transport(httpx.MockTransport(server), policy=policy, **kwargs)
    )


@pytest.fixture(autouse=True)
def sleeps() -> Any:
    with testing.instant_sleeps() as recorded:
        yield recorded


def pay(c: httpx.Client, method: str, **fields: Any) -> httpx.Response:
    biz = json.dumps(fields) if fields else "{}"
    return c.post(ALIPAY, data={"method": method, "biz_content": biz})


def test_success_passes_through_unchanged() -> None:
    """A success is the provider's own response, body readable, parsed once."""
    server = Server(alipay("alipay.trade.query", "10000", msg="Success"))
    with client(server) as c:
        response = pay(c, "alipay.trade.query")
    assert response.status_code == 200
    assert response.json()["alipay_trade_query_response"]["code"] == "10000"
    outcome = payerr.inspect(response)
    assert outcome.ok
    assert outcome is payerr.inspect(response)
    assert server.calls == 1


def test_backoff_error_is_retried_until_success(sleeps: list[float]) -> None:
    """alipay.trade.query answered 20000 twice, then success: three sends, two sleeps."""
    busy = alipay("alipay.trade.query", "20000", "isp.unknow-error")
    server = Server(busy, busy, alipay("alipay.trade.query", "10000"))
    with client(server) as c:
        assert pay(c, "alipay.trade.query").status_code == 200
    assert server.calls == 3
    assert len(sleeps) == 2


def test_payment_answered_20000_is_sent_once() -> None:
    """alipay.trade.pay answered 20000 may have been charged: never resent, QUERY_FIRST."""
    server = Server(alipay("alipay.trade.pay", "20000", "isp.unknow-error"))
    with client(server) as c, pytest.raises(payerr.ServiceUnavailableError) as info:
        pay(c, "alipay.trade.pay", out_trade_no="T1")
    assert server.calls == 1
    assert info.value.attempts == 1
    assert info.value.retry is H.QUERY_FIRST


def test_payment_system_error_is_sent_once() -> None:
    """ACQ.SYSTEM_ERROR on alipay.trade.pay is query-first as well."""
    server = Server(alipay("alipay.trade.pay", "40004", "ACQ.SYSTEM_ERROR"))
    with client(server) as c, pytest.raises(payerr.AlipayError) as info:
        pay(c, "alipay.trade.pay", out_trade_no="T1")
    assert server.calls == 1
    assert info.value.retry is H.QUERY_FIRST


def test_refund_with_request_number_is_retried() -> None:
    """A refund carrying out_request_no cannot run twice, so a system error is retried."""
    err = alipay("alipay.trade.refund", "40004", "ACQ.SYSTEM_ERROR")
    server = Server(err, alipay("alipay.trade.refund", "10000"))
    with client(server) as c:
        pay(c, "alipay.trade.refund", out_trade_no="T1", out_request_no="R1", refund_amount="1")
    assert server.calls == 2


def test_attempts_are_capped_and_the_last_error_raised() -> None:
    """A provider that stays busy gets max_attempts sends; the error carries them all."""
    server = Server(alipay("alipay.trade.query", "20000", "isp.unknow-error"))
    with client(server, policy=payerr.RetryPolicy(max_attempts=4)) as c:
        with pytest.raises(payerr.ServiceUnavailableError) as info:
            pay(c, "alipay.trade.query")
    assert server.calls == 4
    assert info.value.attempts == 4
    assert len(info.value.history) == 3
    assert len(info.value.delays) == 3
    assert all(isinstance(e, payerr.ServiceUnavailableError) for e in info.value.history)
    assert b"isp.unknow-error" in info.value.raw


@pytest.mark.parametrize(
    ("reply", "cls"),
    [
        (wechat(40013, "invalid appid"), payerr.ConfigurationError),
        (wechat(45009, "reach max api daily quota limit"), payerr.RateLimitError),
        (wechat(87014, "risky content"), payerr.RiskControlError),
    ],
)
def test_never_and_after_reset_are_not_retried(reply: httpx.Response, cls: type) -> None:
    """NEVER and AFTER_RESET errors are raised at once."""
    server = Server(reply)
    with client(server) as c, pytest.raises(cls) as info:
        c.post(WECHAT + "/cgi-bin/message/custom/send", json={})
    assert server.calls == 1
    assert info.value.attempts == 1


def test_connect_error_is_retried_even_for_a_payment() -> None:
    """A request that never left is safe to send again, whatever it does."""
    server = Server(httpx.ConnectError("refused"), alipay("alipay.trade.pay", "10000"))
    with client(server) as c:
        assert pay(c, "alipay.trade.pay", out_trade_no="T1").status_code == 200
    assert server.calls == 2


def test_read_timeout_on_a_payment_is_outcome_unknown() -> None:
    """A payment that timed out after sending may have been charged: QUERY_FIRST, one send."""
    server = Server(httpx.ReadTimeout("slow"))
    with client(server) as c, pytest.raises(payerr.OutcomeUnknownError) as info:
        pay(c, "alipay.trade.pay", out_trade_no="T1")
    assert server.calls == 1
    assert info.value.retry is H.QUERY_FIRST
    assert isinstance(info.value, payerr.AlipayError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def test_read_timeout_on_a_get_is_retried() -> None:
    """A read is idempotent: a timeout is simply tried again."""
    server = Server(httpx.ReadTimeout("slow"), wechat(0, "ok"))
    with client(server) as c:
        c.get(WECHAT + "/cgi-bin/user/info")
    assert server.calls == 2


def test_caller_can_mark_a_post_idempotent() -> None:
    """extensions={'payerr.idempotent': True} lets a POST be resent; nothing extra is sent."""
    server = Server(httpx.ReadTimeout("slow"), wechat(0, "ok"))
    with client(server) as c:
        c.post(WECHAT + "/shop/order/add", json={}, extensions={"payerr.idempotent": True})
    assert server.calls == 2
    for request in server.requests:
        assert not any("payerr" in name.lower() for name in request.headers)
        assert b"payerr" not in request.content


def test_policy_predicate_marks_requests_idempotent() -> None:
    """A policy-wide predicate can declare an idempotency key of the caller's own."""
    policy = payerr.RetryPolicy(
        is_idempotent=lambda facts: True if "order_key" in facts.fields() else None
    )
    server = Server(httpx.ReadTimeout("slow"), wechat(0, "ok"))
    with client(server, policy=policy) as c:
        c.post(WECHAT + "/shop/order/add?order_key=K1", json={})
    assert server.calls == 2


def test_policy_predicate_can_mark_requests_not_idempotent() -> None:
    """False from the predicate keeps even a GET from being resent after a timeout."""
    policy = payerr.RetryPolicy(is_idempotent=lambda facts: False)
    server = Server(httpx.ReadTimeout("slow"), wechat(0, "ok"))
    with client(server, policy=policy) as c, pytest.raises(payerr.OutcomeUnknownError) as info:
        c.get(WECHAT + "/cgi-bin/user/info")
    assert server.calls == 1
    assert info.value.retry is payerr.RetryHint.QUERY_FIRST


def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    """A 429 with Retry-After: 2 waits exactly two seconds."""
    limited = httpx.Response(429, headers={"Retry-After": "2"})
    server = Server(limited, wechat(0, "ok"))
    with client(server) as c:
        c.get(WECHAT + "/cgi-bin/user/info")
    assert sleeps == [2.0]


def test_retry_after_beyond_the_limit_raises_at_once() -> None:
    """When the provider asks for more than max_retry_after, payerr does not wait."""
    server = Server(httpx.Response(429, headers={"Retry-After": "600"}))
    with client(server) as c, pytest.raises(payerr.RateLimitError) as info:
        c.get(WECHAT + "/cgi-bin/user/info")
    assert server.calls == 1
    assert info.value.retry_after == 300.0  # what payerr honours: capped by max_cooldown
    assert info.value.server_retry_after == 600.0


def test_deadline_is_never_slept_past(sleeps: list[float]) -> None:
    """A wait longer than what is left of the deadline ends the retries instead."""
    server = Server(httpx.Response(429, headers={"Retry-After": "5"}))
    policy = payerr.RetryPolicy(deadline=1.0)
    with client(server, policy=policy) as c, pytest.raises(payerr.RateLimitError):
        c.get(WECHAT + "/cgi-bin/user/info")
    assert server.calls == 1
    assert sleeps == []


def test_retry_budget_bounds_a_dead_provider() -> None:
    """With a budget of 10 tokens at 5 a retry, a dead provider costs two extra sends in all."""
    policy = payerr.RetryPolicy(max_attempts=5, budget=10, retry_cost=5, success_refund=0)
    server = Server(wechat(-1, "system error"))
    transport = payerr.Transport(httpx.MockTransport(server), policy=policy)
    with httpx.Client(transport=transport) as c:
        errors = []
        for _ in range(5):
            with pytest.raises(payerr.ServiceUnavailableError) as info:
                c.get(WECHAT + "/cgi-bin/user/info")
            errors.append(info.value)
    assert server.calls == 5 + 2
    assert transport.budget_left("wechat") == 0
    assert "retry budget exhausted" in str(errors[-1])


def test_a_retry_that_works_costs_nothing() -> None:
    """A request that succeeds after a retry gives its tokens back."""
    policy = payerr.RetryPolicy(budget=10, retry_cost=5, success_refund=1)
    server = Server(wechat(-1, "busy"), wechat(0, "ok"))
    transport = payerr.Transport(httpx.MockTransport(server), policy=policy)
    with httpx.Client(transport=transport) as c:
        c.get(WECHAT + "/cgi-bin/user/info")
    assert transport.budget_left("wechat") == 10


def test_a_definite_answer_after_a_retry_refunds_too() -> None:
    """A retry answered with a business error still proves the provider alive: tokens back."""
    policy = payerr.RetryPolicy(budget=10, retry_cost=5)
    server = Server(wechat(-1, "busy"), wechat(1010012, "Orders exist."))
    transport = payerr.Transport(httpx.MockTransport(server), policy=policy)
    with httpx.Client(transport=transport) as c, pytest.raises(payerr.ConflictError):
        c.get(WECHAT + "/shop/order/get")
    assert transport.budget_left("wechat") == 10


def test_successes_refill_a_drained_budget() -> None:
    """Plain successes add success_refund each, up to the capacity."""
    policy = payerr.RetryPolicy(budget=10, retry_cost=5, success_refund=1, max_attempts=2)
    server = Server(wechat(-1, "busy"), wechat(-1, "busy"), wechat(0, "ok"))
    transport = payerr.Transport(httpx.MockTransport(server), policy=policy)
    with httpx.Client(transport=transport) as c:
        with pytest.raises(payerr.ServiceUnavailableError):
            c.get(WECHAT + "/cgi-bin/user/info")
        assert transport.budget_left("wechat") == 5
        c.get(WECHAT + "/cgi-bin/user/info")
        c.get(WECHAT + "/cgi-bin/user/info")
    assert transport.budget_left("wechat") == 7


def test_raise_errors_false_returns_the_final_response() -> None:
    """For callers who want the retries only, the last response comes back."""
    server = Server(wechat(-1, "system error"))
    policy = payerr.RetryPolicy(raise_errors=False, max_attempts=2)
    with client(server, policy=policy) as c:
        response = c.get(WECHAT + "/cgi-bin/user/info")
    assert server.calls == 2
    assert response.json()["errcode"] == -1
    assert isinstance(payerr.inspect(response).error, payerr.ServiceUnavailableError)


def test_unclaimed_host_passes_through_untouched() -> None:
    """A host no adapter claims is neither read nor retried."""
    server = Server(httpx.Response(500, content=b"<html>"))
    with client(server) as c:
        response = c.get("https://example.org/")
    assert response.status_code == 500
    assert server.calls == 1


def test_pinned_provider_reads_a_local_host() -> None:
    """provider='wechat' reads a sandbox on 127.0.0.1 as WeChat."""
    server = Server(wechat(40013, "invalid appid"))
    with client(server, provider="wechat") as c, pytest.raises(payerr.WeChatError):
        c.get("http://127.0.0.1:9/cgi-bin/token")


def test_large_body_passes_through_unread() -> None:
    """A body declared larger than body_cap is handed over without being read."""
    big = httpx.Response(200, headers={"Content-Length": "5000"}, content=b"x" * 5000)
    server = Server(big)
    with client(server, policy=payerr.RetryPolicy(body_cap=1000)) as c:
        response = c.get(WECHAT + "/cgi-bin/media/get")
    assert response.status_code == 200
    assert len(response.content) == 5000


def test_on_retry_hook_sees_every_retry() -> None:
    """on_retry gets one Attempt per retry, with code, hint and delay."""
    seen: list[payerr.Attempt] = []
    policy = payerr.RetryPolicy(on_retry=seen.append)
    server = Server(wechat(-1, "busy"), wechat(-1, "busy"), wechat(0, "ok"))
    with client(server, policy=policy) as c:
        c.get(WECHAT + "/cgi-bin/user/info")
    assert [a.number for a in seen] == [1, 2]
    assert all(a.code == "-1" and a.hint is H.BACKOFF and a.provider == "wechat" for a in seen)


def test_one_log_record_per_decision_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    """Each retry and the final decision log once, with structured extra and no token."""
    server = Server(wechat(-1, "busy"), wechat(40013, "invalid appid"))
    caplog.set_level(logging.DEBUG, logger="payerr")
    with client(server) as c, pytest.raises(payerr.ConfigurationError):
        c.get(WECHAT + "/cgi-bin/user/info?access_token=VERYSECRETTOKEN")
    records = [r for r in caplog.records if r.name == "payerr"]
    assert len(records) == 2
    retry = records[0]
    assert (retry.provider, retry.code, retry.attempt, retry.hint) == ("wechat", "-1", 1, "backoff")
    assert "VERYSECRETTOKEN" not in caplog.text
    assert "VERYSECRETTOKEN" not in records[1].url


# --- credentials -----------------------------------------------------------


def token_server(valid: str) -> Server:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("access_token") == valid:
            return wechat(0, "ok")
        return wechat(40001, "invalid credential, access_token is invalid or not latest")

    return Server(answer)


def counting_fetch() -> tuple[Callable[[], str], list[str]]:
    issued: list[str] = []

    def fetch() -> str:
        issued.append(f"T{len(issued) + 1}")
        return issued[-1]

    return fetch, issued


def test_token_is_fetched_applied_and_refreshed_once() -> None:
    """The first token is fetched lazily; a 40001 refreshes once and the request is resent."""
    fetch, issued = counting_fetch()
    server = token_server("T2")
    with client(server, credentials=payerr.QueryParamToken(fetch)) as c:
        c.post(WECHAT + "/cgi-bin/message/custom/send", json={})
    assert issued == ["T1", "T2"]
    assert [r.url.params["access_token"] for r in server.requests] == ["T1", "T2"]


def test_refresh_happens_at_most_once_per_request() -> None:
    """A token that keeps failing (e.g. a wrong AppSecret) is not refreshed in a loop."""
    fetch, issued = counting_fetch()
    server = token_server("never")
    with client(server, credentials=payerr.QueryParamToken(fetch)) as c:
        with pytest.raises(payerr.AuthError) as info:
            c.post(WECHAT + "/cgi-bin/message/custom/send", json={})
    assert server.calls == 2
    assert len(issued) == 2
    assert info.value.attempts == 2


def test_auth_error_without_credentials_is_raised() -> None:
    """Without a credentials object a refresh hint cannot be acted on."""
    server = token_server("T1")
    with client(server) as c, pytest.raises(payerr.AuthError) as info:
        c.post(WECHAT + "/cgi-bin/message/custom/send?access_token=old", json={})
    assert server.calls == 1
    assert info.value.retry is H.REFRESH_CREDENTIALS


def test_huawei_header_credentials() -> None:
    """HeaderToken.huawei sends Basic base64('APPAT:' + token)."""
    import base64

    server = Server(httpx.Response(200, json={"responseCode": "0"}))
    creds = payerr.HeaderToken.huawei(lambda: "AT1")
    url = "https://orders-drcn.iap.cloud.huawei.com.cn/applications/purchases/tokens/verify"
    with client(server, credentials=creds) as c:
        c.post(url, json={"purchaseToken": "p"})
    expected = "Basic " + base64.b64encode(b"APPAT:AT1").decode()
    assert server.requests[0].headers["authorization"] == expected


def test_cmi_body_credentials() -> None:
    """JsonBodyToken puts accessToken into the JSON body, length fixed."""
    server = Server(httpx.Response(200, json={"code": "0000000"}))
    creds = payerr.JsonBodyToken(lambda: "AT9")
    url = "https://gdschannel.cmlink.com/aep/APP_queryCard_SBO/v1"
    with client(server, credentials=creds) as c:
        c.post(url, json={"iccid": "8986"})
    sent = server.requests[0]
    assert json.loads(sent.content) == {"iccid": "8986", "accessToken": "AT9"}
    assert int(sent.headers["content-length"]) == len(sent.content)


# --- async -------------------------------------------------------------------


def async_client(server: Server, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=payerr.AsyncTransport(httpx.MockTransport(server), **kwargs))


@pytest.mark.anyio
async def test_async_retries_like_sync(sleeps: list[float]) -> None:
    """The async transport obeys the same policy: busy twice, then success."""
    server = Server(wechat(-1, "busy"), wechat(-1, "busy"), wechat(0, "ok"))
    async with async_client(server) as c:
        response = await c.get(WECHAT + "/cgi-bin/user/info")
    assert response.json() == {"errcode": 0, "errmsg": "ok"}
    assert server.calls == 3
    assert len(sleeps) == 2


@pytest.mark.anyio
async def test_async_payment_is_sent_once() -> None:
    """alipay.trade.pay answered 20000 is not resent by the async transport either."""
    server = Server(alipay("alipay.trade.pay", "20000", "isp.unknow-error"))
    async with async_client(server) as c:
        with pytest.raises(payerr.ServiceUnavailableError) as info:
            await c.post(ALIPAY, data={"method": "alipay.trade.pay"})
    assert server.calls == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.mark.anyio
async def test_fifty_concurrent_40001_cause_one_refresh() -> None:
    """Fifty requests failing on the same stale token share a single refresh."""
    issued: list[str] = []

    async def fetch() -> str:
        await asyncio.sleep(0.01)
        issued.append(f"T{len(issued) + 1}")
        return issued[-1]

    server = token_server("T2")
    creds = payerr.QueryParamToken(fetch)
    async with async_client(server, credentials=creds) as c:
        url = WECHAT + "/cgi-bin/message/custom/send"
        responses = await asyncio.gather(*(c.post(url, json={}) for _ in range(50)))
    assert all(r.json()["errcode"] == 0 for r in responses)
    assert issued == ["T1", "T2"]
    assert server.calls == 100


def test_sixteen_threads_share_one_refresh() -> None:
    """Sixteen threads on one sync transport hitting 40001 cause one refresh."""
    from concurrent.futures import ThreadPoolExecutor

    fetch, issued = counting_fetch()
    barrier_server = token_server("T2")
    with client(barrier_server, credentials=payerr.QueryParamToken(fetch)) as c:
        c.post(WECHAT + "/cgi-bin/message/custom/send", json={})  # T1 fetched, refreshed to T2
        issued_before = list(issued)
        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(c.post, WECHAT + "/x/send", json={}) for _ in range(16)]
            assert all(f.result().json()["errcode"] == 0 for f in futures)
    assert issued == issued_before == ["T1", "T2"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_credentials_survive_a_second_event_loop() -> None:
    """One credentials object used under two asyncio.run calls refreshes in both."""
    issued: list[str] = []

    async def fetch() -> str:
        await asyncio.sleep(0.001)
        issued.append(f"T{len(issued) + 1}")
        return issued[-1]

    credentials = payerr.QueryParamToken(fetch)
    server = Server(wechat(0, "ok"))

    async def burst() -> None:
        async with async_client(server, credentials=credentials) as c:
            await asyncio.gather(*(c.get(WECHAT + "/cgi-bin/user/info") for _ in range(5)))

    asyncio.run(burst())
    credentials.token = None  # expired between the two runs
    asyncio.run(burst())
    assert issued == ["T1", "T2"]
    assert server.calls == 10


def test_elapsed_is_set_on_a_streamed_response(sandbox: Any) -> None:
    """The body is read inside the transport; response.elapsed still works as with bare httpx."""
    with httpx.Client(transport=payerr.Transport(provider="wechat")) as c:
        response = c.get(sandbox.url + "/cgi-bin/token?grant_type=client_credential")
    assert response.json()["access_token"]
    assert 0 < response.elapsed.total_seconds() < 5


def test_elapsed_is_set_on_an_async_streamed_response(sandbox: Any) -> None:
    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=payerr.AsyncTransport(provider="wechat")) as c:
            return await c.get(sandbox.url + "/cgi-bin/token?grant_type=client_credential")

    assert 0 < asyncio.run(fetch()).elapsed.total_seconds() < 5


def test_an_override_applies_to_the_next_request(fresh_catalog: object) -> None:
    """The transport remembers its adapter, but not past a change to the catalog."""
    server = Server(wechat(40013, "invalid appid"))
    with client(server) as c:
        with pytest.raises(payerr.ConfigurationError):
            c.get(WECHAT + "/cgi-bin/token")
        payerr.override_code("wechat", "40013", category=payerr.Category.INVALID_REQUEST)
        with pytest.raises(payerr.InvalidRequestError):
            c.get(WECHAT + "/cgi-bin/token")


def test_a_host_registered_later_is_claimed(fresh_catalog: object) -> None:
    server = Server(wechat(40013, "invalid appid"))
    with client(server) as c:
        assert c.get("https://wx-gateway.example.com/cgi-bin/token").status_code == 200
        payerr.register_host("wx-gateway.example.com", "wechat")
        with pytest.raises(payerr.WeChatError):
            c.get("https://wx-gateway.example.com/cgi-bin/token")


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        (httpx.Headers({"Content-Length": "12"}), 12),
        (httpx.Headers({"content-type": "application/json"}), None),
        (httpx.Headers({"Content-Length": "1e3"}), None),
        (httpx.Headers([(b"CONTENT-LENGTH", b"7")]), 7),
        ({"content-length": "5"}, 5),  # not httpx's Headers: read the public way
    ],
)
def test_content_length_is_read_in_one_pass(headers: Any, length: int | None) -> None:
    from payerr._clients.bounds import head_of

    assert head_of(200, headers).length == length


def test_the_one_pass_applies_to_this_httpx() -> None:
    """A canary: if httpx lays its headers out differently, the slower public path is taken."""
    entries = httpx.Headers({"Content-Length": "3"})._list
    assert type(entries) is list
    assert entries[0][1:] == (b"content-length", b"3")


def test_a_success_read_off_a_real_socket_is_the_clients_to_read_again() -> None:
    """payerr reads the transport's own stream (not through ``iter_raw``): what httpx
    counts and hands back is what it would have, and the connection goes back to the pool."""
    from support.faultserver import OK
    from support.rawserver import KeptOpen

    with KeptOpen(then=OK) as server:
        transport = payerr.Transport(provider="wechat")
        with httpx.Client(transport=transport) as client:
            for _ in range(2):  # the second request reuses the connection the first gave back
                with client.stream("GET", server.url + "/cgi-bin/user/info") as response:
                    assert response.num_bytes_downloaded == len(OK)
                    assert b"".join(response.iter_raw()) == OK
                assert response.is_closed
            assert client.get(server.url + "/cgi-bin/user/info").json() == {
                "errcode": 0,
                "errmsg": "ok",
            }
    assert (server.requests, server.connections) == (3, 1)
