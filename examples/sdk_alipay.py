"""python-alipay-sdk with payerr: payments sent as GET are still sent once; alipay_result."""

from alipay import AliPay

import payerr
from payerr.integrations import alipay as payerr_alipay
from payerr.sandbox import Sandbox

with Sandbox(signing=True) as sandbox:

    def client() -> AliPay:
        return AliPay(
            appid="2021000000000001",
            app_notify_url=None,
            app_private_key_string=sandbox.app_private_key_pem,
            alipay_public_key_string=sandbox.public_key_pem,
        )

    # adapter= only to reach the sandbox: payerr_alipay.install(client()) in production.
    alipay = payerr_alipay.install(client(), adapter=sandbox.requests_adapter())
    sandbox.script("alipay.trade.pay", ["20000!"])  # charged, then the gateway said 20000
    try:
        alipay.api_alipay_trade_pay(
            out_trade_no="A-1",
            scene="bar_code",
            auth_code="28763443825664394",
            subject="tea",
            total_amount="9.90",
        )
    except payerr.AlipayError as error:
        sent = sandbox.ledger.requests("out_trade_no", "A-1")
        print(f"pay: {error.code} -> {error.retry.value}, sent {sent} time(s)")
    status = alipay.api_alipay_trade_query(out_trade_no="A-1")["trade_status"]
    print("query:", status)

    # Without payerr's raising: read what the SDK returned.
    plain = payerr_alipay.install(
        client(), adapter=sandbox.requests_adapter(policy=payerr.RetryPolicy(raise_errors=False))
    )
    result = plain.api_alipay_trade_query(out_trade_no="missing")
    try:
        payerr.alipay_result(result, method="alipay.trade.query")
    except payerr.NotFoundError as error:
        print("alipay_result:", error.sub_code)
