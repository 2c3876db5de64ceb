"""A client's ``json()`` after payerr read the body: payerr's parse, once, the client's value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

import payerr
from payerr._catalog.registry import catalog
from payerr._clients.handover import same_value
from payerr._reading.parsed import read_body
from payerr._reading.raw import cached_outcome
from support.loopback import Script, Step, serve
from support.payloads import ALL_CASES, WECHAT, Case

SUCCESSES = [
    pytest.param(case, id=f"{provider}-{case.id}")
    for provider, cases in ALL_CASES.items()
    for case in cases
    if case.expect is None and case.status < 300
]
PROVIDER = {case.id: provider for provider, cases in ALL_CASES.items() for case in cases}
PROVIDER["wechat-balance"] = "wechat"
WECHAT_USER = {"openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "nickname": "张三", "tagid_list": [2]}


def body_of(case: Case) -> bytes:
    return case.body.encode() if isinstance(case.body, str) else case.body


def httpx_get(case: Case, headers: dict[str, str] | None = None) -> httpx.Response:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(case.status, headers=headers or case.headers, content=body_of(case))

    inner = httpx.MockTransport(answer)
    transport = payerr.Transport(inner, provider=PROVIDER.get(case.id, "wechat"))
    with httpx.Client(transport=transport) as client:
        return client.get(case.url)


@pytest.fixture
def requests_get() -> Iterator[Any]:
    sessions: list[requests.Session] = []

    def get(body: bytes, content_type: str = "application/json") -> requests.Response:
        script = Script(Step(body=body, headers={"Content-Type": content_type}))
        with serve(script) as base:
            session = requests.Session()
            sessions.append(session)
            session.mount("http://", payerr.RequestsAdapter(provider="wechat"))
            return session.get(base + "/cgi-bin/user/info")

    yield get
    for session in sessions:
        session.close()


@pytest.mark.parametrize("case", SUCCESSES)
def test_httpx_first_json_is_payerrs_parse(case: Case) -> None:
    """A JSON success: the first ``json()`` is the object payerr parsed, equal to httpx's own."""
    body = body_of(case)
    response = httpx_get(case)
    expected = httpx.Response.json(response)  # the client's own parse, called past payerr
    first = response.json()
    assert first == expected
    if body.lstrip()[:1] in (b"{", b"[") and expected:
        assert first is cached_outcome(response).data


@pytest.mark.parametrize("case", SUCCESSES)
def test_httpx_later_json_is_a_fresh_object(case: Case) -> None:
    """Every call after the first parses again: a new object the first's changes do not reach."""
    response = httpx_get(case)
    first, second = response.json(), response.json()
    assert second == first
    assert second is not first or not isinstance(first, dict | list)


def test_httpx_json_kwargs_parse_as_asked() -> None:
    """Arguments for ``json.loads`` are honoured: the body is parsed with them."""
    case = Case("wechat-balance", 200, '{"errcode":0,"errmsg":"ok","balance":1.10}', WECHAT, None)
    response = httpx_get(case)
    assert response.json(parse_float=Decimal) == json.loads(body_of(case), parse_float=Decimal)
    assert response.json() is cached_outcome(response).data  # still there for a plain call


def test_requests_first_json_is_payerrs_parse(requests_get: Any) -> None:
    """requests: a UTF-8 JSON success is handed over, equal to what requests would give."""
    body = json.dumps({"errcode": 0, **WECHAT_USER}, ensure_ascii=False).encode()
    response = requests_get(body)
    first = response.json()
    assert first == requests.Response.json(response)
    assert first is payerr.inspect(response).data
    assert response.json() is not first


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/json; charset=gbk", "text/html; charset=latin-1"]
)
def test_requests_charset_rules_unchanged(requests_get: Any, content_type: str) -> None:
    """A charset requests decodes with other than UTF-8: requests' own value, mojibake and all."""
    body = json.dumps({"errcode": 0, **WECHAT_USER}, ensure_ascii=False).encode()
    response = requests_get(body, content_type)
    assert response.json() == requests.Response.json(response)


def test_requests_ascii_body_any_ascii_charset(requests_get: Any) -> None:
    """An ASCII body reads the same in any ASCII-compatible charset: handed over."""
    response = requests_get(b'{"errcode":0,"errmsg":"ok","openid":"o6_bmjr"}', "text/plain")
    assert response.json() is payerr.inspect(response).data


WIDE = '{"errcode":0,"errmsg":"ok","id":18446744073709551616,"debt":-9223372036854775809}'


def test_integers_past_64_bits_are_handed_over_exact() -> None:
    """orjson reads an integer past 64 bits as a float: such a body is read as
    ``json.loads`` reads it, so what ``json()`` gets is exact."""
    response = httpx_get(Case("wechat-wide", 200, WIDE, WECHAT, None))
    assert response.json() == json.loads(WIDE)
    assert type(cached_outcome(response).data["id"]) is int


def test_requests_json_kwargs_parse_as_asked(requests_get: Any) -> None:
    response = requests_get(b'{"errcode":0,"errmsg":"ok","balance":1.10}')
    assert response.json(parse_float=Decimal)["balance"] == Decimal("1.10")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"])
WECHAT_SPEC = catalog().spec("wechat")
"""What the middleware reads a WeChat answer with (``read_body``): its parse is handed over."""
CHARSETS = st.sampled_from([None, "utf-8", "UTF8", "gbk", "iso-8859-1", "utf-16", "nonsense"])


@given(JSON, ENCODINGS, CHARSETS, st.booleans(), st.sampled_from(["", " ", "\r\n\t"]))
def test_handed_over_only_when_the_client_reads_the_same(
    value: Any, encoding: str, charset: str | None, ascii_only: bool, space: str
) -> None:
    """Whatever the body and charset: if payerr hands its parse over (the middleware's own
    read of it), it equals what ``json.loads`` of the body decoded with the client's
    charset gives."""
    text = space + json.dumps(value, ensure_ascii=ascii_only)
    try:
        body = text.encode(encoding)
    except UnicodeEncodeError:
        return
    declared = f"application/json; charset={charset}" if charset else "application/json"
    data, problem, _ = read_body(WECHAT_SPEC, 200, body, {"content-type": declared}, "/")
    if problem is not None or not same_value(data, body, charset):
        return
    client = json.loads(body) if charset is None else json.loads(body.decode(charset))
    assert client == data


def _urllib3_answer(body: bytes) -> Any:
    import io

    import urllib3

    return urllib3.HTTPResponse(
        body=io.BytesIO(body),
        headers={"Content-Type": "application/json; charset=utf-8"},
        status=200,
        reason="OK",
        preload_content=False,
    )


def test_requests_responses_are_made_as_the_hand_over_class() -> None:
    """requests' own ``build_response`` makes the response, as that class: every attribute
    is what requests gives its own (its class is never changed after it was made)."""
    from payerr._clients.requests_adapter import ParsedResponse

    request = requests.Request("GET", "https://api.weixin.qq.com/cgi-bin/user/info").prepare()
    adapter = payerr.RequestsAdapter(provider="wechat")
    ours = adapter.build_response(request, _urllib3_answer(b"{}"))
    theirs = requests.adapters.HTTPAdapter.build_response(adapter, request, _urllib3_answer(b"{}"))
    assert type(ours) is ParsedResponse and type(theirs) is requests.Response
    plain = {"raw", "cookies", "elapsed"}  # objects of their own, compared below
    assert {k: v for k, v in vars(ours).items() if k not in plain} == {
        k: v for k, v in vars(theirs).items() if k not in plain
    }
    assert dict(ours.cookies) == dict(theirs.cookies)
    assert type(ours.raw) is type(theirs.raw)


def test_a_response_made_by_another_build_response_still_hands_over(requests_get: Any) -> None:
    """An adapter whose ``build_response`` makes requests' own class (a subclass of yours,
    or a requests whose code names no ``Response``): a success still gets the hand-over."""
    from payerr._clients.requests_adapter import ParsedResponse

    class Own(payerr.RequestsAdapter):
        def build_response(self, req: Any, resp: Any) -> requests.Response:
            return requests.adapters.HTTPAdapter.build_response(self, req, resp)

    body = json.dumps({"errcode": 0, **WECHAT_USER}).encode()
    with serve(Script(Step(body=body))) as base, requests.Session() as session:
        session.mount("http://", Own(provider="wechat"))
        response = session.get(base + "/cgi-bin/user/info")
    assert type(response) is ParsedResponse
    assert response.json() is payerr.inspect(response).data


def test_a_requests_that_names_no_response_builds_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from payerr._clients import requests_adapter

    def build_response(self: Any, req: Any, resp: Any) -> requests.Response:
        return requests.models.Response()

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "build_response", build_response)
    assert requests_adapter._building(requests_adapter.ParsedResponse) is None
