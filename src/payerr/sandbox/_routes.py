"""What each fake provider does with a request, in its real envelope.

Handlers see a parsed ``Incoming`` request and return a ``Reply``. Faults are
applied around them by the server, so a handler only knows the happy path and
the provider's own business rules (duplicate keys, missing trades, tokens).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from .._catalog.registry import catalog
from .._engine.wsse import wsse_digest
from ._alipay import AlipayTrades, alipay_error, alipay_fields, alipay_reply
from ._signing import Signer
from ._state import Ledger, Tokens
from ._wechatpay import WeChatPayV3
from ._wire import Incoming, Reply, rid

__all__ = ["CMI_APP_KEY", "CMI_APP_SECRET", "Incoming", "Providers", "Reply"]

CMI_APP_KEY = "sandbox-app"
CMI_APP_SECRET = "sandbox-secret"


_FIXED_ROUTES = {
    "/cgi-bin/token": ("wechat", "wechat.token", "wechat_token"),
    "/cgi-bin/stable_token": ("wechat", "wechat.stable_token", "wechat_stable_token"),
    "/cgi-bin/message/custom/send": ("wechat", "wechat.send", "wechat_send"),
    "/cgi-bin/user/info": ("wechat", "wechat.userinfo", "wechat_user_info"),
    "/shop/order/add": ("wechat", "wechat.order_add", "wechat_order_add"),
    "/cgi-bin/component/api_component_token": (
        "wechat",
        "wechat.component_token",
        "wechat_component_token",
    ),
    "/cgi-bin/component/api_create_preauthcode": (
        "wechat",
        "wechat.preauthcode",
        "wechat_preauthcode",
    ),
    "/aep/APP_getAccessToken_SBO/v1": ("cmi", "cmi.token", "cmi_token"),
    "/aep/APP_createOrder_SBO/v1": ("cmi", "cmi.create_order", "cmi_create_order"),
    "/aep/APP_queryOrder_SBO/v1": ("cmi", "cmi.query_order", "cmi_query_order"),
}
"""Paths served at one exact place: (provider, route name, handler method)."""

_SUFFIX_ROUTES = {
    "/oauth2/v3/token": ("huawei", "huawei.token", "huawei_token"),
    "/purchases/tokens/verify": ("huawei", "huawei.verify", "huawei_verify"),
    "/purchases/confirm": ("huawei", "huawei.confirm", "huawei_confirm"),
}
"""Paths served under any prefix (Huawei's regional hosts): (provider, route, handler)."""


class Providers:
    """The four fake providers, sharing one ledger and token store."""

    def __init__(self, ledger: Ledger, tokens: Tokens) -> None:
        self.ledger = ledger
        self.tokens = tokens
        self._lock = threading.Lock()
        self.alipay = AlipayTrades(ledger)
        self.wechat_orders: dict[str, dict[str, Any]] = {}
        self.huawei_confirmed: set[str] = set()
        self.cmi_orders: dict[str, dict[str, Any]] = {}
        self.cmi_transactions: dict[str, str] = {}
        self.wechatpay = WeChatPayV3(ledger, Reply)
        self.signer: Signer | None = None
        """Set by ``Sandbox(signing=True)``: Alipay and WeChat Pay answers carry real signatures."""
        from ._declared import declared_providers

        self.declared = declared_providers(ledger, tokens)
        """Providers whose adapter file declares their routes (``[sandbox]``): no Python."""

    # --- routing -------------------------------------------------------------

    def route(self, request: Incoming) -> tuple[str, str, Callable[[Incoming], Reply]] | None:
        """(provider, route name, handler) for a request, or None for an unknown path."""
        path = request.path
        if path.endswith("/gateway.do"):
            method = request.query.get("method") or request.form.get("method") or ""
            return "alipay", method, self.alipay_gateway
        if path.startswith("/v3/alipay/"):
            return "alipay", path[4:].strip("/").replace("/", "."), self.alipay_v3
        pay = self.wechatpay.route(request)
        if pay is not None:
            return "wechat", *pay
        fixed = _FIXED_ROUTES.get(path)
        if fixed is not None:
            provider, name, handler = fixed
            return provider, name, getattr(self, handler)
        for suffix, (provider, name, handler) in _SUFFIX_ROUTES.items():
            if path.endswith(suffix):
                return provider, name, getattr(self, handler)
        for declared in self.declared.values():
            found = declared.route(request)
            if found is not None:
                return declared.name, *found
        return None

    def declared_routes(self) -> dict[str, str]:
        """Route name -> provider, for every route declared in an adapter file."""
        return {name: d.name for d in self.declared.values() for name in d.route_names}

    def keys(self, route: str, request: Incoming) -> list[tuple[str, str]]:
        """The idempotency keys a request carries, counted before any fault is applied."""
        if route.startswith("wechatpay."):
            return self.wechatpay.keys(route, request)
        if route == "alipay.trade.pay":
            return [("out_trade_no", str(alipay_fields(request).get("out_trade_no", "")))]
        if route == "alipay.trade.refund":
            fields = alipay_fields(request)
            return [
                (
                    "out_request_no",
                    str(fields.get("out_request_no") or fields.get("out_trade_no", "")),
                )
            ]
        if route == "wechat.order_add":
            return [("out_order_id", str(request.json.get("out_order_id", "")))]
        if route == "huawei.confirm":
            return [("purchaseToken", str(request.json.get("purchaseToken", "")))]
        if route == "cmi.create_order":
            body = request.json
            if body.get("transactionCode"):
                return [("transactionCode", str(body["transactionCode"]))]
            return [("thirdOrderId", str(body.get("thirdOrderId", "")))]
        for declared in self.declared.values():
            if route in declared.route_names:
                return declared.keys(route, request)
        return []

    # --- errors in each provider's envelope ----------------------------------

    def error(self, provider: str, route: str, code: str, request: Incoming) -> Reply:
        """The provider's own answer carrying ``code`` (a code or sub_code of its table).

        Alipay ``unsigned:<code>`` answers as the gateway does before signing: an
        ``error_response`` with an empty ``sign``.
        """
        declared = self.declared.get(provider)
        if declared is not None:
            return declared.error(code, request)
        if route.startswith("wechatpay."):
            return self.wechatpay.error(code)
        if provider == "alipay":
            return alipay_error(route, code, request, self.signer)
        spec = catalog().spec(provider)
        info = spec.sub_codes.get(code) or spec.codes.get(code)
        literal = info.provider_message if info is not None else "sandbox error"
        if provider == "wechat":
            value: Any = int(code) if code.lstrip("-").isdigit() else code
            return Reply.json({"errcode": value, "errmsg": f"{literal} rid: {rid()}"})
        if provider == "huawei":
            if code.isdigit() and 400 <= int(code) <= 599:
                return Reply(int(code), b"", {})
            return Reply.json({"responseCode": code, "responseMessage": literal})
        if code.isdigit() and 400 <= int(code) <= 599 and len(code) == 3:
            return Reply.json({"code": "", "description": literal}, int(code))
        return Reply.json({"code": code, "description": literal})

    # --- Alipay ----------------------------------------------------------------

    def alipay_gateway(self, request: Incoming) -> Reply:
        fields = alipay_fields(request)
        method = str(fields.get("method", ""))
        code, node = self.alipay.trade(method, fields)
        if code != "10000":
            return self.error("alipay", method, code, request)
        key = method.replace(".", "_") + "_response"
        return alipay_reply(key, {"code": "10000", "msg": "Success", **node}, self.signer)

    def alipay_v3(self, request: Incoming) -> Reply:
        method = request.path[4:].strip("/").replace("/", ".")
        code, node = self.alipay.trade(method, request.json)
        if code != "10000":
            return self.error("alipay", method, code, request)
        return Reply.json(node, **{"alipay-trace-id": rid()})

    # --- WeChat ----------------------------------------------------------------

    def wechat_token(self, request: Incoming) -> Reply:
        if request.query.get("secret") == "wrong":
            return self.error("wechat", "wechat.token", "40125", request)
        token = self.tokens.issue("wechat", rotate=True)  # a re-fetch voids the old token
        return Reply.json({"access_token": token, "expires_in": 7200})

    def wechat_stable_token(self, request: Incoming) -> Reply:
        force = bool(request.json.get("force_refresh"))
        token = self.tokens.current("wechat")
        if token is None or force:
            token = self.tokens.issue("wechat", rotate=True)
        return Reply.json({"access_token": token, "expires_in": 7200})

    def wechat_component_token(self, request: Incoming) -> Reply:
        """An Open Platform (third-party platform) token: a re-fetch voids the old one too."""
        token = self.tokens.issue("wechat_component", rotate=True)
        return Reply.json({"component_access_token": token, "expires_in": 7200})

    def wechat_preauthcode(self, request: Incoming) -> Reply:
        denied = self._wechat_auth(request, "wechat.preauthcode", "component_access_token")
        code = f"preauthcode@@@{secrets.token_hex(8)}"
        return denied or Reply.json({"pre_auth_code": code, "expires_in": 1800})

    def _wechat_auth(
        self, request: Incoming, route: str, param: str = "access_token"
    ) -> Reply | None:
        token = request.query.get(param)
        if not token:
            return self.error("wechat", route, "41001", request)
        kind = "wechat_component" if param == "component_access_token" else "wechat"
        if not self.tokens.valid(kind, token):
            return self.error("wechat", route, "40001", request)
        return None

    def wechat_send(self, request: Incoming) -> Reply:
        denied = self._wechat_auth(request, "wechat.send")
        return denied or Reply.json({"errcode": 0, "errmsg": "ok"})

    def wechat_user_info(self, request: Incoming) -> Reply:
        denied = self._wechat_auth(request, "wechat.userinfo")
        openid = request.query.get("openid", "o-sandbox")
        return denied or Reply.json({"subscribe": 1, "openid": openid, "language": "zh_CN"})

    def wechat_order_add(self, request: Incoming) -> Reply:
        denied = self._wechat_auth(request, "wechat.order_add")
        if denied:
            return denied
        order_id = str(request.json.get("out_order_id", ""))
        with self._lock:
            if order_id in self.wechat_orders:
                return self.error("wechat", "wechat.order_add", "1010012", request)
            self.wechat_orders[order_id] = {"order_id": secrets.randbelow(10**12)}
            self.ledger.executed("out_order_id", order_id)
            return Reply.json({"errcode": 0, "errmsg": "ok", "data": self.wechat_orders[order_id]})

    # --- Huawei ----------------------------------------------------------------

    def huawei_token(self, request: Incoming) -> Reply:
        token = self.tokens.issue("huawei", rotate=False)
        return Reply.json({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _huawei_auth(self, request: Incoming) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded).decode()
        except ValueError:
            return False
        prefix, _, token = decoded.partition(":")
        return scheme == "Basic" and prefix == "APPAT" and self.tokens.valid("huawei", token)

    def huawei_verify(self, request: Incoming) -> Reply:
        if not self._huawei_auth(request):
            return Reply(401, b"", {})
        purchase_token = str(request.json.get("purchaseToken", ""))
        if not purchase_token or purchase_token.startswith("bad"):
            return self.error("huawei", "huawei.verify", "8", request)
        data = {
            "orderId": f"O{hashlib.sha1(purchase_token.encode()).hexdigest()[:12]}",
            "productId": request.json.get("productId", "p1"),
            "purchaseState": 0,
            "purchaseTime": int(time.time() * 1000),
            "purchaseToken": purchase_token,
        }
        return Reply.json(
            {
                "responseCode": "0",
                "purchaseTokenData": json.dumps(data),
                "dataSignature": "c2FuZGJveA==",
            }
        )

    def huawei_confirm(self, request: Incoming) -> Reply:
        if not self._huawei_auth(request):
            return Reply(401, b"", {})
        purchase_token = str(request.json.get("purchaseToken", ""))
        with self._lock:
            if purchase_token in self.huawei_confirmed:
                return self.error("huawei", "huawei.confirm", "1001880009", request)
            self.huawei_confirmed.add(purchase_token)
            self.ledger.executed("purchaseToken", purchase_token)
        return Reply.json({"responseCode": "0", "responseMessage": "success"})

    # --- CMI -------------------------------------------------------------------

    def cmi_token(self, request: Incoming) -> Reply:
        wsse = request.headers.get("x-wsse", "")
        pairs = (p.partition("=") for p in wsse.removeprefix("UsernameToken").split(","))
        parts = {k.strip(): v.strip().strip('"') for k, _, v in pairs}
        if "WSSE" not in request.headers.get("authorization", "") or not parts.get(
            "PasswordDigest"
        ):
            return Reply.json({"code": "1000000", "description": "missing WSSE"}, 401)
        if parts.get("Username") != CMI_APP_KEY:
            return self.error("cmi", "cmi.token", "1000002", request)
        expected = wsse_digest(parts.get("Nonce", ""), parts.get("Created", ""), CMI_APP_SECRET)
        if parts.get("PasswordDigest") != expected:
            return self.error("cmi", "cmi.token", "1000001", request)
        token = self.tokens.issue("cmi", rotate=False)
        expire = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 600))
        return Reply.json(
            {
                "code": "0000000",
                "description": "success",
                "accessToken": token,
                "expireTime": expire,
            }
        )

    def _cmi_auth(self, request: Incoming, route: str) -> Reply | None:
        if not self.tokens.valid("cmi", request.json.get("accessToken")):
            return self.error("cmi", route, "1000008", request)
        return None

    def cmi_create_order(self, request: Incoming) -> Reply:
        denied = self._cmi_auth(request, "cmi.create_order")
        if denied:
            return denied
        body = request.json
        third = str(body.get("thirdOrderId", ""))
        transaction = str(body.get("transactionCode") or "")
        with self._lock:
            if transaction and transaction in self.cmi_transactions:
                return self.error("cmi", "cmi.create_order", "1000162", request)
            order_id = f"CMI{secrets.token_hex(5)}"
            self.cmi_orders[order_id] = {
                "orderId": order_id,
                "thirdOrderId": third,
                "status": "completed",
            }
            if transaction:
                self.cmi_transactions[transaction] = order_id
                self.ledger.executed("transactionCode", transaction)
            else:
                self.ledger.executed("thirdOrderId", third)
        return Reply.json({"code": "0000000", "description": "success", "orderId": order_id})

    def cmi_query_order(self, request: Incoming) -> Reply:
        denied = self._cmi_auth(request, "cmi.query_order")
        if denied:
            return denied
        body = request.json
        with self._lock:
            for order in self.cmi_orders.values():
                if body.get("orderId") in (order["orderId"], None) and body.get("thirdOrderId") in (
                    order["thirdOrderId"],
                    None,
                ):
                    return Reply.json({"code": "0000000", "description": "success", **order})
        return self.error("cmi", "cmi.query_order", "1000116", request)
