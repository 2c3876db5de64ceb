"""Retry semantics over real sockets, with exact send counts.

The provider's advice per code and per API decides; money is decided by the
API, never by the HTTP method; the caller can say yes or no; a token fetch
through the same client never waits on itself; one refresh serves every
thread and event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
import requests

import payerr
from payerr import RetryHint as H
from payerr import testing
from payerr._reading.raw import cached_outcome
from payerr.sandbox import Sandbox
from support import aiohttp_client
from support.loopback import Script, Step, serve

CLIENTS = ["httpx", "httpx-async", "requests", "aiohttp"]


@pytest.fixture(autouse=True)
def instant() -> Iterator[list[float]]:
    with testing.instant_sleeps() as sleeps:
        yield sleeps


def send(kind: str, provider: str, method: str, url: str, **kwargs: object) -> object:
    """One logical request through payerr with the given client."""
    policy = payerr.RetryPolicy(max_attempts=3)
    if kind == "aiohttp":
        return aiohttp_client.send(method, url, provider=provider, policy=policy, **kwargs)
    if kind == "httpx":
        with httpx.Client(transport=payerr.Transport(provider=provider, policy=policy)) as c:
            return c.request(method, url, **kwargs)  # type: ignore[arg-type]
    if kind == "httpx-async":

        async def go() -> object:
            transport = payerr.AsyncTransport(provider=provider, policy=policy)
            async with httpx.AsyncClient(transport=transport) as c:
                return await c.request(method, url, **kwargs)  # type: ignore[arg-type]

        return asyncio.run(go())
    with requests.Session() as session:
        session.mount("http://", payerr.RequestsAdapter(provider=provider, policy=policy))
        return session.request(method, url, **kwargs)  # type: ignore[arg-type]


WECHAT_BUSY = Step(200, b'{"errcode":-1,"errmsg":"system error rid: 1-2"}')
WECHAT_OK = Step(200, b'{"errcode":0,"errmsg":"ok"}')


@pytest.mark.parametrize("kind", CLIENTS)
def test_wechat_system_busy_on_post_is_retried(kind: str) -> None:
    """WeChat -1 says "retry later": a POST is sent again, and succeeds."""
    script = Script(WECHAT_BUSY, WECHAT_OK)
    with serve(script) as url:
        send(kind, "wechat", "POST", url + "/cgi-bin/message/custom/send", json={"touser": "o"})
    assert len(script.seen) == 2


@pytest.mark.parametrize("kind", CLIENTS)
def test_the_final_answer_reads_as_the_error_the_caller_got(kind: str) -> None:
    """``inspect`` of the final error's response is that very error; a retried attempt's
    answer, closed, carries none (it and its error would hold each other)."""
    script = Script(WECHAT_BUSY, WECHAT_BUSY, WECHAT_BUSY)
    with serve(script) as url, pytest.raises(payerr.PayError) as raised:
        send(kind, "wechat", "POST", url + "/cgi-bin/message/custom/send", json={"touser": "o"})
    error = raised.value
    assert error.attempts == 3 and len(script.seen) == 3
    assert payerr.inspect(error.response).error is error
    assert [cached_outcome(earlier.response) for earlier in error.history] == [None, None]


def _alipay_get(url: str, method: str, **biz: str) -> str:
    import json

    query = {"method": method, "app_id": "2021", "biz_content": json.dumps(biz)}
    return f"{url}/gateway.do?{urlencode(query)}"


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize(
    "fault",
    [
        Step(reset=True),
        Step(502, b"<html>502 Bad Gateway</html>", {"Content-Type": "text/html"}),
    ],
    ids=["reset", "502"],
)
def test_alipay_pay_sent_as_get_is_never_resent(kind: str, fault: Step) -> None:
    """python-alipay-sdk sends alipay.trade.pay as a GET: still a payment, sent once."""
    script = Script(fault, Step(200, b'{"alipay_trade_pay_response":{"code":"10000"}}'))
    with serve(script) as url:
        target = _alipay_get(url, "alipay.trade.pay", out_trade_no="T1", total_amount="1.00")
        with pytest.raises(payerr.PayError) as info:
            send(kind, "alipay", "GET", target)
    assert len(script.seen) == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.mark.parametrize("kind", CLIENTS)
def test_alipay_query_sent_as_get_is_retried(kind: str) -> None:
    """A query is a read, GET or POST: a 502 is simply asked again."""
    ok = Step(200, b'{"alipay_trade_query_response":{"code":"10000","trade_status":"X"}}')
    script = Script(Step(502, b"<html>502</html>", {"Content-Type": "text/html"}), ok)
    with serve(script) as url:
        send(kind, "alipay", "GET", _alipay_get(url, "alipay.trade.query", out_trade_no="T1"))
    assert len(script.seen) == 2


@pytest.mark.parametrize("kind", CLIENTS)
def test_alipay_refund_system_error_is_resent_with_the_same_parameters(kind: str) -> None:
    """The refund docs: ACQ.SYSTEM_ERROR → call again with the same parameters."""
    error = (
        b'{"alipay_trade_refund_response":{"code":"40004","msg":"Business Failed",'
        b'"sub_code":"ACQ.SYSTEM_ERROR","sub_msg":"system error"}}'
    )
    ok = Step(200, b'{"alipay_trade_refund_response":{"code":"10000","fund_change":"Y"}}')
    script = Script(Step(200, error), ok)
    with serve(script) as url:
        form = {"method": "alipay.trade.refund", "biz_content": '{"out_trade_no":"T1"}'}
        send(kind, "alipay", "POST", url + "/gateway.do", data=form)
    assert len(script.seen) == 2
    assert script.seen[0].body == script.seen[1].body


@pytest.mark.parametrize("kind", CLIENTS)
def test_codepay_system_error_is_sent_once(kind: str) -> None:
    """codepay charges at once: SYSTEM_ERROR means query first, even with out_trade_no."""
    error = Step(500, b'{"code":"SYSTEM_ERROR","message":"system busy"}')
    script = Script(error, Step(200, b'{"trade_state":"SUCCESS"}'))
    with serve(script) as url:
        with pytest.raises(payerr.ServiceUnavailableError) as info:
            send(
                kind,
                "wechat",
                "POST",
                url + "/v3/pay/transactions/codepay",
                json={"out_trade_no": "T1", "payer": {"auth_code": "134"}},
            )
    assert len(script.seen) == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.mark.parametrize("kind", CLIENTS)
def test_v3_refund_system_error_with_out_refund_no_is_retried(kind: str) -> None:
    """A refund is made once per out_refund_no: the same request may go again."""
    error = Step(500, b'{"code":"SYSTEM_ERROR","message":"system busy"}')
    script = Script(error, Step(200, b'{"status":"PROCESSING"}'))
    with serve(script) as url:
        send(
            kind,
            "wechat",
            "POST",
            url + "/v3/refund/domestic/refunds",
            json={"out_trade_no": "T1", "out_refund_no": "R1"},
        )
    assert len(script.seen) == 2


@pytest.mark.parametrize("value", ["false", "0", "no", "off", ""])
def test_requests_header_no_means_not_idempotent(value: str) -> None:
    """Payerr-Idempotent: false is a no: a GET after a reset is not resent."""
    script = Script(Step(reset=True), WECHAT_OK)
    with serve(script) as url:
        with pytest.raises(payerr.OutcomeUnknownError) as info:
            send("requests", "wechat", "GET", url + "/cgi-bin/user/info",
                 headers={"Payerr-Idempotent": value})  # fmt: skip
    assert len(script.seen) == 1
    assert info.value.retry is H.QUERY_FIRST
    assert "payerr-idempotent" not in script.seen[0].headers


@pytest.mark.parametrize("kind", ["httpx", "httpx-async"])
def test_httpx_extension_false_means_not_idempotent(kind: str) -> None:
    """extensions={"payerr.idempotent": False} keeps even a GET from being resent."""
    script = Script(Step(reset=True), WECHAT_OK)
    with serve(script) as url, pytest.raises(payerr.OutcomeUnknownError):
        send(kind, "wechat", "GET", url + "/cgi-bin/user/info",
             extensions={"payerr.idempotent": False})  # fmt: skip
    assert len(script.seen) == 1


@pytest.mark.parametrize(
    ("kind", "mark"),
    [("requests", {"headers": {"Payerr-Idempotent": "maybe"}})]
    + [(k, {"extensions": {"payerr.idempotent": "sometimes"}}) for k in ("httpx", "httpx-async")],
)
def test_unreadable_mark_is_a_value_error(kind: str, mark: dict[str, object]) -> None:
    """A mark that is neither yes nor no is refused before anything is sent."""
    script = Script(WECHAT_OK)
    with serve(script) as url, pytest.raises(ValueError, match="yes/no"):
        send(kind, "wechat", "POST", url + "/cgi-bin/message/custom/send", **mark)
    assert script.seen == []


# --- tokens --------------------------------------------------------------------------


def test_token_fetch_through_the_same_client_completes() -> None:
    """The natural WeChat set-up: fetch the token with the very client it protects."""
    with Sandbox() as sandbox:
        client = httpx.Client(base_url=sandbox.url, timeout=5)

        def fetch() -> str:
            params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
            return str(client.get("/cgi-bin/token", params=params).json()["access_token"])

        credentials = payerr.QueryParamToken(fetch)
        client._transport = payerr.Transport(provider="wechat", credentials=credentials)
        with client:
            reply = client.post("/cgi-bin/message/custom/send", json={"touser": "o1"})
        assert reply.json()["errcode"] == 0


def test_async_token_fetch_through_the_same_client_completes() -> None:
    """The same with AsyncTransport and a coroutine fetch."""

    async def go(url: str) -> int:
        client = httpx.AsyncClient(base_url=url, timeout=5)

        async def fetch() -> str:
            params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
            reply = await client.get("/cgi-bin/token", params=params)
            return str(reply.json()["access_token"])

        credentials = payerr.QueryParamToken(fetch)
        client._transport = payerr.AsyncTransport(provider="wechat", credentials=credentials)
        async with client:
            reply = await client.post("/cgi-bin/message/custom/send", json={"touser": "o1"})
        return int(reply.json()["errcode"])

    with Sandbox() as sandbox:
        assert asyncio.run(asyncio.wait_for(go(sandbox.url), 10)) == 0


def test_one_refresh_for_four_event_loops_in_four_threads() -> None:
    """40 requests on 4 loops in 4 threads share one credentials object: 1 fetch."""
    with Sandbox() as sandbox:
        fetches: list[int] = []
        lock = threading.Lock()

        async def fetch() -> str:
            with lock:
                fetches.append(1)
            await asyncio.sleep(0.05)  # a slow token endpoint: everyone arrives meanwhile
            async with httpx.AsyncClient() as plain:
                params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
                reply = await plain.get(sandbox.url + "/cgi-bin/token", params=params)
                return str(reply.json()["access_token"])

        credentials = payerr.QueryParamToken(fetch)
        errors: list[BaseException] = []

        async def ten() -> None:
            transport = payerr.AsyncTransport(provider="wechat", credentials=credentials)
            async with httpx.AsyncClient(base_url=sandbox.url, transport=transport) as client:
                replies = await asyncio.gather(
                    *(client.post("/cgi-bin/message/custom/send", json={}) for _ in range(10)),
                    return_exceptions=True,
                )
            errors.extend(r for r in replies if isinstance(r, BaseException))

        threads = [threading.Thread(target=asyncio.run, args=(ten(),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert errors == []
        assert len(fetches) == 1


# --- cooldowns scoped like the quota --------------------------------------------------

DAILY_QUOTA = Step(200, b'{"errcode":45009,"errmsg":"reach max api daily quota limit rid: 9-9"}')


def test_per_api_quota_holds_that_api_only() -> None:
    """45009 on one API: that API is held (original code kept), others and the token go on."""
    script = Script(DAILY_QUOTA, WECHAT_OK)
    with serve(script) as url:
        transport = payerr.Transport(provider="wechat")
        with httpx.Client(base_url=url, transport=transport) as client:
            with pytest.raises(payerr.RateLimitError):
                client.post("/cgi-bin/message/custom/send", json={})
            with pytest.raises(payerr.RateLimitError) as held:
                client.post("/cgi-bin/message/custom/send", json={})
            client.post("/cgi-bin/user/info/updateremark", json={})  # another API
            client.get("/cgi-bin/token", params={"grant_type": "client_credential"})
            (cooldown,) = transport.cooldowns()
            transport.clear_cooldown()
            client.post("/cgi-bin/message/custom/send", json={})
    assert [seen.path.partition("?")[0] for seen in script.seen] == [
        "/cgi-bin/message/custom/send",
        "/cgi-bin/user/info/updateremark",
        "/cgi-bin/token",
        "/cgi-bin/message/custom/send",
    ]
    assert held.value.code == "45009"
    assert "reach max api daily quota limit" in held.value.message
    assert held.value.retry_after is not None and held.value.retry_after > 60
    assert cooldown.scope.endswith("@/cgi-bin/message/custom/send")
    assert cooldown.code == "45009"
    assert transport.cooldowns() == []


def test_far_retry_after_is_capped() -> None:
    """A Retry-After dated 2099 holds the host for max_cooldown at most, not 73 years."""
    far = Step(429, b"", {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    script = Script(far, WECHAT_OK)
    policy = payerr.RetryPolicy(max_cooldown=120)
    with serve(script) as url:
        transport = payerr.Transport(provider="wechat", policy=policy)
        with httpx.Client(base_url=url, transport=transport) as client:
            with pytest.raises(payerr.RateLimitError):
                client.get("/cgi-bin/user/info")
            (cooldown,) = transport.cooldowns()
    assert 110 < cooldown.remaining <= 120
    assert "@host:" in cooldown.scope
    assert len(script.seen) == 1


# --- what is returned, what is resent -------------------------------------------------


@pytest.mark.parametrize("kind", ["httpx", "requests"])
def test_raise_errors_false_answers_a_held_request_with_a_local_429(kind: str) -> None:
    """raise_errors=False under a cooldown: a 429 with Retry-After and the error, nothing sent."""
    script = Script(DAILY_QUOTA, WECHAT_OK)
    policy = payerr.RetryPolicy(raise_errors=False)
    with serve(script) as url:
        target = url + "/cgi-bin/message/custom/send"
        if kind == "httpx":
            transport: object = payerr.Transport(provider="wechat", policy=policy)
            with httpx.Client(transport=transport) as client:  # type: ignore[arg-type]
                first = client.post(target, json={})
                held: object = client.post(target, json={})
        else:
            with requests.Session() as session:
                session.mount("http://", payerr.RequestsAdapter(provider="wechat", policy=policy))
                first = session.post(target, json={})
                held = session.post(target, json={})
    assert first.status_code == 200  # the provider's own answer
    assert held.status_code == 429  # type: ignore[attr-defined]
    assert int(held.headers["Retry-After"]) > 60  # type: ignore[attr-defined]
    error = payerr.inspect(held).error
    assert isinstance(error, payerr.RateLimitError)
    assert error.code == "45009"
    assert len(script.seen) == 1


def test_requests_file_body_is_rewound_for_a_retry(tmp_path: object) -> None:
    """A file body goes out whole on every attempt."""
    import io

    body = io.BytesIO(b'{"touser":"o1","msgtype":"text"}')
    script = Script(WECHAT_BUSY, WECHAT_OK)
    with serve(script) as url:
        send("requests", "wechat", "POST", url + "/cgi-bin/message/custom/send", data=body)
    assert [seen.body for seen in script.seen] == [body.getvalue()] * 2


def test_requests_generator_body_is_not_resent() -> None:
    """A generator can be read once: the error is raised and says why it was not resent."""

    def chunks() -> Iterator[bytes]:
        yield b'{"touser":'
        yield b'"o1"}'

    script = Script(WECHAT_BUSY, WECHAT_OK)
    with serve(script) as url:
        with pytest.raises(payerr.ServiceUnavailableError) as info:
            send("requests", "wechat", "POST", url + "/cgi-bin/message/custom/send",
                 data=chunks())  # fmt: skip
    assert len(script.seen) == 1
    assert "cannot be sent again" in info.value.message


# --- trio ---------------------------------------------------------------------------------


def test_async_transport_runs_under_trio() -> None:
    """AsyncTransport under trio: retries sleep, a token refresh waits, all on trio."""
    trio = pytest.importorskip("trio")
    with Sandbox() as sandbox:
        fetches: list[int] = []

        async def fetch() -> str:
            fetches.append(1)
            await trio.sleep(0.01)
            return "stale" if len(fetches) == 1 else await _token(sandbox.url)

        async def _token(url: str) -> str:
            async with httpx.AsyncClient() as plain:
                params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
                reply = await plain.get(url + "/cgi-bin/token", params=params)
                return str(reply.json()["access_token"])

        async def main() -> list[int]:
            credentials = payerr.QueryParamToken(fetch)
            transport = payerr.AsyncTransport(provider="wechat", credentials=credentials)
            codes: list[int] = []
            async with httpx.AsyncClient(base_url=sandbox.url, transport=transport) as client:

                async def one() -> None:
                    reply = await client.post("/cgi-bin/message/custom/send", json={})
                    codes.append(reply.json()["errcode"])

                async with trio.open_nursery() as nursery:
                    for _ in range(5):
                        nursery.start_soon(one)
            return codes

        assert trio.run(main) == [0] * 5
        assert len(fetches) == 2  # the first (stale) token, then one refresh for all five
