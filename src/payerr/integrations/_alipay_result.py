"""``alipay_result``: what an Alipay SDK returned, read as payerr reads the gateway.

Works without ``install``: the node, the envelope, the official SDK's text or
``*Response`` object, each one is read back into the gateway's answer and typed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .._reading.raw import RawResponse
from ._alipay_flavour import parse_answer

GATEWAY = "https://openapi.alipay.com/gateway.do"


def alipay_result(
    result: Any,
    *,
    method: str,
    biz_content: Mapping[str, Any] | None = None,
) -> Any:
    """What an Alipay SDK (or the gateway) answered, read as payerr reads the gateway:
    the ``*_response`` node on success, the typed error raised otherwise (its retry
    hint is the one for ``method``).

    ``result`` may be the node (a dict, as python-alipay-sdk returns it), the whole
    envelope (``{"alipay_trade_pay_response": {...}, "sign": ...}`` or an
    ``error_response``) as a dict, text or bytes, the official SDK's ``execute()``
    text or one of its parsed ``*Response`` objects, or an HTML error page (a
    ``MalformedResponseError`` keeping it). Anything else is a ``TypeError``
    naming what it takes. A body holding a failing code is never a success; what
    is not this call's answer (no ``code`` and no node of ``method``, another
    API's node, several nodes) is a ``MalformedResponseError`` keeping the bytes.
    A node of ``method`` without a ``code`` is a success, as the gateway reads it.
    ``biz_content`` (the request's) lets the hint see idempotency keys such as a
    refund's ``out_request_no``. It does not check signatures: read only what an
    SDK verified.
    """
    from .._reading.classify import classify, inspect, resolve_spec
    from .._reading.parsed import Parsed

    key = method.replace(".", "_") + "_response"
    node, text, problem = _node(result, key)
    body = json.dumps({node[0]: node[1]}, ensure_ascii=False).encode() if node else text
    raw = _gateway_answer(body, method, biz_content)
    if problem is None:
        outcome = inspect(raw, "alipay")
    else:  # what it holds is not this call's answer: unreadable, the bytes kept
        outcome = classify(raw, resolve_spec(raw, "alipay"), parsed=Parsed(None, problem, None))
    outcome.unwrap()  # raises for anything but a success
    return node[1] if node is not None else {}


def _gateway_answer(body: bytes, method: str, biz_content: Mapping[str, Any] | None) -> RawResponse:
    """``body`` as the gateway's answer to a POST of ``method`` (and its ``biz_content``)."""
    form: dict[str, str] = {"method": method}
    if biz_content is not None:
        form["biz_content"] = json.dumps(dict(biz_content), ensure_ascii=False)
    return RawResponse(
        200,
        {"Content-Type": "application/json;charset=utf-8"},
        body,
        GATEWAY,
        "POST",
        urlencode(form).encode(),
    )


READS = "a dict (node or envelope), JSON text or bytes, or an alipay-sdk-python *Response object"


def _node(result: Any, key: str) -> tuple[tuple[str, Any] | None, bytes, str | None]:
    """(node key, node) from whichever form ``result`` holds it in, else None; the bytes
    an unreadable ``result`` is kept as; why it cannot be read (None: the gateway's
    reading decides, as for an HTML page)."""
    if isinstance(result, Mapping):
        return _read_document(dict(result), key, None)
    if hasattr(result, "is_success") and hasattr(result, "body"):  # the official SDK's object
        if result.body is None:
            raise TypeError(
                f"{type(result).__name__} holds no answer: call parse_response_content() first"
            )
        result = result.body
    if isinstance(result, str):
        result = result.encode("utf-8")
    if not isinstance(result, bytes | bytearray):
        raise TypeError(f"alipay_result() reads {READS}, not {type(result).__name__}")
    parsed, _ = parse_answer(bytes(result), "")
    if parsed is None:
        return None, bytes(result), None  # read as the gateway's answer: unreadable
    return _read_document(parsed, key, bytes(result))


def _read_document(
    doc: dict[str, Any], key: str, raw: bytes | None
) -> tuple[tuple[str, Any] | None, bytes, str | None]:
    """``_node`` for a JSON object; ``raw``: the bytes it came as (None: a dict)."""
    if _readable(doc, key):
        return _from_document(doc, key), b"", None
    kept = raw if raw is not None else json.dumps(doc, ensure_ascii=False, default=str).encode()
    return None, kept, _why_not(doc, key)


def _nodes(doc: Mapping[str, Any]) -> list[str]:
    return [name for name in doc if name.endswith("_response")]


def _readable(doc: Mapping[str, Any], key: str) -> bool:
    """An ``error_response``, the node of the API called alone, or a node with a code."""
    nodes = _nodes(doc)
    if "error_response" in doc or nodes == [key]:
        return True
    return not nodes and "code" in doc


def _why_not(doc: Mapping[str, Any], key: str) -> str:
    nodes = _nodes(doc)
    if len(nodes) > 1:
        return f"{len(nodes)} response nodes ({', '.join(nodes)}), one expected"
    if nodes:
        return f"a {nodes[0]} node, not {key}"
    return f"no {key} node and no code"


def _from_document(doc: dict[str, Any], key: str) -> tuple[str, Any]:
    """The node of a readable envelope (an ``error_response`` first), or ``doc`` itself."""
    for name in ("error_response", key):
        if name in doc:
            return name, doc[name]
    return key, doc
