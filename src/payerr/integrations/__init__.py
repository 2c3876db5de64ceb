"""payerr inside the SDKs people already run.

Each module wires payerr into one SDK's own HTTP call, so its retries, typed
errors and payment safety apply without rewriting the calls:

- ``payerr.integrations.wechatpy``: ``install(client)`` on a ``WeChatClient``,
  ``WeChatComponentClient`` or ``WeChatComponent``;
- ``payerr.integrations.wechatpayv3``: ``install(pay)`` on ``WeChatPay`` or
  ``AsyncWeChatPay``;
- ``payerr.integrations.alipay``: ``install(client)`` on python-alipay-sdk's
  ``AliPay`` family or the official ``DefaultAlipayClient``, and
  ``alipay_result(...)`` for what their methods return.

A module imports its SDK only when it is imported itself.
"""
