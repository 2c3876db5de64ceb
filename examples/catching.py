"""Catch by what to do next (category) or by who said it (provider)."""

import httpx

import payerr
from payerr.sandbox import sandbox_url

with sandbox_url() as url:
    httpx.post(f"{url}/_sandbox/script", json={"route": "wechat.send", "steps": ["45009"]})
    token = httpx.get(f"{url}/cgi-bin/token", params={"grant_type": "client_credential"})
    client = httpx.Client(transport=payerr.Transport(provider="wechat"))
    try:
        client.post(
            f"{url}/cgi-bin/message/custom/send",
            params={"access_token": token.json()["access_token"]},
            json={},
        )
    except payerr.RateLimitError as error:  # any provider's rate limit
        print(f"rate limited: {error.code}, retry after {error.retry_after:.0f}s ({error.retry})")
    except payerr.WeChatError as error:  # anything else WeChat said
        print(f"WeChat said {error.code}: {error.message}")
