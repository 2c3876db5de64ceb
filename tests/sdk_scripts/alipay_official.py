"""Alipay's official SDK (alipay-sdk-python) through payerr, against a signing sandbox.

Run apart from the other tests: this SDK's ``alipay`` package would shadow
python-alipay-sdk's. Prints one JSON line of findings for the test to check.
"""

from __future__ import annotations

import json

from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayTradePayModel import AlipayTradePayModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.request.AlipayTradePayRequest import AlipayTradePayRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.response.AlipayTradePayResponse import AlipayTradePayResponse

import payerr
from payerr.integrations import alipay as payerr_alipay
from payerr.sandbox import Sandbox
from payerr.testing import instant_sleeps


def bare(pem: str) -> str:
    """The key without its PEM lines, as the official SDK's config takes it."""
    return "".join(line for line in pem.splitlines() if "-----" not in line)


def payment(number: str) -> AlipayTradePayRequest:
    model = AlipayTradePayModel()
    model.out_trade_no, model.total_amount, model.subject = number, "0.01", "x"
    model.scene, model.auth_code = "bar_code", "28763443825664394"
    return AlipayTradePayRequest(biz_model=model)


def query(number: str) -> AlipayTradeQueryRequest:
    model = AlipayTradeQueryModel()
    model.out_trade_no = number
    return AlipayTradeQueryRequest(biz_model=model)


with Sandbox(signing=True) as sandbox, instant_sleeps():
    config = AlipayClientConfig()
    config.server_url = f"{sandbox.url}/gateway.do"
    config.app_id = "2021000000000001"
    config.app_private_key = bare(sandbox.app_private_key_pem)
    config.alipay_public_key = bare(sandbox.public_key_pem)
    client = payerr_alipay.install(DefaultAlipayClient(config))
    found: dict[str, object] = {"success": json.loads(client.execute(payment("O1")))}

    sandbox.script("alipay.trade.pay", ["20000!"])
    try:
        client.execute(payment("O2"))
    except payerr.ServiceUnavailableError as error:
        found["pay_20000"] = [error.code, error.retry.value]
    found["pay_20000_sent"] = sandbox.ledger.requests("out_trade_no", "O2")

    sandbox.script("alipay.trade.query", ["20000", "ok"])
    found["query_after_20000"] = json.loads(client.execute(query("O1")))["trade_status"]
    found["query_sent"] = sandbox.route_hits["alipay.trade.query"]

    keeping = payerr_alipay.install(DefaultAlipayClient(config), raise_errors=False)
    sandbox.script("alipay.trade.pay", ["20000"])
    response = AlipayTradePayResponse()
    response.parse_response_content(keeping.execute(payment("O3")))
    found["sdk_is_success_for_20000"] = response.is_success()
    try:
        payerr.alipay_result(response, method="alipay.trade.pay")
    except payerr.PayError as error:
        found["alipay_result_20000"] = [type(error).__name__, error.retry.value]
    print(json.dumps(found))
