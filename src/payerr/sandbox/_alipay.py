"""The fake Alipay: its trade rules, and its answers in the gateway's envelope.

``Providers`` serves ``gateway.do`` and ``/v3/alipay/...`` with these; the route
names are the ``method`` of ``ALIPAY_METHODS``.
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

from .._catalog.registry import catalog
from ._signing import Signer, alipay_body
from ._state import Ledger
from ._wire import Incoming, Reply, rid

ALIPAY_METHODS = (
    "alipay.trade.pay",
    "alipay.trade.create",
    "alipay.trade.precreate",
    "alipay.trade.query",
    "alipay.trade.refund",
    "alipay.trade.close",
    "alipay.trade.cancel",
)
"""The Alipay methods the fake gateway carries out (``gateway.do`` and ``/v3/alipay/...``)."""


def alipay_fields(request: Incoming) -> dict[str, Any]:
    """The request's parameters, URL and form alike, with ``biz_content`` unpacked."""
    fields: dict[str, Any] = {**request.query, **request.form}
    biz = fields.get("biz_content")
    if isinstance(biz, str):
        try:
            inner = json.loads(biz)
        except ValueError:
            inner = {}
        if isinstance(inner, dict):
            fields.update(inner)
    return fields


def alipay_reply(key: str, node: dict[str, Any], signer: Signer | None) -> Reply:
    """The node in the gateway's envelope, signed when the sandbox signs."""
    headers = {"Content-Type": "application/json;charset=utf-8", "trace_id": rid()}
    return Reply(200, alipay_body(key, node, signer), headers)


def alipay_error(route: str, code: str, request: Incoming, signer: Signer | None) -> Reply:
    """Alipay's answer carrying ``code`` (a code or sub_code of its table).

    ``unsigned:<code>`` answers as the gateway does before signing: an
    ``error_response`` with an empty ``sign``.
    """
    unsigned = code.startswith("unsigned:")
    code = code.removeprefix("unsigned:")
    spec = catalog().spec("alipay")
    sub = spec.sub_codes.get(code)
    info = sub or spec.codes.get(code)
    literal = info.provider_message if info is not None else "sandbox error"
    if request.path.startswith("/v3/"):
        auth = info is not None and info.category and info.category.value == "auth"
        return Reply.json(
            {"code": code, "message": literal}, 401 if auth else 400, **{"alipay-trace-id": rid()}
        )
    node: dict[str, Any] = {"code": code, "msg": literal}
    if sub is not None:
        parent = spec.codes.get(sub.code) if sub.code else None
        node = {
            "code": sub.code or "40004",
            "msg": parent.provider_message if parent else "Business Failed",
            "sub_code": code,
            "sub_msg": literal,
        }
    if unsigned:
        return Reply.json({"error_response": node, "sign": ""})
    return alipay_reply((route or "error").replace(".", "_") + "_response", node, signer)


class AlipayTrades:
    """Alipay's trades and refunds, and the rules that keep each one executed once."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._lock = threading.Lock()
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}

    def trade(self, method: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Alipay's trade rules: one charge per out_trade_no, one refund per out_request_no.

        Long because it is the fake provider's whole business table, in one place.
        """
        out_trade_no = str(fields.get("out_trade_no", ""))
        with self._lock:
            trade = self.trades.get(out_trade_no)
            if method == "alipay.trade.pay":
                if trade is not None and trade["trade_status"] == "TRADE_SUCCESS":
                    return "ACQ.TRADE_HAS_SUCCESS", {}
                amount = str(fields.get("total_amount", "0.01"))
                self.trades[out_trade_no] = trade = {
                    "out_trade_no": out_trade_no,
                    "trade_no": f"2026{secrets.token_hex(6)}",
                    "total_amount": amount,
                    "trade_status": "TRADE_SUCCESS",
                    "refunded": "0.00",
                }
                self.ledger.executed("out_trade_no", out_trade_no)
                return "10000", {k: trade[k] for k in ("out_trade_no", "trade_no", "total_amount")}
            if method in ("alipay.trade.create", "alipay.trade.precreate"):
                if trade is not None:
                    return "ACQ.TRADE_HAS_SUCCESS" if trade[
                        "trade_status"
                    ] == "TRADE_SUCCESS" else "10000", {"out_trade_no": out_trade_no}
                self.trades[out_trade_no] = {
                    "out_trade_no": out_trade_no,
                    "trade_status": "WAIT_BUYER_PAY",
                    "total_amount": str(fields.get("total_amount", "0.01")),
                    "trade_no": f"2026{secrets.token_hex(6)}",
                    "refunded": "0.00",
                }
                return "10000", {"out_trade_no": out_trade_no, "qr_code": "https://qr.example/x"}
            if trade is None:
                return (
                    ("ACQ.TRADE_NOT_EXIST", {})
                    if method.startswith("alipay.trade.")
                    else ("isv.invalid-method", {})
                )
            if method == "alipay.trade.query":
                return "10000", {
                    k: trade[k]
                    for k in ("out_trade_no", "trade_no", "trade_status", "total_amount")
                }
            if method == "alipay.trade.refund":
                request_no = str(fields.get("out_request_no") or out_trade_no)
                if request_no not in self.refunds:
                    self.refunds[request_no] = {"refund_fee": str(fields.get("refund_amount", "0"))}
                    self.ledger.executed("out_request_no", request_no)
                return "10000", {
                    "out_trade_no": out_trade_no,
                    "fund_change": "Y",
                    "refund_fee": self.refunds[request_no]["refund_fee"],
                }
            if method in ("alipay.trade.close", "alipay.trade.cancel"):
                trade["trade_status"] = "TRADE_CLOSED"
                return "10000", {"out_trade_no": out_trade_no}
        return "isv.invalid-method", {}
