"""The shop's tests: provider answers faked in one line each with payerr.testing and respx."""

from __future__ import annotations

import httpx
import pytest
import respx
from shop import ALIPAY, HUAWEI_CONFIRM, WECHAT_SEND, make_shop

import payerr
from payerr.testing import httpx_response, instant_sleeps


@pytest.fixture(autouse=True)
def no_waiting():
    with instant_sleeps():
        yield


@respx.mock
def test_an_unknown_charge_is_queried_not_repeated() -> None:
    gateway = respx.post(ALIPAY)
    gateway.side_effect = [
        httpx_response("alipay", "20000", api="alipay.trade.pay"),
        httpx.Response(200, json={"alipay_trade_query_response": {
            "code": "10000", "msg": "Success", "trade_status": "TRADE_SUCCESS"}}),
    ]  # fmt: skip
    assert make_shop().charge("A1", "9.90", "2876") == "TRADE_SUCCESS"
    sent = [call.request.content for call in gateway.calls]
    assert [b"alipay.trade.pay" in body for body in sent] == [True, False]


@respx.mock
def test_a_declined_charge_reaches_the_caller() -> None:
    respx.post(ALIPAY).mock(
        return_value=httpx_response(
            "alipay", "40004", sub_code="ACQ.PAYMENT_AUTH_CODE_INVALID", api="alipay.trade.pay"
        )
    )
    with pytest.raises(payerr.AlipayError) as caught:
        make_shop().charge("A2", "9.90", "bad")
    assert caught.value.sub_code == "ACQ.PAYMENT_AUTH_CODE_INVALID"


@respx.mock
def test_a_repeated_confirmation_counts_as_delivered() -> None:
    respx.post(HUAWEI_CONFIRM).mock(return_value=httpx_response("huawei", "1001880009"))
    assert make_shop().confirm_delivery("token-1") is True


@respx.mock
def test_an_expired_wechat_token_is_refreshed_once() -> None:
    route = respx.post(WECHAT_SEND)
    route.side_effect = [httpx_response("wechat", 40001), httpx.Response(200, json={"errcode": 0})]
    tokens = iter(["old", "new"])
    make_shop(payerr.QueryParamToken(lambda: next(tokens))).notify("o-1")
    assert [call.request.url.params["access_token"] for call in route.calls] == ["old", "new"]
