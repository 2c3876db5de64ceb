"""python-alipay-sdk with payerr installed, and ``alipay_result`` over what the SDKs return.

The official alipay-sdk-python shares the ``alipay`` package name, so it runs in
a subprocess of its own (tests/test_sdk_alipay_official.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from alipay import AliPay
from alipay.exceptions import AliPayValidationError

import payerr
from payerr.integrations import alipay as payerr_alipay
from payerr.sandbox import Sandbox

AUTH_CODE = "28763443825664394"


@pytest.fixture
def sandbox(signed_sandbox: Sandbox) -> Sandbox:
    return signed_sandbox


def client(sandbox: Sandbox, public_key: str | None = None) -> AliPay:
    sdk = AliPay(
        appid="2021000000000001",
        app_notify_url=None,
        app_private_key_string=sandbox.app_private_key_pem,
        alipay_public_key_string=public_key or sandbox.public_key_pem,
        sign_type="RSA2",
    )
    sdk._gateway = f"{sandbox.url}/gateway.do"
    return sdk


def pay(sdk: AliPay, number: str) -> Any:
    return sdk.api_alipay_trade_pay(
        out_trade_no=number, scene="bar_code", auth_code=AUTH_CODE, subject="x", total_amount="1"
    )


def test_success_is_what_the_sdk_returns(sandbox: Sandbox) -> None:
    plain = pay(client(sandbox), "S0")
    through = pay(payerr_alipay.install(client(sandbox)), "S1")
    assert plain.keys() == through.keys()
    assert through["code"] == "10000"


def test_a_payment_sent_as_get_is_never_resent(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox))
    sandbox.script("alipay.trade.pay", ["20000!"])
    with pytest.raises(payerr.ServiceUnavailableError) as caught:
        pay(sdk, "P1")
    assert caught.value.retry is payerr.RetryHint.QUERY_FIRST
    assert caught.value.api_method == "alipay.trade.pay"
    assert sandbox.ledger.requests("out_trade_no", "P1") == 1
    assert sandbox.ledger.executions("out_trade_no", "P1") == 1


def test_a_query_is_retried(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox))
    pay(sdk, "Q1")
    sandbox.script("alipay.trade.query", ["20000", "ok"])
    assert sdk.api_alipay_trade_query(out_trade_no="Q1")["trade_status"] == "TRADE_SUCCESS"
    assert sandbox.route_hits["alipay.trade.query"] == 2


def test_a_refund_with_its_request_number_is_resent_and_made_once(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox))
    pay(sdk, "R1")
    sandbox.script("alipay.trade.refund", ["ACQ.SYSTEM_ERROR!", "ok"])
    result = sdk.api_alipay_trade_refund(refund_amount="1", out_trade_no="R1", out_request_no="F1")
    assert result["fund_change"] == "Y"
    assert sandbox.ledger.requests("out_request_no", "F1") == 2
    assert sandbox.ledger.executions("out_request_no", "F1") == 1


def test_a_signed_business_failure_is_a_typed_error(sandbox: Sandbox) -> None:
    with pytest.raises(payerr.NotFoundError) as caught:
        payerr_alipay.install(client(sandbox)).api_alipay_trade_query(out_trade_no="missing")
    assert caught.value.sub_code == "ACQ.TRADE_NOT_EXIST"


def test_signatures_are_still_verified(sandbox: Sandbox) -> None:
    with Sandbox(signing=True) as other:
        sdk = payerr_alipay.install(client(sandbox, public_key=other.public_key_pem))
        with pytest.raises(AliPayValidationError):
            pay(sdk, "V1")


def test_raise_errors_false_returns_what_the_sdk_returns(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox), raise_errors=False)
    result = sdk.api_alipay_trade_query(out_trade_no="missing")
    assert result["sub_code"] == "ACQ.TRADE_NOT_EXIST"
    with pytest.raises(payerr.NotFoundError):
        payerr.alipay_result(result, method="alipay.trade.query")


def test_install_refuses_what_is_not_an_alipay_client() -> None:
    with pytest.raises(TypeError, match="not a client of a supported Alipay SDK"):
        payerr_alipay.install(object())


# --- alipay_result: what either SDK returned ---------------------------------

SUCCESS = {"code": "10000", "msg": "Success", "out_trade_no": "A1", "trade_status": "WAIT"}
GATEWAY_BUSY = {
    "code": "20000",
    "msg": "Service Currently Unavailable",
    "sub_code": "isp.unknow-error",
}


class OfficialResponse:
    """The shape of alipay-sdk-python's ``*Response`` objects: the node's text in ``body``."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.code = "20000"

    def is_success(self) -> bool:
        return True  # what the official SDK says for 20000


@pytest.mark.parametrize(
    "result",
    [SUCCESS, '{"code":"10000","msg":"Success","out_trade_no":"A1","trade_status":"WAIT"}'],
    ids=["dict", "text"],
)
def test_alipay_result_hands_back_the_node(result: Any) -> None:
    assert payerr.alipay_result(result, method="alipay.trade.query") == SUCCESS


@pytest.mark.parametrize(
    ("method", "hint"),
    [
        ("alipay.trade.pay", payerr.RetryHint.QUERY_FIRST),
        ("alipay.trade.query", payerr.RetryHint.BACKOFF),
    ],
)
def test_alipay_result_gives_the_hint_for_the_api(method: str, hint: payerr.RetryHint) -> None:
    with pytest.raises(payerr.AlipayError) as caught:
        payerr.alipay_result(GATEWAY_BUSY, method=method)
    assert caught.value.retry is hint


def test_alipay_result_reads_an_official_response_object() -> None:
    import json

    response = OfficialResponse(json.dumps(GATEWAY_BUSY))
    assert response.is_success()
    with pytest.raises(payerr.ServiceUnavailableError):
        payerr.alipay_result(response, method="alipay.trade.pay")


def test_alipay_result_sees_a_refunds_request_number() -> None:
    busy = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.SYSTEM_ERROR"}
    with pytest.raises(payerr.AlipayError) as caught:
        payerr.alipay_result(
            busy, method="alipay.trade.refund", biz_content={"out_request_no": "F1"}
        )
    assert caught.value.retry is payerr.RetryHint.BACKOFF


def test_alipay_result_keeps_text_that_is_not_json() -> None:
    with pytest.raises(payerr.MalformedResponseError) as caught:
        payerr.alipay_result("<html>502 Bad Gateway</html>", method="alipay.trade.query")
    assert caught.value.raw == b"<html>502 Bad Gateway</html>"


def test_alipay_result_refuses_what_no_sdk_returns() -> None:
    with pytest.raises(TypeError, match="not int"):
        payerr.alipay_result(42, method="alipay.trade.query")


def test_an_adapter_of_ones_own_carries_the_calls(sandbox: Sandbox) -> None:
    sdk = client(sandbox)
    sdk._gateway = "https://openapi.alipay.com/gateway.do"  # the real URL, sent to the sandbox
    payerr_alipay.install(sdk, adapter=sandbox.requests_adapter())
    assert pay(sdk, "O1")["code"] == "10000"
    assert sandbox.received[-1].path == "/gateway.do"


def test_settings_beside_an_adapter_are_refused(sandbox: Sandbox) -> None:
    with pytest.raises(TypeError, match="drop app, policy"):
        payerr_alipay.install(
            client(sandbox),
            adapter=sandbox.requests_adapter(),
            policy=payerr.RetryPolicy(),
            app="shop",
        )


def test_an_sdk_that_no_longer_makes_the_call_is_refused_at_install() -> None:
    """rebind names the SDK function that stopped calling what payerr replaces."""
    from payerr.integrations._sdk import rebind

    def verified_sync_response(self: object) -> None:
        return None

    with pytest.raises(RuntimeError, match="no longer calls urlopen"):
        rebind(verified_sync_response, object(), urlopen=lambda url, timeout=None: None)
