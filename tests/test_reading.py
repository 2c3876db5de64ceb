"""Reading bodies that are not what they should be: never a crash, never a lost byte."""

from __future__ import annotations

import json
from datetime import UTC

import httpx
import pytest
import requests

import payerr
from payerr import RetryHint as H
from payerr._reading.decode import parse_json

ALIPAY = "https://openapi.alipay.com/gateway.do"
WECHAT = "https://api.weixin.qq.com/cgi-bin/user/info"


def raw(status: int, body: bytes, url: str = ALIPAY, method: str = "POST", **headers: str):
    return payerr.RawResponse(status, headers, body, url, method)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b'{"alipay_trade_pay_response":{"code":"10', "not JSON"),
        (b"<html><body>maintenance</body></html>", "not JSON"),
        (b"[1, 2, 3]", "JSON list"),
        (b'"just a string"', "JSON str"),
        (b'{"unrelated": true}', "no Alipay response envelope"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"\xff\xfe\x00garbage", ""),
    ],
)
def test_unreadable_success_is_malformed(body: bytes, why: str) -> None:
    """A 2xx whose body cannot be read is MalformedResponseError with the bytes kept."""
    error = payerr.inspect(raw(200, body)).error
    assert isinstance(error, payerr.MalformedResponseError)
    assert isinstance(error, payerr.AlipayError)
    assert error.raw == body[: len(error.raw)]
    assert why in error.message


def test_malformed_pay_response_says_query_first() -> None:
    """An unreadable answer to a payment means the outcome is unknown."""
    error = payerr.inspect(raw(200, b"<html>")).error
    assert error is not None
    assert error.retry is H.QUERY_FIRST


def test_malformed_read_may_be_retried() -> None:
    """An unreadable answer to a read may simply be asked again."""
    error = payerr.inspect(raw(200, b"<html>", WECHAT, "GET")).error
    assert error is not None
    assert error.retry is H.BACKOFF


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, payerr.AuthError),
        (403, payerr.ForbiddenError),
        (404, payerr.NotFoundError),
        (429, payerr.RateLimitError),
        (400, payerr.InvalidRequestError),
        (409, payerr.ConflictError),
        (500, payerr.ServiceUnavailableError),
        (502, payerr.ServiceUnavailableError),
        (504, payerr.ServiceUnavailableError),
    ],
)
def test_bodiless_status_maps_by_status(status: int, cls: type[Exception]) -> None:
    """Without an envelope the HTTP status decides the category."""
    error = payerr.inspect(raw(status, b"", WECHAT)).error
    assert isinstance(error, cls)
    assert isinstance(error, payerr.WeChatError)
    assert error.http_status == status


def test_204_is_success() -> None:
    """No content is a valid success answer."""
    outcome = payerr.inspect(raw(204, b"", WECHAT))
    assert outcome.ok
    assert outcome.data == {}


def test_retry_after_seconds_is_read() -> None:
    """A Retry-After in seconds lands on the error."""
    error = payerr.inspect(raw(429, b"", WECHAT, **{"Retry-After": "7"})).error
    assert error is not None
    assert error.retry_after == 7.0


def test_retry_after_http_date_is_read() -> None:
    """A Retry-After HTTP-date becomes seconds from now."""
    from datetime import datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    error = payerr.inspect(raw(503, b"", WECHAT, **{"Retry-After": when})).error
    assert error is not None
    assert error.retry_after is not None
    assert 25 <= error.retry_after <= 31


@pytest.mark.parametrize("value", ["-5", "inf", "nan", "soon", ""])
def test_bad_retry_after_is_ignored(value: str) -> None:
    """Negative, infinite or unparsable Retry-After values count as absent."""
    error = payerr.inspect(raw(429, b"", WECHAT, **{"Retry-After": value})).error
    assert error is not None
    assert error.retry_after is None


def test_wechat_minute_quota_sets_retry_after_to_next_minute() -> None:
    """45011 says 'retry next minute': retry_after counts down to it."""
    body = b'{"errcode":45011,"errmsg":"api minute-quota reach limit"}'
    error = payerr.inspect(raw(200, body, WECHAT)).error
    assert error is not None
    assert error.retry_after is not None
    assert 0 < error.retry_after <= 60


def test_wechat_daily_quota_waits_for_beijing_midnight() -> None:
    """45009 resets at midnight China time: retry_after is under a day."""
    body = b'{"errcode":45009,"errmsg":"reach max api daily quota limit"}'
    error = payerr.inspect(raw(200, body, WECHAT)).error
    assert error is not None
    assert error.retry_after is not None
    assert 0 < error.retry_after <= 86400


def test_unclaimed_host_reads_by_status_only() -> None:
    """A host no adapter claims is read by its status and has no provider."""
    outcome = payerr.inspect(raw(503, b"oops", "https://example.org/api"))
    assert isinstance(outcome.error, payerr.ServiceUnavailableError)
    assert outcome.error.provider is None
    assert payerr.inspect(raw(200, b"not json", "https://example.org/api")).ok


def test_unknown_provider_name_is_a_usage_error() -> None:
    """Naming a provider that has no adapter is a programming error, said plainly."""
    with pytest.raises(payerr.UnknownProviderError, match="nope"):
        payerr.inspect(raw(200, b"{}"), provider="nope")


def test_huge_body_keeps_a_capped_raw() -> None:
    """A large unreadable body is kept only up to the cap."""
    body = b"<html>" + b"x" * (5 * 1024 * 1024)
    error = payerr.inspect(raw(200, body)).error
    assert isinstance(error, payerr.MalformedResponseError)
    assert error.raw == body[: len(error.raw)]
    assert len(error.raw) == 64 * 1024


def test_big_number_strings_are_codes() -> None:
    """Codes sent as numbers with a fraction of zero are the same code."""
    body = b'{"errcode":40001.0,"errmsg":"invalid credential"}'
    error = payerr.inspect(raw(200, body, WECHAT)).error
    assert isinstance(error, payerr.AuthError)
    assert error.code == "40001"


def test_httpx_response_is_read() -> None:
    """An httpx.Response with its request is read like any other."""
    request = httpx.Request("POST", "https://api.weixin.qq.com/cgi-bin/menu/create")
    response = httpx.Response(
        200, json={"errcode": 40014, "errmsg": "invalid access_token"}, request=request
    )
    error = payerr.inspect(response).error
    assert isinstance(error, payerr.AuthError)
    assert error.url == "https://api.weixin.qq.com/cgi-bin/menu/create"


def test_httpx_response_without_request_needs_a_provider() -> None:
    """A bare httpx.Response has no URL: naming the provider still reads it."""
    response = httpx.Response(200, json={"responseCode": "8", "responseMessage": "x"})
    assert isinstance(payerr.inspect(response, provider="huawei").error, payerr.NotFoundError)


def test_requests_response_is_read() -> None:
    """A requests.Response is read like any other."""
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps({"code": "9000004", "description": "QPS"}).encode()
    response.url = "https://gdschannel.cmlink.com:39043/aep/APP_createOrder_SBO/v1"
    error = payerr.inspect(response).error
    assert isinstance(error, payerr.RateLimitError)
    assert isinstance(error, payerr.CMIError)


def test_inspect_rejects_other_objects() -> None:
    """Only responses are read; anything else is a TypeError that says what is expected."""
    with pytest.raises(TypeError, match="RawResponse"):
        payerr.inspect({"errcode": 0})


def test_inspect_caches_on_the_response() -> None:
    """A second inspect of the same httpx response does not parse again."""
    request = httpx.Request("GET", "https://api.weixin.qq.com/cgi-bin/token")
    response = httpx.Response(200, json={"access_token": "t", "expires_in": 7200}, request=request)
    first = payerr.inspect(response)
    assert payerr.inspect(response) is first


def test_an_error_is_built_once_and_kept() -> None:
    """The error is made when first asked for; every later look gets the same object."""
    outcome = payerr.inspect(raw(200, b'{"errcode":40001,"errmsg":"invalid credential"}', WECHAT))
    assert not outcome.ok
    assert outcome.data == {"errcode": 40001, "errmsg": "invalid credential"}
    assert outcome.error is outcome.error
    with pytest.raises(payerr.AuthError) as raised:
        outcome.unwrap()
    assert raised.value is outcome.error


def test_threads_asking_at_once_get_one_error() -> None:
    from concurrent.futures import ThreadPoolExecutor

    outcome = payerr.inspect(raw(200, b'{"errcode":-1,"errmsg":"system busy"}', WECHAT))
    with ThreadPoolExecutor(8) as pool:
        errors = list(pool.map(lambda _: outcome.error, range(64)))
    assert all(error is errors[0] for error in errors)


def test_retry_after_counts_from_the_answer_not_from_the_look() -> None:
    """A quota window is measured when the response is read, however late the error is built."""
    body = b'{"errcode":45011,"errmsg":"api minute-quota reach limit"}'
    outcome = payerr.inspect(raw(200, body, WECHAT))
    early = payerr.inspect(raw(200, body, WECHAT)).error
    assert early is not None and outcome.error is not None
    assert outcome.error.retry_after is not None and early.retry_after is not None
    assert abs(outcome.error.retry_after - early.retry_after) < 0.5


def test_an_outcome_pickles_with_its_error() -> None:
    import pickle

    outcome = payerr.inspect(raw(200, b'{"errcode":45009,"errmsg":"quota"}', WECHAT))
    copy = pickle.loads(pickle.dumps(outcome))
    assert (copy.ok, copy.data, copy.provider) == (False, outcome.data, "wechat")
    assert type(copy.error) is type(outcome.error)
    assert copy.error is not None and copy.error.code == "45009"
    assert "WeChatRateLimitError" in repr(copy)


@pytest.mark.parametrize(
    "body",
    [
        b"[-9223372036854775809]",
        b'{"id": 18446744073709551616}',
        b'{"errcode": 0, "msgid": 123456789012345678901234567890}',
    ],
)
def test_integers_past_64_bits_read_exactly_as_json_loads_reads_them(body: bytes) -> None:
    """orjson reads such an integer as a float; payerr's reading is json.loads's."""
    data, problem = parse_json(body)
    assert problem is None
    assert data == json.loads(body)
    assert repr(data) == repr(json.loads(body))


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b'{"out_trade_no": 123456789012345678901234, "amount": 1.5}', 123456789012345678901234),
        ('{"out_trade_no": "订单-1"}'.encode("gbk"), "订单-1"),
        (b'{"out_trade_no": NaN}', None),
    ],
    ids=["integer-past-64-bits", "gbk", "nan"],
)
def test_a_request_body_is_read_as_an_answer_is(body: bytes, fields: object) -> None:
    """The fields a request carried, for the safety rule and masking, read as an answer's
    body is: an integer kept exact, a GBK body decoded, NaN read as ``json.loads`` does."""
    url = "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi"
    read = payerr.RequestFacts("POST", url, body, {}).fields()["out_trade_no"]
    if fields is None:
        assert read != read  # NaN
    else:
        assert read == fields and type(read) is type(fields)
