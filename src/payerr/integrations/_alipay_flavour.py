"""What each Alipay SDK checks and raises: its signature check, its exceptions.

``alipay.install`` asks the ``Flavour`` of the client whether payerr may read an
answer (the SDK verified it, or it can never read as a success) and which SDK
exception a typed error must also be.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from .._errors import PayError
from ._sdk import also, rebind, refuse, remembering

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


@dataclasses.dataclass(frozen=True)
class Flavour:
    """One SDK's answer handling: its signature check, and the exceptions it raises."""

    official: bool
    verify: Callable[[bytes, str, str, str], bool]
    """``verify(body, text, node_key, sign)``: the SDK's own signature check passed."""
    rejected: type[BaseException]
    """What the SDK raises for an answer it will not read (unsigned, an error node)."""
    unsent: type[BaseException]
    """What the SDK (or the HTTP library it calls) raises when nothing came back."""

    def check(self, sent: Any, response: Any, body: bytes) -> bool:
        """Whether payerr may read this answer: verified by the SDK, or never success-like."""
        doc, text = _read(body, response.headers.get("Content-Type", ""))
        if doc is None:  # not JSON: read by status and shape, never as a success
            return text is not None and "_response" not in text
        if sum(name.endswith("_response") for name in doc) > 1:
            return False  # a signature covers one node: no check approves the others
        key = _node_key(doc, _method_of(sent))
        sign = doc.get("sign")
        if isinstance(sign, str) and sign and key is not None:
            try:
                return self.verify(body, text or "", key, sign)
            except Exception:  # the SDK's check refused it: the SDK says so itself
                return False
        node = doc.get(key) if key is not None else None
        unsigned_public = "sign" not in doc or key == "error_response"
        return unsigned_public and isinstance(node, dict) and node.get("code") in PUBLIC_CODES

    def sdk_raises(self, body: bytes) -> bool:
        """Whether the SDK alone raises for this 200 answer instead of returning its node."""
        doc, _ = _read(body, "")
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
        if _read(response.content, "")[0] is None:  # its json.loads fails: a ValueError
            return also(error, ValueError, error.message)
        return also(error, self.rejected, error.code, text)


def flavour_of(sdk: Any) -> Flavour:
    """Which SDK ``sdk`` is a client of; ``TypeError`` naming both when neither."""
    kind = type(sdk)
    if hasattr(kind, "verified_sync_response") and hasattr(kind, "_get_string_to_be_signed"):
        from urllib.error import URLError

        from alipay.exceptions import AliPayException

        def verify(body: bytes, text: str, key: str, sign: str) -> bool:
            return bool(sdk._verify(sdk._get_string_to_be_signed(text, key), sign))

        return Flavour(False, verify, AliPayException, URLError)
    execute = getattr(kind, "execute", None)
    if execute is not None and "do_post" in getattr(execute, "__code__", execute).co_names:
        from alipay.aop.api.exception.Exception import RequestException, ResponseException

        def parse(body: bytes, text: str, key: str, sign: str) -> bool:
            if official_config(sdk).skip_sign:
                return False  # nothing is verified: only what is never success-like is read
            sdk._DefaultAlipayClient__parse_response(body)  # raises when it does not verify
            return True

        return Flavour(True, parse, ResponseException, RequestException)
    raise refuse(sdk, TAKES)


def official_config(sdk: Any) -> Any:
    return sdk._DefaultAlipayClient__config


def check_once(sdk: Any, official: bool) -> list[str]:
    """One signature check per answer: payerr's check and the SDK's own check of the
    same answer share the memory of the last one (``_sdk.remembering``), so the RSA
    operation and, for python-alipay-sdk, its scan for the signed text run once.
    Returns the names put on ``sdk`` (left out of its pickle)."""
    if official:
        name = "_DefaultAlipayClient__parse_response"
        parse = getattr(type(sdk), name)
        if "verify_with_rsa" not in parse.__code__.co_names:
            return []  # another version: it checks twice, as before
        with_rsa = remembering(parse.__globals__["verify_with_rsa"])
        setattr(sdk, name, rebind(parse, sdk, verify_with_rsa=with_rsa))
        return [name]
    signed_text = remembering(sdk._get_string_to_be_signed)
    check = sdk._verify
    checked = remembering(lambda key, kind, content, sign: check(content, sign))

    def verify(content: str, sign: str) -> Any:
        """The key and sign type are part of what is remembered: change one, it checks."""
        return checked(getattr(sdk, "alipay_public_key", None), sdk._sign_type, content, sign)

    sdk._get_string_to_be_signed = signed_text
    sdk._verify = verify
    return ["_get_string_to_be_signed", "_verify"]


def parse_answer(body: bytes, content_type: str) -> tuple[dict[str, Any] | None, str | None]:
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


def _read(body: bytes, content_type: str) -> tuple[dict[str, Any] | None, str | None]:
    """``parse_answer`` for the checks, remembering the last body: the check, and on an
    error the SDK's own reading of it, parse an answer once. (UTF-8 named or not reads
    the same, so both look the answer up alike.) The document is only read here."""
    if len(body) > REMEMBERED:
        return parse_answer(body, content_type)
    charset = content_type.lower().partition("charset=")[2].split(";")[0].strip()
    read: tuple[dict[str, Any] | None, str | None]
    read = _parse_remembered(body, "" if charset in ("", "utf-8", "utf8") else content_type)
    return read


REMEMBERED = 64 * 1024
"""The largest answer whose parse is kept for the next look (gateway answers are small)."""
_parse_remembered = remembering(lambda body, content_type: parse_answer(body, content_type))


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
    for pair in urlsplit(sent.url or "").query.split("&"):  # not every value decoded
        name, equals, value = pair.partition("=")
        if equals and value and unquote_plus(name) == "method":
            return unquote_plus(value)
    return None
