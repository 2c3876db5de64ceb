"""Testing helpers: make payerr's retry sleeps instant and see what they would have been.

with payerr.testing.instant_sleeps() as sleeps:
    client.get(...)
assert sleeps == [0.2]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._engine import sleep as _sleep

sleep = _sleep.sleep
"""The sleep payerr's sync loops use: instant while a test asks for it."""
asleep = _sleep.asleep
"""The sleep payerr's async loops use: instant while a test asks for it."""


@contextmanager
def instant_sleeps() -> Iterator[list[float]]:
    """Within this block, payerr never sleeps; the delays it chose are collected."""
    recorder: list[float] = []
    _sleep.record_into(recorder)
    try:
        yield recorder
    finally:
        _sleep.stop_recording(recorder)


_global: list[float] | None = None


def set_testing(on: bool) -> None:
    """Turn instant sleeps on or off for the whole process (an autouse fixture's switch)."""
    global _global
    if on and _global is None:
        _global = []
        _sleep.record_into(_global)
    elif not on and _global is not None:
        _sleep.stop_recording(_global)
        _global = None


# --- fake provider answers for your own tests -------------------------------------------------


def provider_answer(
    provider: str,
    code: str | int,
    *,
    sub_code: str | None = None,
    api: str | None = None,
    status: int | None = None,
    message: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the answer ``provider`` sends for ``code``, in its envelope.

    Built from the adapter's own data, so it reads back as the same error:
    ``provider_answer("wechat", 40001)``, ``provider_answer("alipay", "40004",
    sub_code="ACQ.TRADE_NOT_EXIST", api="alipay.trade.query")``. ``api`` picks the
    envelope (a WeChat Pay path such as ``/v3/pay/transactions/jsapi``) and names the
    Alipay node; send the answer to a URL of that path, as the provider would answer it.
    An entry of an adapter's HTTP-status table (``provider_answer("huawei", 503)``) is
    that status with a gateway's page, no envelope; a sub_code alone
    (``provider_answer("alipay", "ACQ.TRADE_NOT_EXIST")``) comes under its parent code.
    """
    from ._reading.fakes import answer

    return answer(provider, str(code), sub_code, api, status, message)


def httpx_response(provider: str, code: str | int, **options: Any) -> Any:
    """An ``httpx.Response`` carrying ``provider_answer(...)``: for respx routes or a
    ``httpx.MockTransport``, e.g. ``respx.post(url).mock(side_effect=[
    payerr.testing.httpx_response("wechat", 40001), httpx.Response(200, json={})])``."""
    import httpx

    status, headers, body = provider_answer(provider, code, **options)
    return httpx.Response(status, headers=headers, content=body)


def aiohttp_reply(provider: str, code: str | int, **options: Any) -> Any:
    """An ``aiohttp.web.Response`` carrying ``provider_answer(...)``: what a handler of the
    ``aiohttp.test_utils.TestServer`` your session talks to answers (aiohttp tests)."""
    from aiohttp import web

    status, headers, body = provider_answer(provider, code, **options)
    return web.Response(status=status, headers=headers, body=body)


def responses_reply(provider: str, code: str | int, **options: Any) -> dict[str, Any]:
    """Keyword arguments for ``responses.add(method, url, **reply)`` (requests tests)."""
    status, headers, body = provider_answer(provider, code, **options)
    content_type = headers.pop("Content-Type")
    return {"status": status, "headers": headers, "body": body, "content_type": content_type}
