"""Envelopes: where a provider puts its code, message and request id, declared as data.

Each adapter file lists its envelopes (``[[envelope]]`` tables): which URL paths
and body format they cover, and the dotted paths of the code, sub-code,
message and request id. ``Envelope.read`` turns a parsed body into a
``Reading`` (success, or a code to look up), or None when the body is not that
envelope at all. Reading never raises: every field is read with a type check.
The bytes are parsed before (JSON, XML or a form: ``_reading``); an envelope reads
the mapping, whatever format it came in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any, Literal

Format = Literal["json", "xml", "form"]


@dataclass(slots=True)
class Reading:
    """What the provider's envelope says, before the code table is consulted."""

    ok: bool
    code: str | None = None
    sub_code: str | None = None
    message: str = ""
    sub_message: str | None = None
    request_id: str | None = None
    node: str | None = None
    """The key of the node the envelope was found in (Alipay names the API there)."""
    envelope: Envelope | None = None
    split: Callable[[str], tuple[str, str | None]] | None = None
    """Cuts a request id off ``message``; run only when the error is built."""

    def message_and_request_id(self) -> tuple[str, str | None]:
        """The message and request id, with any diagnostic suffix moved off the message."""
        if self.split is None:
            return self.message, self.request_id
        message, request_id = self.split(self.message)
        return message, request_id or self.request_id


OK = Reading(ok=True)


def text(value: Any) -> str:
    """A message field as text, whatever JSON type it arrived as."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return ""


def code_text(value: Any) -> str | None:
    """A code as a canonical string: 40001, "40001", " 40001 " and 40001.0 are one code."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value.strip()
    return None


_MISSING = object()


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at a dotted path, or ``_MISSING``; never raises."""
    value: Any = data
    for part in path:
        if type(value) is not dict:
            return _MISSING
        value = value.get(part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def _first(data: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> Any:
    """The first present, non-empty value among ``paths`` (or ``_MISSING``)."""
    for path in paths:
        value = data.get(path[0], _MISSING) if len(path) == 1 else _lookup(data, path)
        if value is not _MISSING and value is not None and value != "":
            return value
    return _MISSING


def _globs(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(translate(p) for p in patterns)) if patterns else None


def _dotted(paths: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(path.split(".")) for path in paths)


SUFFIX_WINDOW = 256
"""Characters at the end of a message searched for a request-id suffix."""


def safe_pattern(pattern: str) -> re.Pattern[str]:
    """A message pattern from an adapter file, compiled; ValueError when it could take
    exponential time (a repeat inside a repeat, or alternatives repeated), which even a
    bounded window would not save."""
    from re import _parser  # type: ignore[attr-defined]

    compiled = re.compile(pattern)

    def walk(items: Any, repeated: bool) -> None:
        for op, value in items:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT"):
                _low, high, inner = value
                unbounded = high == _parser.MAXREPEAT or high > 64
                if repeated and unbounded:
                    raise ValueError(f"{pattern!r}: a repeat inside a repeat can take forever")
                walk(inner, repeated or unbounded)
            elif name == "BRANCH":
                if repeated:
                    raise ValueError(f"{pattern!r}: repeated alternatives can take forever")
                for branch in value[1]:
                    walk(branch, repeated)
            elif name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT"):
                walk(value[-1], repeated)
            elif name in ("ATOMIC_GROUP", "POSSESSIVE_REPEAT"):
                pass  # never backtracked into
            elif name == "GROUPREF_EXISTS":
                for branch in value[1:]:
                    if branch is not None:
                        walk(branch, repeated)

    walk(_parser.parse(pattern), False)
    return compiled


@dataclass(frozen=True, slots=True)
class Envelope:
    """One response shape of a provider, as its adapter file declares it."""

    name: str
    format: Format = "json"
    paths: tuple[str, ...] = ()
    """URL path globs this envelope covers; empty: every path."""
    node: str | None = None
    """A glob naming the top-level key that holds the envelope (Alipay: ``*_response``)."""
    error_nodes: tuple[str, ...] = ()
    """Node keys used only for errors; a key naming the API is preferred over them."""
    text_node: Literal["success", "unreadable"] = "unreadable"
    """What a node that is a string means (Alipay sends encrypted successes that way)."""
    code: tuple[str, ...] = ()
    sub_code: tuple[str, ...] = ()
    message: tuple[str, ...] = ()
    sub_message: tuple[str, ...] = ()
    request_id: tuple[str, ...] = ()
    status_decides: bool = False
    """A status below 400 is a success whatever the body says (REST-style v3 APIs)."""
    pending_statuses: tuple[int, ...] = ()
    """2xx statuses that mean "accepted, not final" (WeChat Pay v3 ``202``)."""
    api_method: tuple[str, ...] = ("path",)
    """Where the API's name comes from, first found wins: ``param:<name>``, ``node``,
    ``path`` or ``path:<prefix>`` (the path after the prefix, ``/`` read as ``.``)."""
    message_request_id: str | None = None
    """A regex for a request id glued to the end of the message (WeChat ``rid: …``)."""
    result_code: tuple[str, ...] = ()
    """Where an answer that itself succeeded reports the outcome of the operation it
    asked about (UnionPay's query: ``origRespCode``); a failure there is the error."""
    result_message: tuple[str, ...] = ()
    code_required: bool = False
    """A body without the code is unreadable, not a success (a form cut short)."""
    _paths: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _node: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _fields: tuple[tuple[tuple[str, ...], ...], ...] = field(init=False, repr=False, compare=False)
    _suffix: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "_paths", _globs(self.paths))
        setattr_(self, "_node", _globs([self.node]) if self.node else None)
        fields = (
            self.code,
            self.sub_code,
            self.message,
            self.sub_message,
            self.request_id,
            self.result_code,
            self.result_message,
        )
        setattr_(self, "_fields", tuple(_dotted(paths) for paths in fields))
        suffix = safe_pattern(self.message_request_id) if self.message_request_id else None
        setattr_(self, "_suffix", suffix)

    def covers(self, path: str, body_format: Format) -> bool:
        """Whether a response at this URL path, in this format, is in this envelope."""
        if body_format != self.format:
            return False
        return self._paths is None or self._paths.match(path) is not None

    def as_dict(self) -> dict[str, Any]:
        """The declaration, as written in an adapter file (for the compiled cache)."""
        return {
            "name": self.name,
            "format": self.format,
            "paths": list(self.paths),
            "node": self.node,
            "error_nodes": list(self.error_nodes),
            "text_node": self.text_node,
            "code": list(self.code),
            "sub_code": list(self.sub_code),
            "message": list(self.message),
            "sub_message": list(self.sub_message),
            "request_id": list(self.request_id),
            "status_decides": self.status_decides,
            "pending_statuses": list(self.pending_statuses),
            "api_method": list(self.api_method),
            "message_request_id": self.message_request_id,
            "result_code": list(self.result_code),
            "result_message": list(self.result_message),
            "code_required": self.code_required,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Envelope:
        """An envelope from its declaration (a validated adapter table or the cache)."""
        return cls(
            name=data["name"],
            format=data.get("format", "json"),
            paths=tuple(data.get("paths", ())),
            node=data.get("node"),
            error_nodes=tuple(data.get("error_nodes", ())),
            text_node=data.get("text_node", "unreadable"),
            code=tuple(data.get("code", ())),
            sub_code=tuple(data.get("sub_code", ())),
            message=tuple(data.get("message", ())),
            sub_message=tuple(data.get("sub_message", ())),
            request_id=tuple(data.get("request_id", ())),
            status_decides=bool(data.get("status_decides", False)),
            pending_statuses=tuple(data.get("pending_statuses", ())),
            api_method=tuple(data.get("api_method", ("path",))),
            message_request_id=data.get("message_request_id"),
            result_code=tuple(data.get("result_code", ())),
            result_message=tuple(data.get("result_message", ())),
            code_required=bool(data.get("code_required", False)),
        )

    # --- reading ------------------------------------------------------------

    def _find_node(self, data: Mapping[str, Any]) -> tuple[str | None, Any]:
        pattern = self._node
        assert pattern is not None
        fallback: tuple[str | None, Any] = (None, None)
        for key, value in data.items():
            if pattern.match(key) is not None:
                if key not in self.error_nodes:
                    return key, value
                if fallback[0] is None:
                    fallback = (key, value)
        return fallback

    def read(
        self, status: int, data: Mapping[str, Any], success: Container[str] = ()
    ) -> Reading | None:
        """What the body says; None when it is not this envelope (a status then decides).

        ``success``: the provider's success codes, answered without building a reading.
        """
        code_paths, sub_paths, _message_paths, sub_message_paths, id_paths = self._fields[:5]
        if status in self.pending_statuses:
            return self._reading(data, code_paths, None, None)
        if self.status_decides and status < 400:
            return OK
        node_key = None
        if self._node is not None:
            node_key, node = self._find_node(data)
            if node_key is None:
                return None
            if type(node) is not dict:
                if isinstance(node, str) and node and self.text_node == "success":
                    return OK if status < 400 else None
                return None
            data = node
        raw_code = _first(data, code_paths)
        if raw_code is _MISSING:
            return OK if status < 400 and not self.code_required else None
        code = raw_code.strip() if type(raw_code) is str else code_text(raw_code)
        if not code:
            return None  # a code of the wrong type: the envelope is not readable
        if code in success and status < 400:
            return self._result(data, node_key, success) if self.result_code else OK
        reading = self._reading(data, code_paths, node_key, code)
        if sub_paths:
            reading.sub_code = code_text(_first(data, sub_paths)) or None
        if sub_message_paths:
            reading.sub_message = text(_first(data, sub_message_paths)) or None
        if id_paths:
            reading.request_id = text(_first(data, id_paths)) or None
        return reading

    def _result(
        self, data: Mapping[str, Any], node_key: str | None, success: Container[str]
    ) -> Reading:
        """A successful answer about another operation: that operation's failure, or OK."""
        result_paths, result_message_paths = self._fields[5], self._fields[6]
        code = code_text(_first(data, result_paths))
        if not code or code in success:
            return OK
        reading = self._reading(data, result_paths, node_key, code)
        if result_message_paths:
            reading.message = text(_first(data, result_message_paths)).strip()
        if self._fields[4]:
            reading.request_id = text(_first(data, self._fields[4])) or None
        return reading

    def _reading(
        self,
        data: Mapping[str, Any],
        code_paths: tuple[tuple[str, ...], ...],
        node_key: str | None,
        fallback_code: str | None,
    ) -> Reading:
        code = code_text(_first(data, code_paths)) or fallback_code
        message_paths = self._fields[2]
        message = text(_first(data, message_paths)).strip() if message_paths else ""
        return Reading(
            ok=False,
            code=code,
            message=message,
            node=node_key,
            envelope=self,
            split=self.split_message if self._suffix is not None else None,
        )

    def split_message(self, message: str) -> tuple[str, str | None]:
        """Cut a diagnostic request-id suffix off a message: (message, request id)."""
        pattern = self._suffix
        if pattern is None:
            return message, None
        # Only the end of the message is searched: the suffix is short, and a pattern
        # run over a megabyte of repeated prefixes ("hint: [" ...) would take minutes.
        offset = max(0, len(message) - SUFFIX_WINDOW)
        match = pattern.search(message, offset)
        if match is None:
            return message, None
        head = message[: match.start()].rstrip().rstrip(" ,;")
        found = next((group for group in match.groups() if group is not None), None)
        return head, found

    def name_of_call(self, reading: Reading | None, path: str, fields: Mapping[str, Any]) -> str:
        """The provider's name for the call: Alipay's ``method``, a node name, or the path."""
        for source in self.api_method:
            kind, _, argument = source.partition(":")
            if kind == "param":
                value = fields.get(argument)
                if isinstance(value, str) and value:
                    return value
            elif kind == "node":
                node = reading.node if reading is not None else None
                if node and node not in self.error_nodes:
                    return node.removesuffix("_response").replace("_", ".")
            elif kind == "path":
                if not argument:
                    return path or "/"
                _head, found, rest = path.partition(argument)
                if found and rest.strip("/"):
                    return rest.strip("/").replace("/", ".")
        return path or "/"
