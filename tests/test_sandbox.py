"""The sandbox over real sockets: provider envelopes, faults, ledger, tokens, commands."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

import payerr
from payerr import testing
from payerr.sandbox import Sandbox


@pytest.fixture(autouse=True)
def instant() -> Iterator[list[float]]:
    with testing.instant_sleeps() as sleeps:
        yield sleeps


def gateway(url: str, method: str, **biz: str) -> httpx.Response:
    form = {"method": method, "biz_content": json.dumps(biz)}
    return httpx.post(url + "/gateway.do", data=form)


def test_starts_on_a_free_loopback_port_and_stops(sandbox: Sandbox) -> None:
    """The sandbox listens on 127.0.0.1 and answers its ledger route."""
    assert sandbox.url.startswith("http://127.0.0.1:")
    assert httpx.get(sandbox.url + "/_sandbox/ledger").json()["duplicates"] == []


def test_alipay_answers_in_its_envelope(sandbox: Sandbox) -> None:
    """A scripted code comes back as Alipay's `<method>_response` with sub_code."""
    sandbox.script("alipay.trade.query", ["ACQ.TRADE_NOT_EXIST"])
    reply = gateway(sandbox.url, "alipay.trade.query", out_trade_no="N1")
    node = reply.json()["alipay_trade_query_response"]
    assert (node["code"], node["sub_code"]) == ("40004", "ACQ.TRADE_NOT_EXIST")
    assert "trace_id" in reply.headers
    error = payerr.inspect(reply, provider="alipay").error
    assert isinstance(error, payerr.NotFoundError)


def test_alipay_v3_route(sandbox: Sandbox) -> None:
    """The v3 route answers HTTP 400 with {code, message} and alipay-trace-id."""
    reply = httpx.post(sandbox.url + "/v3/alipay/trade/query", json={"out_trade_no": "none"})
    assert reply.status_code == 400
    assert reply.json()["code"] == "ACQ.TRADE_NOT_EXIST"
    error = payerr.inspect(reply, provider="alipay").error
    assert isinstance(error, payerr.NotFoundError)
    assert error.request_id == reply.headers["alipay-trace-id"]


def test_scripted_sequence_then_normal(sandbox: Sandbox) -> None:
    """A script of 20000, 20000, ok is played in order, then the route behaves."""
    sandbox.script("alipay.trade.pay", "20000,20000,ok")
    codes = [
        gateway(sandbox.url, "alipay.trade.pay", out_trade_no=f"S{i}").json()[
            "alipay_trade_pay_response"
        ]["code"]
        for i in range(4)
    ]
    assert codes == ["20000", "20000", "10000", "10000"]


@pytest.mark.parametrize(
    ("step", "check"),
    [
        ("html502", lambda r: r.status_code == 502 and b"nginx" in r.content),
        ("retry_after=3", lambda r: r.status_code == 429 and r.headers["retry-after"] == "3"),
        ("gbk", lambda r: r.content.decode("gbk").startswith("{")),
        ("truncated", lambda r: not r.content.endswith(b"}")),
        ("empty", lambda r: r.content == b""),
        ("big=100000", lambda r: len(r.content) >= 100000),
    ],
)
def test_fault_steps(sandbox: Sandbox, step: str, check) -> None:
    """Each fault step shapes the answer as documented."""
    gateway(sandbox.url, "alipay.trade.pay", out_trade_no="F1")
    sandbox.script("alipay.trade.query", [step])
    assert check(gateway(sandbox.url, "alipay.trade.query", out_trade_no="F1"))


def test_reset_drops_the_connection(sandbox: Sandbox) -> None:
    """A reset step closes the connection with no answer."""
    sandbox.script("alipay.trade.query", ["reset"])
    with pytest.raises(httpx.TransportError):
        gateway(sandbox.url, "alipay.trade.query", out_trade_no="R1")


def test_ledger_counts_requests_and_executions(sandbox: Sandbox) -> None:
    """A refund repeated with one out_request_no is executed once, seen three times."""
    gateway(sandbox.url, "alipay.trade.pay", out_trade_no="L1", total_amount="5")
    for _ in range(3):
        gateway(
            sandbox.url,
            "alipay.trade.refund",
            out_trade_no="L1",
            refund_amount="1",
            out_request_no="L1-1",
        )
    row = httpx.get(sandbox.url + "/_sandbox/ledger").json()["ledger"]["out_request_no"]["L1-1"]
    assert row == {"requests": 3, "executions": 1}
    assert sandbox.ledger.executions("out_request_no", "L1-1") == 1


def test_execute_then_fail_is_recorded(sandbox: Sandbox) -> None:
    """`20000!` charges first, then answers 20000: one execution the client cannot see."""
    sandbox.script("alipay.trade.pay", ["20000!"])
    reply = gateway(sandbox.url, "alipay.trade.pay", out_trade_no="X1")
    assert reply.json()["alipay_trade_pay_response"]["code"] == "20000"
    assert sandbox.ledger.executions("out_trade_no", "X1") == 1


def test_wechat_new_token_voids_the_old(sandbox: Sandbox) -> None:
    """Fetching a WeChat token again makes the previous one answer 40001."""
    first = httpx.get(sandbox.url + "/cgi-bin/token").json()["access_token"]
    second = httpx.get(sandbox.url + "/cgi-bin/token").json()["access_token"]
    send = sandbox.url + "/cgi-bin/message/custom/send"
    assert httpx.post(send, params={"access_token": first}, json={}).json()["errcode"] == 40001
    assert httpx.post(send, params={"access_token": second}, json={}).json()["errcode"] == 0


def test_random_faults_are_reproducible() -> None:
    """The same seed injects the same faults."""
    runs = []
    for _ in range(2):
        # One client per run: a new one per request would build an SSL context each time.
        with Sandbox() as sandbox, httpx.Client(base_url=sandbox.url) as http:
            sandbox.random_faults(0.5, seed=42)
            token = http.get("/cgi-bin/token").json()["access_token"]
            runs.append(
                [
                    http.get("/cgi-bin/user/info", params={"access_token": token})
                    .json()
                    .get("errcode", 0)
                    for _ in range(20)
                ]
            )
    assert runs[0] == runs[1]
    assert -1 in runs[0] and 0 in runs[0]


def test_control_api_over_http(sandbox: Sandbox) -> None:
    """Scripts and faults can be set over HTTP, for clients in other languages."""
    httpx.post(sandbox.url + "/_sandbox/script", json={"route": "cmi.token", "steps": ["429"]})
    assert httpx.post(sandbox.url + "/aep/APP_getAccessToken_SBO/v1", json={}).status_code == 429
    assert httpx.post(sandbox.url + "/_sandbox/reset").json() == {"ok": True}


@pytest.mark.slow  # a subprocess
def test_sandbox_command_serves_until_stopped() -> None:
    """`payerr sandbox --port 0 --script ...` serves, and stops cleanly on SIGTERM."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "payerr",
            "sandbox",
            "--port",
            "0",
            "--script",
            "alipay.trade.query=ACQ.TRADE_NOT_EXIST",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[4]
        reply = gateway(url, "alipay.trade.query", out_trade_no="C1")
        assert reply.json()["alipay_trade_query_response"]["sub_code"] == "ACQ.TRADE_NOT_EXIST"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        if process.stdout is not None:
            process.stdout.close()
    assert code == 0


@pytest.mark.slow  # a subprocess running every scenario
def test_demo_command() -> None:
    """`payerr demo` runs every scenario, shows the ledger, and exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "payerr", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "duplicate executions: 0" in result.stdout
    assert "all scenarios behaved" in result.stdout
    assert "UNEXPECTED" not in result.stdout
