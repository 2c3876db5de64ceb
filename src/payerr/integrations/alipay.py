"""payerr inside the Alipay SDKs: python-alipay-sdk and Alipay's official alipay-sdk-python.

    from alipay import AliPay                      # python-alipay-sdk
    from payerr.integrations import alipay as payerr_alipay

    alipay = payerr_alipay.install(AliPay(appid=..., ...))
    alipay.api_alipay_trade_query(out_trade_no="A1")   # a typed error when it fails

    client = payerr_alipay.install(DefaultAlipayClient(config))   # the official SDK

Both SDKs keep building, signing and verifying; only the HTTP call is payerr's
(python-alipay-sdk sends every call, payments included, as a GET: payerr
decides by the API in ``method``, so a charge is never sent twice). Without
``install``, ``alipay_result`` reads what either SDK returned.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from .._coordinator import Coordinator
from .._policy import RetryPolicy
from .._raw import RawResponse
from .._requests import RequestsAdapter
from ._sdk import mounted_session, rebind, refuse_settings_beside_adapter

__all__ = ["alipay_result", "install"]

A = TypeVar("A")

GATEWAY = "https://openapi.alipay.com/gateway.do"


def install(
    client: A,
    *,
    raise_errors: bool = True,
    policy: RetryPolicy | None = None,
    coordinator: Coordinator | None = None,
    app: str | None = None,
    adapter: RequestsAdapter | None = None,
) -> A:
    """Send ``client``'s calls through payerr; returns ``client``.

    ``raise_errors=False`` keeps each SDK's own contract (python-alipay-sdk
    returns the verified node, the official SDK the node's text): read it
    with ``alipay_result``. ``adapter`` is a ready ``RequestsAdapter`` to use
    instead (``sandbox.requests_adapter()``); it brings its own policy.
    """
    sdk: Any = client
    if adapter is not None:
        refuse_settings_beside_adapter(policy=policy, coordinator=coordinator, app=app)
    else:
        adapter = RequestsAdapter(
            policy=dataclasses.replace(policy or RetryPolicy(), raise_errors=raise_errors),
            provider="alipay",
            coordinator=coordinator,
            app=app or str(getattr(sdk, "appid", None) or _official_appid(sdk) or "default"),
        )
    _send_through(sdk, mounted_session(adapter))
    return client


def _send_through(sdk: Any, session: Any) -> None:
    """Each SDK's one HTTP call, made by ``session`` for this client."""
    kind = type(sdk)
    if hasattr(kind, "verified_sync_response"):  # python-alipay-sdk
        sdk.verified_sync_response = rebind(
            kind.verified_sync_response, sdk, urlopen=_urlopen(session)
        )
    elif hasattr(kind, "execute") and "do_post" in kind.execute.__code__.co_names:  # official
        form = kind.execute.__globals__["MultiPartForm"]
        sdk.execute = rebind(
            kind.execute,
            sdk,
            do_post=_do_post(session),
            do_multipart_post=_do_multipart_post(session, form),
        )
    else:
        raise TypeError(f"{kind.__name__} is not a client of a supported Alipay SDK")


def _official_appid(sdk: Any) -> str | None:
    for name in dir(sdk):
        if name.endswith("__config"):
            return str(getattr(getattr(sdk, name), "app_id", "") or "") or None
    return None


def _urlopen(session: Any) -> Any:
    """python-alipay-sdk's ``urlopen(url, timeout=...)``, through payerr."""

    def urlopen(url: str, timeout: float | None = None) -> io.BytesIO:
        return io.BytesIO(session.get(url, timeout=timeout).content)

    return urlopen


def _do_post(session: Any) -> Any:
    """The official SDK's ``do_post``: the form posted to ``url?query_string``."""

    def do_post(
        url: str,
        query_string: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        charset: str = "utf-8",
        timeout: float = 15,
    ) -> bytes:
        body = _form(params, charset) if params else None
        target = f"{url}?{query_string}" if query_string else url
        return bytes(session.post(target, data=body, headers=headers, timeout=timeout).content)

    return do_post


def _do_multipart_post(session: Any, multipart_form: Any) -> Any:
    """The official SDK's ``do_multipart_post``, its own multipart encoder reused."""

    def do_multipart_post(
        url: str,
        query_string: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        multipart_params: Mapping[str, Any] | None = None,
        charset: str = "utf-8",
        timeout: float = 30,
    ) -> bytes:
        form = multipart_form(charset)
        for key, value in (params or {}).items():
            form.add_field(key, value)
        for key, item in (multipart_params or {}).items():
            if item is not None:
                form.add_file(
                    key, item.get_file_name(), item.get_file_content(), item.get_mime_type()
                )
        sent = {**(headers or {}), "Content-type": form.get_content_type()}
        target = f"{url}?{query_string}" if query_string else url
        return bytes(
            session.post(target, data=form.build_body(), headers=sent, timeout=timeout).content
        )

    return do_multipart_post


def _form(params: Mapping[str, Any], charset: str) -> bytes:
    """The official SDK's form encoding: non-strings as JSON, in ``charset``."""
    pairs = {
        key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in params.items()
    }
    return urlencode(pairs, encoding=charset).encode("ascii")


def alipay_result(
    result: Any,
    *,
    method: str,
    biz_content: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What an Alipay SDK returned, read as payerr reads the gateway: the node on success,
    the typed error raised otherwise (its retry hint is the one for ``method``).

    ``result`` is python-alipay-sdk's dict, the official SDK's ``execute()`` text,
    or one of its ``*Response`` objects. ``biz_content`` (the request's) lets the
    hint see idempotency keys such as a refund's ``out_request_no``.
    """
    from .._classify import inspect

    node, text = _node(result)
    key = method.replace(".", "_") + "_response"
    form: dict[str, str] = {"method": method}
    if biz_content is not None:
        form["biz_content"] = json.dumps(dict(biz_content), ensure_ascii=False)
    body = json.dumps({key: node}, ensure_ascii=False).encode() if node is not None else text
    raw = RawResponse(
        200,
        {"Content-Type": "application/json;charset=utf-8"},
        body,
        GATEWAY,
        "POST",
        urlencode(form).encode(),
    )
    inspect(raw, "alipay").unwrap()  # raises for anything but a success
    return node or {}


def _node(result: Any) -> tuple[dict[str, Any] | None, bytes]:
    """The ``*_response`` node, from whichever form an SDK returned it in; else the raw text."""
    if isinstance(result, Mapping):
        return dict(result), b""
    text = getattr(result, "body", result)
    if isinstance(text, str):
        text = text.encode("utf-8")
    if not isinstance(text, bytes):
        raise TypeError(
            "alipay_result() reads a dict, a JSON text or an SDK response object, "
            f"not {type(result).__name__}"
        )
    try:
        parsed = json.loads(text)
    except ValueError:
        return None, text  # read as the gateway's answer: a MalformedResponseError keeping it
    return (parsed, b"") if isinstance(parsed, dict) else (None, text)
