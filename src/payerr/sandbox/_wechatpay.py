"""The fake WeChat Pay API v3: orders, the payment-code charge, refunds and bills.

Shapes follow https://pay.weixin.qq.com/doc/v3/merchant/4012791826 (下单),
4012791858 (查单), 4012556399 (退款) and 4012763175 (申请/下载账单): JSON
answers, 204 for a close, errors as ``{"code","message"}`` with an HTTP
status, and the bill itself as gzip bytes that nobody signs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._reading.fakes import answer
from ._signing import Signer
from ._state import Ledger

if TYPE_CHECKING:  # annotations only: the reply type is passed in
    from ._wire import Incoming, Reply

BILL = (
    "交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易状态,订单金额\n"
    "`2026-12-01 10:00:00,`wx00sandbox,`1900000001,`4200000000001,`A1,`SUCCESS,`0.01\n"
    "总交易单数,应结订单总金额\n`1,`0.01\n"
)


PAY_PATHS = {
    "/v3/pay/transactions/native": ("wechatpay.native", "place"),
    "/v3/pay/transactions/jsapi": ("wechatpay.jsapi", "place"),
    "/v3/pay/transactions/app": ("wechatpay.app", "place"),
    "/v3/pay/transactions/codepay": ("wechatpay.codepay", "codepay"),
    "/v3/refund/domestic/refunds": ("wechatpay.refund", "refund"),
    "/v3/bill/tradebill": ("wechatpay.tradebill", "trade_bill"),
    "/v3/billdownload/file": ("wechatpay.billdownload", "download"),
}
"""Paths served at one exact place: (route name, handler method)."""
PAY_ORDER_PATHS = {
    "/v3/pay/transactions/out-trade-no/{out_trade_no}": "wechatpay.query",
    "/v3/pay/transactions/out-trade-no/{out_trade_no}/close": "wechatpay.close",
}
"""The per-order paths, by route name (documented; matched by prefix in ``route``)."""


class WeChatPayV3:
    """One merchant's orders and refunds; every answer signed when a signer is set."""

    def __init__(self, ledger: Ledger, reply: type[Reply]) -> None:
        self.ledger = ledger
        self._reply = reply
        self.signer: Signer | None = None
        self._lock = threading.Lock()
        self.orders: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.bills: dict[str, bytes] = {}

    def route(self, request: Incoming) -> tuple[str, Callable[[Incoming], Reply]] | None:
        path: str = request.path
        if not path.startswith("/v3/"):
            return None
        if path in PAY_PATHS:
            name, handler = PAY_PATHS[path]
            return name, getattr(self, handler)
        if path.startswith("/v3/pay/transactions/out-trade-no/"):
            if path.endswith("/close"):
                return "wechatpay.close", self.close
            return "wechatpay.query", self.query
        return None

    def keys(self, route: str, request: Incoming) -> list[tuple[str, str]]:
        body = request.json
        if route in ("wechatpay.native", "wechatpay.jsapi", "wechatpay.app", "wechatpay.codepay"):
            return [("out_trade_no", str(body.get("out_trade_no", "")))]
        if route == "wechatpay.refund":
            return [("out_refund_no", str(body.get("out_refund_no", "")))]
        return []

    # --- answers ---------------------------------------------------------------

    def answer(self, data: Any, status: int = 200) -> Reply:
        body = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
        headers = {"Request-ID": secrets.token_hex(16)}
        if body:
            headers["Content-Type"] = "application/json"
        if self.signer is not None:
            headers.update(self.signer.wechatpay_headers(body))
        return self._reply(status, body, headers)

    def error(self, code: str) -> Reply:
        """WeChat Pay's error envelope, at the HTTP status its category goes with."""
        status, _, body = answer("wechat", code, None, "/v3/pay/transactions", None, None)
        return self.answer(json.loads(body), status)

    # --- handlers --------------------------------------------------------------

    def place(self, request: Incoming) -> Reply:
        """JSAPI/APP/Native: the order is placed once per out_trade_no; nobody is charged yet."""
        body = request.json
        number = str(body.get("out_trade_no", ""))
        with self._lock:
            order = self.orders.get(number)
            if order is None:
                order = self.orders[number] = self._new_order(body, "NOTPAY")
                self.ledger.executed("out_trade_no", number)
        if request.path.endswith("/native"):
            return self.answer({"code_url": f"weixin://wxpay/bizpayurl?pr={order['prepay']}"})
        return self.answer({"prepay_id": f"wx{order['prepay']}"})

    def codepay(self, request: Incoming) -> Reply:
        """The payment-code charge: money moves at once, so a repeat is refused."""
        body = request.json
        number = str(body.get("out_trade_no", ""))
        with self._lock:
            if number in self.orders:
                return self.error("ORDERPAID")
            order = self.orders[number] = self._new_order(body, "SUCCESS")
            self.ledger.executed("out_trade_no", number)
        return self.answer(self._public(order))

    def query(self, request: Incoming) -> Reply:
        number = request.path.removeprefix("/v3/pay/transactions/out-trade-no/").strip("/")
        order = self.orders.get(number)
        if order is None:
            return self.error("ORDER_NOT_EXIST")
        return self.answer(self._public(order))

    def close(self, request: Incoming) -> Reply:
        number = request.path.removeprefix("/v3/pay/transactions/out-trade-no/")
        order = self.orders.get(number.removesuffix("/close").strip("/"))
        if order is None:
            return self.error("ORDER_NOT_EXIST")
        order["trade_state"] = "CLOSED"
        return self.answer(None, 204)

    def refund(self, request: Incoming) -> Reply:
        body = request.json
        number = str(body.get("out_refund_no", ""))
        with self._lock:
            if str(body.get("out_trade_no", "")) not in self.orders:
                return self.error("RESOURCE_NOT_EXISTS")
            refund = self.refunds.get(number)
            if refund is None:
                refund = self.refunds[number] = {
                    "refund_id": f"50{secrets.randbelow(10**12):012d}",
                    "out_refund_no": number,
                    "out_trade_no": body.get("out_trade_no"),
                    "status": "PROCESSING",
                    "amount": body.get("amount", {}),
                }
                self.ledger.executed("out_refund_no", number)
        return self.answer(refund)

    def trade_bill(self, request: Incoming) -> Reply:
        token = secrets.token_urlsafe(12)
        data = gzip.compress(BILL.encode()) if request.query.get("tar_type") else BILL.encode()
        self.bills[token] = data
        host = request.headers.get("host", "127.0.0.1")
        scheme = "http" if host.startswith(("127.", "localhost", "[::1]")) else "https"
        return self.answer(
            {
                "download_url": f"{scheme}://{host}/v3/billdownload/file?token={token}",
                "hash_type": "SHA1",
                "hash_value": hashlib.sha1(data).hexdigest(),
            }
        )

    def download(self, request: Incoming) -> Reply:
        data = self.bills.get(request.query.get("token", ""))
        if data is None:
            return self.error("RESOURCE_NOT_EXISTS")
        return self._reply(200, data, {"Content-Type": "application/octet-stream"})

    def _new_order(self, body: dict[str, Any], state: str) -> dict[str, Any]:
        return {
            "out_trade_no": str(body.get("out_trade_no", "")),
            "transaction_id": f"42{secrets.randbelow(10**16):016d}",
            "mchid": body.get("mchid"),
            "appid": body.get("appid"),
            "trade_state": state,
            "amount": body.get("amount", {}),
            "prepay": secrets.token_hex(8),
        }

    @staticmethod
    def _public(order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if k != "prepay"}
