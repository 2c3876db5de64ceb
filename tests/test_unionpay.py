"""UnionPay's online gateway: form answers, the query's original result, money never resent.

The gateway answers ``key=value&...`` without URL-encoding; a consumption that met
03/04/05 or a timeout must be queried, never sent again; a query answered 00 is
only as good as its ``origRespCode``. Real sockets, every client.
"""

from __future__ import annotations

import asyncio
import pickle
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

import payerr
from payerr import RetryHint as H
from payerr import testing
from payerr._reading.formats import MAX_PAIRS, parse_form, split_form
from support.loopback import Script, Step, serve
from test_hostile_bodies import Hostile, answer

CLIENTS = ["httpx", "httpx-async", "requests"]
SIGNATURE = "b59zh7aztBFNDNmCBOR4189VeG3V+pvuf7H3izqA4etA0Ats/tzV7RXigEFlNXaIHSTSkbAUfPXevY3nX18u=="
CERT_LINE = "MIIEYzCCA0ugAwIBAgIFEDkwhTQw+DQYJ/KoZIhvcNAQEFBQAw"
CERT = f"-----BEGIN CERTIFICATE-----\r\n{CERT_LINE}\r\n-----END CERTIFICATE-----"
CONSUME = {
    "txnType": "01",
    "txnSubType": "01",
    "orderId": "T20240102103015",
    "txnTime": "20240102103015",
}
QUERY = {
    "txnType": "00",
    "txnSubType": "00",
    "orderId": "T20240102103015",
    "txnTime": "20240102103015",
}


def form_answer(**fields: str) -> bytes:
    """A 5.1.0 synchronous answer: sorted keys, nothing URL-encoded, as the gateway sends it."""
    base = {
        "accessType": "0",
        "bizType": "000201",
        "encoding": "UTF-8",
        "merId": "777290058110048",
        "signMethod": "01",
        "signPubKeyCert": CERT,
        "signature": SIGNATURE,
        "version": "5.1.0",
        **fields,
    }
    return "&".join(f"{k}={v}" for k, v in sorted(base.items())).encode()


class Gateway(Hostile):
    """A hostile answer given only after the whole form was read (no reset on close)."""

    def read_head(self, conn: Any) -> bytes | None:
        head = super().read_head(conn)
        if head is not None:
            declared = [
                line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
            ]
            missing = (int(declared[0].split(b":")[1]) if declared else 0) - len(
                head.partition(b"\r\n\r\n")[2]
            )
            while missing > 0:
                chunk = conn.recv(missing)
                if not chunk:
                    break
                missing -= len(chunk)
        return head


def step(**fields: str) -> Step:
    return Step(200, form_answer(**fields), {"Content-Type": "text/html;charset=UTF-8"})


@pytest.fixture(autouse=True)
def instant() -> Iterator[None]:
    with testing.instant_sleeps():
        yield


def send(kind: str, url: str, form: dict[str, str], timeout: float = 5.0) -> Any:
    """One logical POST of a gateway form through payerr with the given client."""
    policy = payerr.RetryPolicy(max_attempts=3)
    if kind == "httpx":
        transport = payerr.Transport(provider="unionpay", policy=policy)
        with httpx.Client(transport=transport, timeout=timeout) as client:
            return client.post(url, data=form)
    if kind == "httpx-async":

        async def go() -> Any:
            transport = payerr.AsyncTransport(provider="unionpay", policy=policy)
            async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
                return await client.post(url, data=form)

        return asyncio.run(go())
    with requests.Session() as session:
        session.mount("http://", payerr.RequestsAdapter(provider="unionpay", policy=policy))
        return session.post(url, data=form, timeout=timeout)


# --- money is never sent twice ----------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("code", ["03", "04", "05"])
def test_uncertain_consumption_is_sent_once_and_queried_first(kind: str, code: str) -> None:
    """03/04/05 on a consumption: it may have run; the demo says query, never resend."""
    script = Script(
        step(respCode=code, respMsg=f"未明[{code}00000]", **CONSUME), step(respCode="00")
    )
    with serve(script) as url, pytest.raises(payerr.PendingError) as info:
        send(kind, url + "/gateway/api/backTransReq.do", CONSUME)
    assert len(script.seen) == 1
    assert info.value.retry is H.QUERY_FIRST
    assert isinstance(info.value, payerr.UnionPayError)
    assert info.value.code == code and info.value.api_method == "01"


@pytest.mark.parametrize("kind", CLIENTS)
def test_dropped_consumption_is_sent_once_and_queried_first(kind: str) -> None:
    """The connection drops after the consumption was sent: handled like 03."""
    script = Script(Step(reset=True), step(respCode="00"))
    with serve(script) as url, pytest.raises(payerr.OutcomeUnknownError) as info:
        send(kind, url + "/gateway/api/backTransReq.do", CONSUME)
    assert len(script.seen) == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.mark.parametrize("kind", CLIENTS)
def test_timed_out_consumption_is_sent_once_and_queried_first(kind: str) -> None:
    """A read timeout on a consumption (the answer never finishes): handled like 03."""
    slow = answer("200 OK", form_answer(respCode="00"), "Content-Type: text/html")
    with Gateway(slow, drip=1.0) as server:
        with pytest.raises(payerr.OutcomeUnknownError) as info:
            send(kind, server.url + "/gateway/api/backTransReq.do", CONSUME, timeout=0.2)
        assert server.requests == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.mark.parametrize("kind", CLIENTS)
def test_busy_query_is_retried(kind: str) -> None:
    """06 (系统繁忙，请稍后再试) on a query: nothing ran, a query is a read: asked again."""
    busy = step(respCode="06", respMsg="系统繁忙，请稍后再试[0600001]", **QUERY)
    paid = step(respCode="00", respMsg="成功[0000000]", origRespCode="00", **QUERY)
    script = Script(busy, paid)
    with serve(script) as url:
        response = send(kind, url + "/gateway/api/queryTrans.do", QUERY)
    assert len(script.seen) == 2
    assert payerr.inspect(response).ok


@pytest.mark.parametrize("kind", CLIENTS)
def test_busy_consumption_is_resent_with_the_same_order(kind: str) -> None:
    """06 says nothing ran: resent with the same orderId + txnTime (a repeat would be 12)."""
    script = Script(step(respCode="06", respMsg="系统繁忙", **CONSUME), step(respCode="00"))
    with serve(script) as url:
        send(kind, url + "/gateway/api/backTransReq.do", CONSUME)
    assert len(script.seen) == 2
    assert script.seen[0].body == script.seen[1].body


# --- the query's original transaction ---------------------------------------------------


def query_answer(orig: str | None, message: str = "") -> payerr.RawResponse:
    fields = {"respCode": "00", "respMsg": "成功[0000000]", "queryId": "512209110416475616528"}
    if orig is not None:
        fields.update(origRespCode=orig, origRespMsg=message)
    url = "https://gateway.95516.com/gateway/api/queryTrans.do"
    return payerr.RawResponse(
        200, {}, form_answer(**fields, **QUERY), url, "POST", urlencode(QUERY).encode()
    )


@pytest.mark.parametrize(
    ("orig", "cls", "hint"),
    [
        ("01", payerr.BusinessError, H.NEVER),
        ("64", payerr.BusinessError, H.NEVER),
        ("38", payerr.RiskControlError, H.NEVER),
        ("65", payerr.InvalidRequestError, H.NEVER),
        ("03", payerr.PendingError, H.QUERY_FIRST),
        ("04", payerr.PendingError, H.QUERY_FIRST),
        ("05", payerr.PendingError, H.QUERY_FIRST),
    ],
)
def test_query_with_failing_original_is_that_failure(orig: str, cls: type, hint: H) -> None:
    """respCode=00 only says the query worked; origRespCode decides whether it was paid."""
    error = payerr.inspect(query_answer(orig, "原交易的应答[1234567]")).error
    assert isinstance(error, cls) and isinstance(error, payerr.UnionPayError)
    assert (error.code, error.retry, error.message) == (orig, hint, "原交易的应答[1234567]")
    assert error.request_id == "512209110416475616528"


@pytest.mark.parametrize("orig", ["00", "A6", None])
def test_query_with_paid_original_is_a_success(orig: str | None) -> None:
    """00 and A6 (a success with defects) are paid; a query without origRespCode is plain."""
    outcome = payerr.inspect(query_answer(orig, "成功[0000000]"))
    assert outcome.ok and outcome.data is not None
    assert outcome.data["signature"] == SIGNATURE  # the caller verifies it: not decoded


# --- the form reader ----------------------------------------------------------------------


def test_values_are_not_url_decoded() -> None:
    """+ / = in a signature, CR LF in a certificate, raw UTF-8: kept as sent."""
    data, problem = parse_form(form_answer(respCode="00", respMsg="成功[0000000]"))
    assert problem is None and data is not None
    assert data["signature"] == SIGNATURE
    assert data["signPubKeyCert"] == CERT
    assert data["respMsg"] == "成功[0000000]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a=1&b=x=y", {"a": "1", "b": "x=y"}),  # a value may hold '='
        ("a={k=v&z=w}&b=2", {"a": "{k=v&z=w}", "b": "2"}),  # braces keep '&'
        ("a=[1&2]&b=2", {"a": "[1&2]", "b": "2"}),
        ("a={open&b=2", {"a": "{open&b=2"}),  # unclosed: to the end, as the SDK
        ("a=1&a=2", {"a": "2"}),  # a repeated key keeps its last value, as the SDK's map
        ("a=&b", {"a": "", "b": ""}),
        ("=x&&b=1", {"b": "1"}),  # a pair without a name is skipped
        ("", {}),
    ],
)
def test_split_rule_is_the_sdks(text: str, expected: dict[str, str]) -> None:
    assert split_form(text) == expected


def test_duplicated_code_is_read_as_the_sdk_reads_it() -> None:
    """respCode twice: the last one counts, the same map the signature is checked on."""
    url = "https://gateway.95516.com/gateway/api/backTransReq.do"
    failing = form_answer(respCode="00") + b"&respCode=03"
    passing = b"respCode=03&" + form_answer(respCode="00")
    assert payerr.inspect(payerr.RawResponse(200, {}, failing, url)).error.code == "03"  # type: ignore[union-attr]
    assert payerr.inspect(payerr.RawResponse(200, {}, passing, url)).ok


@pytest.mark.parametrize("charset", ["gbk", "gb18030"])
@pytest.mark.parametrize("declared", [True, False])
def test_gbk_and_gb18030_bodies_are_read(charset: str, declared: bool) -> None:
    """encoding=GBK requests are answered in GBK; the header may or may not say so."""
    body = form_answer(encoding="GBK", respCode="64", respMsg="卡上的余额不足[6400001]")
    headers = {"content-type": f"text/html;charset={charset}"} if declared else {}
    raw = payerr.RawResponse(
        200, headers, body.decode().encode(charset), "https://gateway.95516.com/x"
    )
    error = payerr.inspect(raw).error
    assert isinstance(error, payerr.BusinessError)
    assert error.message == "卡上的余额不足[6400001]"


def test_no_truncation_of_an_uncertain_answer_reads_as_success() -> None:
    """Cut at every byte: a 03 answer is never a success, and nothing escapes untyped."""
    body = form_answer(respCode="03", respMsg="交易通讯超时，请发起查询交易[0300001]", **CONSUME)
    url = "https://gateway.95516.com/gateway/api/backTransReq.do"
    for end in range(len(body)):
        outcome = payerr.inspect(payerr.RawResponse(200, {}, body[:end], url, "POST"))
        assert not outcome.ok, body[:end]
        assert isinstance(outcome.error, payerr.PayError)


@pytest.mark.slow
@pytest.mark.parametrize(
    "piece", ["{", "[", "&", "=", "a{", "a=[", "k=v&", "&=", "{}", "a={}&", "é[", "\r\n"]
)
def test_hostile_shapes_parse_in_linear_time(piece: str) -> None:
    """body_cap bytes of any repeated shape parse in well under a second per MiB (a
    quadratic reader would take hours): every character is looked at once."""
    size = payerr.RetryPolicy().body_cap
    text = "respCode=00&x=" + piece * (size // len(piece.encode()))
    started = time.perf_counter()
    parse_form(text.encode())
    assert time.perf_counter() - started < 5.0  # generous: a busy 2-core machine


def _best_of_three(body: bytes) -> float:
    """Seconds to parse ``body``: the best of three (another process may have the CPU)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        parse_form(body)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize(
    "piece", ["a=b&", "accNo=1&", "&", "a&", "a=[]&", "a={x&y}&", "k=[v&", "=&"]
)
def test_a_mebibyte_of_pairs_is_read_within_100_ms(piece: str) -> None:
    """Many tiny pairs are the costly shape (a Python step per pair took ~360 ms per MiB):
    a mebibyte of them, bracketed or not, is read within the budget of every provider."""
    body = b"respCode=01&respMsg=" + piece.encode() * (1024 * 1024 // len(piece))
    assert _best_of_three(body) < 0.1


@pytest.mark.parametrize("value", ["b", "[b&c]"], ids=["plain", "bracketed"])
def test_a_form_of_more_pairs_than_an_answer_has_is_unreadable(value: str) -> None:
    """MAX_PAIRS pieces are read, one more is refused: never a success or a code read
    from a body that is not an answer (a respCode=00 past the limit cannot hide a 03)."""
    fields = "&".join(f"k{i}={value}" for i in range(MAX_PAIRS - 1))
    data, problem = parse_form(f"respCode=03&{fields}".encode())
    assert problem is None and data is not None
    assert data["respCode"] == "03" and len(data) == MAX_PAIRS
    body = f"respCode=03&{fields}&respCode=00".encode()
    assert parse_form(body) == (None, f"a form of more than {MAX_PAIRS:,} pairs is not an answer")
    url = "https://gateway.95516.com/gateway/api/backTransReq.do"
    outcome = payerr.inspect(payerr.RawResponse(200, {}, body, url, "POST"))
    assert not outcome.ok
    assert isinstance(outcome.error, payerr.MalformedResponseError)


def test_thousands_of_secret_named_fields_are_classified_fast_and_never_kept() -> None:
    """A form with 9,000 secret-named fields (each value masked in every spelling over the
    whole body took ~5 s per MiB): typed within 100 ms, no value kept in the error."""
    fields = "".join(f"k{i}_token=secret{i:06d}&" for i in range(9000))
    body = f"respCode=01&respMsg=x&{fields}pad=".encode()
    body += b"z" * (1024 * 1024 - len(body))
    raw = payerr.RawResponse(200, {}, body, "https://gateway.95516.com/gateway/api/x.do")
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        error = payerr.inspect(raw, provider="unionpay").error
        best = min(best, time.perf_counter() - started)
    assert isinstance(error, payerr.PayError) and error.code == "01"
    assert best < 0.1, f"{best * 1000:.0f} ms"
    kept = pickle.dumps(error) + repr(error).encode() + str(error).encode()
    assert b"secret000001" not in kept and b"secret008999" not in kept


_ANY = st.text(alphabet="ab=&{}[]é\r\n ", max_size=60)


@settings(max_examples=200)
@given(_ANY.filter(lambda text: "{" not in text and "[" not in text))
def test_both_readers_split_alike(text: str) -> None:
    """The split without brackets and the bracket-aware scan give the same pairs: a text
    that also holds an unclosed ``[`` (forcing the scan) reads the same, plus that key."""
    forced = split_form(text + "&\x00=[")
    assert forced.pop("\x00") == "["
    assert forced == split_form(text)


@pytest.mark.parametrize("kind", CLIENTS)
def test_huge_file_answer_passes_untouched(kind: str) -> None:
    """A file-transfer answer past body_cap (a large fileContent) is handed over byte for byte."""
    cap = payerr.RetryPolicy().body_cap
    body = form_answer(respCode="00", txnType="76", fileContent="eJzT0" * (cap // 4))
    with Gateway(answer("200 OK", body, "Content-Type: text/html")) as server:
        response = send(kind, server.url + "/", {"txnType": "76"})
        assert server.requests == 1
    assert response.content == body


@pytest.mark.parametrize("kind", CLIENTS)
def test_truncated_consumption_answer_is_query_first(kind: str) -> None:
    """The connection closes before Content-Length is reached, after a consumption."""
    body = form_answer(respCode="00", **CONSUME)
    cut = answer("200 OK", body, "Content-Type: text/html")[: -len(body) // 2]
    with Gateway(cut) as server, pytest.raises(payerr.PayError) as info:
        send(kind, server.url + "/gateway/api/backTransReq.do", CONSUME)
    assert server.requests == 1
    assert info.value.retry is H.QUERY_FIRST


@settings(max_examples=60)
@given(_ANY)
def test_any_text_splits_without_raising(text: str) -> None:
    assert all(isinstance(v, str) for v in split_form(text).values())


_KEYS = st.text(alphabet="abcdefgXYZ_", min_size=1, max_size=8)
_VALUES = st.text(alphabet=st.characters(blacklist_characters="&{["), max_size=20)


@settings(max_examples=60)
@given(st.lists(st.tuples(_KEYS, _VALUES), max_size=10))
def test_plain_pairs_come_back_as_written(pairs: list[tuple[str, str]]) -> None:
    """Values without & { [ (any '=', '+', '/', CR LF, Chinese) come back unchanged."""
    text = "&".join(f"{k}={v}" for k, v in pairs)
    assert split_form(text) == dict(pairs)


# --- secrets and catalog -------------------------------------------------------------------


def test_card_number_signature_and_certificate_never_surface() -> None:
    """The answer's own accNo, signature and signPubKeyCert, and the request's customerInfo
    echoed back, are masked in the error, its raw bytes, body and pickle."""
    card, info_value = (
        "6216261000000000018",
        "e2NlcnRpZlRwPTAxJmNlcnRpZklkPTM0MTIzNDE5OTAxMjEyMTIzNH0=",
    )
    request = urlencode({**CONSUME, "accNo": card, "customerInfo": info_value}).encode()
    body = form_answer(respCode="11", respMsg=f"验证签名失败 customerInfo={info_value}", accNo=card)
    raw = payerr.RawResponse(
        200, {}, body, "https://gateway.95516.com/gateway/api/backTransReq.do", "POST", request
    )
    error = payerr.inspect(raw).error
    assert isinstance(error, payerr.AuthError)
    shown = "\n".join(
        [str(error), repr(error), error.message, error.raw.decode(), repr(error.body),
         pickle.dumps(error).decode("latin-1")]
    )  # fmt: skip
    for secret in (
        card,
        info_value,
        SIGNATURE,
        CERT,
        "MIIEYzCCA0ugAwIBAgIFEDkwhTQw+DQYJ/KoZIhvcNAQEFBQAw",
    ):
        assert secret not in shown


DOCUMENTED = [
    *("01", "02", "03", "04", "05", "06", "10", "11", "12", "13", "14"),
    *(str(code) for code in range(30, 47)),
    *(str(code) for code in range(60, 84)),
    *(str(code) for code in range(85, 97)),
    *("98", "99"),
]


@pytest.mark.parametrize("code", DOCUMENTED)
def test_every_documented_code_is_in_the_catalog(code: str) -> None:
    """The whole respCode table of the 5.x specification, with its literal message."""
    info = payerr.explain("unionpay", code)
    assert info.provider_message and not info.ok


def test_success_codes_are_00_and_a6() -> None:
    assert payerr.explain("unionpay", "00").ok and payerr.explain("unionpay", "A6").ok


HOSTS = ["gateway.95516.com", "gateway.test.95516.com"]
HOSTS += ["filedownload.95516.com", "filedownload.test.95516.com"]


@pytest.mark.parametrize("host", HOSTS)
def test_documented_hosts_are_claimed(host: str) -> None:
    from payerr._catalog.registry import catalog

    assert catalog().provider_for_host(host) == "unionpay"


# --- the sandbox's fake gateway -----------------------------------------------------------


@pytest.fixture(scope="module")
def _gateway_sandbox() -> Iterator[Any]:
    from payerr.sandbox import Sandbox

    with Sandbox() as running:
        yield running


@pytest.fixture
def gateway(_gateway_sandbox: Any) -> Any:
    """One sandbox for the module, with no faults, ledger or hits left from earlier tests."""
    _gateway_sandbox.reset()
    _gateway_sandbox.route_hits.clear()
    return _gateway_sandbox


def _gateway_form(txn: str, order: str) -> dict[str, str]:
    return {
        "txnType": txn,
        "txnSubType": "01" if txn == "01" else "00",
        "bizType": "000201",
        "merId": "777290058110048",
        "orderId": order,
        "txnTime": "20240102103015",
        "txnAmt": "990",
        "origQryId": "782401021030155012345",
    }


@pytest.mark.parametrize(
    ("path", "txn"),
    [("backTransReq.do", "01"), ("backTransReq.do", "04"), ("backTransReq.do", "31"),
     ("queryTrans.do", "00")],
)  # fmt: skip
def test_sandbox_answers_are_signed_forms_a_client_verifies(
    path: str, txn: str, signed_sandbox: Any
) -> None:
    """consume, refund, void and query: form answers whose signature checks out."""
    from payerr.sandbox._unionpay import verify

    transport = payerr.Transport(provider="unionpay")
    with httpx.Client(transport=transport, base_url=signed_sandbox.url) as client:
        response = client.post(f"/gateway/api/{path}", data=_gateway_form(txn, "S-1"))
    fields, problem = parse_form(response.content)
    assert problem is None and fields is not None
    assert payerr.inspect(response).ok and fields["respCode"] == "00"
    assert verify(fields)
    assert not verify({**fields, "respCode": "03"})  # a changed field no longer verifies


@pytest.mark.parametrize("kind", CLIENTS)
def test_sandbox_consumption_that_ran_then_said_03_is_not_resent(kind: str, gateway: Any) -> None:
    """Scripted "03!": the sandbox charges, then answers 03; payerr sends it once."""
    order = f"S-2-{kind}"
    gateway.script("unionpay.consume", ["03!"])
    with pytest.raises(payerr.PendingError) as info:
        send(kind, gateway.url + "/gateway/api/backTransReq.do", _gateway_form("01", order))
    assert gateway.ledger.requests("orderId", order) == 1
    assert gateway.ledger.executions("orderId", order) == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.mark.parametrize("kind", CLIENTS)
def test_sandbox_busy_and_repeat(kind: str, gateway: Any) -> None:
    """06 is retried with the same order, which runs once; sending it again is 12."""
    order = f"S-3-{kind}"
    gateway.script("unionpay.consume", ["06", "ok"])
    url = gateway.url + "/gateway/api/backTransReq.do"
    assert payerr.inspect(send(kind, url, _gateway_form("01", order))).ok
    with pytest.raises(payerr.ConflictError) as info:
        send(kind, url, _gateway_form("01", order))
    assert gateway.ledger.executions("orderId", order) == 1
    assert gateway.ledger.duplicates() == []
    assert info.value.code == "12"


@pytest.mark.parametrize("code", ["03", "06", "12", "34", "64"])
def test_testing_fakes_answer_in_form(code: str) -> None:
    """payerr.testing builds a UnionPay answer as the gateway writes it, read back the same."""
    status, headers, body = testing.provider_answer("unionpay", code)
    assert b"respCode=" + code.encode() in body and not body.startswith(b"{")
    url = "https://gateway.95516.com/gateway/api/backTransReq.do"
    error = payerr.inspect(payerr.RawResponse(status, headers, body, url)).error
    assert error is not None and error.code == code
    assert error.category is payerr.explain("unionpay", code).category


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("fault", ["reset", "reset!", "html502", "truncated"])
def test_sandbox_faults_on_a_consumption_are_queried_first(
    kind: str, fault: str, gateway: Any
) -> None:
    """A fault after a consumption was sent: one request, QUERY_FIRST, at most one charge."""
    order = f"F-1-{kind}-{fault}"
    gateway.script("unionpay.consume", [fault, "ok"])
    with pytest.raises(payerr.PayError) as info:
        send(kind, gateway.url + "/gateway/api/backTransReq.do", _gateway_form("01", order))
    assert gateway.ledger.requests("orderId", order) == 1
    assert info.value.retry is H.QUERY_FIRST


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("fault", ["reset", "html502", "truncated", "06", "gbk"])
def test_sandbox_faults_on_a_query_are_asked_again(kind: str, fault: str, gateway: Any) -> None:
    """A query is a read: after any of these it is simply asked again, and answers
    (a GBK answer labelled UTF-8 is read at once)."""
    gateway.script("unionpay.query", [fault, "ok"])
    response = send(kind, gateway.url + "/gateway/api/queryTrans.do", _gateway_form("00", "F-2"))
    assert gateway.route_hits["unionpay.query"] == (1 if fault == "gbk" else 2)
    assert payerr.inspect(response).data["origRespCode"] == "00"  # type: ignore[index]
