"""What the providers really send: files, code-less nodes, unknown codes, every host, Pay v2/v3."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

import payerr
from payerr import RetryHint as H

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def raw(status: int, body: bytes | str, url: str, method: str = "POST", **headers: str):
    data = body.encode() if isinstance(body, str) else body
    return payerr.RawResponse(status, headers, data, url, method)


# --- files are successes --------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"\x00" * 64
BILL = (
    "交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号\n`2024-01-01 10:00:00,`wx1,`1900000109\n"
)


@pytest.mark.parametrize(
    ("url", "headers", "body"),
    [
        pytest.param(
            "https://api.weixin.qq.com/wxa/getwxacodeunlimit",
            {"Content-Type": "image/jpeg"},
            JPEG,
            id="wxa-code-jpeg",  # developers.weixin.qq.com getUnlimitedQRCode: image buffer
        ),
        pytest.param(
            "https://api.weixin.qq.com/cgi-bin/wxaapp/createwxaqrcode",
            {"Content-Type": "image/png"},
            PNG,
            id="qrcode-png",
        ),
        pytest.param(
            "https://api.weixin.qq.com/cgi-bin/media/get",
            {"Content-Type": "image/jpeg", "Content-Disposition": 'attachment; filename="a.jpg"'},
            JPEG,
            id="media-get-attachment",  # wechatpy media.download returns the raw response
        ),
        pytest.param(
            "https://api.weixin.qq.com/cgi-bin/media/get",
            {"Content-Type": "audio/amr"},
            b"#!AMR\n" + b"\x00" * 40,
            id="media-get-voice",
        ),
        pytest.param(
            "https://api.mch.weixin.qq.com/v3/billdownload/file",
            {"Content-Type": "application/octet-stream"},
            b"\x1f\x8b\x08\x00" + b"\x00" * 40,
            id="pay-v3-bill-gzip",  # v3 下载账单: the file stream
        ),
        pytest.param(
            "https://api.mch.weixin.qq.com/pay/downloadbill",
            {"Content-Type": "text/plain;charset=utf-8"},
            BILL,
            id="pay-v2-bill-text",  # v2 downloadbill: a text bill on success
        ),
        pytest.param(
            "https://api.mch.weixin.qq.com/v3/bill/fundflowbill",
            {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
            XLSX,
            id="spreadsheet",
        ),
        pytest.param(
            "https://openapi.alipay.com/gateway.do",
            {"Content-Type": "application/pdf"},
            b"%PDF-1.7\n" + b"\x00" * 40,
            id="alipay-pdf",
        ),
    ],
)
def test_file_is_a_success(url: str, headers: dict[str, str], body: bytes | str) -> None:
    """A 2xx whose body is a file is a success, handed over untouched."""
    outcome = payerr.inspect(raw(200, body, url, **headers))
    assert outcome.ok, outcome.error
    assert outcome.data == {}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("image/jpeg", b'{"errcode":40007,"errmsg":"invalid media_id rid: 1-2-3"}'),
        ("text/plain", b'{"errcode":40007,"errmsg":"invalid media_id"}'),
        ("application/json; encoding=utf-8", b'{"errcode":40007,"errmsg":"invalid media_id"}'),
        ("application/octet-stream", b'\xef\xbb\xbf {"errcode":40007,"errmsg":"invalid"}'),
    ],
)
def test_json_error_on_a_download_endpoint_is_an_error(content_type: str, body: bytes) -> None:
    """Whatever type the provider declares, a JSON error envelope is still an error."""
    url = "https://api.weixin.qq.com/cgi-bin/media/get"
    error = payerr.inspect(raw(200, body, url, **{"Content-Type": content_type})).error
    assert isinstance(error, payerr.WeChatError)
    assert error.code == "40007"


def test_xml_error_on_a_bill_download_is_an_error() -> None:
    """WeChat Pay v2 answers a failed bill download with XML, typed text/plain or not."""
    body = (
        "<xml><return_code><![CDATA[FAIL]]></return_code>"
        "<return_msg><![CDATA[No Bill Exist]]></return_msg>"
        "<error_code><![CDATA[20002]]></error_code></xml>"
    )
    url = "https://api.mch.weixin.qq.com/pay/downloadbill"
    error = payerr.inspect(raw(200, body, url, **{"Content-Type": "text/plain"})).error
    assert isinstance(error, payerr.WeChatError)
    assert error.code == "FAIL"
    assert error.message == "No Bill Exist"


# --- Alipay nodes -------------------------------------------------------------------


def test_alipay_node_without_code_is_a_success() -> None:
    """alipay.system.oauth.token answers its node with no code at all."""
    body = (
        '{"alipay_system_oauth_token_response":{"access_token":"authusrB1","alipay_user_id":'
        '"2088102150527498","expires_in":300,"re_expires_in":300,"refresh_token":"r1",'
        '"user_id":"2088102150477652"},"sign":"s1"}'
    )
    outcome = payerr.inspect(raw(200, body, "https://openapi.alipay.com/gateway.do"))
    assert outcome.ok
    assert outcome.data is not None
    assert "alipay_system_oauth_token_response" in outcome.data


def test_alipay_encrypted_node_is_a_success_to_decrypt() -> None:
    """With content encryption on, a success node is ciphertext; errors stay plain."""
    body = '{"alipay_trade_query_response":"lOzBWuLp4Z7VHGx0y8Q==","sign":"s1"}'
    outcome = payerr.inspect(raw(200, body, "https://openapi.alipay.com/gateway.do"))
    assert outcome.ok
    assert outcome.data == {"alipay_trade_query_response": "lOzBWuLp4Z7VHGx0y8Q==", "sign": "s1"}


def test_alipay_error_response_next_to_method_node_prefers_the_method() -> None:
    """The node named after the API names the call (and wins over error_response)."""
    body = (
        '{"error_response":{"code":"40002","msg":"Invalid Arguments"},'
        '"alipay_trade_refund_response":{"code":"40004","msg":"Business Failed",'
        '"sub_code":"ACQ.SELLER_BALANCE_NOT_ENOUGH","sub_msg":"卖家余额不足"}}'
    )
    error = payerr.inspect(raw(200, body, "https://openapi.alipay.com/gateway.do")).error
    assert error is not None
    assert error.sub_code == "ACQ.SELLER_BALANCE_NOT_ENOUGH"
    assert error.api_method == "alipay.trade.refund"


def test_alipay_v3_names_the_call_by_path() -> None:
    """v3 errors carry the former sub_code as code; the path names the API."""
    body = '{"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在"}'
    url = "https://openapi.alipay.com/v3/alipay/trade/query"
    error = payerr.inspect(raw(400, body, url, **{"alipay-trace-id": "0600"})).error
    assert isinstance(error, payerr.NotFoundError)
    assert error.api_method == "alipay.trade.query"
    assert error.request_id == "0600"


# --- unknown codes keep the status ---------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "hint"),
    [
        (429, payerr.RateLimitError, H.BACKOFF),
        (500, payerr.ServiceUnavailableError, H.QUERY_FIRST),  # a POST: may have run
        (503, payerr.ServiceUnavailableError, H.QUERY_FIRST),
        (401, payerr.AuthError, H.REFRESH_CREDENTIALS),
        (403, payerr.ForbiddenError, H.NEVER),
        (404, payerr.NotFoundError, H.NEVER),
        (409, payerr.ConflictError, H.NEVER),
        (400, payerr.UnknownCodeError, H.NEVER),
        (200, payerr.UnknownCodeError, H.NEVER),
    ],
)
@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("https://api.mch.weixin.qq.com/v3/refund/domestic/refunds", '{"code":"NEW_CODE_X"}'),
        ("https://openapi.alipay.com/v3/alipay/trade/pay", '{"code":"NEW_CODE_X"}'),
        ("https://api.weixin.qq.com/cgi-bin/message/send", '{"errcode":987654,"errmsg":"x"}'),
        ("https://gdschannel.cmlink.com/aep/APP_createOrder_SBO/v1", '{"code":"7777777"}'),
        ("https://qyapi.weixin.qq.com/cgi-bin/message/send", '{"errcode":987654,"errmsg":"x"}'),
    ],
    ids=["wechat-pay", "alipay-v3", "wechat", "cmi", "wecom"],
)
def test_unknown_code_keeps_what_the_status_says(
    status: int, cls: type[payerr.PayError], hint: H, url: str, body: str
) -> None:
    """A code the catalog lacks takes category and hint from a status that says more."""
    if status < 400 and "/v3/" in url:
        pytest.skip("a v3 status below 400 is a success by definition")
    error = payerr.inspect(raw(status, body, url)).error
    assert isinstance(error, cls), repr(error)
    assert error.retry is hint
    assert error.known is False
    assert error.code in ("NEW_CODE_X", "987654", "7777777")


def test_every_429_is_a_rate_limit_whatever_the_body() -> None:
    """Even a known code of another category is throttled at a 429."""
    body = '{"code":"PARAM_ERROR","message":"参数错误"}'
    url = "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi"
    error = payerr.inspect(raw(429, body, url)).error
    assert isinstance(error, payerr.RateLimitError)
    assert error.code == "PARAM_ERROR"
    assert error.retry is H.BACKOFF


def test_known_code_says_known() -> None:
    """Catalog codes, and status-only errors, are ``known``."""
    body = '{"errcode":45011,"errmsg":"api minute-quota reach limit"}'
    error = payerr.inspect(raw(200, body, "https://api.weixin.qq.com/cgi-bin/x")).error
    assert error is not None and error.known is True
    bare = payerr.inspect(raw(502, "<html>502</html>", "https://api.weixin.qq.com/x")).error
    assert bare is not None and bare.known is True


# --- every documented host -------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("openapi.alipay.com", "alipay"),
        ("openapi-sandbox.dl.alipaydev.com", "alipay"),
        ("openapi.alipaydev.com", "alipay"),
        ("api.weixin.qq.com", "wechat"),
        ("api2.weixin.qq.com", "wechat"),
        ("sh.api.weixin.qq.com", "wechat"),
        ("sz.api.weixin.qq.com", "wechat"),
        ("hk.api.weixin.qq.com", "wechat"),
        ("api.mch.weixin.qq.com", "wechat"),
        ("api2.mch.weixin.qq.com", "wechat"),
        ("apihk.mch.weixin.qq.com", "wechat"),
        ("apius.mch.weixin.qq.com", "wechat"),
        ("orders-drcn.iap.cloud.huawei.com.cn", "huawei"),
        ("orders-dre.iap.cloud.huawei.eu", "huawei"),
        ("orders-dra.iap.cloud.huawei.asia", "huawei"),
        ("orders-drru.iap.cloud.huawei.ru", "huawei"),
        ("orders-at-dre.iap.cloud.huawei.eu", "huawei"),
        ("subscr-drcn.iap.cloud.huawei.com.cn", "huawei"),
        ("subscr-dre.iap.cloud.huawei.eu", "huawei"),
        ("subscr-dra.iap.cloud.huawei.asia", "huawei"),
        ("subscr-drru.iap.cloud.huawei.ru", "huawei"),
        ("subscr-at-dre.iap.cloud.huawei.eu", "huawei"),
        ("orders-drcn.iap.hicloud.com", "huawei"),
        ("subscr-dre.iap.hicloud.com", "huawei"),
        ("orders-at-dre.iap.dbankcloud.com", "huawei"),
        ("subscr-at-dre.iap.dbankcloud.com", "huawei"),
        ("iap.cloud.huawei.com", "huawei"),
        ("oauth-login.cloud.huawei.com", "huawei"),
        ("gdschannel.cmlink.com", "cmi"),
        ("qyapi.weixin.qq.com", "wecom"),
    ],
)
def test_documented_host_is_claimed(host: str, provider: str) -> None:
    """Every documented production and sandbox host reaches its adapter."""
    from payerr._catalog.registry import catalog

    assert catalog().provider_for_host(host) == provider


@pytest.mark.parametrize(
    "url",
    [
        "https://subscr-dre.iap.hicloud.com/sub/applications/v2/purchases/get",
        "https://orders-at-dre.iap.dbankcloud.com/applications/purchases/tokens/verify",
        "https://iap.cloud.huawei.com/order/harmony/v1/application/order/status/query",
    ],
)
def test_huawei_error_on_any_host_is_an_error(url: str) -> None:
    """No documented host lets an error pass as a success."""
    body = '{"responseCode":"1001880009","responseMessage":"already confirmed"}'
    error = payerr.inspect(raw(200, body, url)).error
    assert isinstance(error, payerr.ConflictError)
    assert isinstance(error, payerr.HuaweiError)


def test_unclaimed_host_passes_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    """A host no adapter claims goes through untouched, with one debug line per host."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"errcode": 40001})

    transport = payerr.Transport(httpx.MockTransport(handler))
    with caplog.at_level(logging.DEBUG, logger="payerr"), httpx.Client(transport=transport) as c:
        for _ in range(3):
            assert c.get("https://unclaimed.example/x").json() == {"errcode": 40001}
    lines = [r for r in caplog.records if "no adapter claims host" in r.getMessage()]
    assert len(lines) == 1
    assert len(seen) == 3


# --- WeChat Pay v3 and v2 ---------------------------------------------------------------

V2 = "https://api.mch.weixin.qq.com"


def _v2(**fields: str) -> str:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>"


@pytest.mark.parametrize(
    ("path", "body", "code", "cls"),
    [
        pytest.param(
            "/pay/micropay",
            _v2(
                return_code="SUCCESS",
                return_msg="OK",
                result_code="FAIL",
                err_code="USERPAYING",
                err_code_des="需要用户输入支付密码",
            ),
            "USERPAYING",
            payerr.PendingError,
            id="micropay-userpaying",  # pay.weixin.qq.com micropay: USERPAYING → poll
        ),
        pytest.param(
            "/pay/micropay",
            _v2(return_code="SUCCESS", result_code="FAIL", err_code="SYSTEMERROR"),
            "SYSTEMERROR",
            payerr.ServiceUnavailableError,
            id="micropay-systemerror",
        ),
        pytest.param(
            "/pay/unifiedorder",
            _v2(return_code="FAIL", return_msg="签名错误"),
            "FAIL",
            payerr.InvalidRequestError,
            id="return-code-fail",
        ),
    ],
)
def test_wechat_pay_v2_xml_is_read(
    path: str, body: str, code: str, cls: type[payerr.PayError]
) -> None:
    """v2 XML: return_code, result_code and err_code decide; entities are never expanded."""
    error = payerr.inspect(raw(200, body, V2 + path, **{"Content-Type": "text/xml"})).error
    assert isinstance(error, cls), repr(error)
    assert isinstance(error, payerr.WeChatError)
    assert error.code == code


def test_wechat_pay_v2_success_is_read() -> None:
    """Both codes SUCCESS: the XML fields are the data."""
    body = _v2(return_code="SUCCESS", return_msg="OK", result_code="SUCCESS", transaction_id="4200")
    outcome = payerr.inspect(raw(200, body, V2 + "/pay/orderquery"))
    assert outcome.ok
    assert outcome.data is not None and outcome.data["transaction_id"] == "4200"


def test_xml_with_entities_is_refused() -> None:
    """An entity-expansion document is malformed, never expanded."""
    body = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<xml><return_code>&b;</return_code></xml>"
    )
    error = payerr.inspect(raw(200, body, V2 + "/pay/orderquery")).error
    assert isinstance(error, payerr.MalformedResponseError)
    assert error.raw == body.encode()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, '{"transaction_id":"4200","trade_state":"SUCCESS"}', None),
        (204, "", None),
        (202, '{"code":"USERPAYING","message":"用户支付中，需要输入密码"}', payerr.PendingError),
        (202, "", payerr.PendingError),
        (
            500,
            '{"code":"SYSTEM_ERROR","message":"系统繁忙,请稍后重试"}',
            payerr.ServiceUnavailableError,
        ),
        (403, '{"code":"NO_AUTH","message":"商户无权限"}', payerr.ForbiddenError),
        (
            400,
            '{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/currency"}}',
            payerr.InvalidRequestError,
        ),
    ],
)
def test_wechat_pay_v3_statuses(status: int, body: str, expected: type | None) -> None:
    """v3: 200/204 succeed, 202 is pending, 4xx/5xx carry {code, message}."""
    url = "https://api.mch.weixin.qq.com/v3/pay/transactions/codepay"
    outcome = payerr.inspect(raw(status, body, url, **{"Request-ID": "08B9"}))
    if expected is None:
        assert outcome.ok, outcome.error
        return
    assert isinstance(outcome.error, expected), repr(outcome.error)
    assert outcome.error.request_id == "08B9"


# --- a new envelope is data -------------------------------------------------------------------

STRIPE = "https://api.stripe.com/v1/payment_intents"


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "sub_code"),
    [
        pytest.param(
            402,
            '{"error":{"code":"card_declined","decline_code":"insufficient_funds",'
            '"message":"Your card has insufficient funds.","type":"card_error"}}',
            payerr.BusinessError,
            "card_declined",
            "insufficient_funds",
            id="card-declined",  # docs.stripe.com/declines/codes
        ),
        pytest.param(
            404,
            '{"error":{"code":"resource_missing","message":"No such payment_intent: \'pi_1\'",'
            '"param":"intent","type":"invalid_request_error"}}',
            payerr.NotFoundError,
            "resource_missing",
            None,
            id="resource-missing",  # docs.stripe.com/error-codes#resource-missing
        ),
        pytest.param(
            429,
            '{"error":{"message":"Too many requests","type":"rate_limit_error"}}',
            payerr.RateLimitError,
            "rate_limit_error",
            None,
            id="rate-limit",  # docs.stripe.com/rate-limits
        ),
        pytest.param(
            500,
            '{"error":{"message":"An unknown error occurred","type":"api_error"}}',
            payerr.ServiceUnavailableError,
            "api_error",
            None,
            id="api-error",
        ),
        pytest.param(
            401,
            '{"error":{"message":"Invalid API Key provided: sk_test_****","type":'
            '"invalid_request_error"}}',
            payerr.InvalidRequestError,
            "invalid_request_error",
            None,
            id="bad-key",
        ),
    ],
)
def test_fifth_provider_from_a_toml_file_alone(
    fresh_catalog: object,
    status: int,
    body: str,
    cls: type[payerr.PayError],
    code: str,
    sub_code: str | None,
) -> None:
    """examples/adapters/stripe.toml reads Stripe's documented errors with no Python."""
    payerr.load_adapter(EXAMPLES / "adapters" / "stripe.toml")
    response = raw(status, body, STRIPE, **{"Request-Id": "req_123"})
    error = payerr.inspect(response).error
    assert isinstance(error, cls), repr(error)
    assert type(error).__name__.startswith("Stripe")
    assert error.provider == "stripe"
    assert error.code == code
    assert error.sub_code == sub_code
    assert error.request_id == "req_123"
    assert payerr.inspect(raw(200, '{"id":"pi_1","object":"payment_intent"}', STRIPE)).ok
