"""A payment whose outcome is unknown is never resent: query first, then decide."""

import json

import httpx

import payerr
from payerr.sandbox import sandbox_url


def gateway(client: httpx.Client, url: str, method: str, **biz: str) -> dict:
    form = {"method": method, "biz_content": json.dumps(biz)}
    return payerr.raise_for_response(client.post(f"{url}/gateway.do", data=form))


with sandbox_url() as url:
    # Alipay charges the buyer, then answers 20000 ("service unavailable").
    httpx.post(f"{url}/_sandbox/script", json={"route": "alipay.trade.pay", "steps": ["20000!"]})
    with httpx.Client(transport=payerr.Transport(provider="alipay")) as client:
        try:
            gateway(client, url, "alipay.trade.pay", out_trade_no="EX-P1", total_amount="30.00")
            print("paid")
        except payerr.PayError as error:
            if error.retry is not payerr.RetryHint.QUERY_FIRST:
                raise
            status = gateway(client, url, "alipay.trade.query", out_trade_no="EX-P1")
            trade = status["alipay_trade_query_response"]["trade_status"]
            print(f"pay said {error.code} after {error.attempts} attempt; query says {trade}")
