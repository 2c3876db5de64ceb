"""Alike codes judged alike: every code whose provider says it is busy ("系统繁忙",
"The system is busy. Please try again later.") means the request was shed before
anything ran, so it is resent on any HTTP method. Data-driven over every adapter."""

from __future__ import annotations

import re

import pytest

import payerr
from payerr._catalog.registry import catalog
from payerr._enums import Processed, RetryHint

BUSY = re.compile(r"\bbusy\b|繁忙", re.IGNORECASE)


def busy_codes() -> list[tuple[str, str]]:
    found = []
    for provider in payerr.PROVIDERS:
        spec = catalog().spec(provider)
        for table in (spec.codes, spec.sub_codes):
            for key, info in table.items():
                if BUSY.search(info.provider_message or "") or BUSY.search(info.message_zh):
                    found.append((provider, key))
    return found


def test_there_are_busy_codes_to_judge() -> None:
    assert ("wechat", "-1") in busy_codes()
    assert ("wechat", "990010") in busy_codes()


@pytest.mark.parametrize(("provider", "key"), busy_codes())
def test_a_busy_code_is_resent(provider: str, key: str) -> None:
    """Busy: nothing ran (processed = no) and the advice is to wait and send again."""
    spec = catalog().spec(provider)
    info = spec.codes.get(key) or spec.sub_codes[key]
    assert info.processed is Processed.NO
    assert info.retry in (RetryHint.BACKOFF, RetryHint.AFTER_RESET)
    for rule in info.rules:  # no API reads a busy answer differently
        assert rule.changes.get("processed", Processed.NO) is Processed.NO


def test_wechat_990010_is_resent_on_a_post_like_minus_one() -> None:
    """The case that started the audit: both busy answers to a POST are sent again."""
    url = "https://api.weixin.qq.com/shop/order/add"
    hints = []
    for code in (-1, 990010):
        body = f'{{"errcode":{code},"errmsg":"system busy"}}'.encode()
        error = payerr.inspect(payerr.RawResponse(200, {}, body, url, "POST")).error
        assert error is not None
        hints.append(error.retry)
    assert hints == [RetryHint.BACKOFF, RetryHint.BACKOFF]
