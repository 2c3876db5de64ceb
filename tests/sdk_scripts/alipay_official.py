"""Alipay's official SDK (alipay-sdk-python) through payerr, against a signing sandbox.

Run apart from the other tests: this SDK's ``alipay`` package would shadow
python-alipay-sdk's. Prints one JSON line of findings for the test to check.
"""

from __future__ import annotations

import copy as copying
import json
import pickle
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import alipay.aop.api.DefaultAlipayClient as official_client
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayTradePayModel import AlipayTradePayModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.exception.Exception import RequestException, ResponseException
from alipay.aop.api.request.AlipayTradePayRequest import AlipayTradePayRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.response.AlipayTradePayResponse import AlipayTradePayResponse
from alipay.aop.api.response.AlipayTradeQueryResponse import AlipayTradeQueryResponse

import payerr
from payerr.integrations import alipay as payerr_alipay
from payerr.integrations import views
from payerr.sandbox import Sandbox
from payerr.testing import instant_sleeps


def bare(pem: str) -> str:
    """The key without its PEM lines, as the official SDK's config takes it."""
    return "".join(line for line in pem.splitlines() if "-----" not in line)


def payment(number: str) -> AlipayTradePayRequest:
    model = AlipayTradePayModel()
    model.out_trade_no, model.total_amount, model.subject = number, "0.01", "x"
    model.scene, model.auth_code = "bar_code", "28763443825664394"
    return AlipayTradePayRequest(biz_model=model)


def query(number: str) -> AlipayTradeQueryRequest:
    model = AlipayTradeQueryModel()
    model.out_trade_no = number
    return AlipayTradeQueryRequest(biz_model=model)


def config_for(sandbox: Sandbox, public_key: str | None = None) -> AlipayClientConfig:
    config = AlipayClientConfig()
    config.server_url = f"{sandbox.url}/gateway.do"
    config.app_id = "2021000000000001"
    config.app_private_key = bare(sandbox.app_private_key_pem)
    config.alipay_public_key = bare(public_key or sandbox.public_key_pem)
    return config


def kinds(outcome: Any) -> list[str]:
    """What a call ended in: the classes an app's handlers would test, by name."""
    if not isinstance(outcome, BaseException):
        return ["returned"]
    found = [
        name
        for name, kind in (
            ("RequestException", RequestException),
            ("ResponseException", ResponseException),
            ("PayError", payerr.PayError),
        )
        if isinstance(outcome, kind)
    ]
    return found or [type(outcome).__name__]


def attempt(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as exc:
        return exc


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FixedAnswer(BaseHTTPRequestHandler):
    """Every call answered with ``body``; ``hits`` counts them."""

    body = b"{}"
    hits = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        FixedAnswer.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(FixedAnswer.body)))
        self.end_headers()
        self.wfile.write(FixedAnswer.body)

    def log_message(self, *args: Any) -> None:
        pass


def two_node_bodies(sandbox: Sandbox) -> dict[str, tuple[Callable[[], Any], bytes]]:
    """Bodies holding two ``*_response`` nodes: no signature covers both."""
    forged = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_HAS_SUCCESS"}
    inner = json.dumps({"code": "10000", "msg": "Success", "trade_status": "TRADE_SUCCESS"})
    sign = sandbox.signer.sign(inner.encode())
    unsigned = {"alipay_trade_pay_response": forged, "error_response": {"code": "40002"}}
    signed = f'{{"alipay_trade_pay_response":{json.dumps(forged)},'
    signed += f'"alipay_trade_query_response":{inner},"sign":"{sign}"}}'
    return {
        "unsigned error_response": (lambda: payment("N1"), json.dumps(unsigned).encode()),
        "signed other node": (lambda: query("N1"), signed.encode()),
    }


with Sandbox(signing=True) as sandbox, Sandbox(signing=True) as other, instant_sleeps():
    config = config_for(sandbox)
    client = payerr_alipay.install(DefaultAlipayClient(config))
    found: dict[str, object] = {"success": json.loads(client.execute(payment("O1")))}

    # The contract is the SDK's: a signed failure is returned as the SDK returns it.
    sandbox.script("alipay.trade.pay", ["20000!"])
    found["pay_20000_default"] = json.loads(client.execute(payment("O2")))["code"]
    found["pay_20000_sent"] = sandbox.ledger.requests("out_trade_no", "O2")

    raising = payerr_alipay.install(DefaultAlipayClient(config), raise_errors=True)
    sandbox.script("alipay.trade.pay", ["20000!"])
    error = attempt(lambda: raising.execute(payment("O3")))
    found["pay_20000_raised"] = [*kinds(error), getattr(error, "code", None)]
    found["pay_20000_hint"] = getattr(getattr(error, "retry", None), "value", None)
    found["pay_20000_raised_sent"] = sandbox.ledger.requests("out_trade_no", "O3")

    sandbox.script("alipay.trade.query", ["20000", "ok"])
    found["query_after_20000"] = json.loads(client.execute(query("O1")))["trade_status"]
    found["query_sent"] = sandbox.route_hits["alipay.trade.query"]

    # One signature check per answer: payerr's and the SDK's share the RSA operation.
    checks: list[bytes] = []
    original_check = official_client.verify_with_rsa

    def counted_check(key: str, message: bytes, sign: str) -> bool:
        checks.append(message)
        return bool(original_check(key, message, sign))

    official_client.verify_with_rsa = counted_check
    checking = payerr_alipay.install(DefaultAlipayClient(config))
    official_client.verify_with_rsa = original_check
    for number in ("O1", "O404"):
        checks.clear()
        checking.execute(query(number))
        found[f"rsa_checks {number}"] = len(checks)

    # Handlers written for the SDK alone catch the same failures after install(). The SDK
    # alone cannot be pointed at the sandbox (its do_post breaks on a URL with a port), so
    # what it raises is read from its source: RequestException when the connection fails,
    # ResponseException for a non-200 status and for an answer it cannot verify.
    handlers: dict[str, list[str]] = {}
    for number, step in enumerate(("unsigned:isv.invalid-app-id", "html502", "reset")):
        sandbox.script("alipay.trade.pay", [step])
        handlers[step] = kinds(attempt(lambda n=number: client.execute(payment(f"H{n}"))))
    refused = config_for(sandbox)
    refused.server_url = f"http://127.0.0.1:{closed_port()}/gateway.do"
    unreachable = payerr_alipay.install(DefaultAlipayClient(refused))
    handlers["refused"] = kinds(attempt(lambda: unreachable.execute(query("H9"))))
    found["handlers"] = handlers

    sandbox.script("alipay.trade.query", ["unsigned:isv.invalid-app-id"])
    error = attempt(lambda: client.execute(query("K1")))
    copy = pickle.loads(pickle.dumps(error))
    found["pickled"] = [*kinds(copy), getattr(copy, "sub_code", None)]

    # Verify first: every wrongly signed answer is the SDK's own validation error.
    wrong = config_for(sandbox, other.public_key_pem)
    unverified: dict[str, list[object]] = {}
    for raise_errors in (False, True):
        sdk = payerr_alipay.install(DefaultAlipayClient(wrong), raise_errors=raise_errors)
        for route, step, request in (
            ("alipay.trade.pay", "ok", payment("V1")),
            ("alipay.trade.pay", "ACQ.TRADE_HAS_SUCCESS", payment("V2")),
            ("alipay.trade.query", "ACQ.TRADE_NOT_EXIST", query("V3")),
            ("alipay.trade.query", "20000", query("V4")),
            ("alipay.trade.query", "isv.invalid-app-id", query("V5")),
        ):
            before = sandbox.route_hits[route]
            sandbox.script(route, [step])
            outcome = attempt(lambda sdk=sdk, request=request: sdk.execute(request))
            sent = sandbox.route_hits[route] - before
            unverified[f"{step} raise_errors={raise_errors}"] = [*kinds(outcome), sent]
    found["unverified"] = unverified

    # A body with two nodes goes back to the SDK untouched: no node of it is read.
    server = ThreadingHTTPServer(("127.0.0.1", 0), FixedAnswer)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    fixed = config_for(sandbox)
    fixed.server_url = f"http://127.0.0.1:{server.server_address[1]}/gateway.do"
    two_nodes: dict[str, list[object]] = {}
    for raise_errors in (False, True):
        sdk = payerr_alipay.install(DefaultAlipayClient(fixed), raise_errors=raise_errors)
        for case, (request, body) in two_node_bodies(sandbox).items():
            FixedAnswer.body, FixedAnswer.hits = body, 0
            outcome = attempt(lambda sdk=sdk, request=request: sdk.execute(request()))
            two_nodes[f"{case} raise_errors={raise_errors}"] = [*kinds(outcome), FixedAnswer.hits]
    server.shutdown()
    server.server_close()
    found["two_nodes"] = two_nodes

    # alipay_result reads the official response objects, and corrects is_success for 20000.
    keeping = payerr_alipay.install(DefaultAlipayClient(config))
    sandbox.script("alipay.trade.pay", ["20000"])
    response = AlipayTradePayResponse()
    response.parse_response_content(keeping.execute(payment("O4")))
    found["sdk_is_success_for_20000"] = response.is_success()
    error = attempt(lambda: payerr.alipay_result(response, method="alipay.trade.pay"))
    found["alipay_result_20000"] = [type(error).__name__, error.retry.value]
    sandbox.script("alipay.trade.query", ["ACQ.TRADE_NOT_EXIST"])
    missing = AlipayTradeQueryResponse()
    missing.parse_response_content(keeping.execute(query("O5")))
    error = attempt(lambda: payerr.alipay_result(missing, method="alipay.trade.query"))
    found["alipay_result_not_exist"] = [type(error).__name__, getattr(error, "sub_code", None)]
    done = AlipayTradeQueryResponse()
    done.parse_response_content(keeping.execute(query("O1")))
    found["alipay_result_success"] = payerr.alipay_result(done, method="alipay.trade.query")[
        "trade_status"
    ]

    # Installs: twice is a no-op, the views are reachable.
    execute = keeping.execute
    payerr_alipay.install(keeping, raise_errors=True)
    found["install_twice_same"] = keeping.execute == execute
    found["views_cooldowns"] = views(keeping).cooldowns()
    found["bare_pickles"] = type(
        attempt(lambda: pickle.dumps(DefaultAlipayClient(config)))
    ).__name__
    copy = pickle.loads(pickle.dumps(keeping))
    sandbox.script("alipay.trade.query", ["20000", "ok"])
    before = sandbox.route_hits["alipay.trade.query"]
    found["copy_query"] = json.loads(copy.execute(query("O1")))["trade_status"]
    found["copy_sent"] = sandbox.route_hits["alipay.trade.query"] - before
    found["copy_views"] = views(copy).cooldowns()
    copies: dict[str, list[object]] = {}
    for how, make in (("copy", copying.copy), ("deepcopy", copying.deepcopy)):
        made = attempt(lambda make=make: make(keeping))
        if isinstance(made, BaseException):
            copies[how] = [type(made).__name__]
            continue
        sandbox.script("alipay.trade.query", ["20000", "ok"])
        before = sandbox.route_hits["alipay.trade.query"]
        status = json.loads(made.execute(query("O1")))["trade_status"]
        copies[how] = [status, sandbox.route_hits["alipay.trade.query"] - before]
        copies[how].append(views(made) is not views(keeping))
    found["copies"] = copies
    print(json.dumps(found))
