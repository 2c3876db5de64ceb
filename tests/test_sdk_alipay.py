"""python-alipay-sdk with payerr installed, against a sandbox that signs like Alipay.

The official alipay-sdk-python shares the ``alipay`` package name, so it runs in
a subprocess of its own (tests/test_sdk_alipay_official.py); ``alipay_result``
has its own file (tests/test_alipay_result.py).
"""

from __future__ import annotations

import copy
import json
import pickle
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.error import HTTPError, URLError

import pytest
from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError

import payerr
from payerr.integrations import alipay as payerr_alipay
from payerr.integrations import views
from payerr.sandbox import Sandbox
from support.stranger_key import stranger_public_key

AUTH_CODE = "28763443825664394"


@pytest.fixture
def sandbox(signed_sandbox: Sandbox) -> Sandbox:
    return signed_sandbox


@pytest.fixture(scope="module")
def wrong_key() -> str:
    return stranger_public_key()


def client(sandbox: Sandbox, public_key: str | None = None) -> AliPay:
    sdk = AliPay(
        appid="2021000000000001",
        app_notify_url=None,
        app_private_key_string=sandbox.app_private_key_pem,
        alipay_public_key_string=public_key or sandbox.public_key_pem,
        sign_type="RSA2",
    )
    sdk._gateway = f"{sandbox.url}/gateway.do"
    return sdk


def pay(sdk: AliPay, number: str) -> Any:
    return sdk.api_alipay_trade_pay(
        out_trade_no=number, scene="bar_code", auth_code=AUTH_CODE, subject="x", total_amount="1"
    )


def query(sdk: AliPay, number: str) -> Any:
    return sdk.api_alipay_trade_query(out_trade_no=number)


def outcome(call: Callable[[], Any]) -> Any:
    """What a call returned, or the exception it raised. urllib's HTTPError carries the
    unread answer and its socket, for the caller to close: closed here, as an app would."""
    try:
        return call()
    except Exception as exc:
        if isinstance(exc, HTTPError) and exc.fp is not None:
            exc.close()
        return exc


# --- the contract is the SDK's ----------------------------------------------------


def test_success_is_what_the_sdk_returns(sandbox: Sandbox) -> None:
    plain = pay(client(sandbox), "S0")
    through = pay(payerr_alipay.install(client(sandbox)), "S1")
    assert plain.keys() == through.keys()
    assert through["code"] == "10000"


@pytest.mark.parametrize(
    ("route", "step", "call"),
    [
        ("alipay.trade.query", "ACQ.TRADE_NOT_EXIST", lambda sdk: query(sdk, "missing")),
        ("alipay.trade.pay", "ACQ.TRADE_HAS_SUCCESS", lambda sdk: pay(sdk, "B1")),
        ("alipay.trade.pay", "20000!", lambda sdk: pay(sdk, "B2")),
    ],
    ids=["not-exist", "has-success", "pay-20000"],
)
def test_a_signed_failure_is_returned_as_the_sdk_returns_it(
    sandbox: Sandbox, route: str, step: str, call: Callable[[AliPay], Any]
) -> None:
    sandbox.script(route, [step])
    alone = call(client(sandbox))
    sandbox.script(route, [step])
    through = call(payerr_alipay.install(client(sandbox)))
    assert through == alone
    assert through["code"] != "10000"


@pytest.mark.parametrize(
    ("step", "handler"),
    [
        ("unsigned:isv.invalid-app-id", AliPayException),
        ("html502", HTTPError),
        ("empty!", ValueError),
        ("reset", OSError),
    ],
    ids=["unsigned-error_response", "html-502", "empty-200", "connection-reset"],
)
def test_the_handler_an_app_writes_today_still_catches(
    sandbox: Sandbox, step: str, handler: type[BaseException]
) -> None:
    sandbox.script("alipay.trade.pay", [step])
    alone = outcome(lambda: pay(client(sandbox), "H1"))
    assert isinstance(alone, handler)
    sandbox.script("alipay.trade.pay", [step])
    through = outcome(lambda: pay(payerr_alipay.install(client(sandbox)), "H2"))
    assert isinstance(through, handler)
    assert isinstance(through, payerr.PayError)


def test_a_refused_connection_is_still_urllibs_error(sandbox: Sandbox) -> None:
    with socket.socket() as closed:  # bound, not listening: refused, and no one else's port
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        sdk = payerr_alipay.install(client(sandbox))
        sdk._gateway = f"http://127.0.0.1:{port}/gateway.do"
        with pytest.raises(URLError) as caught:
            query(sdk, "C1")
    assert isinstance(caught.value, payerr.NetworkError)


def test_an_unsigned_gateway_error_keeps_the_sdks_code_and_text(sandbox: Sandbox) -> None:
    sandbox.script("alipay.trade.query", ["unsigned:isv.invalid-app-id"])
    with pytest.raises(AliPayException) as caught:
        query(payerr_alipay.install(client(sandbox)), "G1")
    error: Any = caught.value
    assert isinstance(error, payerr.ConfigurationError)
    assert error.sub_code == "isv.invalid-app-id"
    assert error._AliPayException__code == "40002"
    assert "error_response" in error._AliPayException__message


def test_raise_errors_types_a_verified_business_failure(sandbox: Sandbox) -> None:
    with pytest.raises(payerr.NotFoundError) as caught:
        query(payerr_alipay.install(client(sandbox), raise_errors=True), "missing")
    assert caught.value.sub_code == "ACQ.TRADE_NOT_EXIST"
    assert isinstance(caught.value, AliPayException)


@pytest.mark.parametrize(
    ("step", "sdk_kind", "payerr_kind"),
    [
        ("unsigned:isv.invalid-app-id", AliPayException, payerr.ConfigurationError),
        ("html502", HTTPError, payerr.ServiceUnavailableError),
        ("empty!", ValueError, payerr.MalformedResponseError),
    ],
    ids=["unsigned-error_response", "html-502", "empty-200"],
)
def test_errors_pickle_as_both_kinds(
    sandbox: Sandbox, step: str, sdk_kind: type[Exception], payerr_kind: type[Exception]
) -> None:
    sandbox.script("alipay.trade.pay", [step])
    with pytest.raises(sdk_kind) as caught:
        pay(payerr_alipay.install(client(sandbox)), "K1")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, sdk_kind)
    assert isinstance(copy, payerr_kind)
    assert copy.http_status == caught.value.http_status  # type: ignore[attr-defined]


# --- verify first -----------------------------------------------------------------


@pytest.mark.parametrize("raise_errors", [False, True], ids=["default", "raise_errors"])
@pytest.mark.parametrize(
    ("route", "step", "call"),
    [
        ("alipay.trade.pay", "ok", lambda sdk: pay(sdk, "V1")),
        ("alipay.trade.pay", "ACQ.TRADE_HAS_SUCCESS", lambda sdk: pay(sdk, "V2")),
        ("alipay.trade.query", "ACQ.TRADE_NOT_EXIST", lambda sdk: query(sdk, "V3")),
        ("alipay.trade.query", "20000", lambda sdk: query(sdk, "V4")),
        ("alipay.trade.query", "isv.invalid-app-id", lambda sdk: query(sdk, "V5")),
    ],
    ids=["success", "has-success", "not-exist", "busy", "signed-40002"],
)
def test_a_wrongly_signed_answer_is_the_sdks_validation_error(
    sandbox: Sandbox,
    wrong_key: str,
    raise_errors: bool,
    route: str,
    step: str,
    call: Callable[[AliPay], Any],
) -> None:
    sandbox.script(route, [step])
    sdk = payerr_alipay.install(client(sandbox, wrong_key), raise_errors=raise_errors)
    with pytest.raises(AliPayValidationError) as caught:
        call(sdk)
    assert not isinstance(caught.value, payerr.PayError)
    assert sandbox.route_hits[route] == 1  # nothing acted on it: not even a retry


class FixedAnswer(ThreadingHTTPServer):
    """A gateway on 127.0.0.1 answering every call with ``body``, counting the calls."""

    body = b"{}"
    hits = 0


class _Answer(BaseHTTPRequestHandler):
    server: FixedAnswer

    def do_GET(self) -> None:
        self.server.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fixed() -> Iterator[FixedAnswer]:
    server = FixedAnswer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


FORGED = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_HAS_SUCCESS"}
SIGNED_QUERY = {
    "code": "10000",
    "msg": "Success",
    "out_trade_no": "N1",
    "trade_status": "TRADE_SUCCESS",
}


def two_nodes(sandbox: Sandbox, case: str) -> bytes:
    """A body with two ``*_response`` nodes: no signature covers both."""
    if case == "unsigned-error_response":
        doc = {"alipay_trade_pay_response": FORGED, "error_response": {"code": "40002"}}
        return json.dumps(doc).encode()
    if case == "unsigned-public-code":
        busy = {"code": "20000", "msg": "Service Currently Unavailable"}
        doc = {"alipay_trade_refund_response": FORGED, "alipay_trade_pay_response": busy}
        return json.dumps(doc).encode()
    inner = json.dumps(SIGNED_QUERY, separators=(",", ":"))
    sign = sandbox.signer.sign(inner.encode())
    forged = json.dumps(FORGED)
    return (
        f'{{"alipay_trade_pay_response":{forged},"alipay_trade_query_response":{inner},'
        f'"sign":"{sign}"}}'
    ).encode()


@pytest.mark.parametrize("raise_errors", [False, True], ids=["default", "raise_errors"])
@pytest.mark.parametrize(
    "case", ["unsigned-error_response", "unsigned-public-code", "signed-other-node"]
)
def test_a_body_with_two_nodes_goes_back_to_the_sdk_untouched(
    sandbox: Sandbox, fixed: FixedAnswer, raise_errors: bool, case: str
) -> None:
    """payerr's check approves one node; a body holding another is the SDK's alone to read."""
    fixed.body = two_nodes(sandbox, case)
    call = query if case == "signed-other-node" else pay

    def through(sdk: AliPay) -> tuple[type, str, int]:
        sdk._gateway = f"http://127.0.0.1:{fixed.server_address[1]}/gateway.do"
        fixed.hits = 0
        seen = outcome(lambda: call(sdk, "N1"))
        return type(seen), str(seen), fixed.hits

    alone, alone_text, alone_hits = through(client(sandbox))
    sdk = payerr_alipay.install(client(sandbox), raise_errors=raise_errors)
    installed, text, hits = through(sdk)
    assert not issubclass(installed, payerr.PayError)
    assert (installed, text) == (alone, alone_text)
    assert hits == alone_hits == 1


# --- payments safety ------------------------------------------------------------


@pytest.mark.parametrize("known", [True, False], ids=["success", "40004"])
def test_an_answer_is_verified_once(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, known: bool
) -> None:
    checked: list[str] = []
    scanned: list[str] = []
    verify, signed_text = AliPay._verify, AliPay._get_string_to_be_signed

    def counted_verify(self: AliPay, content: str, sign: str) -> bool:
        checked.append(content)
        return bool(verify(self, content, sign))

    def counted_scan(self: AliPay, raw: str, node: str) -> str:
        scanned.append(node)
        return str(signed_text(self, raw, node))

    monkeypatch.setattr(AliPay, "_verify", counted_verify)
    monkeypatch.setattr(AliPay, "_get_string_to_be_signed", counted_scan)
    sdk = payerr_alipay.install(client(sandbox))
    pay(sdk, "C1")
    checked.clear()
    scanned.clear()
    answer = query(sdk, "C1" if known else "C2")
    assert answer["code"] == ("10000" if known else "40004")
    assert (len(checked), len(scanned)) == (1, 1)


def test_a_payment_sent_as_get_is_never_resent(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox), raise_errors=True)
    sandbox.script("alipay.trade.pay", ["20000!"])
    with pytest.raises(payerr.ServiceUnavailableError) as caught:
        pay(sdk, "P1")
    assert caught.value.retry is payerr.RetryHint.QUERY_FIRST
    assert caught.value.api_method == "alipay.trade.pay"
    assert sandbox.ledger.requests("out_trade_no", "P1") == 1
    assert sandbox.ledger.executions("out_trade_no", "P1") == 1


def test_a_query_is_retried(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox))
    pay(sdk, "Q1")
    sandbox.script("alipay.trade.query", ["20000", "ok"])
    assert query(sdk, "Q1")["trade_status"] == "TRADE_SUCCESS"
    assert sandbox.route_hits["alipay.trade.query"] == 2


def test_a_refund_with_its_request_number_is_resent_and_made_once(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox))
    pay(sdk, "R1")
    sandbox.script("alipay.trade.refund", ["ACQ.SYSTEM_ERROR!", "ok"])
    result = sdk.api_alipay_trade_refund(refund_amount="1", out_trade_no="R1", out_request_no="F1")
    assert result["fund_change"] == "Y"
    assert sandbox.ledger.requests("out_request_no", "F1") == 2
    assert sandbox.ledger.executions("out_request_no", "F1") == 1


# --- installs -------------------------------------------------------------------


def test_install_refuses_what_is_not_an_alipay_client() -> None:
    with pytest.raises(TypeError, match=r"takes python-alipay-sdk.s AliPay .* not builtins.object"):
        payerr_alipay.install(object())


def test_install_twice_is_a_no_op(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox))
    first = sdk.verified_sync_response, views(sdk)
    assert payerr_alipay.install(sdk, raise_errors=True) is sdk
    assert (sdk.verified_sync_response, views(sdk)) == first


def test_the_views_show_the_installed_transport(sandbox: Sandbox) -> None:
    sdk = payerr_alipay.install(client(sandbox))
    shown = views(sdk)
    assert shown.cooldowns() == []
    assert shown.budget_left() == shown.policy.budget
    with pytest.raises(TypeError, match="no payerr installed"):
        views(client(sandbox))


def test_per_request_clients_share_cooldowns_through_one_coordinator(sandbox: Sandbox) -> None:
    shared = payerr.LocalCoordinator()
    first = payerr_alipay.install(client(sandbox), coordinator=shared)
    sandbox.script("alipay.trade.query", ["retry_after=30"] * 3)
    with pytest.raises(HTTPError):
        query(first, "D1")
    second = payerr_alipay.install(client(sandbox), coordinator=shared)
    assert [c.remaining > 0 for c in views(second).cooldowns()] == [True]


def test_an_installed_client_pickles_as_the_plain_one_does(sandbox: Sandbox) -> None:
    """python-alipay-sdk's RSA key objects do not pickle: installed or not, the same error."""
    plain = outcome(lambda: pickle.dumps(client(sandbox)))
    through = outcome(lambda: pickle.dumps(payerr_alipay.install(client(sandbox))))
    assert type(through) is type(plain)
    assert isinstance(plain, Exception)


def test_a_shallow_copy_is_installed_with_its_own_transport(sandbox: Sandbox) -> None:
    """As a loaded pickle: the same settings, installed again, its own views."""
    sdk = payerr_alipay.install(client(sandbox))
    twin = copy.copy(sdk)
    pay(twin, "Y1")
    sandbox.script("alipay.trade.query", ["20000", "ok"])
    assert query(twin, "Y1")["trade_status"] == "TRADE_SUCCESS"
    assert sandbox.route_hits["alipay.trade.query"] == 2  # retried: through payerr
    assert views(twin) is not views(sdk)


def test_a_deep_copy_fails_as_the_plain_clients_does(sandbox: Sandbox) -> None:
    """python-alipay-sdk's RSA key objects do not copy deeply: installed or not, alike."""
    plain = outcome(lambda: copy.deepcopy(client(sandbox)))
    through = outcome(lambda: copy.deepcopy(payerr_alipay.install(client(sandbox))))
    assert type(through) is type(plain)
    assert isinstance(plain, Exception)


def test_the_transport_alone_refuses_to_pickle_and_says_why(sandbox: Sandbox) -> None:
    from payerr.integrations._sdk import MARK

    sdk = payerr_alipay.install(client(sandbox))
    with pytest.raises(TypeError, match="pickle the client"):
        pickle.dumps(getattr(sdk, MARK))


def test_a_later_patch_of_the_sdk_module_does_not_reach_an_installed_client(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alipay as sdk_module

    sdk = payerr_alipay.install(client(sandbox))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the module's urlopen was called")

    monkeypatch.setattr(sdk_module, "urlopen", refuse)
    assert pay(sdk, "M1")["code"] == "10000"


def test_an_adapter_of_ones_own_carries_the_calls(sandbox: Sandbox) -> None:
    sdk = client(sandbox)
    sdk._gateway = "https://openapi.alipay.com/gateway.do"  # the real URL, sent to the sandbox
    payerr_alipay.install(sdk, adapter=sandbox.requests_adapter())
    assert pay(sdk, "O1")["code"] == "10000"
    assert sandbox.received[-1].path == "/gateway.do"


def test_one_adapter_verifies_for_one_client(sandbox: Sandbox) -> None:
    shared = sandbox.requests_adapter()
    payerr_alipay.install(client(sandbox), adapter=shared)
    with pytest.raises(TypeError, match="another client"):
        payerr_alipay.install(client(sandbox), adapter=shared)


def test_settings_beside_an_adapter_are_refused(sandbox: Sandbox) -> None:
    with pytest.raises(TypeError, match="drop app, policy"):
        payerr_alipay.install(
            client(sandbox),
            adapter=sandbox.requests_adapter(),
            policy=payerr.RetryPolicy(),
            app="shop",
        )


def test_an_sdk_that_no_longer_makes_the_call_is_refused_at_install() -> None:
    """rebind names the SDK function that stopped calling what payerr replaces."""
    from payerr.integrations._sdk import rebind

    def verified_sync_response(self: object) -> None:
        return None

    with pytest.raises(RuntimeError, match="no longer calls urlopen"):
        rebind(verified_sync_response, object(), urlopen=lambda url, timeout=None: None)
