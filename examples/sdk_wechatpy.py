"""wechatpy with payerr: one install, one token fetch per expiry, old handlers still catch."""

from concurrent.futures import ThreadPoolExecutor

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

import payerr
from payerr.integrations import wechatpy as payerr_wechatpy
from payerr.sandbox import Sandbox

with Sandbox() as sandbox:
    # In production: payerr_wechatpy.install(WeChatClient(appid, secret)).
    # Here the sandbox adapter sends wechatpy's fixed URLs to the sandbox.
    client = payerr_wechatpy.install(
        WeChatClient("wx-demo", "secret"), adapter=sandbox.requests_adapter()
    )
    print("user:", client.user.get("o-demo")["openid"])

    sandbox.revoke_tokens("wechat")  # the token expires for everyone at once
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(client.user.get, [f"o-{n}" for n in range(20)]))
    print("token fetches:", sandbox.route_hits["wechat.token"])

    sandbox.script("wechat.userinfo", ["40013"])
    try:
        client.user.get("o-demo")
    except WeChatClientException as error:  # a handler written for wechatpy
        also = isinstance(error, payerr.WeChatError)
        print(f"wechatpy handler caught {error.errcode}; also a payerr.WeChatError: {also}")
