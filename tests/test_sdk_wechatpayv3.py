"""wechatpayv3 (sync and async) with payerr installed, against a signing sandbox."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import pytest
import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.async_ import AsyncWeChatPay
from wechatpayv3.async_.type import WeChatPayType as AsyncPayType

import payerr
from payerr.integrations import wechatpayv3 as payerr_wechatpay
from payerr.sandbox import Sandbox

ORIGINAL_GET = requests.get


@pytest.fixture
def sandbox(signed_sandbox: Sandbox) -> Sandbox:
    return signed_sandbox


def settings(sandbox: Sandbox, kind: Any = WeChatPayType.NATIVE) -> dict[str, Any]:
    return {
        "wechatpay_type": kind,
        "mchid": "1900000001",
        "private_key": sandbox.merchant_private_key_pem,
        "cert_serial_no": "5157F09EFDC096DE15EBE81A47057A72",
        "appid": "wx00sandbox",
        "apiv3_key": "k" * 32,
        "notify_url": "https://shop.example/notify",
        "public_key": sandbox.public_key_pem,
        "public_key_id": sandbox.wechatpay_public_key_id,
    }


def installed(sandbox: Sandbox, kind: Any = WeChatPayType.NATIVE, **options: Any) -> WeChatPay:
    pay = WeChatPay(**settings(sandbox, kind))
    pay._core._gate_way = sandbox.url
    return payerr_wechatpay.install(pay, **options)


def test_success_keeps_the_sdks_status_and_text(sandbox: Sandbox) -> None:
    code, text = installed(sandbox).pay(description="x", out_trade_no="N1", amount={"total": 1})
    assert code == 200
    assert json.loads(text)["code_url"].startswith("weixin://wxpay/bizpayurl")


def test_signatures_are_still_verified(sandbox: Sandbox) -> None:
    with Sandbox(signing=True) as other:  # signs with a key this client does not trust
        pay = WeChatPay(**settings(sandbox))
        pay._core._gate_way = other.url
        payerr_wechatpay.install(pay)
        with pytest.raises(Exception, match="failed to verify the signature"):
            pay.pay(description="x", out_trade_no="V1", amount={"total": 1})


def test_a_bill_downloads_as_bytes(sandbox: Sandbox) -> None:
    pay = installed(sandbox)
    code, text = pay.trade_bill(bill_date="2026-12-01")
    assert code == 200
    code, data = pay.download_bill(json.loads(text)["download_url"])
    assert code == 200
    assert gzip.decompress(data).startswith("交易时间".encode())


def test_a_payment_code_charge_is_never_resent(sandbox: Sandbox) -> None:
    pay = installed(sandbox, WeChatPayType.CODEPAY)
    sandbox.script("wechatpay.codepay", ["SYSTEM_ERROR!"])
    with pytest.raises(payerr.ServiceUnavailableError) as caught:
        pay.pay(
            description="x", out_trade_no="C1", amount={"total": 1}, payer={"auth_code": "1345"}
        )
    assert caught.value.retry is payerr.RetryHint.QUERY_FIRST
    assert sandbox.ledger.requests("out_trade_no", "C1") == 1
    assert sandbox.ledger.executions("out_trade_no", "C1") == 1


def test_a_refund_is_resent_with_its_key_and_made_once(sandbox: Sandbox) -> None:
    pay = installed(sandbox)
    pay.pay(description="x", out_trade_no="R1", amount={"total": 1})
    sandbox.script("wechatpay.refund", ["SYSTEM_ERROR!", "ok"])
    code, _text = pay.refund(
        out_refund_no="RF1", amount={"refund": 1, "total": 1, "currency": "CNY"}, out_trade_no="R1"
    )
    assert code == 200
    assert sandbox.ledger.requests("out_refund_no", "RF1") == 2
    assert sandbox.ledger.executions("out_refund_no", "RF1") == 1


def test_raise_errors_false_keeps_the_status_and_text_contract(sandbox: Sandbox) -> None:
    pay = installed(sandbox, raise_errors=False)
    pay.pay(description="x", out_trade_no="Q1", amount={"total": 1})
    sandbox.script("wechatpay.query", ["SYSTEM_ERROR"] * 3)
    code, text = pay.query(out_trade_no="Q1")
    assert (code, json.loads(text)["code"]) == (500, "SYSTEM_ERROR")
    assert sandbox.route_hits["wechatpay.query"] == 3


def test_a_typed_error_otherwise(sandbox: Sandbox) -> None:
    with pytest.raises(payerr.NotFoundError) as caught:
        installed(sandbox).query(out_trade_no="missing")
    assert (caught.value.code, caught.value.http_status) == ("ORDER_NOT_EXIST", 404)


def test_the_requests_module_is_left_alone(sandbox: Sandbox) -> None:
    installed(sandbox)
    assert requests.get is ORIGINAL_GET
    other = WeChatPay(**settings(sandbox))
    assert "request" not in vars(other._core)


def run_async(sandbox: Sandbox, body: Any, *, before_entering: bool) -> Any:
    async def main() -> Any:
        pay = AsyncWeChatPay(**settings(sandbox, AsyncPayType.NATIVE))
        pay._core._gate_way = sandbox.url
        if before_entering:
            payerr_wechatpay.install(pay)
        async with pay:
            if not before_entering:
                payerr_wechatpay.install(pay)
            return await body(pay)

    return asyncio.run(main())


@pytest.mark.parametrize("before_entering", [True, False])
def test_async_retries_then_succeeds(sandbox: Sandbox, before_entering: bool) -> None:
    sandbox.script("wechatpay.native", ["SYSTEM_ERROR", "ok"])
    number = f"A-{before_entering}"

    async def place(pay: AsyncWeChatPay) -> Any:
        return await pay.pay(
            description="x", out_trade_no=number, amount={"total": 1}, pay_type=AsyncPayType.NATIVE
        )

    code, _text = run_async(sandbox, place, before_entering=before_entering)
    assert code == 200
    assert sandbox.route_hits["wechatpay.native"] == 2
    assert sandbox.ledger.executions("out_trade_no", number) == 1


def test_async_typed_error(sandbox: Sandbox) -> None:
    sandbox.script("wechatpay.query", ["FREQUENCY_LIMITED"] * 3)

    async def query(pay: AsyncWeChatPay) -> Any:
        return await pay.query(out_trade_no="A1")

    with pytest.raises(payerr.RateLimitError) as caught:
        run_async(sandbox, query, before_entering=True)
    assert caught.value.attempts == 3


def test_an_adapter_of_ones_own_carries_the_calls(sandbox: Sandbox) -> None:
    pay = payerr_wechatpay.install(
        WeChatPay(**settings(sandbox)), adapter=sandbox.requests_adapter()
    )  # the SDK's real gateway URL, sent to the sandbox
    code, _ = pay.pay(description="x", out_trade_no="AD1", amount={"total": 1})
    assert code == 200


def test_the_async_client_takes_no_requests_adapter(sandbox: Sandbox) -> None:
    with pytest.raises(TypeError, match="async client"):
        payerr_wechatpay.install(
            AsyncWeChatPay(**settings(sandbox, AsyncPayType.NATIVE)),
            adapter=sandbox.requests_adapter(),
        )
