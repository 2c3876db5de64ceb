"""Huawei IAP: verify a purchase token, deliver, confirm; a repeat confirm means done."""

import httpx

import payerr
from payerr.sandbox import sandbox_url

with sandbox_url() as url:

    def app_token() -> str:
        form = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "s"}
        return httpx.post(f"{url}/oauth2/v3/token", data=form).json()["access_token"]

    credentials = payerr.HeaderToken.huawei(app_token)  # Basic base64("APPAT:" + token)
    transport = payerr.Transport(provider="huawei", credentials=credentials)
    purchase = {"purchaseToken": "EX-TOKEN-1", "productId": "gems100"}
    with httpx.Client(base_url=url, transport=transport) as client:
        verified = client.post("/applications/purchases/tokens/verify", json=purchase).json()
        print("verified:", verified["responseCode"])
        for _ in range(2):  # e.g. a redelivered message
            try:
                client.post("/applications/v2/purchases/confirm", json=purchase)
                print("confirmed")
            except payerr.ConflictError as error:  # 1001880009: already confirmed
                print(f"already confirmed ({error.code}): treat as delivered")
