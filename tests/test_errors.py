"""The error model: two ways to catch, one-line messages, pickles that keep everything."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

import payerr
from payerr._errors import CATEGORY_CLASSES, PROVIDER_CLASSES, error_class

EXPORTED = sorted(
    (
        getattr(payerr, name)
        for name in payerr.__all__
        if isinstance(getattr(payerr, name), type)
        and issubclass(getattr(payerr, name), payerr.PayError)
    ),
    key=lambda cls: cls.__name__,
)
COMBINED = [error_class(cat, prov) for prov in PROVIDER_CLASSES for cat in CATEGORY_CLASSES]


def _full(cls: type[payerr.PayError]) -> payerr.PayError:
    return cls(
        "Business Failed",
        provider="alipay",
        code="40004",
        sub_code="ACQ.TRADE_NOT_EXIST",
        sub_message="交易不存在",
        http_status=200,
        retry=payerr.RetryHint.NEVER,
        retry_after=1.5,
        request_id="trace-1",
        solution="Check the trade number.",
        body={"a": 1},
        raw=b'{"a":1}',
        url="https://openapi.alipay.com/gateway.do",
        attempts=2,
    )


@pytest.mark.parametrize("cls", EXPORTED + COMBINED, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "clone",
    [lambda e: pickle.loads(pickle.dumps(e)), copy.copy, copy.deepcopy],
    ids=["pickle", "copy", "deepcopy"],
)
def test_error_survives_pickling_and_copying(cls: type[payerr.PayError], clone) -> None:
    """Class and every attribute come back intact (multiprocessing, Celery, Ray)."""
    error = _full(cls)
    restored = clone(error)
    assert type(restored) is cls
    assert restored.__dict__ == error.__dict__
    assert str(restored) == str(error)


@pytest.mark.parametrize("cls", EXPORTED + COMBINED, ids=lambda c: c.__name__)
def test_an_error_made_for_a_retry_decision_is_the_one_the_keywords_make(
    cls: type[payerr.PayError],
) -> None:
    """The engine's positional constructor leaves every attribute as ``__init__`` would."""
    decided = {
        "provider": "wechat",
        "code": "-1",
        "sub_code": None,
        "http_status": 503,
        "retry": payerr.RetryHint.BACKOFF,
        "retry_after": 2.0,
        "solution": "Retry later.",
        "solution_zh": "稍后重试。",
        "api_method": "/cgi-bin/user/get",
        "processed": payerr.Processed.NO,
        "known": False,
    }
    made = cls._decided(*decided.values())
    assert type(made) is cls
    assert made.__dict__ == cls(**decided).__dict__
    assert made.args == ("",)


def test_combined_class_is_caught_both_ways() -> None:
    """An Alipay rate limit is a RateLimitError and an AlipayError."""
    cls = error_class(payerr.Category.RATE_LIMITED, "alipay")
    with pytest.raises(payerr.RateLimitError):
        raise cls("slow down")
    with pytest.raises(payerr.AlipayError):
        raise cls("slow down")
    assert issubclass(cls, payerr.ProviderError)


@pytest.mark.parametrize("category", list(payerr.Category))
def test_every_category_has_a_class(category: payerr.Category) -> None:
    """Category and class are one-to-one."""
    assert CATEGORY_CLASSES[category].category is category


def test_transport_errors_are_not_provider_errors() -> None:
    """No provider answer is a TransportError, never a ProviderError."""
    for cls in (payerr.NetworkError, payerr.OutcomeUnknownError, payerr.MalformedResponseError):
        assert issubclass(cls, payerr.TransportError)
        assert not issubclass(cls, payerr.ProviderError)


def test_str_is_one_useful_line() -> None:
    """str() names provider, codes, message and the hint on one line."""
    text = str(_full(payerr.NotFoundError))
    assert "\n" not in text
    for part in ("alipay", "40004/ACQ.TRADE_NOT_EXIST", "交易不存在", "retry=never", "trace-1"):
        assert part in text


def test_repr_leaves_out_bodies() -> None:
    """repr is short: no body, no raw bytes."""
    text = repr(_full(payerr.NotFoundError))
    assert "NotFoundError(" in text
    assert "raw" not in text


SECRET = "S3cr3tT0kenValue"


@pytest.mark.parametrize(
    ("url", "body", "headers"),
    [
        (
            f"https://api.weixin.qq.com/cgi-bin/message/send?access_token={SECRET}",
            b'{"errcode":40001,"errmsg":"invalid credential access_token='
            + SECRET.encode()
            + b'"}',
            {},
        ),
        (
            "https://openapi.alipay.com/gateway.do",
            b'{"error_response":{"code":"40002","msg":"Invalid Arguments",'
            b'"sub_code":"isv.invalid-signature",'
            b'"sub_msg":"app_auth_token=' + SECRET.encode() + b'&sign=abc"}}',
            {},
        ),
        (
            "https://orders-drcn.iap.cloud.huawei.com.cn/applications/purchases/tokens/verify",
            b'{"responseCode":"6","responseMessage":"bad header Basic ' + SECRET.encode() + b'"}',
            {"Authorization": f"Basic {SECRET}"},
        ),
        (
            "https://gdschannel.cmlink.com/aep/APP_createOrder_SBO/v1",
            b'{"code":"1000008","description":"accessToken ' + SECRET.encode() + b' invalid"}',
            {"X-WSSE": f'UsernameToken Username="k", PasswordDigest="{SECRET}", Nonce="n"'},
        ),
    ],
)
def test_secrets_never_show(
    url: str, body: bytes, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Request credentials appear in no str, repr, url, log line or pickle of the error."""
    form = f"method=alipay.trade.pay&app_auth_token={SECRET}&sign=abc".encode()
    raw = payerr.RawResponse(200, {}, body, url, "POST", form, headers)
    error = payerr.inspect(raw).error
    assert error is not None
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("payerr.test").error("failed: %s %r", error, error)
    for text in (
        str(error),
        repr(error),
        error.url or "",
        caplog.text,
        error.message,
        error.sub_message or "",
    ):
        assert SECRET not in text
    assert SECRET.encode() not in pickle.dumps(error)


def test_a_pickled_category_this_version_lacks_restores_as_unknown() -> None:
    """A pickle from a newer payerr never fails to load (a Pool would wait forever)."""
    from payerr._errors import _restore_combined

    error = _restore_combined("alipay", "a_future_category", {"message": "m", "code": "1"})
    assert isinstance(error, payerr.UnknownCodeError)
    assert isinstance(error, payerr.AlipayError)
    assert error.code == "1"
