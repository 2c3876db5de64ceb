"""payerr.otel: exact counts from real requests to the sandbox, and no cost while it is off."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import payerr
import payerr.otel
from payerr import testing
from payerr._engine import telemetry as _telemetry
from payerr.sandbox import Sandbox

KINDS = ["httpx", "httpx-async", "requests"]


@dataclass
class Telemetry:
    reader: InMemoryMetricReader
    spans: InMemorySpanExporter
    tracer: Any

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """Every data point of one instrument: (attributes, point), in a stable order."""
        found: list[tuple[dict[str, Any], Any]] = []
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found += [(dict(p.attributes or {}), p) for p in metric.data.data_points]
        return sorted(found, key=lambda item: sorted(item[0].items()))

    def counts(self, name: str) -> list[tuple[dict[str, Any], int]]:
        return [(attributes, point.value) for attributes, point in self.points(name)]


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    """payerr instrumented into an in-memory SDK for the test, switched off after."""
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    spans = InMemorySpanExporter()
    tracers = TracerProvider()
    tracers.add_span_processor(SimpleSpanProcessor(spans))
    payerr.otel.instrument(meter_provider=meters)
    try:
        yield Telemetry(reader, spans, tracers.get_tracer("checkout"))
    finally:
        payerr.otel.uninstrument()
        meters.shutdown()
        tracers.shutdown()


@pytest.fixture(autouse=True)
def instant() -> Iterator[list[float]]:
    with testing.instant_sleeps() as sleeps:
        yield sleeps


QUERY = {"method": "alipay.trade.query", "biz_content": json.dumps({"out_trade_no": "T1"})}


def query(kind: str, url: str, **policy: Any) -> int:
    """One alipay.trade.query through a new payerr-wrapped client; the HTTP status it ended with."""
    options: dict[str, Any] = {"provider": "alipay", "policy": payerr.RetryPolicy(**policy)}
    if kind == "requests":
        with requests.Session() as session:
            session.mount("http://", payerr.RequestsAdapter(**options))
            return session.post(url + "/gateway.do", data=QUERY, timeout=5).status_code
    if kind == "httpx":
        with httpx.Client(transport=payerr.Transport(**options), timeout=5) as client:
            return client.post(url + "/gateway.do", data=QUERY).status_code

    async def go() -> int:
        transport = payerr.AsyncTransport(**options)
        async with httpx.AsyncClient(transport=transport, timeout=5) as client:
            return (await client.post(url + "/gateway.do", data=QUERY)).status_code

    return asyncio.run(go())


@pytest.fixture
def trade(sandbox: Sandbox) -> Sandbox:
    """A sandbox holding order T1, paid outside payerr (so nothing is counted)."""
    biz = json.dumps({"out_trade_no": "T1", "total_amount": "9.00"})
    httpx.post(sandbox.url + "/gateway.do", data={"method": "alipay.trade.pay", "biz_content": biz})
    return sandbox


ALIPAY_OK = {"payerr.provider": "alipay", "payerr.outcome": "ok"}
ALIPAY_ERROR = {"payerr.provider": "alipay", "payerr.outcome": "error"}
UNAVAILABLE_20000 = {
    "payerr.provider": "alipay",
    "payerr.category": "unavailable",
    "payerr.code": "20000",
    "payerr.hint": "backoff",
}


@pytest.mark.parametrize("kind", KINDS)
def test_one_retry_is_two_attempts_one_retry_one_error(
    kind: str, trade: Sandbox, otel: Telemetry, instant: list[float]
) -> None:
    """Alipay 20000 then success: 2 attempts, 1 retry and 1 error with code 20000, and a
    payerr.retry event on the caller's span; the same from every client."""
    trade.script("alipay.trade.query", ["20000", "ok"])
    with otel.tracer.start_as_current_span("checkout"):
        assert query(kind, trade.url) == 200
    assert otel.counts("payerr.attempts") == [(ALIPAY_ERROR, 1), (ALIPAY_OK, 1)]
    assert otel.counts("payerr.retries") == [(UNAVAILABLE_20000, 1)]
    assert otel.counts("payerr.errors") == [(UNAVAILABLE_20000, 1)]
    [span] = otel.spans.get_finished_spans()
    [event] = span.events
    attributes = dict(event.attributes or {})
    delay = attributes.pop("payerr.delay")
    assert event.name == "payerr.retry"
    assert attributes == {**UNAVAILABLE_20000, "payerr.attempt": 1, "payerr.refresh": False}
    assert [delay] == instant  # the delay slept, drawn with full jitter


def test_an_error_that_is_not_retried(trade: Sandbox, otel: Telemetry) -> None:
    """A definite answer: one attempt, one error (with its sub_code), no retry."""
    trade.script("alipay.trade.query", ["ACQ.TRADE_NOT_EXIST"])
    with pytest.raises(payerr.NotFoundError):
        query("httpx", trade.url)
    assert otel.counts("payerr.attempts") == [(ALIPAY_ERROR, 1)]
    assert otel.counts("payerr.retries") == []
    assert otel.counts("payerr.errors") == [
        (
            {
                "payerr.provider": "alipay",
                "payerr.category": "not_found",
                "payerr.code": "40004",
                "payerr.sub_code": "ACQ.TRADE_NOT_EXIST",
                "payerr.hint": "never",
            },
            1,
        )
    ]


def test_attempts_run_out(trade: Sandbox, otel: Telemetry, instant: list[float]) -> None:
    """Three 20000s with max_attempts=3: 3 attempts, 3 errors, 2 retries, 2 sleeps."""
    trade.script("alipay.trade.query", ["20000", "20000", "20000"])
    with pytest.raises(payerr.ServiceUnavailableError):
        query("httpx-async", trade.url, max_attempts=3)
    assert otel.counts("payerr.attempts") == [(ALIPAY_ERROR, 3)]
    assert otel.counts("payerr.errors") == [(UNAVAILABLE_20000, 3)]
    assert otel.counts("payerr.retries") == [(UNAVAILABLE_20000, 2)]
    assert len(instant) == 2


def test_no_span_no_event(trade: Sandbox, otel: Telemetry) -> None:
    """Without a current span the retry is still counted, and nothing else breaks."""
    trade.script("alipay.trade.query", ["20000", "ok"])
    assert query("requests", trade.url) == 200
    assert otel.counts("payerr.retries") == [(UNAVAILABLE_20000, 1)]
    assert otel.spans.get_finished_spans() == ()


def test_token_refreshes(sandbox: Sandbox, otel: Telemetry) -> None:
    """The first fetch and the refresh a 40001 asks for are both counted; the 40001 is an
    error, a retry with hint refresh_credentials, and a span event with refresh=True."""

    def fetch() -> str:
        params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
        return str(httpx.get(sandbox.url + "/cgi-bin/token", params=params).json()["access_token"])

    transport = payerr.Transport(provider="wechat", credentials=payerr.QueryParamToken(fetch))
    with httpx.Client(base_url=sandbox.url, transport=transport) as client:
        assert client.post("/cgi-bin/message/custom/send", json={}).json()["errcode"] == 0
        sandbox.revoke_tokens("wechat")
        with otel.tracer.start_as_current_span("notify"):
            assert client.post("/cgi-bin/message/custom/send", json={}).json()["errcode"] == 0
    assert otel.counts("payerr.token.refreshes") == [
        ({"payerr.provider": "wechat", "payerr.code": "40001"}, 1),
        ({"payerr.provider": "wechat"}, 1),
    ]
    auth = {
        "payerr.provider": "wechat",
        "payerr.category": "auth",
        "payerr.code": "40001",
        "payerr.hint": "refresh_credentials",
    }
    assert otel.counts("payerr.retries") == [(auth, 1)]
    assert otel.counts("payerr.attempts") == [
        ({"payerr.provider": "wechat", "payerr.outcome": "error"}, 1),
        ({"payerr.provider": "wechat", "payerr.outcome": "ok"}, 2),
    ]
    [span] = otel.spans.get_finished_spans()
    assert [(e.name, e.attributes["payerr.refresh"]) for e in span.events] == [
        ("payerr.retry", True)
    ]


def test_cooldown_wait_is_measured(trade: Sandbox, otel: Telemetry) -> None:
    """A 429 with Retry-After: 10 holds the host: the next request waits about 10 s for it
    (recorded once), while the request that was limited waits as its own retry delay."""
    trade.script("alipay.trade.query", ["retry_after=10", "ok", "ok"])
    with httpx.Client(transport=payerr.Transport(provider="alipay")) as client:
        assert client.post(trade.url + "/gateway.do", data=QUERY).status_code == 200
        assert otel.points("payerr.cooldown.wait") == []
        assert client.post(trade.url + "/gateway.do", data=QUERY).status_code == 200
    [(attributes, point)] = otel.points("payerr.cooldown.wait")
    assert attributes == {"payerr.provider": "alipay"}
    assert point.count == 1
    assert 5.0 < point.sum <= 10.0  # what was left of the cooldown, slept instantly
    assert otel.counts("payerr.attempts") == [(ALIPAY_ERROR, 1), (ALIPAY_OK, 2)]


def test_a_request_held_back_is_an_error_not_an_attempt(trade: Sandbox, otel: Telemetry) -> None:
    """Retry-After: 120 is over max_retry_after: the first request fails; the second is
    held back by the cooldown it started and never sent, but its caller still got an error."""
    trade.script("alipay.trade.query", ["retry_after=120"])
    with httpx.Client(transport=payerr.Transport(provider="alipay")) as client:
        for _ in range(2):
            with pytest.raises(payerr.RateLimitError):
                client.post(trade.url + "/gateway.do", data=QUERY)
    assert trade.route_hits["alipay.trade.query"] == 1
    assert otel.counts("payerr.attempts") == [(ALIPAY_ERROR, 1)]
    [(attributes, errors)] = otel.counts("payerr.errors")
    assert (attributes["payerr.category"], errors) == ("rate_limited", 2)
    assert otel.counts("payerr.retries") == []


def test_uninstrument_stops_reporting(trade: Sandbox, otel: Telemetry) -> None:
    """After uninstrument() the engine's switch is off again and nothing more is counted."""
    assert query("httpx", trade.url) == 200
    payerr.otel.uninstrument()
    assert _telemetry.hook is None
    trade.script("alipay.trade.query", ["20000", "ok"])
    assert query("httpx", trade.url) == 200
    assert otel.counts("payerr.attempts") == [(ALIPAY_OK, 1)]
    assert otel.counts("payerr.retries") == []


OFF = """
import sys, httpx, payerr
from payerr import testing

replies = iter([{"errcode": -1, "errmsg": "busy"}, {"errcode": 0}])
mock = httpx.MockTransport(lambda request: httpx.Response(200, json=next(replies)))
with testing.instant_sleeps():
    with httpx.Client(transport=payerr.Transport(mock, provider="wechat")) as client:
        assert client.get("https://api.weixin.qq.com/cgi-bin/user/info").json()["errcode"] == 0
from payerr._engine import telemetry as _telemetry
assert _telemetry.hook is None
print(sorted(name for name in sys.modules if name.split(".")[0] == "opentelemetry"))
"""


@pytest.mark.slow  # a fresh interpreter
def test_nothing_imports_opentelemetry_while_it_is_off() -> None:
    """A retried request with telemetry off never loads OpenTelemetry: no cost to pay."""
    result = subprocess.run(
        [sys.executable, "-c", OFF], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


GLOBAL = """
import httpx, payerr, payerr.otel
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from payerr import testing

payerr.otel.instrument()
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
mock = httpx.MockTransport(lambda request: httpx.Response(200, json={"errcode": 0}))
with testing.instant_sleeps():
    with httpx.Client(transport=payerr.Transport(mock, provider="wechat")) as client:
        client.get("https://api.weixin.qq.com/cgi-bin/user/info")
[resource] = reader.get_metrics_data().resource_metrics
[scope] = resource.scope_metrics
[metric] = scope.metrics
[point] = metric.data.data_points
print(scope.scope.name, metric.name, point.value)
"""


@pytest.mark.slow  # a fresh interpreter
def test_the_global_provider_may_be_set_after_instrument() -> None:
    """instrument() before the application sets its global MeterProvider still reports."""
    result = subprocess.run(
        [sys.executable, "-c", GLOBAL], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["payerr", "payerr.attempts", "1"]
