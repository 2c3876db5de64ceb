"""Any bytes in: no crash, nothing lost."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import payerr
from payerr._errors import RAW_CAP

URLS = {
    "alipay": "https://openapi.alipay.com/gateway.do",
    "wechat": "https://api.weixin.qq.com/cgi-bin/x",
    "huawei": "https://orders-drcn.iap.cloud.huawei.com.cn/applications/purchases/tokens/verify",
    "cmi": "https://gdschannel.cmlink.com/aep/APP_createOrder_SBO/v1",
}
header_names = st.sampled_from(
    [
        "content-type",
        "retry-after",
        "retry-after-ms",
        "trace_id",
        "alipay-trace-id",
        "request-id",
        "x-other",
    ]
)
headers = st.dictionaries(header_names, st.text(max_size=40), max_size=4)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
envelope_keys = st.sampled_from(
    [
        "code",
        "msg",
        "sub_code",
        "sub_msg",
        "errcode",
        "errmsg",
        "base_resp",
        "responseCode",
        "responseMessage",
        "description",
        "message",
        "error",
        "sub_error",
        "data",
        "alipay_trade_pay_response",
        "error_response",
    ]
)
near_valid = st.recursive(
    st.dictionaries(envelope_keys, json_scalars, max_size=5),
    lambda inner: st.dictionaries(envelope_keys, inner | json_scalars, max_size=5),
    max_leaves=10,
)


def _bodies() -> st.SearchStrategy[bytes]:
    as_json = (json_values | near_valid).map(lambda v: json.dumps(v).encode())
    gbk = near_valid.map(lambda v: json.dumps(v, ensure_ascii=False).encode("gb18030"))
    return st.binary(max_size=300) | as_json | gbk | as_json.map(lambda b: b[: len(b) // 2])


def _check(provider: str, status: int, hdrs: dict[str, str], body: bytes, method: str) -> None:
    raw = payerr.RawResponse(status, hdrs, body, URLS[provider], method)
    outcome = payerr.inspect(raw, provider=provider)
    if outcome.ok:
        assert outcome.error is None
        assert isinstance(outcome.data, dict)
        return
    error = outcome.error
    assert isinstance(error, payerr.PayError)
    assert error.provider == provider
    assert error.raw == body[:RAW_CAP]
    assert "\n" not in str(error)
    assert type(error).__name__ in repr(error)
    with pytest.raises(payerr.PayError) as raised:
        payerr.raise_for_response(raw, provider=provider)
    assert type(raised.value) is type(error)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    provider=st.sampled_from(sorted(URLS)),
    status=st.integers(100, 599),
    hdrs=headers,
    body=_bodies(),
    method=st.sampled_from(["GET", "POST"]),
)
def test_any_response_is_success_or_a_pay_error(
    provider: str, status: int, hdrs: dict[str, str], body: bytes, method: str
) -> None:
    """inspect never raises; raise_for_response raises only PayError, raw kept."""
    _check(provider, status, hdrs, body, method)
