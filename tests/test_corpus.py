"""405 responses shaped after each provider's documented wire format, read every way payerr reads.

The cases live in tests/corpus/<provider>.toml, each citing the doc page or
public SDK fixture its shape comes from. Each one is read by ``inspect``, by
``raise_for_response``, and through the three clients' middleware.
"""

from __future__ import annotations

import asyncio
import base64
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import responses

import payerr
from support import aiohttp_client
from support.loopback import Script, Step, serve

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Case:
    id: str
    provider: str
    source: str
    url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    request: bytes = b""
    ok: bool = True
    code: str | None = None
    sub_code: str | None = None
    category: str | None = None

    def raw(self) -> payerr.RawResponse:
        return payerr.RawResponse(
            self.status, self.headers, self.body, self.url, self.method, self.request
        )


def _load(path: Path) -> list[Case]:
    cases = []
    for item in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
        if "body_b64" in item:
            body = base64.b64decode(item["body_b64"])
        else:
            body = item.get("body", "").encode(item.get("body_encoding", "utf-8"))
        cases.append(
            Case(
                id=item["id"],
                provider=path.stem,
                source=item["source"],
                url=item["url"],
                status=item["status"],
                body=body,
                headers=dict(item.get("headers", {})),
                method=item.get("method", "POST"),
                request=item.get("request", "").encode(),
                ok=item["expect_ok"],
                code=item.get("expect_code"),
                sub_code=item.get("expect_sub_code"),
                category=item.get("expect_category"),
            )
        )
    return cases


CASES = [case for path in sorted(CORPUS.glob("*.toml")) for case in _load(path)]
PARAMS = [pytest.param(case, id=case.id) for case in CASES]


def test_corpus_is_broad() -> None:
    """At least 300 shapes, 50 per provider, every one citing its source, ids unique."""
    assert len(CASES) >= 300
    for provider in payerr.PROVIDERS:
        assert sum(case.provider == provider for case in CASES) >= 50, provider
    assert all(case.source for case in CASES)
    assert len({case.id for case in CASES}) == len(CASES)


def check(case: Case, outcome: payerr.Outcome) -> None:
    """The outcome says what the provider meant."""
    if case.ok:
        assert outcome.ok, repr(outcome.error)
        return
    error = outcome.error
    assert isinstance(error, payerr.PayError), f"passed as a success: {case.source}"
    assert error.provider == case.provider
    if case.code is not None:
        assert error.code == case.code
    if case.sub_code is not None:
        assert error.sub_code == case.sub_code
    if case.category is not None:
        assert error.category.value == case.category, repr(error)


@pytest.mark.parametrize("case", PARAMS)
def test_inspect_reads_it(case: Case) -> None:
    """inspect() by host: the provider's meaning, whatever the shape."""
    check(case, payerr.inspect(case.raw()))


@pytest.mark.parametrize("case", PARAMS)
def test_raise_for_response_agrees(case: Case) -> None:
    """raise_for_response() returns the data on success and raises the same error otherwise."""
    if case.ok:
        assert isinstance(payerr.raise_for_response(case.raw()), dict)
        return
    with pytest.raises(payerr.PayError) as info:
        payerr.raise_for_response(case.raw())
    assert info.value.code == payerr.inspect(case.raw()).error.code  # type: ignore[union-attr]


ONE_TRY = payerr.RetryPolicy(max_attempts=1, raise_errors=False)
# aiohttp reads every case in the slow tier; the fast tier, the first three of each provider.
_SAMPLED = {c.id for p in payerr.PROVIDERS for c in [c for c in CASES if c.provider == p][:3]}
AIOHTTP_PARAMS = [
    pytest.param(case, id=case.id, marks=() if case.id in _SAMPLED else pytest.mark.slow)
    for case in CASES
]


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[tuple[Script, str]]:
    """One loopback server for every case: each test sets the answer it gives."""
    script = Script(Step())
    with serve(script) as base:
        yield script, base


def _wire_headers(headers: dict[str, str]) -> dict[str, str]:
    """The case's headers as a server sends them (the server sets length and connection)."""
    skip = {"content-length", "connection", "transfer-encoding"}
    return {k.title(): v for k, v in headers.items() if k.lower() not in skip}


def _answer(case: Case) -> httpx.Response:
    return httpx.Response(case.status, headers=case.headers, content=case.body)


def _content(case: Case) -> bytes | None:
    return None if case.method == "GET" else (case.request or b"{}")


@pytest.mark.parametrize("case", PARAMS)
def test_httpx_transport_reads_it(case: Case) -> None:
    """Through payerr.Transport: the same reading, the body handed over byte for byte."""
    inner = httpx.MockTransport(lambda request: _answer(case))
    with httpx.Client(transport=payerr.Transport(inner, policy=ONE_TRY)) as client:
        response = client.request(case.method, case.url, content=_content(case))
    assert response.content == case.body
    check(case, payerr.inspect(response))


@pytest.mark.parametrize("case", PARAMS)
def test_httpx_async_transport_reads_it(case: Case) -> None:
    """Through payerr.AsyncTransport."""

    async def go() -> httpx.Response:
        inner = httpx.MockTransport(lambda request: _answer(case))
        transport = payerr.AsyncTransport(inner, policy=ONE_TRY)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.request(case.method, case.url, content=_content(case))

    response = asyncio.run(go())
    assert response.content == case.body
    check(case, payerr.inspect(response))


@pytest.mark.parametrize("case", AIOHTTP_PARAMS)
def test_aiohttp_middleware_reads_it(case: Case, corpus_server: Any) -> None:
    """Through payerr.AiohttpMiddleware, from a loopback server that answers as the provider."""
    server, base = corpus_server
    server.steps = [Step(case.status, case.body, _wire_headers(case.headers))]
    where = case.url.partition("://")[2].partition("/")[2]
    response = aiohttp_client.send(
        case.method, f"{base}/{where}", provider=case.provider, policy=ONE_TRY, data=_content(case)
    )
    assert response.content == case.body
    check(case, payerr.inspect(response))


@pytest.mark.parametrize("case", PARAMS)
@responses.activate
def test_requests_adapter_reads_it(case: Case) -> None:
    """Through payerr.RequestsAdapter (faked with responses)."""
    responses.add(
        case.method,
        case.url,
        body=case.body,
        status=case.status,
        headers={k: v for k, v in case.headers.items() if k.lower() != "content-type"},
        content_type=case.headers.get("content-type", case.headers.get("Content-Type")),
        auto_calculate_content_length=True,
    )
    with requests.Session() as session:
        session.mount("https://", payerr.RequestsAdapter(policy=ONE_TRY))
        response: Any = session.request(case.method, case.url, data=_content(case))
    assert response.content == case.body
    check(case, payerr.inspect(response))
