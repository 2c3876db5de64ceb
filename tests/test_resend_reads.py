"""A resend answered with the same bytes, under the same headers, is not read again: its
first answer's reading is reused (a 503 page, WeChat's -1: most retries). Other bytes,
or headers a body is read by, get a reading of their own."""

from __future__ import annotations

import json

import httpx
import pytest

import payerr
from payerr._engine import call as call_module
from payerr.testing import instant_sleeps

URL = "https://api.weixin.qq.com/cgi-bin/user/info"
PAGE = b"<html><body>503 Service Temporarily Unavailable</body></html>"
BUSY = json.dumps({"errcode": -1, "errmsg": "system busy"}).encode()
OTHER = json.dumps({"errcode": -1, "errmsg": "system error, try again"}).encode()
OK = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
HTML = {"Content-Type": "text/html"}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies the engine read, in order."""
    seen: list[bytes] = []
    read_body = call_module.read_body

    def counted(spec: object, status: int, body: bytes, *rest: object) -> object:
        seen.append(body)
        return read_body(spec, status, body, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(call_module, "read_body", counted)
    return seen


def _send(*answers: tuple[int, dict[str, str], bytes]) -> httpx.Response | payerr.PayError:
    script = iter(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        status, headers, body = next(script)
        return httpx.Response(status, headers=headers, content=body)

    policy = payerr.RetryPolicy(max_attempts=len(answers))
    transport = payerr.Transport(httpx.MockTransport(answer), policy=policy)
    with instant_sleeps(), httpx.Client(transport=transport) as client:
        try:
            return client.get(URL)
        except payerr.PayError as error:
            return error


@pytest.mark.parametrize(("status", "body"), [(503, PAGE), (200, BUSY)], ids=["503", "wechat-1"])
def test_the_same_answer_again_is_read_once(reads: list[bytes], status: int, body: bytes) -> None:
    error = _send(*[(status, HTML if status == 503 else {}, body)] * 3)
    assert isinstance(error, payerr.ServiceUnavailableError) and error.attempts == 3
    assert reads == [body]
    fresh = payerr.inspect(payerr.RawResponse(status, {}, body, URL, "GET")).error
    assert fresh is not None
    for made in (*error.history, error):
        assert (type(made), made.code, made.message) == (type(fresh), fresh.code, fresh.message)


def test_other_bytes_are_read_on_their_own(reads: list[bytes]) -> None:
    answer = _send((200, {}, BUSY), (503, HTML, PAGE), (200, {}, OTHER), (200, {}, OK))
    assert isinstance(answer, httpx.Response) and answer.json()["errcode"] == 0
    assert reads == [BUSY, PAGE, OTHER, OK]


def test_the_same_bytes_under_other_headers_are_read_again(reads: list[bytes]) -> None:
    """An HTML page on a 2xx is an unreadable answer; the same page sent as an attachment
    is a file, a success."""
    attached = {**HTML, "Content-Disposition": 'attachment; filename="bill.html"'}
    answer = _send((200, HTML, PAGE), (200, attached, PAGE))
    assert isinstance(answer, httpx.Response) and answer.content == PAGE
    assert reads == [PAGE, PAGE]
