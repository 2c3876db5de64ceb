"""wechatpayv3 with payerr: signed answers still verified, bills as bytes, charges sent once."""

import gzip
import json

from wechatpayv3 import WeChatPay, WeChatPayType

import payerr
from payerr.integrations import wechatpayv3 as payerr_wechatpay
from payerr.sandbox import Sandbox

with Sandbox(signing=True) as sandbox:

    def client(kind: WeChatPayType, raise_errors: bool = False) -> WeChatPay:
        pay = WeChatPay(
            wechatpay_type=kind,
            mchid="1900000001",
            private_key=sandbox.merchant_private_key_pem,
            cert_serial_no="5157F09EFDC096DE15EBE81A47057A72",
            appid="wx00sandbox",
            apiv3_key="k" * 32,
            notify_url="https://shop.example/notify",
            public_key=sandbox.public_key_pem,
            public_key_id=sandbox.wechatpay_public_key_id,
        )
        # adapter= only to reach the sandbox: payerr_wechatpay.install(pay) in production.
        return payerr_wechatpay.install(
            pay, adapter=sandbox.requests_adapter(), raise_errors=raise_errors
        )

    native = client(WeChatPayType.NATIVE)
    sandbox.script("wechatpay.native", ["SYSTEM_ERROR", "ok"])  # placing an order is keyed
    code, text = native.pay(description="tea", out_trade_no="N-1", amount={"total": 1})
    print("native order:", code, json.loads(text)["code_url"][:22])

    code, text = native.trade_bill(bill_date="2026-12-01")
    code, data = native.download_bill(json.loads(text)["download_url"])
    print("bill lines:", len(gzip.decompress(data).decode().splitlines()))

    code, text = native.query(out_trade_no="missing")  # the SDK's contract: (status, text)
    print("query:", code, json.loads(text)["code"])

    sandbox.script("wechatpay.codepay", ["SYSTEM_ERROR!"])  # charged, then the answer failed
    try:  # raise_errors=True: typed errors instead of (status, text)
        client(WeChatPayType.CODEPAY, raise_errors=True).pay(
            description="tea", out_trade_no="C-1", amount={"total": 1}, payer={"auth_code": "1"}
        )
    except payerr.ServiceUnavailableError as error:
        sent = sandbox.ledger.requests("out_trade_no", "C-1")
        print(f"charge: {error.code}, {error.retry.value}, sent {sent} time(s)")
