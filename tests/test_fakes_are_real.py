"""``payerr.testing`` fakes are the real answer: for every entry of every adapter (codes,
sub_codes alone and under their parent, HTTP-status entries, success codes, per-API
rules), in every envelope the adapter declares, the fake and the wire shape the
adapter's envelope describes read back identically: class, category, code, sub_code,
hint, ``known`` and whether it is retried. Data-driven: a new adapter file is covered
as it is, a ``load_adapter`` provider too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

import httpx
import pytest

import payerr
from payerr import testing
from payerr._catalog.envelopes import Envelope
from payerr._catalog.model import ProviderSpec
from payerr._catalog.registry import catalog

EXAMPLE = Path(__file__).parent.parent / "examples" / "adapters" / "stripe.toml"
CALL = "payerr.fake.call"
"""The API a node envelope is answered for when an entry names none."""


@pytest.fixture(scope="module", autouse=True)
def example_provider() -> Iterator[None]:
    """A provider loaded with ``payerr.load_adapter``: covered like the shipped ones."""
    from payerr._catalog import registry as _catalog

    payerr.load_adapter(EXAMPLE, replace_existing=True)
    yield
    _catalog._catalog = None


def providers() -> list[str]:
    return [*payerr.PROVIDERS, "stripe"]


class Case(NamedTuple):
    code: str
    sub_code: str | None
    api: str | None


def _concrete(glob: str) -> str:
    """One name a glob matches: an API method, or a URL path (always from the root)."""
    if "/" in glob:
        glob = "/" + glob.lstrip("*/")
    return glob.replace("*", "x").replace("?", "x")


def cases(spec: ProviderSpec) -> Iterator[Case]:
    """Every entry a person may fake: codes, sub_codes (alone and under their parent),
    HTTP statuses, success codes, and each per-API rule's APIs."""
    for code, info in spec.codes.items():
        yield Case(code, None, None)
        for rule in info.rules:
            for method in rule.methods:
                yield Case(code, None, _concrete(method))
    for sub, info in spec.sub_codes.items():
        yield Case(info.code, sub, None)
        yield Case(sub, None, None)
        for rule in info.rules:
            for method in rule.methods:
                yield Case(info.code, sub, _concrete(method))
    for status in spec.statuses:
        if str(status) not in spec.codes:
            yield Case(str(status), None, None)
    for code in spec.success:
        yield Case(code, None, None)


# --- the wire shape an envelope declares, built from its declaration alone ---------------


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _by_status(spec: ProviderSpec, case: Case) -> bool:
    """An HTTP-status entry: the answer is the status itself, not an envelope."""
    code = case.code
    return (
        case.sub_code is None
        and code.isdigit()
        and int(code) in spec.statuses
        and code not in spec.codes
        and code not in spec.success
    )


_WIRE_STATUS = {"rate_limited": 429, "unavailable": 503, "auth": 401, "not_found": 404}


def wire(
    spec: ProviderSpec, envelope: Envelope, case: Case, text: str
) -> tuple[int, dict[str, str], bytes]:
    """The answer as the envelope declares it: code, sub-code and message at their first
    declared paths, inside the node, in the envelope's format and HTTP status."""
    info = spec.find(case.code, case.sub_code)
    assert info is not None
    if _by_status(spec, case):
        status = int(case.code)
        return status, {}, b"" if status < 400 else b"<html>gateway error</html>"
    code, sub_code = case.code, case.sub_code
    lone = sub_code is None and code not in spec.codes and code in spec.sub_codes
    if lone and envelope.sub_code:
        code, sub_code = info.code, code
    elif sub_code and not envelope.sub_code:  # the envelope carries one code: the specific one
        code, sub_code = sub_code, None
    fields: dict[str, Any] = {}
    _put(fields, envelope.code[0], code)
    if envelope.message:
        _put(fields, envelope.message[0], text)
    if sub_code and envelope.sub_code:
        _put(fields, envelope.sub_code[0], sub_code)
    status = 200
    if envelope.status_decides and info.category is not None:
        status = _WIRE_STATUS.get(info.category.value, 400)
        if info.category.value == "pending" and envelope.pending_statuses:
            status = envelope.pending_statuses[0]
    if envelope.format == "xml":
        items = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
        return status, {"Content-Type": "text/xml"}, f"<xml>{items}</xml>".encode()
    if envelope.format == "form":
        body = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return status, {"Content-Type": "text/plain"}, body.encode()
    if envelope.node:
        api = case.api if case.api and not case.api.startswith("/") else CALL
        fields = {
            envelope.node.replace("*", api.replace(".", "_")).replace(
                "_response_response", "_response"
            ): fields
        }
    return status, {"Content-Type": "application/json"}, json.dumps(fields).encode()


def _where(envelope: Envelope, case: Case) -> tuple[str, str | None]:
    """(URL path, api for the fake) of an answer in this envelope."""
    if case.api and case.api.startswith("/"):
        return case.api, case.api
    path = _concrete(envelope.paths[0]) if envelope.paths else "/gateway"
    if envelope.node:
        return path, case.api or CALL
    return path, path


# --- reading back ------------------------------------------------------------------------


def reading(provider: str, answer: tuple[int, dict[str, str], bytes], path: str) -> tuple:
    status, headers, body = answer
    url = "https://provider.invalid" + path
    outcome = payerr.inspect(payerr.RawResponse(status, headers, body, url), provider=provider)
    error = outcome.error
    if error is None:
        return ("ok",)
    return (
        type(error).__name__,
        error.category,
        error.code,
        error.sub_code,
        error.retry,
        error.known,
        error.retryable,
    )


Answer = tuple[int, dict[str, str], bytes]


def pairs(provider: str) -> Iterator[tuple[str, str, Answer, Answer]]:
    """(what, URL path, fake, real) for every entry in every envelope it can come in."""
    spec = catalog().spec(provider)
    for case in cases(spec):
        for envelope in spec.envelopes:
            path, api = _where(envelope, case)
            if spec.envelope_for(path, envelope.format) is not envelope:
                continue  # a rule's API answers in another envelope
            code = int(case.code) if _by_status(spec, case) else 0
            if 0 < code < 400 and code not in envelope.pending_statuses:
                continue  # a 2xx status means something only where the envelope says so
            info = spec.find(case.code, case.sub_code)
            assert info is not None
            text = info.provider_message or info.message_en
            fake = testing.provider_answer(provider, case.code, sub_code=case.sub_code, api=api)
            yield f"{case} in {envelope.name}", path, fake, wire(spec, envelope, case, text)


@pytest.mark.slow
@pytest.mark.parametrize("provider", providers())
def test_every_entry_fakes_as_its_real_answer_reads(provider: str) -> None:
    """Each entry, in each envelope it can come in: the fake reads back as the wire shape
    does, and as the catalog says (a known code of its category)."""
    spec = catalog().spec(provider)
    wrong: list[str] = []
    compared = 0
    for what, path, fake_answer, real_answer in pairs(provider):
        compared += 1
        fake, real = reading(provider, fake_answer, path), reading(provider, real_answer, path)
        if fake != real:
            wrong.append(f"{what}: fake {fake} != real {real}")
        elif fake != ("ok",) and not fake[5]:
            wrong.append(f"{what}: read back as unknown {fake}")
    assert compared >= len(spec.codes)
    assert not wrong, f"{len(wrong)} differ, e.g.\n" + "\n".join(wrong[:15])


# --- and through each client: retried or not, the same -------------------------------------


def _attempts(
    kind: str, answer: tuple[int, dict[str, str], bytes], path: str, provider: str
) -> int:
    """How many times the client sends when every answer is ``answer``."""
    status, headers, body = answer
    sent = 0

    def reply(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        return httpx.Response(status, headers=headers, content=body)

    policy = payerr.RetryPolicy(max_attempts=2, raise_errors=False)
    url = "https://provider.invalid" + path
    if kind == "requests":
        import requests
        import responses

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.GET, url, callback=lambda _: (status, headers, body))
            with requests.Session() as session:
                adapter = payerr.RequestsAdapter(provider=provider, policy=policy)
                session.mount("https://", adapter)
                session.get(url)
            return len(mock.calls)
    if kind == "httpx":
        transport = payerr.Transport(httpx.MockTransport(reply), provider=provider, policy=policy)
        with httpx.Client(transport=transport) as client:
            client.get(url)
    else:

        async def go() -> None:
            inner = httpx.MockTransport(reply)
            transport = payerr.AsyncTransport(inner, provider=provider, policy=policy)
            async with httpx.AsyncClient(transport=transport) as client:
                await client.get(url)

        asyncio.run(go())
    return sent


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["httpx", "httpx-async", "requests"])
@pytest.mark.parametrize("provider", providers())
def test_every_entry_is_retried_alike_fake_or_real(kind: str, provider: str) -> None:
    """Through a client, a fake and its real answer are sent the same number of times."""
    wrong = []
    with testing.instant_sleeps():
        for what, path, fake, real in pairs(provider):
            sent = (_attempts(kind, fake, path, provider), _attempts(kind, real, path, provider))
            if sent[0] != sent[1]:
                wrong.append(f"{what}: sent {sent}")
    assert not wrong, "\n".join(wrong[:15])
