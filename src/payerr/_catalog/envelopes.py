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
from collections.abc import Callable, Container, Mapping
from typing import Any, Literal

from .._values import Frozen, Value
from .fields import MISSING, code_text, dotted, first, text
from .patterns import Globs, globs, safe_pattern

Format = Literal["json", "xml", "form"]
TextNode = Literal["success", "unreadable"]


class Reading(Value):
    """What the provider's envelope says, before the code table is consulted."""

    __slots__ = _fields = (
        "ok",
        "code",
        "sub_code",
        "message",
        "sub_message",
        "request_id",
        "node",
        "envelope",
        "split",
    )
    ok: bool
    code: str | None
    sub_code: str | None
    message: str
    sub_message: str | None
    request_id: str | None
    node: str | None
    """The key of the node the envelope was found in (Alipay names the API there)."""
    envelope: Envelope | None
    split: Callable[[str], tuple[str, str | None]] | None
    """Cuts a request id off ``message``; run only when the error is built."""

    def __init__(
        self,
        ok: bool,
        code: str | None = None,
        sub_code: str | None = None,
        message: str = "",
        sub_message: str | None = None,
        request_id: str | None = None,
        node: str | None = None,
        envelope: Envelope | None = None,
        split: Callable[[str], tuple[str, str | None]] | None = None,
    ) -> None:
        self.ok = ok
        self.code = code
        self.sub_code = sub_code
        self.message = message
        self.sub_message = sub_message
        self.request_id = request_id
        self.node = node
        self.envelope = envelope
        self.split = split

    def message_and_request_id(self) -> tuple[str, str | None]:
        """The message and request id, with any diagnostic suffix moved off the message."""
        if self.split is None:
            return self.message, self.request_id
        message, request_id = self.split(self.message)
        return message, request_id or self.request_id


OK = Reading(ok=True)


SUFFIX_WINDOW = 256
"""Characters at the end of a message searched for a request-id suffix."""


class Envelope(Frozen):
    """One response shape of a provider, as its adapter file declares it."""

    _fields = (
        "name",
        "format",
        "paths",
        "node",
        "error_nodes",
        "text_node",
        "code",
        "sub_code",
        "message",
        "sub_message",
        "request_id",
        "status_decides",
        "pending_statuses",
        "api_method",
        "message_request_id",
        "result_code",
        "result_message",
        "code_required",
    )
    __slots__ = (*_fields, "_paths", "_node", "_fields_at", "_code_keys", "_sources", "_suffix")
    name: str
    format: Format
    paths: tuple[str, ...]
    """URL path globs this envelope covers; empty: every path."""
    node: str | None
    """A glob naming the top-level key that holds the envelope (Alipay: ``*_response``)."""
    error_nodes: tuple[str, ...]
    """Node keys used only for errors; a key naming the API is preferred over them."""
    text_node: TextNode
    """What a node that is a string means (Alipay sends encrypted successes that way)."""
    code: tuple[str, ...]
    sub_code: tuple[str, ...]
    message: tuple[str, ...]
    sub_message: tuple[str, ...]
    request_id: tuple[str, ...]
    status_decides: bool
    """A status below 400 is a success whatever the body says (REST-style v3 APIs)."""
    pending_statuses: tuple[int, ...]
    """2xx statuses that mean "accepted, not final" (WeChat Pay v3 ``202``)."""
    api_method: tuple[str, ...]
    """Where the API's name comes from, first found wins: ``param:<name>``, ``node``,
    ``path`` or ``path:<prefix>`` (the path after the prefix, ``/`` read as ``.``)."""
    message_request_id: str | None
    """A regex for a request id glued to the end of the message (WeChat ``rid: …``)."""
    result_code: tuple[str, ...]
    """Where an answer that itself succeeded reports the outcome of the operation it
    asked about (UnionPay's query: ``origRespCode``); a failure there is the error."""
    result_message: tuple[str, ...]
    code_required: bool
    """A body without the code is unreadable, not a success (a form cut short)."""
    _paths: Globs | None
    _node: Globs | None
    _fields_at: tuple[tuple[tuple[str, ...], ...], ...]
    _code_keys: frozenset[str]
    """The top-level keys a code is read from: a body holding none of them has no code."""
    _sources: tuple[tuple[str, str], ...]
    """``api_method`` as (kind, argument) pairs, split once."""
    _suffix: re.Pattern[str] | None

    # Long because: one line per field, what ``@dataclass`` would write (``_values``).
    def __init__(
        self,
        name: str,
        format: Format = "json",
        paths: tuple[str, ...] = (),
        node: str | None = None,
        error_nodes: tuple[str, ...] = (),
        text_node: TextNode = "unreadable",
        code: tuple[str, ...] = (),
        sub_code: tuple[str, ...] = (),
        message: tuple[str, ...] = (),
        sub_message: tuple[str, ...] = (),
        request_id: tuple[str, ...] = (),
        status_decides: bool = False,
        pending_statuses: tuple[int, ...] = (),
        api_method: tuple[str, ...] = ("path",),
        message_request_id: str | None = None,
        result_code: tuple[str, ...] = (),
        result_message: tuple[str, ...] = (),
        code_required: bool = False,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "format", format)
        set_(self, "paths", paths)
        set_(self, "node", node)
        set_(self, "error_nodes", error_nodes)
        set_(self, "text_node", text_node)
        set_(self, "code", code)
        set_(self, "sub_code", sub_code)
        set_(self, "message", message)
        set_(self, "sub_message", sub_message)
        set_(self, "request_id", request_id)
        set_(self, "status_decides", status_decides)
        set_(self, "pending_statuses", pending_statuses)
        set_(self, "api_method", api_method)
        set_(self, "message_request_id", message_request_id)
        set_(self, "result_code", result_code)
        set_(self, "result_message", result_message)
        set_(self, "code_required", code_required)
        set_(self, "_paths", globs(paths) if paths else None)
        set_(self, "_node", globs((node,)) if node else None)
        at = (code, sub_code, message, sub_message, request_id, result_code, result_message)
        set_(self, "_fields_at", tuple(dotted(paths) for paths in at))
        set_(self, "_code_keys", frozenset(path[0] for path in self._fields_at[0]))
        split = (source.partition(":") for source in api_method)
        set_(self, "_sources", tuple((kind, argument) for kind, _, argument in split))
        set_(self, "_suffix", None)  # compiled when an error message is first split

    def covers(self, path: str, body_format: Format) -> bool:
        """Whether a response at this URL path, in this format, is in this envelope."""
        if body_format != self.format:
            return False
        return self._paths is None or self._paths.match(path)

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
            if pattern.match(key):
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
        code_paths = self._fields_at[0]  # the others are read only for an error
        if status in self.pending_statuses:
            return self._reading(data, code_text(first(data, code_paths)) or None, None)
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
        # a success without a code (WeChat's) is seen in one look in C, not a get per path
        raw_code = MISSING if data.keys().isdisjoint(self._code_keys) else first(data, code_paths)
        if raw_code is MISSING:
            return OK if status < 400 and not self.code_required else None
        code = raw_code.strip() if type(raw_code) is str else code_text(raw_code)
        if not code:
            return None  # a code of the wrong type: the envelope is not readable
        if code in success and status < 400:
            return self._result(data, node_key, success) if self.result_code else OK
        reading = self._reading(data, code, node_key)
        _, sub_paths, _message_paths, sub_message_paths, id_paths = self._fields_at[:5]
        if sub_paths:
            reading.sub_code = code_text(first(data, sub_paths)) or None
        if sub_message_paths:
            reading.sub_message = text(first(data, sub_message_paths)) or None
        if id_paths:
            reading.request_id = text(first(data, id_paths)) or None
        return reading

    def _result(
        self, data: Mapping[str, Any], node_key: str | None, success: Container[str]
    ) -> Reading:
        """A successful answer about another operation: that operation's failure, or OK."""
        result_paths, result_message_paths = self._fields_at[5], self._fields_at[6]
        code = code_text(first(data, result_paths))
        if not code or code in success:
            return OK
        reading = self._reading(data, code, node_key)
        if result_message_paths:
            reading.message = text(first(data, result_message_paths)).strip()
        if self._fields_at[4]:
            reading.request_id = text(first(data, self._fields_at[4])) or None
        return reading

    def _reading(self, data: Mapping[str, Any], code: str | None, node_key: str | None) -> Reading:
        """An error's reading: ``code`` as the caller read it, the message read here."""
        message_paths = self._fields_at[2]
        message = text(first(data, message_paths)).strip() if message_paths else ""
        return Reading(
            ok=False,
            code=code,
            message=message,
            node=node_key,
            envelope=self,
            split=self.split_message if self.message_request_id else None,
        )

    def split_message(self, message: str) -> tuple[str, str | None]:
        """Cut a diagnostic request-id suffix off a message: (message, request id)."""
        pattern = self._suffix
        if pattern is None:
            if not self.message_request_id:
                return message, None
            # checked when the adapter file was validated; compiled on the first error
            pattern = safe_pattern(self.message_request_id)
            object.__setattr__(self, "_suffix", pattern)
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
        for kind, argument in self._sources:
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
