"""wechatpayv3 (sync and async) with payerr installed, against a signing sandbox."""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime
import gzip
import json
import pickle
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.async_ import AsyncWeChatPay
from wechatpayv3.async_.type import WeChatPayType as AsyncPayType
from wechatpy import WeChatClient

import payerr
from payerr.integrations import views
from payerr.integrations import wechatpayv3 as payerr_wechatpay
from payerr.sandbox import Sandbox
from support.stranger_key import stranger_public_key

ORIGINAL_GET = requests.get


@pytest.fixture
def sandbox(signed_sandbox: Sandbox) -> Sandbox:
    return signed_sandbox


@pytest.fixture(scope="module")
def wrong_key() -> str:
    return stranger_public_key()


def settings(sandbox: Sandbox, kind: Any = WeChatPayType.NATIVE) -> dict[str, Any]:
    return {
        "wechatpay_type": kind,
        "mchid": "1900000001",
        "private_key": sandbox.merchant_private_key_pem,
        "cert_serial_no": "5157F09EFDC096DE15EBE81A47057A72",
        "appid": "wx00sandbox",
        "apiv3_key": "k" * 32,
        "notify_url": "https://shop.example/notify",
        "public_key": sandbox.public_key_pem,
        "public_key_id": sandbox.wechatpay_public_key_id,
    }


def bare(sandbox: Sandbox, kind: Any = WeChatPayType.NATIVE, **changes: Any) -> WeChatPay:
    pay = WeChatPay(**{**settings(sandbox, kind), **changes})
    pay._core._gate_way = sandbox.url
    return pay


def installed(sandbox: Sandbox, kind: Any = WeChatPayType.NATIVE, **options: Any) -> WeChatPay:
    return payerr_wechatpay.install(bare(sandbox, kind), **options)


def test_success_keeps_the_sdks_status_and_text(sandbox: Sandbox) -> None:
    code, text = installed(sandbox).pay(description="x", out_trade_no="N1", amount={"total": 1})
    assert code == 200
    assert json.loads(text)["code_url"].startswith("weixin://wxpay/bizpayurl")


@pytest.mark.parametrize("raise_errors", [False, True], ids=["default", "raise_errors"])
@pytest.mark.parametrize(
    ("route", "step", "call"),
    [
        (
            "wechatpay.native",
            "ok",
            lambda pay: pay.pay(description="x", out_trade_no="W1", amount={"total": 1}),
        ),
        ("wechatpay.query", "ok", lambda pay: pay.query(out_trade_no="W0")),
        (
            "wechatpay.codepay",
            "USERPAYING",  # a 202: payerr would read it as pending, were it not verified first
            lambda pay: pay.pay(
                description="x",
                out_trade_no="W2",
                amount={"total": 1},
                payer={"auth_code": "1"},
                pay_type=WeChatPayType.CODEPAY,
            ),
        ),
    ],
    ids=["payment", "query", "202-userpaying"],
)
def test_a_wrongly_signed_success_is_the_sdks_validation_error(
    sandbox: Sandbox,
    wrong_key: str,
    raise_errors: bool,
    route: str,
    step: str,
    call: Callable[[WeChatPay], Any],
) -> None:
    bare(sandbox).pay(description="x", out_trade_no="W0", amount={"total": 1})
    pay = payerr_wechatpay.install(bare(sandbox, public_key=wrong_key), raise_errors=raise_errors)
    before = sandbox.route_hits[route]
    sandbox.script(route, [step])
    with pytest.raises(Exception, match="failed to verify the signature") as caught:
        call(pay)
    assert not isinstance(caught.value, payerr.PayError)
    assert sandbox.route_hits[route] - before == 1


@pytest.mark.parametrize("known", [True, False], ids=["success", "404"])
def test_an_answer_is_verified_once(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, known: bool
) -> None:
    import wechatpayv3.core

    checked: list[str] = []
    verify = wechatpayv3.core.rsa_verify

    def counted(timestamp: str, nonce: str, body: str, signature: str, key: Any) -> bool:
        checked.append(body)
        return bool(verify(timestamp, nonce, body, signature, key))

    monkeypatch.setattr(wechatpayv3.core, "rsa_verify", counted)
    pay = installed(sandbox)
    pay.pay(description="x", out_trade_no="V1", amount={"total": 1})
    checked.clear()
    code, _text = pay.query(out_trade_no="V1" if known else "V2")
    assert code == (200 if known else 404)
    assert len(checked) == (1 if known else 0)  # the SDK verifies 2xx answers only


def test_a_bill_downloads_as_bytes(sandbox: Sandbox) -> None:
    pay = installed(sandbox)
    code, text = pay.trade_bill(bill_date="2026-12-01")
    assert code == 200
    code, data = pay.download_bill(json.loads(text)["download_url"])
    assert code == 200
    assert gzip.decompress(data).startswith("交易时间".encode())


def test_a_payment_code_charge_is_never_resent(sandbox: Sandbox) -> None:
    pay = installed(sandbox, WeChatPayType.CODEPAY, raise_errors=True)
    sandbox.script("wechatpay.codepay", ["SYSTEM_ERROR!"])
    with pytest.raises(payerr.ServiceUnavailableError) as caught:
        pay.pay(
            description="x", out_trade_no="C1", amount={"total": 1}, payer={"auth_code": "1345"}
        )
    assert caught.value.retry is payerr.RetryHint.QUERY_FIRST
    assert sandbox.ledger.requests("out_trade_no", "C1") == 1
    assert sandbox.ledger.executions("out_trade_no", "C1") == 1


def test_a_refund_is_resent_with_its_key_and_made_once(sandbox: Sandbox) -> None:
    pay = installed(sandbox)
    pay.pay(description="x", out_trade_no="R1", amount={"total": 1})
    sandbox.script("wechatpay.refund", ["SYSTEM_ERROR!", "ok"])
    code, _text = pay.refund(
        out_refund_no="RF1", amount={"refund": 1, "total": 1, "currency": "CNY"}, out_trade_no="R1"
    )
    assert code == 200
    assert sandbox.ledger.requests("out_refund_no", "RF1") == 2
    assert sandbox.ledger.executions("out_refund_no", "RF1") == 1


@pytest.mark.parametrize(
    ("route", "steps", "call", "sent"),
    [
        ("wechatpay.query", [], lambda pay: pay.query(out_trade_no="missing"), 1),
        ("wechatpay.query", ["FREQUENCY_LIMITED"] * 3, lambda pay: pay.query(out_trade_no="Q0"), 3),
        ("wechatpay.query", ["SYSTEM_ERROR"] * 3, lambda pay: pay.query(out_trade_no="Q0"), 3),
        ("wechatpay.close", [], lambda pay: pay.close(out_trade_no="Q0"), 1),
    ],
    ids=["404", "429x3", "500x3", "204"],
)
def test_by_default_a_call_returns_what_the_sdk_alone_returns(
    sandbox: Sandbox,
    route: str,
    steps: list[str],
    call: Callable[[WeChatPay], Any],
    sent: int,
) -> None:
    bare(sandbox).pay(description="x", out_trade_no="Q0", amount={"total": 1})
    sandbox.script(route, steps[:1])
    alone = call(bare(sandbox))
    before = sandbox.route_hits[route]
    sandbox.script(route, steps)
    through = call(installed(sandbox))
    assert through == alone
    assert sandbox.route_hits[route] - before == sent  # retried only where safe


def test_fewer_calls_fail_once_installed(sandbox: Sandbox) -> None:
    bare(sandbox).pay(description="x", out_trade_no="F0", amount={"total": 1})
    sandbox.script("wechatpay.query", ["SYSTEM_ERROR"])
    assert bare(sandbox).query(out_trade_no="F0")[0] == 500
    sandbox.script("wechatpay.query", ["SYSTEM_ERROR", "ok"])
    assert installed(sandbox).query(out_trade_no="F0")[0] == 200


def test_raise_errors_opts_into_typed_errors(sandbox: Sandbox) -> None:
    with pytest.raises(payerr.NotFoundError) as caught:
        installed(sandbox, raise_errors=True).query(out_trade_no="missing")
    assert (caught.value.code, caught.value.http_status) == ("ORDER_NOT_EXIST", 404)
    assert pickle.loads(pickle.dumps(caught.value)).code == "ORDER_NOT_EXIST"


APIV3_KEY = "0123456789abcdef0123456789abcdef"


class CertificateGateway(ThreadingHTTPServer):
    """WeChat Pay in platform-certificate mode: ``/v3/certificates`` hands out one
    certificate; every answer is signed by a serial that is not it (a rotation under way)."""

    certificates = b"{}"
    downloads = 0


class _CertificateAnswers(BaseHTTPRequestHandler):
    server: CertificateGateway

    def do_GET(self) -> None:
        fetching = self.path.startswith("/v3/certificates")
        self.server.downloads += fetching
        body = self.server.certificates if fetching else b'{"trade_state":"SUCCESS"}'
        self.send_response(200)
        for name, value in {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "Wechatpay-Serial": "5EC0DE",  # not the certificate handed out
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Wechatpay-Timestamp": "1700000000",
            "Wechatpay-Nonce": "n",
            "Wechatpay-Signature": base64.b64encode(b"s" * 256).decode(),
        }.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def platform_certificate(sandbox: Sandbox) -> tuple[str, bytes]:
    """(serial, PEM) of a self-signed platform certificate (the sandbox's key: no new one)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = serialization.load_pem_private_key(sandbox.merchant_private_key_pem.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "platform")])
    now = datetime.datetime.now(datetime.UTC)
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0xABC123)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return "ABC123", made.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def certificate_gateway(platform_certificate: tuple[str, bytes]) -> Iterator[CertificateGateway]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    serial, pem = platform_certificate
    nonce = "0123456789ab"
    sealed = AESGCM(APIV3_KEY.encode()).encrypt(nonce.encode(), pem, b"certificate")
    entry = {
        "serial_no": serial,
        "effective_time": "2025-01-01T00:00:00+08:00",
        "expire_time": "2030-01-01T00:00:00+08:00",
        "encrypt_certificate": {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": nonce,
            "associated_data": "certificate",
            "ciphertext": base64.b64encode(sealed).decode(),
        },
    }
    server = CertificateGateway(("127.0.0.1", 0), _CertificateAnswers)
    server.certificates = json.dumps({"data": [entry]}).encode()
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_certificates_are_downloaded_once_as_by_the_sdk_alone(
    sandbox: Sandbox,
    certificate_gateway: CertificateGateway,
    platform_certificate: tuple[str, bytes],
    tmp_path: Path,
) -> None:
    """The SDK's own ``/v3/certificates`` call is not verified (``skip_verify``), and
    payerr's check never downloads: one download, as without payerr."""
    serial, pem = platform_certificate
    (tmp_path / f"{serial}.pem").write_bytes(pem)  # a known certificate, so no public key

    def run(install: bool) -> tuple[int, int]:
        changes = {"public_key": None, "public_key_id": None, "apiv3_key": APIV3_KEY}
        pay = WeChatPay(**{**settings(sandbox), **changes}, cert_dir=f"{tmp_path}/")
        pay._core._gate_way = f"http://127.0.0.1:{certificate_gateway.server_address[1]}"
        if install:
            payerr_wechatpay.install(pay)
        certificate_gateway.downloads = 0
        with pytest.raises(Exception, match=r"^failed to verify the signature$"):
            pay.query(out_trade_no="C1")
        return certificate_gateway.downloads, len(pay._core._certificates)

    assert run(install=True) == run(install=False) == (1, 1)


@pytest.mark.parametrize(
    "wrong",
    [object(), requests.Session(), WeChatClient("wx00sandbox", "secret")],
    ids=["object", "requests-session", "wechatpy-client"],
)
def test_install_refuses_what_is_not_a_wechatpayv3_client(wrong: object) -> None:
    with pytest.raises(TypeError, match="takes wechatpayv3's WeChatPay or AsyncWeChatPay"):
        payerr_wechatpay.install(wrong)


def test_install_twice_is_a_no_op(sandbox: Sandbox) -> None:
    pay = installed(sandbox)
    first = pay._core.request, views(pay)
    assert payerr_wechatpay.install(pay, raise_errors=True) is pay
    assert (pay._core.request, views(pay)) == first
    assert pay.query(out_trade_no="missing")[0] == 404  # still the first install's contract


def test_an_installed_client_pickles_as_the_plain_one_does(sandbox: Sandbox) -> None:
    """wechatpayv3's private key object does not pickle: installed or not, the same error."""

    def failure(pay: WeChatPay) -> type[BaseException] | None:
        try:
            pickle.dumps(pay)
        except Exception as exc:
            return type(exc)
        return None

    assert failure(installed(sandbox)) is failure(bare(sandbox)) is TypeError


def test_a_deep_copy_is_installed_again_with_its_own_transport(sandbox: Sandbox) -> None:
    pay = installed(sandbox)
    twin = copy.deepcopy(pay)
    assert views(twin) is not views(pay)
    sandbox.script("wechatpay.query", ["500", "ok"])
    assert twin.query(out_trade_no="W0")[0] in (200, 404)
    assert sandbox.route_hits["wechatpay.query"] == 2  # retried: the copy sends through payerr


def test_the_views_show_the_transport(sandbox: Sandbox) -> None:
    pay = installed(sandbox)
    sandbox.script("wechatpay.query", ["retry_after=30"] * 3)
    pay.query(out_trade_no="missing")
    assert [c.scope for c in views(pay).cooldowns()] == ["wechat:1900000001@host:127.0.0.1"]
    views(pay).clear_cooldown()
    assert views(pay).cooldowns() == []


def test_a_later_patch_of_requests_does_not_reach_an_installed_client(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    pay = installed(sandbox)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the module's requests.post was called")

    monkeypatch.setattr(requests, "post", refuse)
    assert pay.pay(description="x", out_trade_no="M1", amount={"total": 1})[0] == 200


def test_the_requests_module_is_left_alone(sandbox: Sandbox) -> None:
    installed(sandbox)
    assert requests.get is ORIGINAL_GET
    other = WeChatPay(**settings(sandbox))
    assert "request" not in vars(other._core)


def run_async(
    sandbox: Sandbox, body: Any, *, before_entering: bool, public_key: str = "", **options: Any
) -> Any:
    async def main() -> Any:
        changes = {"public_key": public_key} if public_key else {}
        pay = AsyncWeChatPay(**{**settings(sandbox, AsyncPayType.NATIVE), **changes})
        pay._core._gate_way = sandbox.url
        if before_entering:
            payerr_wechatpay.install(pay, **options)
        async with pay:
            if not before_entering:
                payerr_wechatpay.install(pay, **options)
            return await body(pay)

    return asyncio.run(main())


@pytest.mark.parametrize("before_entering", [True, False])
def test_async_retries_then_succeeds(sandbox: Sandbox, before_entering: bool) -> None:
    sandbox.script("wechatpay.native", ["SYSTEM_ERROR", "ok"])
    number = f"A-{before_entering}"

    async def place(pay: AsyncWeChatPay) -> Any:
        return await pay.pay(
            description="x", out_trade_no=number, amount={"total": 1}, pay_type=AsyncPayType.NATIVE
        )

    code, _text = run_async(sandbox, place, before_entering=before_entering)
    assert code == 200
    assert sandbox.route_hits["wechatpay.native"] == 2
    assert sandbox.ledger.executions("out_trade_no", number) == 1


def test_async_typed_error(sandbox: Sandbox) -> None:
    sandbox.script("wechatpay.query", ["FREQUENCY_LIMITED"] * 3)

    async def query(pay: AsyncWeChatPay) -> Any:
        return await pay.query(out_trade_no="A1")

    with pytest.raises(payerr.RateLimitError) as caught:
        run_async(sandbox, query, before_entering=True, raise_errors=True)
    assert caught.value.attempts == 3


@pytest.mark.parametrize("raise_errors", [False, True], ids=["default", "raise_errors"])
def test_async_a_wrongly_signed_success_is_the_sdks_validation_error(
    sandbox: Sandbox, wrong_key: str, raise_errors: bool
) -> None:
    async def place(pay: AsyncWeChatPay) -> Any:
        return await pay.pay(
            description="x", out_trade_no="AW1", amount={"total": 1}, pay_type=AsyncPayType.NATIVE
        )

    before = sandbox.route_hits["wechatpay.native"]
    with pytest.raises(Exception, match="failed to verify the signature") as caught:
        run_async(
            sandbox, place, before_entering=False, public_key=wrong_key, raise_errors=raise_errors
        )
    assert not isinstance(caught.value, payerr.PayError)
    assert sandbox.route_hits["wechatpay.native"] - before == 1


def test_async_keeps_the_status_and_text_by_default(sandbox: Sandbox) -> None:
    sandbox.script("wechatpay.query", ["FREQUENCY_LIMITED"] * 3)

    async def query(pay: AsyncWeChatPay) -> Any:
        code, _text = await pay.query(out_trade_no="A1")
        return code, [c.scope for c in views(pay).cooldowns()]

    code, _cooling = run_async(sandbox, query, before_entering=False)
    assert code == 429


def test_async_an_answer_is_verified_once(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wechatpayv3.async_.core

    checked: list[str] = []
    verify = wechatpayv3.async_.core.rsa_verify

    def counted(timestamp: str, nonce: str, body: str, signature: str, key: Any) -> bool:
        checked.append(body)
        return bool(verify(timestamp, nonce, body, signature, key))

    monkeypatch.setattr(wechatpayv3.async_.core, "rsa_verify", counted)

    async def place_and_count(pay: AsyncWeChatPay) -> Any:
        await pay.pay(
            description="x", out_trade_no="AV1", amount={"total": 1}, pay_type=AsyncPayType.NATIVE
        )
        return len(checked)

    assert run_async(sandbox, place_and_count, before_entering=True) == 1


def test_an_adapter_of_ones_own_carries_the_calls(sandbox: Sandbox) -> None:
    pay = payerr_wechatpay.install(
        WeChatPay(**settings(sandbox)), adapter=sandbox.requests_adapter()
    )  # the SDK's real gateway URL, sent to the sandbox
    code, _ = pay.pay(description="x", out_trade_no="AD1", amount={"total": 1})
    assert code == 200


def test_an_adapter_that_raises_still_keeps_the_contract(sandbox: Sandbox) -> None:
    """The sandbox's adapter raises typed errors; the app did not ask for them."""
    pay = payerr_wechatpay.install(
        WeChatPay(**settings(sandbox)), adapter=sandbox.requests_adapter()
    )
    code, text = pay.query(out_trade_no="missing")
    assert (code, json.loads(text)["code"]) == (404, "ORDER_NOT_EXIST")


def test_the_async_client_takes_no_requests_adapter(sandbox: Sandbox) -> None:
    with pytest.raises(TypeError, match="async client"):
        payerr_wechatpay.install(
            AsyncWeChatPay(**settings(sandbox, AsyncPayType.NATIVE)),
            adapter=sandbox.requests_adapter(),
        )
