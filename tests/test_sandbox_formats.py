"""The sandbox spoils an answer in the provider's own format (its adapter's ``[sandbox]
format``): a form answer stays a form, an XML answer stays XML, under every fault step."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import payerr
from payerr._reading.formats import parse_form, parse_xml
from payerr.sandbox import Sandbox
from payerr.sandbox._server import _mangle
from payerr.sandbox._wire import Reply

QUERY = {
    "txnType": "00",
    "txnSubType": "00",
    "bizType": "000201",
    "merId": "777290058110048",
    "orderId": "BIG-1",
    "txnTime": "20240102103015",
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.mark.parametrize("size", [4096, 200_000])
def test_big_grows_a_unionpay_form_answer_and_keeps_it_a_form(sandbox: Sandbox, size: int) -> None:
    """``big=N`` on a UnionPay route: an answer of at least N bytes, still a readable form."""
    sandbox.script("unionpay.query", [f"big={size}"])
    response = httpx.post(sandbox.url + "/gateway/api/queryTrans.do", data=QUERY)
    assert response.status_code == 200 and len(response.content) >= size
    fields, problem = parse_form(response.content)
    assert problem is None and fields is not None
    assert fields["respCode"] == "00" and fields["orderId"] == "BIG-1"
    assert response.headers["content-type"].startswith("text/plain")
    assert payerr.inspect(response, provider="unionpay").ok


def test_gbk_keeps_a_form_answer_labelled_as_a_form(sandbox: Sandbox) -> None:
    """``gbk`` on a UnionPay route: GBK bytes of the form, under the form's UTF-8 label."""
    sandbox.script("unionpay.query", ["gbk"])
    response = httpx.post(sandbox.url + "/gateway/api/queryTrans.do", data=QUERY)
    assert response.content.decode("gbk").startswith("accessType=")
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"


@pytest.mark.parametrize(
    ("body_format", "body", "read"),
    [
        (
            "xml",
            b"<xml><return_code><![CDATA[SUCCESS]]></return_code>"
            b"<result_code><![CDATA[SUCCESS]]></result_code></xml>",
            lambda body: parse_xml(body)[0],
        ),
        ("form", "respCode=00&respMsg=成功[0000000]".encode(), lambda body: parse_form(body)[0]),
        ("json", b'{"errcode":0,"errmsg":"ok"}', None),
    ],
)
def test_big_pads_each_format_in_that_format(body_format: str, body: bytes, read) -> None:
    """Real answers of each format grow to the size asked and still parse as that format."""
    grown = _mangle(Reply(200, body), "big=10000", body_format)
    assert len(grown.body) >= 10000
    if read is None:
        import json

        assert json.loads(grown.body)["errcode"] == 0
    else:
        fields = read(grown.body)
        assert fields is not None and fields["padding"].startswith("x")
        assert set(read(body)) <= set(fields)
