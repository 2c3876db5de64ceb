"""payerr inside the Alipay SDKs: python-alipay-sdk and Alipay's official alipay-sdk-python.

    from alipay import AliPay                      # python-alipay-sdk
    from payerr.integrations import alipay as payerr_alipay

    alipay = payerr_alipay.install(AliPay(appid=..., ...))
    alipay.api_alipay_trade_query(out_trade_no="A1")   # what the SDK returned, fewer failures

    client = payerr_alipay.install(DefaultAlipayClient(config))   # the official SDK

Both SDKs keep building, signing and verifying; only the HTTP call is payerr's
(python-alipay-sdk sends every call, payments included, as a GET: payerr
decides by the API in ``method``, so a charge is never sent twice).

Verify first: payerr reads an answer (to retry it or type it) only after the
SDK's own signature check of that answer passed. An answer that fails it goes
back to the SDK untouched, which raises its own validation error. The only
unsigned answers read are the gateway's public error codes (``PUBLIC_CODES``),
which Alipay sends before anything is signed, and HTTP errors; neither can be
read as a success or as "already paid". A body with more than one ``*_response``
node is never read: a signature covers one node, and the engine must read the
node the check approved, so such a body goes back to the SDK untouched.

Every error raised is also the SDK's own exception, so existing handlers keep
catching. With ``raise_errors=True`` a verified business failure (which the
SDKs return as a node) is raised as a typed error too. Without ``install``,
``alipay_result`` reads what either SDK returned.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from .._clients.requests_adapter import RequestsAdapter
from .._coordination.local import Coordinator
from .._errors import PayError
from .._reading.raw import RawResponse
from .._retry.policy import RetryPolicy
from ._sdk import (
    also,
    installed,
    mounted_session,
    outcome_error,
    pickles_as_plain,
    rebind,
    refuse,
    refuse_settings_beside_adapter,
    remember,
    verify_first,
)

__all__ = ["PUBLIC_CODES", "alipay_result", "install"]

A = TypeVar("A")

GATEWAY = "https://openapi.alipay.com/gateway.do"

PUBLIC_CODES = frozenset({"20000", "20001", "40001", "40002", "40006"})
"""Alipay's public (gateway) codes: the only ones payerr reads from an unsigned answer.

Alipay answers them before signing (an ``error_response``, or a node with no
``sign``); none of them means the call took effect, so reading one forged can
only stop or delay a call, never make it look paid. Business codes (``10000``,
``40004`` and its ``ACQ.*`` sub-codes) are always signed: unsigned, payerr leaves
them to the SDK.
"""

TAKES = (
    "python-alipay-sdk's AliPay (or ISVAliPay, DCAliPay) or alipay-sdk-python's DefaultAlipayClient"
)


def install(
    client: A,
    *,
    raise_errors: bool = False,
    policy: RetryPolicy | None = None,
    coordinator: Coordinator | None = None,
    app: str | None = None,
    adapter: RequestsAdapter | None = None,
) -> A:
    """Send ``client``'s calls through payerr; returns ``client``.

    By default the SDK's contract is kept: it returns what it returned (the
    verified node, failures included) and raises what it raised, each error
    also payerr's typed one. ``raise_errors=True`` raises a verified business
    failure as a typed error as well. ``adapter`` is a ready ``RequestsAdapter``
    to use instead (``sandbox.requests_adapter()``), one per client; it brings
    its own policy. A second ``install()`` of the same client changes nothing;
    the client pickles as the plain one and is installed again when loaded.
    """
    sdk: Any = client
    flavour = _flavour_of(sdk)
    if installed(sdk):
        return client
    if adapter is not None:
        refuse_settings_beside_adapter(policy=policy, coordinator=coordinator, app=app)
    else:
        adapter = RequestsAdapter(
            policy=dataclasses.replace(policy or RetryPolicy(), raise_errors=False),
            provider="alipay",
            coordinator=coordinator,
            app=app or str(getattr(sdk, "appid", None) or _official_config(sdk).app_id),
        )
    verify_first(adapter, flavour.check)
    session = mounted_session(adapter)
    kind = type(sdk)
    if flavour.official:
        form = kind.execute.__globals__["MultiPartForm"]
        sdk.execute = rebind(
            kind.execute,
            sdk,
            do_post=_do_post(session, flavour, raise_errors),
            do_multipart_post=_do_multipart_post(session, flavour, raise_errors, form),
        )
    else:
        sdk.verified_sync_response = rebind(
            kind.verified_sync_response, sdk, urlopen=_urlopen(session, flavour, raise_errors)
        )
    remember(sdk, adapter)
    again = functools.partial(install, raise_errors=raise_errors, policy=policy, app=app)
    pickles_as_plain(sdk, ["execute", "verified_sync_response"], again)
    return client


# --- what each SDK checks and raises -------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Flavour:
    """One SDK's answer handling: its signature check, and the exceptions it raises."""

    official: bool
    verify: Callable[[bytes, str, str], bool]
    """``verify(body, text, node_key)``: the SDK's own signature check passed."""
    rejected: type[BaseException]
    """What the SDK raises for an answer it will not read (unsigned, an error node)."""
    unsent: type[BaseException]
    """What the SDK (or the HTTP library it calls) raises when nothing came back."""

    def check(self, sent: Any, response: Any, body: bytes) -> bool:
        """Whether payerr may read this answer: verified by the SDK, or never success-like."""
        doc, text = _parse(body, response.headers.get("Content-Type", ""))
        if doc is None:  # not JSON: read by status and shape, never as a success
            return text is not None and "_response" not in text
        if sum(name.endswith("_response") for name in doc) > 1:
            return False  # a signature covers one node: no check approves the others
        key = _node_key(doc, _method_of(sent))
        sign = doc.get("sign")
        if isinstance(sign, str) and sign and key is not None:
            try:
                return self.verify(body, text or "", key)
            except Exception:  # the SDK's check refused it: the SDK says so itself
                return False
        node = doc.get(key) if key is not None else None
        unsigned_public = "sign" not in doc or key == "error_response"
        return unsigned_public and isinstance(node, dict) and node.get("code") in PUBLIC_CODES

    def sdk_raises(self, body: bytes) -> bool:
        """Whether the SDK alone raises for this 200 answer instead of returning its node."""
        doc, _ = _parse(body, "")
        if doc is None:
            return True
        if self.official:  # it verifies whatever is signed, and refuses the rest
            return not (isinstance(doc.get("sign"), str) and doc["sign"])
        return "sign" not in doc or "error_response" in doc

    def error(self, error: PayError, response: Any = None) -> PayError:
        """``error``, also the exception the SDK raises for this answer."""
        status = getattr(response, "status_code", 0)
        if not status:  # nothing came back
            return also(error, self.unsent, error.message)
        if status >= 400 and not self.official:  # urlopen's HTTPError; ``code`` stays payerr's
            from urllib.error import HTTPError

            url = response.url or ""
            return also(error, HTTPError, url, status, response.reason, response.headers, None)
        text = response.content.decode("utf-8", "replace")
        if self.official:
            return also(error, self.rejected, text)
        if _parse(response.content, "")[0] is None:  # its json.loads fails: a ValueError
            return also(error, ValueError, error.message)
        return also(error, self.rejected, error.code, text)


def _flavour_of(sdk: Any) -> _Flavour:
    """Which SDK ``sdk`` is a client of; ``TypeError`` naming both when neither."""
    kind = type(sdk)
    if hasattr(kind, "verified_sync_response") and hasattr(kind, "_get_string_to_be_signed"):
        from urllib.error import URLError

        from alipay.exceptions import AliPayException

        def verify(body: bytes, text: str, key: str) -> bool:
            sign = json.loads(text)["sign"]
            return bool(sdk._verify(sdk._get_string_to_be_signed(text, key), sign))

        return _Flavour(False, verify, AliPayException, URLError)
    execute = getattr(kind, "execute", None)
    if execute is not None and "do_post" in getattr(execute, "__code__", execute).co_names:
        from alipay.aop.api.exception.Exception import RequestException, ResponseException

        def parse(body: bytes, text: str, key: str) -> bool:
            if _official_config(sdk).skip_sign:
                return False  # nothing is verified: only what is never success-like is read
            sdk._DefaultAlipayClient__parse_response(body)  # raises when it does not verify
            return True

        return _Flavour(True, parse, ResponseException, RequestException)
    raise refuse(sdk, TAKES)


def _official_config(sdk: Any) -> Any:
    return sdk._DefaultAlipayClient__config


def _parse(body: bytes, content_type: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the JSON object, its text) of an answer in its charset (Alipay's GBK included)."""
    charset = content_type.lower().partition("charset=")[2].split(";")[0].strip() or "utf-8"
    for encoding in dict.fromkeys((charset, "utf-8", "gb18030")):
        try:
            text = body.decode(encoding)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    else:
        return None, None
    try:
        doc = json.loads(text)
    except ValueError:
        return None, text
    return (doc, text) if isinstance(doc, dict) else (None, text)


def _node_key(doc: Mapping[str, Any], method: str | None) -> str | None:
    """The envelope's node for the API called (``error_response`` first, as the SDKs read
    it); None when it holds neither, such as a signed answer to another call."""
    if "error_response" in doc:
        return "error_response"
    if method is None:
        return next((key for key in doc if key.endswith("_response")), None)
    key = method.replace(".", "_") + "_response"
    return key if key in doc else None


def _method_of(sent: Any) -> str | None:
    """The API a request called: its ``method`` parameter (both SDKs put it in the URL)."""
    query = urlsplit(sent.url or "").query
    return next((value for name, value in parse_qsl(query) if name == "method"), None)


# --- the SDKs' HTTP calls, through payerr ---------------------------------------------


def _answer(flavour: _Flavour, raise_errors: bool, send: Callable[[], Any]) -> Any:
    """The response the SDK reads next, or the error it would raise, also payerr's."""
    found: PayError | None
    try:
        response = send()  # an answer the SDK did not verify comes back as it came
    except PayError as error:  # an adapter that raises, or nothing came back
        if error.response is None:
            raise flavour.error(error) from error.__cause__
        response, found = error.response, error
    else:
        found = outcome_error(response)
    if found is not None:
        body = response.content
        if response.status_code >= 400 or flavour.sdk_raises(body) or raise_errors:
            raise flavour.error(found, response) from found.__cause__
    return response


def _urlopen(session: Any, flavour: _Flavour, raise_errors: bool) -> Any:
    """python-alipay-sdk's ``urlopen(url, timeout=...)``, through payerr."""

    def urlopen(url: str, timeout: float | None = None) -> io.BytesIO:
        response = _answer(flavour, raise_errors, lambda: session.get(url, timeout=timeout))
        if response.status_code >= 400:  # what urllib raises for it
            from urllib.error import HTTPError

            content = io.BytesIO(response.content)
            raise HTTPError(url, response.status_code, response.reason, response.headers, content)
        return io.BytesIO(response.content)

    return urlopen


def _official_body(response: Any) -> bytes:
    """What the official ``do_post`` returns, or its ``ResponseException`` for a non-200."""
    if response.status_code != 200:
        from alipay.aop.api.exception.Exception import ResponseException

        raise ResponseException(
            f"invalid http status {response.status_code},detail body:{response.text}"
        )
    return bytes(response.content)


def _do_post(session: Any, flavour: _Flavour, raise_errors: bool) -> Any:
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
        return _official_body(
            _answer(
                flavour,
                raise_errors,
                lambda: session.post(target, data=body, headers=headers, timeout=timeout),
            )
        )

    return do_post


def _do_multipart_post(
    session: Any, flavour: _Flavour, raise_errors: bool, multipart_form: Any
) -> Any:
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
        data = form.build_body()
        return _official_body(
            _answer(
                flavour,
                raise_errors,
                lambda: session.post(target, data=data, headers=sent, timeout=timeout),
            )
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

    key = method.replace(".", "_") + "_response"
    node, text, problem = _node(result, key)
    form: dict[str, str] = {"method": method}
    if biz_content is not None:
        form["biz_content"] = json.dumps(dict(biz_content), ensure_ascii=False)
    body = json.dumps({node[0]: node[1]}, ensure_ascii=False).encode() if node else text
    raw = RawResponse(
        200,
        {"Content-Type": "application/json;charset=utf-8"},
        body,
        GATEWAY,
        "POST",
        urlencode(form).encode(),
    )
    if problem is None:
        outcome = inspect(raw, "alipay")
    else:  # what it holds is not this call's answer: unreadable, the bytes kept
        outcome = classify(raw, resolve_spec(raw, "alipay"), parsed=(None, problem, None))
    outcome.unwrap()  # raises for anything but a success
    return node[1] if node is not None else {}


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
    parsed, _ = _parse(bytes(result), "")
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
