"""Any bytes in: no crash, nothing lost.

Per-provider strategies build near-valid envelopes (wrong types, missing keys,
huge numbers, odd encodings, extra nesting) beside plain random bytes. The
default profile runs 100 examples per test; `--hypothesis-profile=long` runs
20,000 per test (CI does).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import payerr
from payerr._errors import RAW_CAP

URLS = {
    "alipay": "https://openapi.alipay.com/gateway.do",
    "alipay-v3": "https://openapi.alipay.com/v3/alipay/trade/query",
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
huge = st.integers(min_value=10**18, max_value=10**40) | st.integers(max_value=-(10**18))
scalars = st.none() | st.booleans() | st.integers() | huge | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
messages = (
    st.text(max_size=30)
    | st.builds(
        lambda text, rid: f"{text} rid: {rid}",
        st.text(max_size=20),
        st.from_regex(r"[0-9a-f-]{1,30}", fullmatch=True),
    )
    | st.builds(
        lambda text, hint: f"{text} hint: [{hint}]", st.text(max_size=20), st.text(max_size=10)
    )
)
code_like = (
    st.sampled_from(
        [
            "10000",
            "10003",
            "20000",
            "40004",
            "0",
            "0000000",
            "",
            " 6 ",
            "-1",
            "40001",
            "45011",
            "1001880009",
            "9000004",
            "ACQ.SYSTEM_ERROR",
        ]
    )
    | st.integers(-5, 10**10).map(str)
    | st.integers(-5, 10**10)
    | scalars
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Sometimes the key is missing altogether."""
    return st.just(KeyError) | strategy


def envelope(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: maybe(v) for k, v in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not KeyError}
    )


def nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Extra nesting: the envelope inside a list, inside data, or as itself."""
    return inner | inner.map(lambda v: [v]) | inner.map(lambda v: {"data": v})


ALIPAY_NODE = envelope(
    code=code_like, msg=messages, sub_code=code_like, sub_msg=messages, out_trade_no=scalars
)
NEAR_VALID = {
    "alipay": nested(
        st.builds(
            lambda key, node, sign: {key: node, "sign": sign},
            st.sampled_from(
                [
                    "alipay_trade_pay_response",
                    "alipay_trade_query_response",
                    "error_response",
                    "odd_response",
                    "x",
                ]
            ),
            ALIPAY_NODE | json_values,
            scalars,
        )
    ),
    "alipay-v3": nested(envelope(code=code_like, message=messages, links=json_values)),
    "wechat": nested(
        envelope(errcode=code_like, errmsg=messages, access_token=scalars)
        | envelope(base_resp=envelope(errcode=code_like, ret=code_like, errmsg=messages))
        | envelope(code=code_like, message=messages, detail=json_values)
    ),
    "huawei": nested(
        envelope(
            responseCode=code_like,
            responseMessage=messages,
            purchaseTokenData=scalars,
            dataSignature=scalars,
        )
        | envelope(error=code_like, sub_error=code_like, error_description=messages)
    ),
    "cmi": nested(
        envelope(
            code=code_like,
            description=messages,
            msg=messages,
            data=json_values,
            accessToken=scalars,
        )
    ),
}
ENCODINGS = ["utf-8", "gbk", "gb18030", "utf-16", "utf-8-sig"]


def encoded(value: Any, encoding: str) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode(encoding, "replace")


def bodies(provider: str) -> st.SearchStrategy[bytes]:
    near = NEAR_VALID[provider]
    as_json = st.builds(encoded, near | json_values, st.sampled_from(ENCODINGS))
    cut = st.builds(lambda b, frac: b[: int(len(b) * frac)], as_json, st.floats(0, 1))
    return st.binary(max_size=300) | as_json | cut


def check(provider: str, status: int, hdrs: dict[str, str], body: bytes, method: str) -> None:
    """The invariant: success, or a PayError of this provider keeping the raw bytes."""
    name = provider.split("-")[0]
    raw = payerr.RawResponse(status, hdrs, body, URLS[provider], method)
    outcome = payerr.inspect(raw, provider=name)
    if outcome.ok:
        assert outcome.error is None
        assert isinstance(outcome.data, dict)
        return
    error = outcome.error
    assert isinstance(error, payerr.PayError)
    assert error.provider == name
    assert error.raw == body[:RAW_CAP]
    assert "\n" not in str(error)
    assert type(error).__name__ in repr(error)
    with pytest.raises(payerr.PayError) as raised:
        payerr.raise_for_response(raw, provider=name)
    assert type(raised.value) is type(error)


@pytest.mark.parametrize("provider", sorted(URLS))
def test_any_response_is_success_or_a_pay_error(provider: str) -> None:
    """inspect never raises; raise_for_response raises only PayError, raw kept."""

    @given(
        status=st.integers(100, 599),
        hdrs=headers,
        body=bodies(provider),
        method=st.sampled_from(["GET", "POST"]),
    )
    def run(status: int, hdrs: dict[str, str], body: bytes, method: str) -> None:
        check(provider, status, hdrs, body, method)

    run()


_SUFFIX_REFERENCE = re.compile(r"\s*(?:rid:\s*(?P<rid>[\w.-]+)|hint:\s*\[(?P<hint>[^\]]*)\])\s*$")
_MESSAGE_PIECES = st.sampled_from(
    ["rid:", "hint:", "forbid:", " ", "\t", "\n", "\u3000", ",", ";", "[", "]", "a", "-", ".", "x1"]
)


@given(st.lists(_MESSAGE_PIECES, max_size=12).map("".join) | st.text(max_size=40))
def test_wechat_suffix_split_matches_the_plain_pattern(message: str) -> None:
    """The keyword-first pattern cuts exactly where a plain whitespace-then-keyword search does."""
    from payerr._catalog.registry import catalog

    server = catalog().spec("wechat").envelope_for("/")
    assert server is not None
    split_wechat_message = server.split_message

    found = _SUFFIX_REFERENCE.search(message)
    expected = (
        (message, None)
        if found is None
        else (message[: found.start()].rstrip(" ,;"), found.group("rid") or found.group("hint"))
    )
    assert split_wechat_message(message) == expected


# --- secrets in every spelling ------------------------------------------------------------

_TOKEN_TAIL = st.text(alphabet='+/=_-.~% &"\\:;,?#abcXYZ019中', min_size=4, max_size=24)
_PREFIX = "SeCrEt"  # every spelling of the token keeps it: one search finds any leak


def _spelled(token: str, how: int) -> str:
    from payerr._reading.redact import spellings

    forms = spellings(token)
    return forms[how % len(forms)]


@given(_TOKEN_TAIL, st.integers(min_value=0, max_value=50), st.booleans())
def test_a_token_never_surfaces_in_any_spelling(tail: str, how: int, reset: bool) -> None:
    """A WeChat token the provider echoes back (URL-encoded, JSON-escaped, base64url...) or
    a client exception quotes is masked in str, repr, url, raw, body, pickle, logs and the
    traceback with its cause chain."""
    import logging
    import pickle
    import traceback
    from urllib.parse import quote

    import httpx

    token = _PREFIX + tail
    echoed = _spelled(token, how)

    def handler(request: httpx.Request) -> httpx.Response:
        if reset:
            raise httpx.ReadError(f"connection reset while reading {request.url}")
        body = '{"errcode":40001,"errmsg":"invalid credential, access_token is ' + echoed + '"}'
        return httpx.Response(200, content=body.encode())

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(logging.DEBUG)
    logger = logging.getLogger("payerr")
    logger.addHandler(keep)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    url = f"https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token={quote(token)}"
    policy = payerr.RetryPolicy(max_attempts=2, backoff_initial=0)
    try:
        transport = payerr.Transport(httpx.MockTransport(handler), policy=policy)
        with httpx.Client(transport=transport) as client:
            try:
                client.post(url, json={"touser": "o1"})
            except payerr.PayError as caught:
                error = caught
            else:
                raise AssertionError("no error raised")
    finally:
        logger.removeHandler(keep)
        logger.setLevel(previous)
    shown = [
        str(error),
        repr(error),
        error.url or "",
        error.message,
        error.raw.decode("utf-8", "replace"),
        json.dumps(error.body, ensure_ascii=False),
        pickle.dumps(error).decode("latin-1"),
        "".join(traceback.format_exception(error)),
        *(record.getMessage() + json.dumps(record.__dict__, default=str) for record in records),
    ]
    for text in shown:
        assert _PREFIX not in text, text


_DIGITS_AND_MORE = st.lists(
    st.sampled_from([b"0", b"7", b"9", b",", b" ", b'"a"', b"-", b"1234567890"]), max_size=60
).map(b"".join)


@given(_DIGITS_AND_MORE, st.integers(min_value=0, max_value=30))
def test_the_look_for_wide_integers_never_misses_one(noise: bytes, at: int) -> None:
    """A body holding nineteen digits in a row, anywhere, with orjson's float for it in
    the parse: read again exactly; without such a run, or without the float, it is not."""
    from payerr._reading.decode import wide_integer

    digits = b"18446744073709551616"
    body = noise[:at] + b'{"n":' + digits + b"}" + noise[at:]
    assert wide_integer(body, [float(int(digits))])
    assert wide_integer(body, [0]) is False  # and the parse itself still decides
    runs = re.findall(rb"[0-9]{19}", noise)
    assert wide_integer(noise, [1e19]) is bool(runs)
