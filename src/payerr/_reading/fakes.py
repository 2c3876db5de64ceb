"""Provider answers built from adapter data, for ``payerr.testing`` and users' own tests."""

from __future__ import annotations

import json
from typing import Any

from .._catalog.envelopes import Envelope
from .._catalog.model import ProviderSpec
from .._catalog.registry import catalog
from .._enums import Category

_STATUS_FOR = {
    Category.AUTH: 401,
    Category.FORBIDDEN: 403,
    Category.NOT_FOUND: 404,
    Category.CONFLICT: 409,
    Category.RATE_LIMITED: 429,
    Category.UNAVAILABLE: 500,
    Category.PENDING: 202,
}


def _envelope(spec: ProviderSpec, api: str | None, code: str) -> Envelope:
    """The envelope an answer to ``api`` comes in.

    An Alipay method name: the gateway. A named WeChat Pay code: v3 JSON for a
    ``/v3/`` path (or no path), v2 XML for any other path. Otherwise by path.
    """
    if api and not api.startswith("/"):
        return next((e for e in spec.envelopes if not e.paths), spec.envelope)
    path = api or "/"
    if spec.reads_xml and not code.lstrip("-").isdigit():
        if api is None or path.startswith("/v3/"):
            return spec.envelope_for(path if api else "/v3/") or spec.envelope
        return spec.envelope_for(path, "xml") or spec.envelope
    return spec.envelope_for(path) or spec.envelope


def _status_for(envelope: Envelope, category: Category | None) -> int:
    """The HTTP status of an answer: 200 unless the status decides (REST-style APIs); a
    pending answer is 2xx only where the envelope declares such a status pending."""
    if not envelope.status_decides or category is None:
        return 200
    status = _STATUS_FOR.get(category, 400)
    if status < 400 and status not in envelope.pending_statuses:
        return 400
    return status


def _by_status(spec: ProviderSpec, code: str, sub_code: str | None) -> bool:
    """Whether ``code`` is an entry of the adapter's HTTP-status table (Huawei 503, CMI
    500), not a code its envelope carries: such an answer is that status, no envelope."""
    return (
        sub_code is None
        and code.isdigit()
        and int(code) in spec.statuses
        and code not in spec.codes
        and code not in spec.success
    )


def _status_answer(code: int, status: int | None, text: str) -> tuple[int, dict[str, str], bytes]:
    """What a gateway in front of the provider answers with that status: a page, not JSON
    (a 2xx such as WeChat Pay's 202 "accepted": no body at all)."""
    if code < 400:
        return status or code, {}, b""
    page = f"<html><body><h1>{code}</h1><p>{text}</p></body></html>"
    return status or code, {"Content-Type": "text/html"}, page.encode()


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def answer(
    provider: str,
    code: str,
    sub_code: str | None,
    api: str | None,
    status: int | None,
    message: str | None,
) -> tuple[int, dict[str, str], bytes]:
    """A provider's answer carrying this code: (status, headers, body) as its gateway sends it."""
    spec = catalog().spec(provider)
    info = spec.find(code, sub_code)
    if info is None:
        raise KeyError(f"{provider} has no code {code!r}: pass one the catalog knows")
    if _by_status(spec, code, sub_code):
        return _status_answer(int(code), status, message or info.provider_message)
    envelope = _envelope(spec, api, code)
    lone = sub_code is None and code not in spec.codes and code in spec.sub_codes
    if lone and envelope.sub_code and info.code != code:  # a lone sub_code: under its parent
        code, sub_code = info.code, code
    elif sub_code and not envelope.sub_code:  # no sub-code field: the most specific is the code
        code, sub_code = sub_code, None
    text = message if message is not None else (info.provider_message or info.message_en)
    fields: dict[str, Any] = {}
    value: Any = int(code) if code.lstrip("-").isdigit() and envelope.code[0] == "errcode" else code
    _put(fields, envelope.code[0], value)
    if envelope.message:
        _put(fields, envelope.message[0], text)
    if sub_code and envelope.sub_code:
        _put(fields, envelope.sub_code[0], sub_code)
        if envelope.sub_message:
            _put(fields, envelope.sub_message[0], text)
    if status is None:
        status = _status_for(envelope, info.category)
    return (status, *_written(envelope, fields, api))


def _written(
    envelope: Envelope, fields: dict[str, Any], api: str | None
) -> tuple[dict[str, str], bytes]:
    """The headers and body of an answer carrying ``fields``, in the envelope's format."""
    if envelope.format == "form":  # the gateway's way: key=value&..., nothing URL-encoded
        body = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return {"Content-Type": "text/html;charset=UTF-8"}, body.encode()
    if envelope.format == "xml":
        body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in _v2(fields).items())
        return {"Content-Type": "text/xml"}, f"<xml>{body}</xml>".encode()
    if envelope.node:
        node = (api or "alipay.trade.query").replace(".", "_") + "_response"
        fields = {node: fields, "sign": "fake-signature"}
    return {"Content-Type": "application/json"}, json.dumps(fields).encode()


def _v2(fields: dict[str, Any]) -> dict[str, Any]:
    """WeChat Pay v2: the call went through; the business failed with this err_code."""
    return {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "result_code": "FAIL",
        "err_code": fields.get("err_code"),
        "err_code_des": fields.get("err_code_des", ""),
    }
