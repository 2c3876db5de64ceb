"""Credentials on a request never surface: not in str, repr, logs, pickles or causes.

Every provider's way of carrying a secret, through every error path, with a
server that even quotes the whole request back in its error message.
"""

from __future__ import annotations

import json
import logging
import pickle
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

import payerr
from payerr import testing
from payerr._reading.redact import _may_appear, spellings
from support.faultserver import FaultServer, refused_url


@dataclass(frozen=True)
class Carrier:
    """How one provider's request carries its secrets."""

    provider: str
    secrets: tuple[str, ...]
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str] | None = None
    body: dict[str, Any] | None = None


CARRIERS = [
    Carrier(
        "wechat",
        ("WxTok3nSecretValue",),
        "/cgi-bin/message/custom/send",
        {"access_token": "WxTok3nSecretValue"},
        {},
        body={"touser": "o1"},
    ),
    Carrier(
        "alipay",
        ("AlipaySignSecretValue", "AppAuthTokenSecret1"),
        "/gateway.do",
        {},
        {},
        form={
            "method": "alipay.trade.pay",
            "sign": "AlipaySignSecretValue",
            "app_auth_token": "AppAuthTokenSecret1",
            "biz_content": "{}",
        },
    ),
    Carrier(
        "huawei",
        ("QVBQQVQ6SHVhd2VpU2VjcmV0",),
        "/applications/purchases/tokens/verify",
        {},
        {"Authorization": "Basic QVBQQVQ6SHVhd2VpU2VjcmV0"},
        body={"purchaseToken": "p"},
    ),
    Carrier(
        "cmi",
        ("Dig3stSecretValue", "CmiAccessTokenSecret"),
        "/aep/APP_createOrder_SBO/v1",
        {},
        {
            "Authorization": 'WSSE realm="SDP", profile="UsernameToken", type="Appkey"',
            "X-WSSE": 'UsernameToken Username="k", PasswordDigest="Dig3stSecretValue", '
            'Nonce="n1", Created="2026-01-01T00:00:00Z"',
        },
        body={"accessToken": "CmiAccessTokenSecret", "thirdOrderId": "T"},
    ),
]
PATHS = ["echo", "refused", "reset", "truncated", "html502", "no_answer"]


@contextmanager
def server(path: str) -> Iterator[str]:
    if path == "refused":
        with refused_url() as url:
            yield url
    else:
        with FaultServer(path) as running:
            yield running.url


def call_httpx(carrier: Carrier, url: str) -> None:
    transport = payerr.Transport(
        provider=carrier.provider, policy=payerr.RetryPolicy(max_attempts=2)
    )
    with httpx.Client(transport=transport, timeout=0.4) as client:
        client.post(
            url + carrier.path,
            params=carrier.params,
            headers=carrier.headers,
            data=carrier.form,
            json=carrier.body,
        )


def call_requests(carrier: Carrier, url: str) -> None:
    with requests.Session() as session:
        session.mount(
            "http://",
            payerr.RequestsAdapter(
                provider=carrier.provider, policy=payerr.RetryPolicy(max_attempts=2)
            ),
        )
        session.post(
            url + carrier.path,
            params=carrier.params,
            headers=carrier.headers,
            data=carrier.form,
            json=carrier.body,
            timeout=0.4,
        )


def everything_shown(error: payerr.PayError, records: list[logging.LogRecord]) -> str:
    """All the text a user or a log pipeline could ever see of this failure."""
    shown = [
        str(error),
        repr(error),
        error.url or "",
        error.message,
        error.sub_message or "",
        error.raw.decode("utf-8", "replace"),
        json.dumps(error.body, ensure_ascii=False),
        pickle.dumps(error).decode("latin-1"),
        "".join(traceback.format_exception(error)),
    ]
    for earlier in error.history:
        shown += [str(earlier), repr(earlier), earlier.raw.decode("utf-8", "replace")]
    for record in records:
        shown += [record.getMessage(), json.dumps(record.__dict__, default=str)]
    return "\n".join(shown)


@pytest.mark.parametrize("call", [call_httpx, call_requests], ids=["httpx", "requests"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.provider)
def test_secrets_never_surface(
    carrier: Carrier,
    path: str,
    call: Callable[[Carrier, str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever goes wrong, the request's credentials are nowhere in what payerr shows."""
    caplog.set_level(logging.DEBUG, logger="payerr")
    with testing.instant_sleeps(), server(path) as url, pytest.raises(payerr.PayError) as info:
        call(carrier, url)
    text = everything_shown(info.value, caplog.records)
    for secret in carrier.secrets:
        assert secret not in text


def test_echo_server_really_echoes() -> None:
    """The echo path is a real test: the server did receive and quote the secret."""
    with FaultServer("echo") as running:
        with pytest.raises(payerr.AuthError) as info:
            call_httpx(CARRIERS[0], running.url)
        assert b"WxTok3nSecretValue" in running.last_request
    assert "***" in info.value.message


from payerr._reading import redact as _redact  # noqa: E402

_ODD_SPELLINGS = ["Access_Token", "SIGN", "ſign", "X-Wsse", "K", "ß", "İ"]
_SEPARATORS = ['"', "=", ":", " ", "\t", "\n", "&", "?", ",", ";", "{", "}", "-", "_"]
_PIECES = st.sampled_from(
    [*sorted(_redact.SECRET_NAMES), *_ODD_SPELLINGS, *_SEPARATORS, "value", "rid", "abc123"]
)


@given(st.lists(_PIECES, max_size=16).map("".join))
def test_the_quick_look_never_skips_what_the_pattern_masks(text: str) -> None:
    """Skipping the full pattern on texts without 'name' then '=' or ':' loses nothing."""
    assert _redact.redact_text(text) == _redact._patterns()[0].sub(_redact._MASKED, text)


def test_every_secret_name_holds_a_core() -> None:
    assert all(any(core in name for core in _redact.NAME_CORES) for name in _redact.SECRET_NAMES)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("access_token=abc&x=1", "access_token=***&x=1"),
        ('{"sign": "abc"}', '{"sign": "***"}'),
        ('UsernameToken Username="u", PasswordDigest="d"', 'PasswordDigest="***"'),
        ("Authorization: Bearer abc", "Authorization: ***"),
        ("invalid credential, access_token is invalid", "access_token is invalid"),
    ],
)
def test_named_secrets_are_masked_in_text(text: str, masked: str) -> None:
    assert masked in _redact.redact_text(text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("X-Authorization: Bearer abc", "X-Authorization: ***"),  # a listed name after a dash
        ("my-nonce=abc", "my-nonce=***"),
        ("foo_key=abc", "foo_key=***"),
        ("appkeyx=abc", "appkeyx=abc"),  # not a secret name: left alone
        ('token = "abc"', 'token = "***"'),
    ],
)
def test_names_are_whole_words(text: str, masked: str) -> None:
    """A name is a whole word that is listed, ends with ``-<listed>`` or a secret suffix."""
    assert _redact.redact_text(text) == masked


def test_a_long_text_is_cut_never_inside_a_secret() -> None:
    """Past TEXT_CAP a text is cut, and never so that part of a secret is left behind."""
    secret = "S3cretValue-0123456789"
    cap = _redact.TEXT_CAP
    text = "x" * (cap - 5) + secret + "y" * 100
    out = _redact.redact_text(text, [secret])
    assert out.endswith(_redact.CUT)
    assert "S3cr" not in out and len(out) <= cap + 1


@given(st.text(min_size=1, max_size=80), st.sampled_from(["", "x", "前缀 ", '{"m":"']))
def test_a_secret_spelled_any_way_in_a_text_is_never_skipped(value: str, around: str) -> None:
    """Secrets are spelled out only where one may be echoed: the look before spelling
    (its longest run of ASCII letters and digits) finds every spelling payerr masks."""
    for spelled in spellings(value):
        text = f"{around}{spelled}…"
        assert _may_appear(value, [text]), spelled
        assert _may_appear(value, [text.encode("utf-8", "surrogatepass")]), spelled
