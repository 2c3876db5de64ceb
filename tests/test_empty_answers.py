"""An empty 2xx is a file only where the provider's envelope would read an answer with
nothing in it as a success. UnionPay's gateway always names a ``respCode``
(``code_required``): zero bytes under ``text/plain`` is a cut answer, never a download, and
on a consumption it must be queried, not taken as paid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import payerr
from payerr import RetryHint as H
from payerr.sandbox import Sandbox
from support.loopback import Script, Step, serve
from test_unionpay import CLIENTS, send

CONSUME = {
    "txnType": "01",
    "txnSubType": "01",
    "bizType": "000201",
    "merId": "777290058110048",
    "orderId": "E-1",
    "txnTime": "20240102103015",
    "txnAmt": "990",
}
EMPTY_TEXT = Step(200, b"", {"Content-Type": "text/plain;charset=UTF-8"})


@pytest.mark.parametrize("kind", CLIENTS)
def test_an_empty_answer_to_a_consumption_is_queried_first(kind: str) -> None:
    """Zero bytes under text/plain on a consumption: malformed, sent once, QUERY_FIRST."""
    script = Script(EMPTY_TEXT)
    with serve(script) as url, pytest.raises(payerr.MalformedResponseError) as info:
        send(kind, url + "/gateway/api/backTransReq.do", CONSUME)
    assert len(script.seen) == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with Sandbox() as running:
        yield running


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("step", ["empty", "empty!"])
def test_the_sandbox_empty_step_on_a_consumption_is_no_success(
    kind: str, step: str, sandbox: Any
) -> None:
    """The sandbox's ``empty`` step after a consumption ran: queried first, never paid."""
    order = {**CONSUME, "orderId": f"E-2-{kind}-{step}"}
    sandbox.script("unionpay.consume", [step])
    with pytest.raises(payerr.MalformedResponseError) as info:
        send(kind, sandbox.url + "/gateway/api/backTransReq.do", order)
    assert sandbox.ledger.requests("orderId", order["orderId"]) == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://gateway.95516.com/gateway/api/backTransReq.do", False),  # code_required
        ("https://openapi.alipay.com/gateway.do", False),  # every answer has its node
        ("https://api.weixin.qq.com/cgi-bin/media/get", True),  # no code needed: a file
        ("https://example.com/report.txt", True),  # no adapter: the headers decide
    ],
)
def test_an_empty_text_answer_is_read_by_the_envelope_of_its_path(url: str, ok: bool) -> None:
    """The adapter's envelope, not the content type, decides what zero bytes mean."""
    raw = payerr.RawResponse(200, {"content-type": "text/plain;charset=UTF-8"}, b"", url)
    outcome = payerr.inspect(raw)
    assert outcome.ok is ok
    if not ok:
        assert isinstance(outcome.error, payerr.MalformedResponseError)
