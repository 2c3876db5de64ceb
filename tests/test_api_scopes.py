"""A per-API quota holds that API only, also where every call shares one URL.

Alipay's gateway takes every method at ``/gateway.do`` and UnionPay's takes
consumption, refund and void at ``backTransReq.do``: the API a quota counts is
the call's name (``method``, ``txnType``), not the path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
import requests

import payerr
from payerr.testing import instant_sleeps
from support.loopback import Script, Step, serve

LIMITED = Step(
    200,
    json.dumps(
        {
            "alipay_trade_query_response": {
                "code": "40005",
                "msg": "Call Limited",
                "sub_code": "isv.method-call-limited",
                "sub_msg": "API调用次数超限，包含调用频率超限",
            },
            "sign": "c2lnbg==",
        },
        ensure_ascii=False,
    ).encode(),
    {"Retry-After": "30"},
)
REFUNDED = Step(
    200,
    b'{"alipay_trade_refund_response":{"code":"10000","msg":"Success"},"sign":"c2lnbg=="}',
)
POLICY = payerr.RetryPolicy(max_retry_after=5)
"""A held request fails at once (the 30 s cooldown is longer than 5 s)."""


@pytest.fixture(autouse=True)
def instant() -> Iterator[None]:
    with instant_sleeps():
        yield


def _httpx(url: str) -> tuple[Callable[[dict[str, str]], object], Callable[[], None]]:
    client = httpx.Client(transport=payerr.Transport(provider="alipay", policy=POLICY))
    return (lambda form: client.post(url + "/gateway.do", data=form)), client.close


def _requests(url: str) -> tuple[Callable[[dict[str, str]], object], Callable[[], None]]:
    session = requests.Session()
    session.mount("http://", payerr.RequestsAdapter(provider="alipay", policy=POLICY))
    return (lambda form: session.post(url + "/gateway.do", data=form)), session.close


@pytest.mark.parametrize("client", [_httpx, _requests], ids=["httpx", "requests"])
def test_an_alipay_method_limit_holds_that_method_only(client: Callable[..., tuple]) -> None:
    """isv.method-call-limited on alipay.trade.query: the query is held, a refund on the
    same host and path is sent."""
    script = Script(LIMITED, REFUNDED)
    with serve(script) as url:
        post, close = client(url)
        try:
            for _ in range(2):  # the second query is held back, never sent
                with pytest.raises(payerr.RateLimitError) as info:
                    post({"method": "alipay.trade.query", "biz_content": "{}"})
            post({"method": "alipay.trade.refund", "biz_content": "{}"})
        finally:
            close()
    sent = [seen.body for seen in script.seen]
    assert len(sent) == 2 and b"alipay.trade.refund" in sent[1]
    assert info.value.sub_code == "isv.method-call-limited"
    assert "not sent" in info.value.message


def test_the_cooldown_is_named_by_the_method() -> None:
    """The cooldown a method limit starts is listed under the method's name."""
    with serve(Script(LIMITED)) as url:
        transport = payerr.Transport(provider="alipay", policy=POLICY)
        with httpx.Client(transport=transport) as client, pytest.raises(payerr.RateLimitError):
            client.post(url + "/gateway.do", params={"method": "alipay.trade.query"})
        (cooldown,) = transport.cooldowns()
    assert cooldown.scope.endswith("@alipay.trade.query")
