"""Envelope readers: where each provider puts its code, message and request id.

A reader sees the parsed JSON object and answers a ``Reading`` (success, or a
code to look up), or None when the object is not that provider's envelope at
all. Readers never raise: every field is read with a type check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Reading:
    """What the provider's envelope says, before the code table is consulted."""

    ok: bool
    code: str | None = None
    sub_code: str | None = None
    message: str = ""
    sub_message: str | None = None
    request_id: str | None = None
    api_method: str | None = None
    split: Callable[[str], tuple[str, str | None]] | None = None
    """Cuts a request id off ``message``; run only when the error is built."""

    def message_and_request_id(self) -> tuple[str, str | None]:
        """The message and request id, with any diagnostic suffix moved off the message."""
        if self.split is None:
            return self.message, self.request_id
        message, request_id = self.split(self.message)
        return message, request_id or self.request_id


OK = Reading(ok=True)

Reader = Callable[[int, Mapping[str, Any], str], "Reading | None"]


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


def _alipay(status: int, data: Mapping[str, Any], path: str) -> Reading | None:
    if "/v3/" in path:
        if status < 400:
            return OK
        code = code_text(data.get("code"))
        if not code:
            return None
        return Reading(
            ok=False,
            code=code,
            message=text(data.get("message")),
            api_method=path.partition("/v3/")[2].strip("/").replace("/", ".") or None,
        )
    node_key = None
    for key, value in data.items():
        if key.endswith("_response") and isinstance(value, dict):
            node_key = key
            if key != "error_response":
                break
    if node_key is None:
        return None
    node = data[node_key]
    code = code_text(node.get("code"))
    if code is None:
        return None
    return Reading(
        ok=False,
        code=code,
        sub_code=code_text(node.get("sub_code")) or None,
        message=text(node.get("msg")).strip(),
        sub_message=text(node.get("sub_msg")) or None,
        api_method=None if node_key == "error_response" else node_key[:-9].replace("_", "."),
    )


_WECHAT_SUFFIX = re.compile(r"(?:rid:\s*(?P<rid>[\w.-]+)|hint:\s*\[(?P<hint>[^\]]*)\])\s*$")
"""Starts with the keyword (not with whitespace), so the scan jumps from 'r' to 'h'."""


def split_wechat_message(message: str) -> tuple[str, str | None]:
    """Cut the `` rid: …`` / `` hint: [...]`` diagnostic suffix off an errmsg."""
    match = _WECHAT_SUFFIX.search(message)
    if match is None:
        return message, None
    head = message[: match.start()].rstrip().rstrip(" ,;")
    return head, match.group("rid") or match.group("hint")


def _wechat(status: int, data: Mapping[str, Any], path: str) -> Reading | None:
    source: Mapping[str, Any] = data
    if "errcode" not in data:
        wrapped = data.get("base_resp")
        if isinstance(wrapped, dict) and ("errcode" in wrapped or "ret" in wrapped):
            source = wrapped
        elif isinstance(data.get("code"), str) and status >= 400:  # WeChat Pay API v3
            return Reading(ok=False, code=data["code"].strip(), message=text(data.get("message")))
        else:
            return OK if status < 400 else None
    code = code_text(source.get("errcode", source.get("ret")))
    if code in (None, "", "0"):
        return OK if status < 400 else None
    message = text(source.get("errmsg"))
    return Reading(ok=False, code=code, message=message, split=split_wechat_message)


def _huawei(status: int, data: Mapping[str, Any], path: str) -> Reading | None:
    if "responseCode" in data:
        code = code_text(data.get("responseCode"))
        if code == "0":
            return OK if status < 400 else None
        if not code:
            return None
        return Reading(ok=False, code=code, message=text(data.get("responseMessage")))
    if "error" in data:  # the OAuth token endpoint: {"error": 1101, "sub_error": 20002, ...}
        code = code_text(data.get("error"))
        if not code:
            return None
        return Reading(
            ok=False,
            code=code,
            sub_code=code_text(data.get("sub_error")) or None,
            message=text(data.get("error_description")),
        )
    return OK if status < 400 else None


_CMI_SUCCESS = frozenset({"", "0", "0000000"})


def _cmi(status: int, data: Mapping[str, Any], path: str) -> Reading | None:
    code = code_text(data.get("code"))
    message = text(data.get("description")) or text(data.get("msg"))
    if code is None or code in _CMI_SUCCESS:
        if status < 400:
            return OK if code is not None or "data" in data or len(data) > 0 else None
        return None
    return Reading(ok=False, code=code, message=message)


PATH_ENVELOPES = frozenset({"alipay"})
"""Envelopes whose reader needs the request's URL path; the others are given ""."""

READERS: Mapping[str, Reader] = {
    "alipay": _alipay,
    "wechat": _wechat,
    "huawei": _huawei,
    "cmi": _cmi,
}
