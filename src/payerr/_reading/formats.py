"""XML and form answers parsed, and what kind of answer a body's first bytes are.

JSON has ``decode``; these are the other two formats providers answer in: WeChat Pay
v2's flat XML and UnionPay's ``key=value&...`` forms. The envelopes then read the
parsed mapping whatever format it came in.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Any

from .decode import charset_of


def parse_xml(body: bytes) -> tuple[dict[str, str] | None, str | None]:
    """A flat XML document (WeChat Pay v2) as {child tag: text}; entities and DTDs refused."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError, RecursionError) as exc:
        reason = str(exc)[:117] or type(exc).__name__
        return None, f"not XML ({reason})"
    return {child.tag: (child.text or "").strip() for child in root}, None


def looks_like_xml(body: bytes) -> bool:
    """An XML document rather than JSON or a file: ``<xml>`` or ``<?xml`` first."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<xml", b"<?xml"))


def looks_like_envelope(head: bytes) -> bool:
    """Whether the first bytes of a body may be an error envelope (JSON object, XML, form)."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return (
        stripped[:1] == b"{"
        or stripped[:5].lower() in (b"<xml>", b"<?xml", b"<xml ")
        or _FORM_HEAD.match(stripped) is not None
    )


# --- form answers (UnionPay) ---------------------------------------------------------

_FORM_HEAD = re.compile(rb"\{?[A-Za-z_][A-Za-z0-9_.-]{0,63}=")
"""A body that starts ``key=``: a form answer, never JSON, XML or a file."""
_FORM_ENCODING = re.compile(rb"(?:^|&)encoding=([A-Za-z0-9_-]{1,32})")
_PAIR = re.compile(
    r"(?!\Z)([^&=]*+)(?:=((?:[^&{\[]++|\{[^}]*+\}|\[[^\]]*+\]|[{\[].*+)*+))?+(?:&|\Z)", re.DOTALL
)
"""One pair of a form whose values may hold ``{...}``/``[...]``: the name, then the value as
runs of plain text, closed brackets, or an unclosed one to the end (no empty match at the
end of the text). Every repeat is possessive and each alternative starts with a different
character, so nothing is ever tried twice: one pass over the text, whatever it holds."""


def looks_like_form(body: bytes) -> bool:
    """A ``key=value&...`` answer rather than JSON, XML or a file."""
    return _FORM_HEAD.match(body[:80].lstrip(b"\xef\xbb\xbf \t\r\n")) is not None


def parse_form(
    body: bytes, content_type: str | None = None
) -> tuple[dict[str, str] | None, str | None]:
    """A form answer as {key: value}, split the way UnionPay's own SDK splits it.

    The gateway does not URL-encode values (raw UTF-8 ``respMsg``, a PEM
    certificate with CR LF, a base64 signature with ``+``), so nothing is
    decoded: a ``parse_qs`` reader would turn ``+`` into a space and break the
    signature. A body wrapped in ``{...}`` is unwrapped, as the SDK does.
    """
    text = _form_text(body, content_type)
    if text is None:
        return None, "body is in no known text encoding"
    text = text.lstrip("\ufeff").strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    try:
        return split_form(text), None
    except ValueError as exc:
        return None, str(exc)


MAX_PAIRS = 10_000
"""Pieces (``&``-separated, empty ones too) a form answer may have. A gateway answer has a
few dozen fields and a file's content is one value: a body of more is not an answer, and
reading a megabyte of ``a=b&`` piece by piece would cost more than the rest of payerr."""


def split_form(text: str) -> dict[str, str]:
    """``key=value`` pairs cut at ``&``, except inside a ``{...}`` or ``[...]`` value.

    The rule of UnionPay's ``SDKUtil.parseQString``: a value may hold ``=`` and,
    once a ``{`` or ``[`` opens in it, ``&`` up to the first matching close
    (no nesting is counted; an unclosed one runs to the end). A repeated key
    keeps its last value, as the SDK's map does; a pair without a name is
    skipped. Linear: one C-level split (or one possessive regex scan) that
    stops at ``MAX_PAIRS`` pieces; ValueError when there are more.
    """
    pairs: list[Any]
    if "{" in text or "[" in text:
        pairs = [m.groups("") for m in islice(_PAIR.finditer(text), MAX_PAIRS + 1)]
    elif text.count("&") < MAX_PAIRS:  # the common case: no value can hold an '&'
        pairs = [piece.partition("=")[::2] for piece in text.split("&")]
    else:
        pairs = []
    if len(pairs) > MAX_PAIRS or (text and not pairs):
        raise ValueError(f"a form of more than {MAX_PAIRS:,} pairs is not an answer")
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a key repeated: it sits where it was last written
        fields = {key: fields[key] for key in reversed(dict(reversed(pairs)))}
    fields.pop("", None)
    return fields


def _form_text(body: bytes, content_type: str | None) -> str | None:
    """UTF-8 first, then the declared charset, the body's own ``encoding=``, then GB18030."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    named = _FORM_ENCODING.search(body[:4096])
    candidates = (charset_of(content_type), named.group(1).decode().lower() if named else None)
    for charset in (*candidates, "gb18030"):
        if not charset or charset in ("utf-8", "utf8"):
            continue
        try:
            return body.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    return None
