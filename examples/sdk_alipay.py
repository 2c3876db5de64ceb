"""python-alipay-sdk with payerr: old handlers still catch, payments sent as GET are sent
once, answers are read only after the SDK verified them; alipay_result."""

from alipay import AliPay
from alipay.exceptions import AliPayException

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
    sandbox.script("alipay.trade.query", ["unsigned:isv.invalid-app-id"])
    try:  # the handler written for the SDK alone still catches, and the error is typed
        alipay.api_alipay_trade_query(out_trade_no="A-0")
    except AliPayException as error:
        print("gateway:", type(error).__name__, isinstance(error, payerr.PayError))

    # raise_errors=True: a verified business failure is raised as a typed error too.
    raising = payerr_alipay.install(client(), adapter=sandbox.requests_adapter(), raise_errors=True)
    sandbox.script("alipay.trade.pay", ["20000!"])  # charged, then the gateway said 20000
    try:
        raising.api_alipay_trade_pay(
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

    # By default the SDK returns a verified failure as its node: alipay_result reads it.
    result = alipay.api_alipay_trade_query(out_trade_no="missing")
    try:
        payerr.alipay_result(result, method="alipay.trade.query")
    except payerr.NotFoundError as error:
        print("alipay_result:", error.sub_code)
