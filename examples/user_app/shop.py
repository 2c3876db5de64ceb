"""A small shop's payment code, as a payerr user writes it (tested in test_shop.py).

The point is what it does on each provider answer: charge once, query when the
outcome is unknown, treat a repeated confirmation as delivered.
"""

from __future__ import annotations

import json

import httpx

import payerr

ALIPAY = "https://openapi.alipay.com/gateway.do"
HUAWEI_CONFIRM = "https://orders-drcn.iap.cloud.huawei.com.cn/applications/v2/purchases/confirm"
WECHAT_SEND = "https://api.weixin.qq.com/cgi-bin/message/custom/send"


class Shop:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _alipay(self, method: str, **biz: str) -> dict[str, str]:
        form = {"method": method, "biz_content": json.dumps(biz)}
        node = self.client.post(ALIPAY, data=form).json()
        return dict(node[method.replace(".", "_") + "_response"])

    def charge(self, order: str, amount: str, auth_code: str) -> str:
        """The trade status after charging; never charges twice."""
        try:
            self._alipay("alipay.trade.pay", out_trade_no=order, total_amount=amount,
                         auth_code=auth_code, scene="bar_code")  # fmt: skip
            return "TRADE_SUCCESS"
        except payerr.PayError as error:
            if error.retry is not payerr.RetryHint.QUERY_FIRST:
                raise
        return self._alipay("alipay.trade.query", out_trade_no=order)["trade_status"]

    def confirm_delivery(self, purchase_token: str) -> bool:
        """Huawei: confirmed now, or already confirmed earlier (1001880009)."""
        try:
            self.client.post(HUAWEI_CONFIRM, json={"purchaseToken": purchase_token})
        except payerr.HuaweiError as error:
            if error.code != "1001880009":
                raise
        return True

    def notify(self, openid: str) -> None:
        self.client.post(WECHAT_SEND, json={"touser": openid, "msgtype": "text"})


def make_shop(credentials: payerr.Credentials | None = None) -> Shop:
    return Shop(httpx.Client(transport=payerr.Transport(credentials=credentials)))
