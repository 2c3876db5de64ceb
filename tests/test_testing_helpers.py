"""payerr.testing for your own tests: fake any provider answer by its code, for respx
(httpx) and responses (requests), built from the same adapter data payerr reads."""

from __future__ import annotations

import httpx
import pytest
import requests
import responses
import respx

import payerr
from payerr.testing import httpx_response, provider_answer, responses_reply

CASES = [
    ("wechat", "40001", {}, "https://api.weixin.qq.com/cgi-bin/message/custom/send",
     payerr.AuthError),
    ("wechat", "SYSTEM_ERROR", {"api": "/v3/pay/transactions/jsapi"},
     "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi", payerr.ServiceUnavailableError),
    ("wechat", "USERPAYING", {"api": "/pay/micropay"},
     "https://api.mch.weixin.qq.com/pay/micropay", payerr.PendingError),
    ("alipay", "20000", {"api": "alipay.trade.pay"},
     "https://openapi.alipay.com/gateway.do", payerr.ServiceUnavailableError),
    ("alipay", "40004", {"sub_code": "ACQ.TRADE_NOT_EXIST", "api": "alipay.trade.query"},
     "https://openapi.alipay.com/gateway.do", payerr.NotFoundError),
    ("huawei", "1001880009", {},
     "https://orders-drcn.iap.cloud.huawei.com.cn/applications/v2/purchases/confirm",
     payerr.ConflictError),
    ("cmi", "9000004", {}, "https://gdschannel.cmlink.com/aep/APP_createOrder_SBO/v1",
     payerr.RateLimitError),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "code", "options", "url", "cls"), CASES)
def test_a_fake_answer_reads_back_as_its_code(
    provider: str, code: str, options: dict[str, str], url: str, cls: type
) -> None:
    """Whatever the envelope (JSON node, flat, v3 status, v2 XML), payerr reads the code."""
    status, headers, body = provider_answer(provider, code, **options)
    error = payerr.inspect(payerr.RawResponse(status, headers, body, url)).error
    assert isinstance(error, cls)
    assert code in (error.code, error.sub_code) or options.get("sub_code") == error.sub_code


STATUS_ENTRIES = [
    ("huawei", "500", "https://orders-drcn.iap.cloud.huawei.com.cn/applications/v2/purchases"),
    ("huawei", "503", "https://orders-drcn.iap.cloud.huawei.com.cn/applications/v2/purchases"),
    ("huawei", "401", "https://orders-drcn.iap.cloud.huawei.com.cn/applications/v2/purchases"),
    ("cmi", "500", "https://gdschannel.cmlink.com/aep/APP_createOrder_SBO/v1"),
]


@pytest.mark.parametrize(("provider", "status", "url"), STATUS_ENTRIES)
def test_a_status_entry_is_faked_as_that_status(provider: str, status: str, url: str) -> None:
    """An entry keyed by HTTP status is that status on the wire, not a 200 with the status
    as a body code: it reads back typed, known and with the entry's hint."""
    answer = provider_answer(provider, status)
    assert answer[0] == int(status)
    error = payerr.inspect(payerr.RawResponse(*answer, url)).error
    entry = payerr.explain(provider, status)
    assert error is not None and error.known
    assert error.category is entry.category
    assert error.http_status == int(status)


def test_a_lone_alipay_sub_code_is_faked_under_its_parent() -> None:
    """``provider_answer("alipay", "ACQ.TRADE_NOT_EXIST")``: the sub_code under 40004, as
    Alipay's gateway sends it, not in ``code``."""
    answer = provider_answer("alipay", "ACQ.TRADE_NOT_EXIST", api="alipay.trade.query")
    error = payerr.inspect(payerr.RawResponse(*answer, "https://openapi.alipay.com/gateway.do"))
    assert error.error is not None
    assert (error.error.code, error.error.sub_code) == ("40004", "ACQ.TRADE_NOT_EXIST")
    assert isinstance(error.error, payerr.NotFoundError)


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(KeyError, match="no code"):
        provider_answer("wechat", "123456789")


# --- a user's app, tested the way the README shows -----------------------------------------


def send_message(client: httpx.Client, openid: str) -> int:
    """The code under test: a WeChat customer-service message."""
    reply = client.post("https://api.weixin.qq.com/cgi-bin/message/custom/send",
                        json={"touser": openid, "msgtype": "text"})  # fmt: skip
    return int(reply.json()["errcode"])


@respx.mock
def test_user_app_survives_a_token_expiry_with_respx() -> None:
    """WeChat answers 40001 once, then succeeds: one token refresh, one resend."""
    route = respx.post("https://api.weixin.qq.com/cgi-bin/message/custom/send").mock(
        side_effect=[httpx_response("wechat", 40001), httpx.Response(200, json={"errcode": 0})]
    )
    tokens = iter(["t1", "t2"])
    credentials = payerr.QueryParamToken(lambda: next(tokens))
    with httpx.Client(transport=payerr.Transport(credentials=credentials)) as client:
        assert send_message(client, "o1") == 0
    assert route.call_count == 2
    assert route.calls[1].request.url.params["access_token"] == "t2"


@responses.activate
def test_user_app_sees_the_payment_as_query_first_with_responses() -> None:
    """Alipay 20000 on alipay.trade.pay: sent once, and the caller is told to query first."""
    gateway = "https://openapi.alipay.com/gateway.do"
    responses.add("POST", gateway, **responses_reply("alipay", "20000", api="alipay.trade.pay"))
    with requests.Session() as session:
        session.mount("https://", payerr.RequestsAdapter())
        with pytest.raises(payerr.ServiceUnavailableError) as info:
            session.post(gateway, data={"method": "alipay.trade.pay", "biz_content": "{}"})
    assert info.value.retry is payerr.RetryHint.QUERY_FIRST
    assert len(responses.calls) == 1
