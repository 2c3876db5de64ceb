"""aiohttp's ``await response.json()`` after payerr read the body: payerr's parse, once,
with aiohttp's own rules (its Content-Type check, its charset, a caller's ``loads``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st

import payerr
from support.loopback import Script, Step, serve
from support.payloads import ALL_CASES, Case

SUCCESSES = [
    pytest.param(provider, case, id=f"{provider}-{case.id}")
    for provider, cases in ALL_CASES.items()
    for case in cases
    if case.expect is None and case.status < 300
]
WECHAT_USER = {"errcode": 0, "openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "nickname": "张三"}
USER_BODY = json.dumps(WECHAT_USER, ensure_ascii=False).encode()


def body_of(case: Case) -> bytes:
    return case.body.encode() if isinstance(case.body, str) else case.body


async def outcome(reading: Awaitable[Any]) -> tuple[str, Any]:
    """What a ``json()`` gave: its value, or the class of what it raised."""
    try:
        return "value", await reading
    except Exception as exc:
        return "raised", type(exc)


def fetch(
    body: bytes,
    content_type: str = "application/json",
    path: str = "/cgi-bin/user/info",
    provider: str = "wechat",
    read: Callable[[aiohttp.ClientResponse], Awaitable[Any]] | None = None,
) -> Any:
    """One GET through payerr on aiohttp, answered with ``body``; ``read(response)``'s result."""

    async def go(base: str) -> Any:
        middleware = payerr.AiohttpMiddleware(provider=provider)
        async with (
            aiohttp.ClientSession(middlewares=[middleware]) as session,
            session.get(base + path) as response,
        ):
            return await read(response) if read else response

    script = Script(Step(body=body, headers={"Content-Type": content_type}))
    with serve(script) as base:
        return asyncio.run(go(base))


@pytest.mark.parametrize(("provider", "case"), SUCCESSES)
def test_first_json_is_payerrs_parse(provider: str, case: Case) -> None:
    """A JSON success from each provider: the first ``json()`` equals aiohttp's own parse,
    and is the very object payerr parsed when the body is an object or an array."""
    body = body_of(case)

    async def read(response: aiohttp.ClientResponse) -> tuple[Any, Any, Any]:
        first = await response.json()
        return first, await aiohttp.ClientResponse.json(response), payerr.inspect(response).data

    first, own, parsed = fetch(body, path=urlsplit(case.url).path, provider=provider, read=read)
    assert first == own
    if body.lstrip()[:1] in (b"{", b"[") and own:
        assert first is parsed


def test_later_json_is_a_fresh_object() -> None:
    """Only the first call is handed payerr's parse; the next parses again, a new object."""

    async def read(response: aiohttp.ClientResponse) -> tuple[Any, Any, Any]:
        return await response.json(), await response.json(), payerr.inspect(response).data

    first, second, parsed = fetch(USER_BODY, read=read)
    assert first is parsed
    assert second == first
    assert second is not first


def test_a_loads_of_the_callers_own_parses() -> None:
    """``json(loads=...)`` parses the body with it; a plain call after still gets the parse."""
    body = b'{"errcode":0,"errmsg":"ok","balance":1.10}'
    exact = partial(json.loads, parse_float=Decimal)

    async def read(response: aiohttp.ClientResponse) -> tuple[Any, Any, Any]:
        return await response.json(loads=exact), await response.json(), payerr.inspect(response)

    with_decimal, plain, seen = fetch(body, read=read)
    assert with_decimal["balance"] == Decimal("1.10")
    assert plain is seen.data


def test_another_content_type_raises_as_aiohttp_does() -> None:
    """JSON sent as ``text/plain``: aiohttp's ``ContentTypeError``, unless the caller said
    ``content_type=None``, which gets payerr's parse."""

    async def read(response: aiohttp.ClientResponse) -> tuple[Any, Any, Any]:
        checked = await outcome(response.json())
        unchecked = await response.json(content_type=None)
        return checked, unchecked, payerr.inspect(response).data

    checked, unchecked, parsed = fetch(USER_BODY, "text/plain", read=read)
    assert checked == ("raised", aiohttp.ContentTypeError)
    assert unchecked is parsed


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("application/json; charset=gbk", None),
        ("application/json; charset=latin-1", None),
        ("application/json", "gb18030"),
        ("application/json; charset=utf-16", None),
    ],
)
def test_a_charset_other_than_utf8_reads_as_aiohttp_reads(
    content_type: str, encoding: str | None
) -> None:
    """A non-ASCII body decoded with another charset: aiohttp's own value (mojibake and
    all) or its own error, never payerr's UTF-8 reading."""

    async def read(response: aiohttp.ClientResponse) -> tuple[Any, Any]:
        first = await outcome(response.json(encoding=encoding))
        return first, await outcome(aiohttp.ClientResponse.json(response, encoding=encoding))

    first, own = fetch(USER_BODY, content_type, read=read)
    assert first == own
    assert first != ("value", WECHAT_USER)


async def echo_answer(request: web.Request) -> web.Response:
    """The request's own body back, as the Content-Type it names."""
    body = await request.read()
    return web.Response(body=body, headers={"Content-Type": request.headers["X-Answer-Type"]})


@pytest.fixture(scope="module")
def echo() -> Iterator[Callable[[bytes, str, dict[str, Any]], tuple[Any, Any]]]:
    """(the first ``json(**kwargs)`` through payerr, aiohttp's own on the same response)
    for a body and its declared Content-Type; one server and session for every example."""
    loop = asyncio.new_event_loop()
    policy = payerr.RetryPolicy(max_attempts=1, raise_errors=False)
    app = web.Application()
    app.router.add_post("/cgi-bin/user/info", echo_answer)
    server = TestServer(app, loop=loop)

    async def start() -> aiohttp.ClientSession:
        await server.start_server()
        middleware = payerr.AiohttpMiddleware(provider="wechat", policy=policy)
        return aiohttp.ClientSession(middlewares=[middleware])

    session = loop.run_until_complete(start())
    url = server.make_url("/cgi-bin/user/info")

    async def both(body: bytes, declared: str, kwargs: Any) -> tuple[Any, Any]:
        headers = {"X-Answer-Type": declared}
        async with session.post(url, data=body, headers=headers) as response:
            first = await outcome(response.json(**kwargs))
            return first, await outcome(aiohttp.ClientResponse.json(response, **kwargs))

    yield lambda body, declared, kwargs: loop.run_until_complete(both(body, declared, kwargs))
    loop.run_until_complete(session.close())
    loop.run_until_complete(server.close())
    loop.close()


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=4,
)
BODIES = st.builds(
    lambda extra, space, ascii_only: (
        space + json.dumps({"errcode": 0, **extra}, ensure_ascii=ascii_only)
    ),
    st.dictionaries(st.text(), VALUES, max_size=3),
    st.sampled_from(["", " ", "\r\n", "\x0c"]),
    st.booleans(),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=gbk",
        "application/json; charset=latin-1",
        "application/json; charset=nonsense",
        "application/problem+json",
        "text/plain",
        "text/plain; charset=utf-8",
    ]
)
ARGUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "encoding": st.sampled_from(["utf-8", "gb18030", "latin-1", "utf-16"]),
        "content_type": st.sampled_from([None, "text/plain", "application/json"]),
    },
)


@given(
    BODIES,
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]),
    CONTENT_TYPES,
    ARGUMENTS,
)
def test_json_is_what_aiohttp_gives(
    echo: Callable[[bytes, str, dict[str, Any]], tuple[Any, Any]],
    text: str,
    encoding: str,
    content_type: str,
    arguments: dict[str, Any],
) -> None:
    """Whatever the body, its charset, the declared type and ``json()``'s arguments: the
    first ``json()`` through payerr gives what aiohttp's own ``json()`` gives (or raises
    what it raises)."""
    try:
        body = text.encode(encoding)
    except UnicodeEncodeError:
        return
    first, own = echo(body, content_type, arguments)
    assert first == own
