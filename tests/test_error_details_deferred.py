"""An answer that will be retried is ruled (what the retry decision reads) and its typed
error made only when someone will see it; what the answer said (masked message, body,
request id) is built when someone will read it.

Deferred and eager errors must be the same error once completed, and every error a
hook, the log or the caller receives must be complete.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payerr
from payerr._catalog.registry import catalog
from payerr._reading.classify import classify
from payerr._reading.decode import parse_json_slowly
from payerr._reading.deferred import complete
from payerr._reading.parsed import may_be_object
from payerr._reading.request import facts_of
from payerr.testing import instant_sleeps
from support.payloads import ALL_CASES, Case

ERROR_CASES = [
    pytest.param(provider, case, id=f"{provider}-{case.id}")
    for provider, cases in ALL_CASES.items()
    for case in cases
    if case.expect is not None
]
NOW = 1_700_000_000.0
DECISION_READS = ("retry", "retry_after", "code", "sub_code", "http_status", "processed")


def _both(provider: str, case: Case) -> tuple[payerr.PayError, payerr.PayError]:
    raw = case.raw()
    spec = catalog().spec(provider)
    eager = classify(raw, spec, facts_of(raw), now=NOW).error
    deferred = classify(raw, spec, facts_of(raw), now=NOW, defer=True).error
    assert eager is not None and deferred is not None
    return eager, deferred


@pytest.mark.parametrize(("provider", "case"), ERROR_CASES)
def test_a_deferred_error_decides_as_the_eager_one(provider: str, case: Case) -> None:
    eager, deferred = _both(provider, case)
    assert type(deferred) is type(eager)
    assert [getattr(deferred, n) for n in DECISION_READS] == [
        getattr(eager, n) for n in DECISION_READS
    ]


@pytest.mark.parametrize(("provider", "case"), ERROR_CASES)
def test_a_completed_error_is_the_eager_one(provider: str, case: Case) -> None:
    eager, deferred = _both(provider, case)
    complete(deferred)
    assert deferred.__dict__ == eager.__dict__
    assert (deferred.args, str(deferred), repr(deferred)) == (eager.args, str(eager), repr(eager))


@pytest.mark.parametrize(("provider", "case"), ERROR_CASES)
def test_an_answer_ruled_again_for_the_same_request_is_the_first_ones_error(
    provider: str, case: Case
) -> None:
    """A resend answered alike reuses what its first answer meant for the request (the
    entry, the API's name, the safety rule's hint): the error is the one made afresh."""
    raw = case.raw()
    spec = catalog().spec(provider)
    facts = facts_of(raw)
    first = classify(raw, spec, facts, now=NOW).error
    kept = [ruling for ruling, _ in facts._rulings.values()]
    again = classify(raw, spec, facts, now=NOW).error
    fresh = classify(raw, spec, facts_of(raw), now=NOW).error
    # the second was ruled from what the first kept, not ruled anew
    assert [ruling for ruling, _ in facts._rulings.values()] == kept
    assert len(kept) == 1 and next(iter(facts._rulings.values()))[0] is kept[0]
    assert first is not None and again is not None and fresh is not None
    assert again is not first and type(again) is type(fresh)
    assert again.__dict__ == fresh.__dict__ == first.__dict__


def test_a_resend_answered_otherwise_is_ruled_on_its_own() -> None:
    """Another code, or another wait asked for, on the same request: its own error."""
    spec = catalog().spec("wechat")
    url = "https://api.weixin.qq.com/cgi-bin/user/info"
    facts = payerr.RequestFacts("GET", url, b"", {})
    busy = payerr.RawResponse(200, {}, b'{"errcode":-1,"errmsg":"busy"}', url, "GET")
    expired = payerr.RawResponse(200, {}, b'{"errcode":42001,"errmsg":"expired"}', url, "GET")
    later = payerr.RawResponse(429, {"Retry-After": "7"}, b"", url, "GET")
    sooner = payerr.RawResponse(429, {"Retry-After": "2"}, b"", url, "GET")
    errors = [classify(raw, spec, facts, now=NOW).error for raw in (busy, expired, later, sooner)]
    assert [(e.code, e.retry, e.retry_after) for e in errors if e is not None] == [
        ("-1", payerr.RetryHint.BACKOFF, None),
        ("42001", payerr.RetryHint.REFRESH_CREDENTIALS, None),
        (None, payerr.RetryHint.BACKOFF, 7.0),
        (None, payerr.RetryHint.BACKOFF, 2.0),
    ]


SECRET = "tok_9f8e7d6c5b4a"
URL = f"https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token={SECRET}"
BUSY = json.dumps({"errcode": -1, "errmsg": f"system error for {SECRET} rid: 1-2"}).encode()
PAGE = b"<html><body>503 Service Temporarily Unavailable</body></html>"


@pytest.mark.parametrize(
    ("status", "body"), [(200, BUSY), (503, PAGE)], ids=["wechat-busy", "html-503"]
)
def test_hooks_and_history_get_complete_masked_errors(status: int, body: bytes) -> None:
    seen: list[payerr.PayError] = []
    policy = payerr.RetryPolicy(max_attempts=3, on_retry=lambda attempt: seen.append(attempt.error))
    inner = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    expected = payerr.inspect(payerr.RawResponse(status, {}, body, URL, "POST")).error
    assert expected is not None and expected.message
    with instant_sleeps(), httpx.Client(transport=payerr.Transport(inner, policy=policy)) as c:
        with pytest.raises(payerr.PayError) as raised:
            c.post(URL, json={}, extensions={"payerr.idempotent": True})
    final = raised.value
    assert len(seen) == 2 and list(final.history) == seen
    for error in (*seen, final):
        assert error.message.startswith(expected.message)
        assert error.raw == expected.raw and error.request_id == expected.request_id
        assert SECRET not in error.message and SECRET.encode() not in error.raw
        assert SECRET not in (error.url or "")


def test_without_hooks_history_is_completed_at_the_end() -> None:
    policy = payerr.RetryPolicy(max_attempts=3)
    inner = httpx.MockTransport(lambda request: httpx.Response(200, content=BUSY))
    with instant_sleeps(), httpx.Client(transport=payerr.Transport(inner, policy=policy)) as c:
        with pytest.raises(payerr.PayError) as raised:
            c.post(URL, json={}, extensions={"payerr.idempotent": True})
    assert [e.request_id for e in raised.value.history] == ["1-2", "1-2"]
    assert all("***" in e.message for e in (*raised.value.history, raised.value))


JSON_SPACE = st.sampled_from([b"", b" ", b"\r\n", b"\t  "])
NOT_OBJECT_START = (
    st.integers(0x21, 0x7E).filter(lambda b: b not in b"{[").map(lambda b: bytes([b]))
)


@settings(max_examples=60, deadline=None)
@given(JSON_SPACE, NOT_OBJECT_START, st.binary(max_size=40))
def test_a_body_skipped_as_no_object_never_parses_to_one(
    space: bytes, first: bytes, rest: bytes
) -> None:
    body = space + first + rest
    assert not may_be_object(body)
    for charset in (None, "utf-8", "gbk", "gb18030", "utf-16", "utf-16-be", "latin-1"):
        content_type = f"application/json; charset={charset}" if charset else None
        assert not isinstance(parse_json_slowly(body, content_type)[0], dict)


@pytest.mark.parametrize(
    "body", [b'{"a": 1}', b"  [1]", b"\xff\xfe{\x00}\x00", b"\x00{\x00}", b"", b"   "]
)
def test_what_may_be_an_object_is_parsed(body: bytes) -> None:
    assert may_be_object(body)


OK = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()


def _scripted(*answers: tuple[int, dict[str, str], bytes]) -> httpx.MockTransport:
    script = iter(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        status, headers, body = next(script)
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(answer)


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[payerr.PayError]:
    """Every typed error made from an answer, in order."""
    from payerr._reading import build

    errors: list[payerr.PayError] = []
    make = build.make

    def counted(failure: object) -> payerr.PayError:
        errors.append(make(failure))  # type: ignore[arg-type]
        return errors[-1]

    monkeypatch.setattr(build, "make", counted)
    return errors


def test_a_retried_answer_makes_no_error_when_a_later_attempt_succeeds(
    made: list[payerr.PayError],
) -> None:
    inner = _scripted((503, {}, PAGE), (200, {}, BUSY), (200, {}, OK))
    policy = payerr.RetryPolicy(max_attempts=3)
    with instant_sleeps(), httpx.Client(transport=payerr.Transport(inner, policy=policy)) as c:
        answer = c.post(URL, json={}, extensions={"payerr.idempotent": True})
    assert answer.json() == {"errcode": 0, "errmsg": "ok"}
    assert made == []


def test_a_retried_answer_gets_its_error_once_a_hook_reads_it(
    made: list[payerr.PayError],
) -> None:
    seen: list[payerr.PayError] = []
    policy = payerr.RetryPolicy(max_attempts=3, on_retry=lambda attempt: seen.append(attempt.error))
    inner = _scripted((503, {}, PAGE), (200, {}, BUSY), (200, {}, OK))
    with instant_sleeps(), httpx.Client(transport=payerr.Transport(inner, policy=policy)) as c:
        c.post(URL, json={}, extensions={"payerr.idempotent": True})
    assert made == seen and [type(e) for e in seen] == [
        payerr.WeChatServiceUnavailableError,
        payerr.WeChatServiceUnavailableError,
    ]


def test_a_policy_of_your_own_decides_on_the_whole_typed_error() -> None:
    decided: list[payerr.PayError] = []
    read: list[tuple[str, str | None]] = []  # what each error said when it was decided on

    class Recording(payerr.RetryPolicy):
        def decide(self, error: payerr.PayError, **state: Any) -> payerr.Decision:
            decided.append(error)
            read.append((error.message, error.request_id))
            return super().decide(error, **state)

    inner = _scripted((503, {}, PAGE), (200, {}, BUSY), (503, {}, PAGE))
    policy = Recording(max_attempts=3)
    with instant_sleeps(), httpx.Client(transport=payerr.Transport(inner, policy=policy)) as c:
        with pytest.raises(payerr.PayError) as raised:
            c.post(URL, json={}, extensions={"payerr.idempotent": True})
    ended = (*raised.value.history, raised.value)
    assert len(decided) == 3 and all(d is e for d, e in zip(decided, ended, strict=True))
    assert decided[1].code == "-1" and read[1] == ("system error for ***", "1-2")
    assert all(message and SECRET not in message for message, _ in read)


def test_a_retried_answers_error_keeps_the_wait_payerr_honoured() -> None:
    """A server's wait is capped by ``max_cooldown`` before the answer's error is made."""
    limited = (429, {"Retry-After": "600"}, b"")
    inner = _scripted(limited, (503, {}, PAGE))
    policy = payerr.RetryPolicy(max_attempts=2, max_cooldown=2.0)
    with instant_sleeps(), httpx.Client(transport=payerr.Transport(inner, policy=policy)) as c:
        with pytest.raises(payerr.ServiceUnavailableError) as raised:
            c.get(URL)
    (first,) = raised.value.history
    assert isinstance(first, payerr.RateLimitError)
    assert (first.retry_after, first.server_retry_after) == (2.0, 600.0)
