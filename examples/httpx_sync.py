"""An httpx client whose Alipay calls are read and retried by payerr."""

import json

import httpx

import payerr
from payerr.sandbox import sandbox_url

with sandbox_url() as url:
    # The gateway will be busy twice before answering.
    httpx.post(
        f"{url}/_sandbox/script",
        json={"route": "alipay.trade.query", "steps": ["20000", "html502", "ok"]},
    )
    policy = payerr.RetryPolicy(max_attempts=4, backoff_initial=0.05)
    with httpx.Client(transport=payerr.Transport(policy=policy, provider="alipay")) as client:
        pay = {
            "method": "alipay.trade.pay",
            "biz_content": json.dumps({"out_trade_no": "EX-1", "total_amount": "9.90"}),
        }
        client.post(f"{url}/gateway.do", data=pay)
        query = {
            "method": "alipay.trade.query",
            "biz_content": json.dumps({"out_trade_no": "EX-1"}),
        }
        response = client.post(f"{url}/gateway.do", data=query)
        data = payerr.inspect(response).data  # parsed once, by the transport
        print("trade status:", data["alipay_trade_query_response"]["trade_status"])
