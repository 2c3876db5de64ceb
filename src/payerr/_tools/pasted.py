"""An answer as a person pastes it: a bare body, ``curl -i`` output, or a log line holding one.

``payerr explain --body`` turns that text into a ``RawResponse`` so that the
reading is exactly ``payerr.inspect``'s.
"""

from __future__ import annotations

import json
import re

from .._reading.raw import RawResponse

MAX_PASTE = 10 * 1024 * 1024
"""More than anyone pastes; a larger input is refused rather than read."""

_STATUS_LINE = re.compile(rb"(?m)^[ \t]*HTTP/\d(?:\.\d)?[ \t]+(\d{3})\b[^\r\n]*\r?\n")
_HEADER = re.compile(rb"^([A-Za-z0-9!#$%&'*+.^_`|~-]+):[ \t]*(.*?)[ \t]*$")


def _headers_and_body(rest: bytes) -> tuple[dict[str, str], bytes]:
    """Header lines up to the first blank line, then the body (curl -i's layout)."""
    headers: dict[str, str] = {}
    lines = rest.split(b"\n")
    for index, raw in enumerate(lines):
        line = raw.rstrip(b"\r")
        if not line.strip():
            return headers, b"\n".join(lines[index + 1 :])
        match = _HEADER.match(line)
        if match is None:  # no header block after all: the rest is the body
            return headers, b"\n".join(lines[index:])
        headers[match.group(1).decode("latin-1")] = match.group(2).decode("latin-1")
    return headers, b""


def _embedded(text: bytes) -> bytes:
    """The JSON object or XML document inside a log line, else the text itself."""
    starts = [i for i in (text.find(b"{"), text.find(b"<")) if i >= 0]
    if not starts:
        return text.strip()
    start = min(starts)
    if text[start : start + 1] == b"{":
        try:
            decoded = text[start:].decode("utf-8")
            _, end = json.JSONDecoder().raw_decode(decoded)
        except (UnicodeDecodeError, ValueError):
            return text[start:].strip()
        return decoded[:end].encode("utf-8")
    close = text.rfind(b">")
    return text[start : close + 1] if close > start else text[start:].strip()


def has_status_line(data: bytes) -> bool:
    return _STATUS_LINE.search(data) is not None


def parse_pasted(data: bytes, url: str, status: int = 200) -> RawResponse:
    """A ``RawResponse`` for pasted text: status and headers when curl -i shows them."""
    matches = list(_STATUS_LINE.finditer(data))
    if not matches:
        return RawResponse(status, {}, _embedded(data), url)
    last = matches[-1]  # curl -i prints "100 Continue" and redirects first
    headers, body = _headers_and_body(data[last.end() :])
    return RawResponse(int(last.group(1)), headers, body, url)
