"""A requests session: an Alipay refund retried safely with the same out_request_no."""

import json

import requests

import payerr
from payerr.sandbox import sandbox_url

with sandbox_url() as url, requests.Session() as session:
    session.mount(
        url,
        payerr.RequestsAdapter(provider="alipay", policy=payerr.RetryPolicy(backoff_initial=0.05)),
    )

    def call(method: str, **biz: str) -> dict:
        form = {"method": method, "biz_content": json.dumps(biz)}
        return session.post(f"{url}/gateway.do", data=form).json()

    call("alipay.trade.pay", out_trade_no="EX-R1", total_amount="50.00")
    # Alipay fails the refund after doing it; the same out_request_no makes the retry safe.
    requests.post(
        f"{url}/_sandbox/script",
        json={"route": "alipay.trade.refund", "steps": ["ACQ.SYSTEM_ERROR!", "ok"]},
    )
    refund = call(
        "alipay.trade.refund", out_trade_no="EX-R1", refund_amount="10.00", out_request_no="EX-R1-1"
    )
    ledger = requests.get(f"{url}/_sandbox/ledger").json()["ledger"]
    print(
        "refunded:",
        refund["alipay_trade_refund_response"]["refund_fee"],
        "executions:",
        ledger["out_request_no"]["EX-R1-1"]["executions"],
    )
