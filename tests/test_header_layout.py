"""httpx's private header list is read only while it is laid out as this code expects.

``head_of`` and ``plain_headers`` walk ``Headers._list`` (many times faster than
``Headers.get``); a layout they do not recognise sends them to the public API,
with the same answers.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from requests.structures import CaseInsensitiveDict

from payerr._clients.bounds import head_of, plain_headers, raw_entries

# Heads of real provider answers (values as the providers send them).
HEADS = [
    {  # WeChat Pay v3, an error answer
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": "94",
        "Request-ID": "08F4A1D1B80610C40218B8D2A0A40120F3A60328B4C00E-0",
        "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
    },
    {  # Alipay gateway
        "Content-Type": "text/html;charset=utf-8",
        "Content-Length": "316",
        "Content-Encoding": "gzip",
    },
    {  # a WeChat Pay bill download: a file
        "Content-Type": "application/octet-stream",
        "Content-Disposition": 'attachment; filename="bill.gz"',
        "Content-Encoding": "gzip",
    },
    {"Content-Length": "12"},  # a gateway's bare error page, typed by nobody
]


class _OtherLayout:
    """Headers with a public ``get``, whose private list is laid out as a future httpx might."""

    def __init__(self, headers: dict[str, str], layout: Any) -> None:
        self._public = {name.lower(): value for name, value in headers.items()}
        self._list = layout(httpx.Headers(headers)._list)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._public.get(name.lower(), default)


LAYOUTS = {
    "pairs": lambda entries: [(name, value) for _, name, value in entries],
    "str values": lambda entries: [(r.decode(), n.decode(), v.decode()) for r, n, v in entries],
    "a dict": lambda entries: {name: value for _, name, value in entries},
}


def test_this_httpx_is_read_the_fast_way() -> None:
    """A canary: fails when httpx changes its header layout (payerr then reads the slow way)."""
    assert raw_entries(httpx.Headers(HEADS[0])) is not None


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_another_layout_is_read_through_the_public_api(head: dict[str, str], layout: Any) -> None:
    changed = _OtherLayout(head, layout)
    assert raw_entries(changed) is None
    for status in (200, 429):
        assert head_of(status, changed) == head_of(status, httpx.Headers(head))
    assert plain_headers(changed) is changed


@pytest.mark.parametrize("head", HEADS)
def test_the_fast_way_and_the_public_api_agree(head: dict[str, str]) -> None:
    headers = httpx.Headers(head)
    assert dict(plain_headers(headers)) == {k.lower(): v for k, v in head.items()}
    for status in (200, 500):
        assert head_of(status, headers) == head_of(status, dict(headers.items()))


@pytest.mark.parametrize("head", HEADS)
def test_requests_headers_read_through_their_store_agree_with_the_public_api(
    head: dict[str, str],
) -> None:
    headers = CaseInsensitiveDict(head)
    public = {name.lower(): value for name, value in head.items()}
    for status in (200, 500):
        assert head_of(status, headers) == head_of(status, public)


class _PlainStore(CaseInsensitiveDict[str]):
    """requests-like headers whose store holds the values alone, as a future requests might."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(headers)
        self._store = {name: value for name, (_, value) in self._store.items()}  # type: ignore[assignment]

    def get(self, name: str, default: Any = None) -> Any:
        return self._store.get(name.lower(), default)


@pytest.mark.parametrize("head", HEADS)
def test_a_store_laid_out_otherwise_is_read_through_the_public_api(head: dict[str, str]) -> None:
    public = {name.lower(): value for name, value in head.items()}
    for status in (200, 500):
        assert head_of(status, _PlainStore(head)) == head_of(status, public)


@pytest.mark.parametrize("head", HEADS)
def test_aiohttp_headers_are_read_through_their_public_api(head: dict[str, str]) -> None:
    """aiohttp's headers have neither private layout: once seen, their class is read
    through ``get`` without looking for one; the middleware's own reader of them agrees."""
    from multidict import CIMultiDict, CIMultiDictProxy

    from payerr._clients import bounds
    from payerr._clients.aiohttp_reading import read_head

    headers = CIMultiDictProxy(CIMultiDict(head))
    public = {name.lower(): value for name, value in head.items()}
    for status in (200, 206, 304, 500):
        assert head_of(status, headers) == head_of(status, public)
        assert read_head(status, headers) == head_of(status, public)
    assert CIMultiDictProxy in bounds._PUBLIC
