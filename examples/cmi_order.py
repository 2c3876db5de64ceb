"""CMI: a WSSE-signed token, then an order whose transactionCode makes retries safe."""

import httpx

import payerr
from payerr.sandbox import CMI_APP_KEY, CMI_APP_SECRET, sandbox_url, wsse_headers

with sandbox_url() as url:

    def access_token() -> str:
        headers = wsse_headers(CMI_APP_KEY, CMI_APP_SECRET)  # fresh Nonce and Created each time
        reply = httpx.post(
            f"{url}/aep/APP_getAccessToken_SBO/v1",
            json={"id": CMI_APP_KEY, "type": 106},
            headers=headers,
        )
        return reply.json()["accessToken"]

    # The platform hits its QPS limit once, then answers.
    httpx.post(f"{url}/_sandbox/script", json={"route": "cmi.create_order", "steps": ["9000004"]})
    transport = payerr.Transport(
        provider="cmi",
        credentials=payerr.JsonBodyToken(access_token),
        policy=payerr.RetryPolicy(backoff_initial=0.05),
    )
    with httpx.Client(base_url=url, transport=transport) as client:
        order = {"thirdOrderId": "EX-C1", "transactionCode": "EX-TX-1", "packageId": "P7"}
        reply = client.post("/aep/APP_createOrder_SBO/v1", json=order).json()
        print("order created:", reply["orderId"].startswith("CMI"))
