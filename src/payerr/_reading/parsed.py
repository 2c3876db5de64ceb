"""A body read once: parsed in its format and read with the provider's envelope.

The engine reads a success this way and nothing more; ``classify`` reuses the same
``Parsed`` when the answer is an error, so no body is parsed twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from .._catalog.envelopes import Format, Reading
from .._catalog.generic import is_file
from .._catalog.model import ProviderSpec
from .decode import parse_json_slowly, wide_integer

# A body read once: ``data``, what it parsed to (a dict for any envelope; None when
# unreadable); ``problem``, why it could not be read; ``reading``, what the envelope says
# (None when the body is not the provider's envelope). Declared by call: a class's string
# annotations are each compiled when payerr is imported.
Parsed = NamedTuple("Parsed", [("data", Any), ("problem", str | None), ("reading", Reading | None)])  # noqa: UP014


FILE = Reading(ok=True)
"""A success whose body is a file: handed over as it is, never parsed."""


def read_envelope(
    spec: ProviderSpec, status: int, body: bytes, headers: Mapping[str, str], path: str
) -> Parsed:
    """Parse the body and read the provider's envelope, once per response."""
    return _parsed(Parsed, read_body(spec, status, body, headers, path))


def read_body(
    spec: ProviderSpec, status: int, body: bytes, headers: Mapping[str, str], path: str
) -> tuple[Any, str | None, Reading | None]:
    """``read_envelope`` as a plain (data, problem, reading): what the middleware reads
    every answer with, a NamedTuple made only for an answer that is not a success."""
    body_format: Format = "json"
    data: Any = _UNREAD
    # an error page (HTML, plain text) is not offered to orjson: its refusal builds the
    # standard library's JSONDecodeError, line and column counted, for nothing
    object_like = status < 400 or may_be_object(body)
    if object_like:
        try:
            data, problem = orjson.loads(body), None  # the common case, without a call more
        except orjson.JSONDecodeError:
            pass
        else:
            if wide_integer(body, data):  # orjson reads an integer past 64 bits as a float
                data, problem = parse_json_slowly(body, headers.get("content-type"))
    if data is _UNREAD:
        if 200 <= status < 300 and is_file_success(status, headers, body, spec, path):
            return {}, None, FILE
        data, problem, body_format = _read_otherwise(spec, status, body, headers, object_like)
    envelope = spec.envelope_for(path, body_format) if spec.reads_path else spec.envelopes[0]
    if envelope is None:
        return data, problem, None
    if type(data) is dict:
        success = spec.success if status not in envelope.pending_statuses else ()
        reading = envelope.read(status, data, success)
    elif status in envelope.pending_statuses:
        reading = envelope.read(status, {})  # "accepted" with no body is still pending
    else:
        return data, problem, None
    if (
        reading is not None
        and not reading.ok
        and reading.code in spec.success
        and status not in envelope.pending_statuses
    ):
        reading.ok = True
    return data, problem, reading


def read_by(status: int, headers: Mapping[str, str]) -> tuple[str | None, ...]:
    """The headers ``read_body`` reads a body by: its charset, and for a 2xx whether it is
    a file (the same bytes under other headers may read otherwise)."""
    if 200 <= status < 300:
        return headers.get("content-type"), headers.get("content-disposition")
    return (headers.get("content-type"),)


def read_again(
    last: tuple[Any, ...], status: int, body: bytes, path: str, headers: Mapping[str, str]
) -> Any:
    """How the last failed answer (status, body, path, ``read_by``, its reading) read,
    when this one is the same answer again (a 503 page, WeChat's -1); None otherwise."""
    same = last[0] == status and last[1] == body and last[2] == path
    return last[4] if same and last[3] == read_by(status, headers) else None


def _read_otherwise(
    spec: ProviderSpec,
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    object_like: bool,
) -> tuple[Any, str | None, Format]:
    """A body orjson did not read: XML or a form where the provider sends them, an error
    page, or JSON in another charset (GBK) or beyond orjson (NaN, deep nesting).
    ``object_like``: a success, or an error body ``may_be_object`` says may be JSON."""
    if spec.reads_xml or spec.reads_form:  # the readers of other formats: loaded for these
        formats = _FORMATS or _formats()
        if spec.reads_xml and formats.looks_like_xml(body):
            return (*formats.parse_xml(body), "xml")
        if spec.reads_form and formats.looks_like_form(body):
            return (*formats.parse_form(body, headers.get("content-type")), "form")
    if not object_like:
        return None, "not JSON", "json"  # an error page: no envelope to read in it
    return (*parse_json_slowly(body, headers.get("content-type")), "json")


_FORMATS: Any = None


def _formats() -> Any:
    """The XML and form readers, imported with the first body that may be one and kept:
    an import statement run for every error page costs more than the look."""
    global _FORMATS
    from . import formats

    _FORMATS = formats
    return formats


_UNREAD: Any = object()
"""``read_body``'s mark for a body orjson did not read (refused, or not offered)."""

_parsed = tuple.__new__
"""``Parsed(...)`` of a tuple, without the Python-level ``__new__`` a NamedTuple has."""


_JSON_SPACE = b" \t\r\n"


def may_be_object(body: bytes) -> bool:
    """False only for a body no decoding could read as a JSON object (an HTML error page).

    Its first byte past JSON's white space is printable ASCII other than ``{`` or ``[``:
    ASCII in every charset ``parse_json_slowly`` tries, and in UTF-16/32 it would pair
    with another byte into no ``{``. A 4xx/5xx body that is not an object reads the same
    as one that does not parse, so the standard library's error need not be built.
    """
    head = body[:64].lstrip(_JSON_SPACE)
    return not head or not 0x21 <= head[0] <= 0x7E or head[0] in b"{["


def is_file_success(
    status: int,
    headers: Mapping[str, str],
    head: bytes,
    spec: ProviderSpec | None = None,
    path: str = "",
) -> bool:
    """A 2xx whose headers say file and whose first bytes are no error envelope.

    An empty body is a file only where the envelope declared for the path would read an
    answer with nothing in it as a success: a gateway that always names a code
    (``code_required``, an answer node) never answers a call with zero bytes.
    """
    if not (200 <= status < 300):
        return False
    if not is_file(headers.get("content-type"), headers.get("content-disposition")):
        return False
    from .formats import looks_like_envelope  # a file's first bytes: seldom looked at

    return not looks_like_envelope(head[:64]) and (
        bool(head) or not _answer_required(spec, status, path)
    )


def _answer_required(spec: ProviderSpec | None, status: int, path: str) -> bool:
    """Whether the envelope declared for this path reads an empty answer as unreadable."""
    if spec is None:
        return False
    envelope = next((e for e in spec.envelopes if e.covers(path, e.format)), None)
    return envelope is not None and envelope.read(status, {}) is None
