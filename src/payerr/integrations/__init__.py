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

Every ``install()`` refuses a wrong object with a ``TypeError``, does nothing
the second time, and leaves the SDK's contract as it was. ``views(client)``
reaches an installed client's transport: ``cooldowns()``, ``clear_cooldown()``,
``budget_left()``. A module imports its SDK only when it is imported itself.
"""

from ._sdk import views

__all__ = ["views"]
