"""payerr.AiohttpMiddleware: what only aiohttp has (its own exception classes, its body
stream given back, a session's middlewares), and what every client gets, seen from aiohttp:
credentials, cooldowns, a shared coordinator, hooks, a local answer, the testing fakes.

The fault matrix, hostile bodies, corpus and retry semantics run it as a fourth client.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import payerr
from payerr import RetryHint as H
from payerr import testing
from payerr.sandbox import Sandbox
from support.loopback import Script, Step, serve
from support.rawserver import KeptOpen, RawServer

WECHAT_OK = Step(200, b'{"errcode":0,"errmsg":"ok"}')
WECHAT_BUSY = Step(200, b'{"errcode":-1,"errmsg":"system error"}')
DAILY_QUOTA = Step(200, b'{"errcode":45009,"errmsg":"reach max api daily quota limit"}')
SEND = "/cgi-bin/message/custom/send"
MiB = 1024 * 1024
CAP = payerr.RetryPolicy().body_cap


@pytest.fixture(autouse=True)
def instant() -> Iterator[list[float]]:
    with testing.instant_sleeps() as sleeps:
        yield sleeps


def run(
    use: Callable[[aiohttp.ClientSession], Awaitable[Any]], *middlewares: Any, **options: Any
) -> Any:
    """``use(session)`` on a session with these middlewares, on a fresh event loop."""

    async def go() -> Any:
        async with aiohttp.ClientSession(middlewares=middlewares, **options) as session:
            return await use(session)

    return asyncio.run(go())


def wechat(**options: Any) -> payerr.AiohttpMiddleware:
    return payerr.AiohttpMiddleware(provider="wechat", **options)


# --- the response, as aiohttp users read it -------------------------------------------


@pytest.mark.parametrize("read", ["json", "text", "read", "content"])
def test_the_body_payerr_read_reads_again(read: str) -> None:
    """After payerr read the answer, every aiohttp way of reading it gives it whole."""

    async def use(session: aiohttp.ClientSession) -> Any:
        async with session.get(url + "/cgi-bin/user/info") as response:
            if read == "content":
                return b"".join([chunk async for chunk in response.content.iter_chunked(4)])
            return await getattr(response, read)()

    with serve(Script(WECHAT_OK)) as url:
        got = run(use, wechat())
    body = WECHAT_OK.body
    expected = {"json": json.loads(body), "text": body.decode(), "read": body, "content": body}
    assert got == expected[read]


def test_outcome_is_attached_and_a_gzip_answer_reads_decoded() -> None:
    """aiohttp decodes (its default): payerr reads what it decoded; inspect() parses nothing."""
    packed = gzip.compress(WECHAT_OK.body)

    async def use(session: aiohttp.ClientSession) -> Any:
        async with session.get(url + "/cgi-bin/user/info") as response:
            return await response.json(), payerr.inspect(response)

    with serve(Script(Step(200, packed, {"Content-Encoding": "gzip"}))) as url:
        data, outcome = run(use, wechat())
    assert data == {"errcode": 0, "errmsg": "ok"}
    assert outcome.ok
    assert outcome.provider == "wechat"


def test_unclaimed_host_passes_untouched() -> None:
    """A host no adapter claims: payerr neither reads nor types it."""
    script = Script(Step(500, b"<html>down</html>", {"Content-Type": "text/html"}))

    async def use(session: aiohttp.ClientSession) -> Any:
        async with session.get(url + "/anything") as response:
            return response.status, await response.text()

    with serve(script) as url:
        assert run(use, payerr.AiohttpMiddleware()) == (500, "<html>down</html>")
    assert len(script.seen) == 1


def test_provider_error_is_typed_with_the_response_kept() -> None:
    """A provider error is raised typed; its aiohttp response stays on it."""

    async def use(session: aiohttp.ClientSession) -> Any:
        await session.post(url + SEND, json={})

    script = Script(Step(200, b'{"errcode":40013,"errmsg":"invalid appid"}'))
    with serve(script) as url, pytest.raises(payerr.ConfigurationError) as info:
        run(use, wechat())
    assert isinstance(info.value, payerr.WeChatError)
    assert isinstance(info.value.response, aiohttp.ClientResponse)
    assert info.value.code == "40013"


# --- transport errors are aiohttp's own too ---------------------------------------------


class _Stall(RawServer):
    """Reads the request and never answers."""

    def _serve(self, conn: Any) -> None:
        self.read_head(conn)
        self.requests += 1
        self._stop.wait(3)
        conn.close()


def test_refused_connection_is_network_error_and_aiohttp_connector_error() -> None:
    from support.faultserver import refused_url

    async def use(session: aiohttp.ClientSession) -> Any:
        await session.post(url + SEND, json={})

    with refused_url() as url, pytest.raises(aiohttp.ClientConnectorError) as info:
        run(use, wechat(policy=payerr.RetryPolicy(max_attempts=2)))
    assert isinstance(info.value, payerr.NetworkError)
    assert info.value.attempts == 2  # never sent: resent even as a POST


def test_read_timeout_is_outcome_unknown_and_asyncio_timeout() -> None:
    """A stalled answer after a payment: QUERY_FIRST, and ``except asyncio.TimeoutError``."""

    async def use(session: aiohttp.ClientSession) -> Any:
        await session.post(server.url + "/pay/micropay", data=b"<xml/>")

    limits = aiohttp.ClientTimeout(sock_read=0.2)
    with _Stall() as server, pytest.raises(asyncio.TimeoutError) as info:
        run(use, wechat(), timeout=limits)
    assert isinstance(info.value, aiohttp.ServerTimeoutError)
    assert isinstance(info.value, payerr.OutcomeUnknownError)
    assert info.value.retry is H.QUERY_FIRST
    assert server.requests == 1


def test_reset_get_is_resent_by_payerr_only() -> None:
    """A reset GET: payerr's retries, and aiohttp does not send it all again after them."""
    script = Script(Step(reset=True))

    async def use(session: aiohttp.ClientSession) -> Any:
        await session.get(url + "/cgi-bin/user/info")

    with serve(script) as url, pytest.raises(aiohttp.ClientConnectionError) as info:
        run(use, wechat(policy=payerr.RetryPolicy(max_attempts=2)))
    assert isinstance(info.value, payerr.OutcomeUnknownError)
    assert len(script.seen) == 2


def test_the_policy_deadline_covers_the_headers() -> None:
    """A server that never answers holds the caller for the deadline, not aiohttp's 5 min."""

    async def use(session: aiohttp.ClientSession) -> Any:
        await session.get(server.url + "/cgi-bin/user/info")

    policy = payerr.RetryPolicy(deadline=0.3)
    with _Stall() as server, pytest.raises(payerr.OutcomeUnknownError) as info:
        run(use, wechat(policy=policy))
    assert isinstance(info.value, asyncio.TimeoutError)


def test_the_policy_deadline_spans_the_attempts() -> None:
    """The deadline counts from the call's start: a retry that stalls ends at it."""

    async def use(session: aiohttp.ClientSession) -> Any:
        await session.get(server.url + "/cgi-bin/user/info", headers={"Payerr-Idempotent": "1"})

    policy = payerr.RetryPolicy(deadline=0.3, max_attempts=3)
    with KeptOpen(WECHAT_BUSY.body) as server, pytest.raises(payerr.OutcomeUnknownError) as info:
        run(use, wechat(policy=policy))
    assert isinstance(info.value, asyncio.TimeoutError)
    assert server.requests == 2


def test_a_call_ends_at_its_own_deadline_after_others_ended() -> None:
    """One timer watches every call's deadline: a call begun after another ended (whose
    deadline came first) ends at its own deadline, not at the other's, and not never."""

    async def use(session: aiohttp.ClientSession) -> float:
        loop = asyncio.get_running_loop()
        async with session.get(server.url + "/cgi-bin/user/info") as answered:
            await answered.read()
        await asyncio.sleep(0.15)
        started = loop.time()
        with pytest.raises(payerr.OutcomeUnknownError):
            await session.get(server.url + "/cgi-bin/user/info")
        return loop.time() - started

    policy = payerr.RetryPolicy(deadline=0.4, max_attempts=1)
    with KeptOpen(WECHAT_OK.body) as server:
        waited = run(use, wechat(policy=policy))
    assert 0.35 <= waited < 1.5


def test_the_deadline_holds_on_every_event_loop_a_middleware_runs_on() -> None:
    async def use(session: aiohttp.ClientSession) -> Any:
        await session.get(server.url + "/cgi-bin/user/info")

    middleware = wechat(policy=payerr.RetryPolicy(deadline=0.3, max_attempts=1))
    for _ in range(2):  # asyncio.run: a new loop each time
        with _Stall() as server, pytest.raises(payerr.OutcomeUnknownError) as info:
            run(use, middleware)
        assert isinstance(info.value, asyncio.TimeoutError)


# --- marks and bodies ---------------------------------------------------------------


@pytest.mark.parametrize(("mark", "sends"), [("1", 2), ("no", 1)])
def test_idempotent_header_decides_and_is_not_sent(mark: str, sends: int) -> None:
    """``Payerr-Idempotent`` says whether a reset POST may go again; it never leaves."""
    script = Script(Step(reset=True), WECHAT_OK)

    async def use(session: aiohttp.ClientSession) -> Any:
        headers = {"Payerr-Idempotent": mark}
        async with session.post(url + SEND, json={}, headers=headers) as response:
            return await response.json()

    with serve(script) as url:
        if sends == 2:
            assert run(use, wechat())["errcode"] == 0
        else:
            with pytest.raises(payerr.OutcomeUnknownError):
                run(use, wechat())
    assert len(script.seen) == sends
    assert all("payerr-idempotent" not in seen.headers for seen in script.seen)


def test_async_generator_body_is_not_resent() -> None:
    """A body that streams from a generator goes out once: the error says why."""
    script = Script(WECHAT_BUSY, WECHAT_OK)

    async def chunks() -> Any:
        yield b'{"touser":'
        yield b'"o1"}'

    async def use(session: aiohttp.ClientSession) -> Any:
        length = {"Content-Length": "15"}  # the loopback server reads by length, not chunked
        await session.post(url + SEND, data=chunks(), headers=length)

    with serve(script) as url, pytest.raises(payerr.ServiceUnavailableError) as info:
        run(use, wechat())
    assert len(script.seen) == 1
    assert "cannot be sent again" in info.value.message


# --- credentials ------------------------------------------------------------------------


def test_query_token_is_refreshed_once_for_many_requests() -> None:
    """Ten requests on a stale WeChat token: one refresh, every request resent with the new one."""
    with Sandbox() as sandbox:
        fetches: list[str] = []

        async def fetch() -> str:
            if not fetches:
                fetches.append("stale")
                return "stale"
            async with aiohttp.ClientSession() as plain:
                params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
                async with plain.get(sandbox.url + "/cgi-bin/token", params=params) as reply:
                    fetches.append("fresh")
                    return str((await reply.json())["access_token"])

        async def use(session: aiohttp.ClientSession) -> Any:
            async def one() -> int:
                async with session.post(sandbox.url + SEND, json={}) as reply:
                    return int((await reply.json())["errcode"])

            return await asyncio.gather(*(one() for _ in range(10)))

        middleware = wechat(credentials=payerr.QueryParamToken(fetch))
        assert run(use, middleware) == [0] * 10
    assert fetches == ["stale", "fresh"]


def test_token_fetch_through_the_same_session_completes() -> None:
    """The token endpoint, called through the session the token protects, does not wait on it."""
    with Sandbox() as sandbox:
        holder: dict[str, aiohttp.ClientSession] = {}

        async def fetch() -> str:
            params = {"grant_type": "client_credential", "appid": "wx1", "secret": "s"}
            url = sandbox.url + "/cgi-bin/token"
            async with holder["session"].get(url, params=params) as reply:
                return str((await reply.json())["access_token"])

        async def use(session: aiohttp.ClientSession) -> Any:
            holder["session"] = session
            async with session.post(sandbox.url + SEND, json={"touser": "o1"}) as reply:
                return (await reply.json())["errcode"]

        middleware = wechat(credentials=payerr.QueryParamToken(fetch))
        assert asyncio.run(asyncio.wait_for(_with(use, middleware), 10)) == 0


async def _with(use: Callable[[aiohttp.ClientSession], Awaitable[Any]], middleware: Any) -> Any:
    async with aiohttp.ClientSession(middlewares=[middleware]) as session:
        return await use(session)


@pytest.mark.parametrize(
    ("credentials", "where"),
    [
        (payerr.HeaderToken(lambda: "t0k"), "header"),
        (payerr.JsonBodyToken(lambda: "t0k"), "body"),
    ],
    ids=["header", "json-body"],
)
def test_header_and_body_tokens_are_put_on_the_request(credentials: Any, where: str) -> None:
    """Huawei-style header and CMI-style body tokens reach the server on every attempt."""
    script = Script(WECHAT_BUSY, WECHAT_OK)

    async def use(session: aiohttp.ClientSession) -> Any:
        async with session.post(url + SEND, json={"touser": "o1"}) as reply:
            return await reply.json()

    with serve(script) as url:
        run(use, wechat(credentials=credentials))
    assert len(script.seen) == 2
    for seen in script.seen:
        if where == "header":
            assert seen.headers["authorization"] == "Bearer t0k"
        else:
            assert json.loads(seen.body) == {"touser": "o1", "accessToken": "t0k"}
            assert int(seen.headers["content-length"]) == len(seen.body)


# --- cooldowns, a shared coordinator, hooks, a local answer ------------------------------


def test_quota_cooldown_holds_the_api_for_every_session_sharing_a_coordinator() -> None:
    """45009 on one session: another session on the same coordinator does not send."""
    coordinator = payerr.LocalCoordinator()
    script = Script(DAILY_QUOTA, WECHAT_OK)

    async def use(session: aiohttp.ClientSession) -> Any:
        await session.post(url + SEND, json={})

    first, second = wechat(coordinator=coordinator), wechat(coordinator=coordinator)
    with serve(script) as url:
        with pytest.raises(payerr.RateLimitError):
            run(use, first)
        with pytest.raises(payerr.RateLimitError) as held:
            run(use, second)
        (cooldown,) = second.cooldowns()
        second.clear_cooldown()
        run(use, first)
    assert len(script.seen) == 2
    assert held.value.code == "45009"
    assert cooldown.scope.endswith("@" + SEND)


def test_raise_errors_false_answers_a_held_request_with_a_local_429() -> None:
    """Under a cooldown with raise_errors=False: a 429 aiohttp response, read like any other."""
    script = Script(DAILY_QUOTA, WECHAT_OK)

    async def use(session: aiohttp.ClientSession) -> Any:
        answers = []
        for _ in range(2):
            async with session.post(url + SEND, json={}) as reply:
                answers.append((reply.status, reply.headers, await reply.json(), reply))
        return answers

    with serve(script) as url:
        first, held = run(use, wechat(policy=payerr.RetryPolicy(raise_errors=False)))
    assert first[0] == 200
    status, headers, body, response = held
    assert status == 429
    assert int(headers["Retry-After"]) > 60
    assert body["code"] == "45009"
    error = payerr.inspect(response).error
    assert isinstance(error, payerr.RateLimitError)
    assert len(script.seen) == 1


def test_on_retry_sees_every_retry() -> None:
    """The policy's hook is told of each retry, as with any client."""
    seen: list[payerr.Attempt] = []
    script = Script(WECHAT_BUSY, WECHAT_BUSY, WECHAT_OK)

    async def use(session: aiohttp.ClientSession) -> Any:
        async with session.post(url + SEND, json={}) as reply:
            return await reply.json()

    policy = payerr.RetryPolicy(max_attempts=3, on_retry=seen.append)
    with serve(script) as url:
        assert run(use, wechat(policy=policy))["errcode"] == 0
    assert [attempt.number for attempt in seen] == [1, 2]
    assert all(attempt.error.code == "-1" for attempt in seen)


# --- bounded reading with aiohttp's own decoding ------------------------------------------


def test_gzip_bomb_success_is_read_bounded_and_stays_a_stream() -> None:
    """32 MiB inflated from 32 KiB by aiohttp itself: by the time the caller has the response,
    payerr held less than its cap plus a MiB more than aiohttp alone reading as far; the
    caller then reads on from byte one."""
    bomb = Step(200, gzip.compress(bytes(32 * MiB)), {"Content-Encoding": "gzip"})

    async def use(session: aiohttp.ClientSession, through: bool) -> Any:
        async with session.get(url + "/cgi-bin/user/info") as response:
            handed_over = tracemalloc.get_traced_memory()[1]
            first = await response.content.read(1024)
            taken = len(first)
            while taken <= CAP:  # as far as payerr reads, the way a plain download would
                taken += len(await response.content.read(65536))
            peak = handed_over if through else tracemalloc.get_traced_memory()[1]
            return response.status, first, peak

    peaks = []
    with serve(Script(bomb)) as url:
        for middlewares in [(), (wechat(),)]:
            tracemalloc.start()
            try:
                status, first, peak = run(partial(use, through=bool(middlewares)), *middlewares)
            finally:
                tracemalloc.stop()
            assert (status, first) == (200, bytes(1024))
            peaks.append(peak)
    alone, through_payerr = peaks
    assert through_payerr - alone < CAP + MiB, f"{alone / MiB:.1f} → {through_payerr / MiB:.1f} MiB"


# --- the testing fakes, and the import ------------------------------------------------------


def test_testing_aiohttp_reply_reads_back_as_the_same_error() -> None:
    """``payerr.testing.aiohttp_reply``: an aiohttp test server answers as the provider would."""

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        return testing.aiohttp_reply("wechat", 40001)  # type: ignore[no-any-return]

    async def go() -> Any:
        app = web.Application()
        app.router.add_post(SEND, handler)
        async with TestServer(app) as server:
            async with aiohttp.ClientSession(middlewares=[wechat()]) as session:
                await session.post(server.make_url(SEND), json={})

    with pytest.raises(payerr.AuthError) as info:
        asyncio.run(go())
    assert info.value.code == "40001"
    assert info.value.retry is H.REFRESH_CREDENTIALS


@pytest.mark.slow  # a fresh interpreter
def test_import_payerr_does_not_import_aiohttp() -> None:
    """aiohttp loads only when ``payerr.AiohttpMiddleware`` is first used."""
    code = "import sys, payerr; print('aiohttp' in sys.modules); payerr.AiohttpMiddleware; " \
        "print('aiohttp' in sys.modules)"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_a_misspelt_keyword_is_refused() -> None:
    """The keywords are AsyncTransport's: a typo fails at construction, not silently."""
    with pytest.raises(TypeError, match="polcy"):
        payerr.AiohttpMiddleware(polcy=payerr.RetryPolicy())  # type: ignore[call-arg]


async def _chunks() -> Any:
    yield b"{}"


class _Signed(aiohttp.payload.BytesPayload):
    """A bytes payload whose bytes are its own to say."""

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b'{"signed":true}'


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: aiohttp.payload.BytesPayload(b"{}"), (True, True)),
        (lambda: aiohttp.payload.JsonPayload({"touser": "o"}), (True, True)),
        (lambda: _Signed(b"{}"), (None, True)),
        (lambda: aiohttp.payload.BytesIOPayload(io.BytesIO(b"{}")), (False, True)),
        (lambda: aiohttp.payload.AsyncIterablePayload(_chunks()), (False, False)),
        (lambda: b"", (False, True)),
    ],
    ids=["bytes", "json", "own-as-bytes", "file", "async-generator", "none"],
)
def test_a_request_body_is_read_by_its_kind(make: Callable[[], Any], kind: Any) -> None:
    """(aiohttp's own bytes: read where it keeps them; another bytes payload: asked; a
    stream: never read for a look — and whether aiohttp can send it twice)."""
    from payerr._clients.aiohttp_middleware import _payload_kind

    async def check() -> None:
        assert _payload_kind(type(make())) == kind

    asyncio.run(check())
