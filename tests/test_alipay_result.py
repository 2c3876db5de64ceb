"""``payerr.alipay_result``: every form an Alipay answer reaches an app in.

The node python-alipay-sdk returns, the whole gateway envelope (dict, text,
bytes, GBK included), an ``error_response``, the official SDK's ``execute()``
text and parsed ``*Response`` objects, an HTML error page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payerr

NOT_EXIST = (
    '{"alipay_trade_query_response":{"msg":"Business Failed","code":"40004",'
    '"out_trade_no":"70501111111S001111120","sub_msg":"交易不存在","sub_code":"ACQ.TRADE_NOT_EXIST",'
    '"receipt_amount":"0.00","point_amount":"0.00","buyer_pay_amount":"0.00",'
    '"invoice_amount":"0.00"},"sign":"o6SzVq8LCPp5"}'
)
PAY_BUSY = (
    '{"alipay_trade_pay_response":{"code":"20000","msg":"Service Currently Unavailable",'
    '"sub_code":"aop.unknow-error","sub_msg":"系统繁忙"},"sign":"x"}'
)
QUERY_BUSY = PAY_BUSY.replace("alipay_trade_pay_response", "alipay_trade_query_response")
QUERY_OK = (
    '{"alipay_trade_query_response":{"code":"10000","msg":"Success",'
    '"trade_status":"TRADE_SUCCESS","out_trade_no":"T1"},"sign":"x"}'
)
ERROR_RESPONSE = (
    '{"error_response":{"msg":"Invalid Arguments","code":"40002",'
    '"sub_msg":"授权码code无效","sub_code":"isv.code-invalid"},'
    '"alipay_cert_sn":"a5b59edf65dcda9ca26e071ab6f5a0a7","sign":""}'
)
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class OfficialResponse:
    """The shape of alipay-sdk-python's ``*Response`` objects (``AlipayResponse``)."""

    def __init__(self) -> None:
        self.code = self.msg = self.sub_code = self.sub_msg = self.body = None

    def is_success(self) -> bool:
        return not self.sub_code  # the SDK's own rule: True for a 20000 without sub_code

    def parse_response_content(self, content: str) -> dict[str, Any]:
        response: dict[str, Any] = json.loads(content)
        self.code, self.msg = response.get("code"), response.get("msg")
        self.sub_code, self.sub_msg = response.get("sub_code"), response.get("sub_msg")
        self.body = content
        return response


def node_text(envelope: str) -> str:
    """What the official SDK's ``execute()`` returns: the node's text alone."""
    doc = json.loads(envelope)
    key = next(k for k in doc if k.endswith("_response"))
    return json.dumps(doc[key], ensure_ascii=False)


def official(envelope: str) -> OfficialResponse:
    response = OfficialResponse()
    response.parse_response_content(node_text(envelope))
    return response


SUCCESS_NODE = json.loads(QUERY_OK)["alipay_trade_query_response"]

FAILING = [
    ("node dict", json.loads(NOT_EXIST)["alipay_trade_query_response"], payerr.NotFoundError),
    ("envelope dict", json.loads(NOT_EXIST), payerr.NotFoundError),
    ("envelope text", NOT_EXIST, payerr.NotFoundError),
    ("envelope bytes GBK", NOT_EXIST.encode("gbk"), payerr.NotFoundError),
    ("envelope text 20000", QUERY_BUSY, payerr.ServiceUnavailableError),
    ("error_response text", ERROR_RESPONSE, payerr.InvalidRequestError),
    ("error_response dict", json.loads(ERROR_RESPONSE), payerr.InvalidRequestError),
    ("execute() text", node_text(NOT_EXIST), payerr.NotFoundError),
    ("official object", official(NOT_EXIST), payerr.NotFoundError),
    ("html 502", NGINX_502, payerr.MalformedResponseError),
]


@pytest.mark.parametrize(
    ("result", "expected"), [case[1:] for case in FAILING], ids=[case[0] for case in FAILING]
)
def test_a_failing_answer_in_any_form_is_its_typed_error(
    result: Any, expected: type[payerr.PayError]
) -> None:
    with pytest.raises(expected):
        payerr.alipay_result(result, method="alipay.trade.query")


@pytest.mark.parametrize(
    "result",
    [
        SUCCESS_NODE,
        json.loads(QUERY_OK),
        QUERY_OK,
        QUERY_OK.encode(),
        node_text(QUERY_OK),
        official(QUERY_OK),
    ],
    ids=["node dict", "envelope dict", "envelope text", "envelope bytes", "execute()", "object"],
)
def test_a_success_in_any_form_is_its_node(result: Any) -> None:
    assert payerr.alipay_result(result, method="alipay.trade.query") == SUCCESS_NODE


def test_the_official_objects_20000_is_not_a_success() -> None:
    response = official(PAY_BUSY.replace(',"sub_code":"aop.unknow-error"', ""))
    assert response.is_success()  # what the SDK says
    with pytest.raises(payerr.ServiceUnavailableError) as caught:
        payerr.alipay_result(response, method="alipay.trade.pay")
    assert caught.value.retry is payerr.RetryHint.QUERY_FIRST


@pytest.mark.parametrize(
    ("method", "hint"),
    [
        ("alipay.trade.pay", payerr.RetryHint.QUERY_FIRST),
        ("alipay.trade.query", payerr.RetryHint.BACKOFF),
    ],
)
def test_the_hint_is_the_one_for_the_api(method: str, hint: payerr.RetryHint) -> None:
    with pytest.raises(payerr.AlipayError) as caught:
        payerr.alipay_result(json.loads(PAY_BUSY), method=method)
    assert caught.value.retry is hint


def test_a_refunds_request_number_is_seen() -> None:
    busy = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.SYSTEM_ERROR"}
    with pytest.raises(payerr.AlipayError) as caught:
        payerr.alipay_result(
            busy, method="alipay.trade.refund", biz_content={"out_request_no": "F1"}
        )
    assert caught.value.retry is payerr.RetryHint.BACKOFF


def test_html_is_kept_as_it_came() -> None:
    with pytest.raises(payerr.MalformedResponseError) as caught:
        payerr.alipay_result(NGINX_502.decode(), method="alipay.trade.query")
    assert caught.value.raw == NGINX_502


@pytest.mark.parametrize(
    ("result", "says"),
    [(42, "not int"), (OfficialResponse(), "parse_response_content")],
    ids=["int", "unparsed object"],
)
def test_what_it_cannot_read_is_named(result: Any, says: str) -> None:
    with pytest.raises(TypeError, match=says):
        payerr.alipay_result(result, method="alipay.trade.query")


OAUTH_TOKEN = (  # alipay.system.oauth.token answers without a code when it succeeds
    '{"alipay_system_oauth_token_response":{"user_id":"2088632719099513",'
    '"access_token":"authusrB48d7647e9a00ce000888160a5ca82ec3","expires_in":"1296000"},'
    '"sign":"x"}'
)
UNREADABLE = [
    ("empty dict", {}),
    ("sign only", {"sign": "abc"}),
    ("code-less dict", {"trade_no": "2013"}),
    ("code-less text", '{"trade_no":"2013"}'),
    ("another api's node", {"alipay_trade_query_response": {"code": "10000"}}),
    ("another api's node, text", QUERY_OK),
    (
        "two nodes",
        {
            "alipay_trade_pay_response": {"code": "10000"},
            "alipay_trade_refund_response": {"code": "40004", "sub_code": "ACQ.SYSTEM_ERROR"},
        },
    ),
]


@pytest.mark.parametrize(
    "result", [case[1] for case in UNREADABLE], ids=[case[0] for case in UNREADABLE]
)
def test_what_is_not_this_calls_answer_cannot_be_read(result: Any) -> None:
    """No code and no node of the API called: nothing says it succeeded."""
    with pytest.raises(payerr.MalformedResponseError) as caught:
        payerr.alipay_result(result, method="alipay.trade.pay")
    kept = result.encode() if isinstance(result, str) else json.dumps(result).encode()
    assert caught.value.raw == kept


@pytest.mark.parametrize(
    "result",
    [OAUTH_TOKEN, json.loads(OAUTH_TOKEN)],
    ids=["envelope text", "envelope dict"],
)
def test_a_code_less_success_of_the_api_called_is_its_node(result: Any) -> None:
    """As ``payerr.inspect`` reads the same answer: the gateway's node needs no code."""
    from payerr._reading.raw import RawResponse

    node = json.loads(OAUTH_TOKEN)["alipay_system_oauth_token_response"]
    sent = RawResponse(200, {}, OAUTH_TOKEN.encode(), "https://openapi.alipay.com/gateway.do")
    assert payerr.inspect(sent, "alipay").ok
    assert payerr.alipay_result(result, method="alipay.system.oauth.token") == node


FAILING_CODES = ["20000", "20001", "40001", "40002", "40003", "40004", "40006", "99999"]


@settings(max_examples=40)  # few inputs to combine: 40 cover them without slowing the fast tier
@given(
    code=st.sampled_from(FAILING_CODES),
    sub_code=st.sampled_from([None, "ACQ.TRADE_HAS_SUCCESS", "isp.unknow-error", "x.new"]),
    form=st.sampled_from(["node", "envelope", "text", "bytes", "error_response", "object"]),
    extra=st.dictionaries(st.sampled_from(["trade_status", "out_trade_no", "msg"]), st.text()),
)
def test_a_body_holding_a_failing_code_is_never_a_success(
    code: str, sub_code: str | None, form: str, extra: dict[str, str]
) -> None:
    node: dict[str, Any] = {**extra, "code": code}
    if sub_code is not None:
        node["sub_code"] = sub_code
    key = "error_response" if form == "error_response" else "alipay_trade_pay_response"
    envelope = {key: node, "sign": "x"}
    result: Any = {
        "node": node,
        "envelope": envelope,
        "text": json.dumps(envelope, ensure_ascii=False),
        "bytes": json.dumps(envelope).encode(),
        "error_response": envelope,
        "object": official(json.dumps(envelope)),
    }[form]
    with pytest.raises(payerr.PayError):
        payerr.alipay_result(result, method="alipay.trade.pay")
