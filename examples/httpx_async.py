"""An async httpx client: twenty concurrent WeChat calls through random transient faults."""

import asyncio

import httpx

import payerr
from payerr.sandbox import sandbox_url


async def main(url: str) -> None:
    httpx.post(
        f"{url}/_sandbox/faults", json={"rate": 0.3, "seed": 7, "routes": ["wechat.userinfo"]}
    )
    token = httpx.get(f"{url}/cgi-bin/token").json()["access_token"]
    transport = payerr.AsyncTransport(
        provider="wechat", policy=payerr.RetryPolicy(max_attempts=5, backoff_initial=0.02)
    )
    async with httpx.AsyncClient(base_url=url, transport=transport) as client:
        replies = await asyncio.gather(
            *(
                client.get("/cgi-bin/user/info", params={"access_token": token, "openid": f"o{i}"})
                for i in range(20)
            )
        )
    httpx.post(f"{url}/_sandbox/faults", json={"rate": 0})
    print("all answered:", all(r.json()["openid"] == f"o{i}" for i, r in enumerate(replies)))


with sandbox_url() as base:
    asyncio.run(main(base))
