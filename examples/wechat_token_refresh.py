"""One shared WeChat token: when another worker voids it, payerr refreshes exactly once."""

import httpx

import payerr
from payerr.sandbox import sandbox_url

with sandbox_url() as url:
    fetches = []

    def fetch_token() -> str:
        fetches.append(1)
        reply = httpx.get(
            f"{url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": "wx1", "secret": "s"},
        )
        return reply.json()["access_token"]

    credentials = payerr.QueryParamToken(fetch_token)  # sends ?access_token=...
    transport = payerr.Transport(provider="wechat", credentials=credentials)
    with httpx.Client(base_url=url, transport=transport) as client:
        client.post("/cgi-bin/message/custom/send", json={"touser": "o1", "msgtype": "text"})
        httpx.post(f"{url}/_sandbox/revoke", json={"provider": "wechat"})  # token voided
        client.post("/cgi-bin/message/custom/send", json={"touser": "o1", "msgtype": "text"})
    print("token fetches:", len(fetches))  # 2: the first one, and one refresh
