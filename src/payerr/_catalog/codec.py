"""Rows of the compiled catalog: a code entry, a per-API rule and a token placement as
plain JSON data, and back. ``cache`` lays them out in files and reads them lazily.
"""

from __future__ import annotations

import json
from typing import Any

from .._enums import Category, Processed, RetryHint
from .model import CodeInfo, MethodRule
from .provider_data import TokenPlacement


def line(value: Any) -> bytes:
    """One line of JSON: compact, and never a raw newline (JSON escapes them in strings)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def info_data(info: CodeInfo) -> dict[str, Any]:
    """A code entry as plain data (``info_from`` reads it back)."""
    return {
        "provider": info.provider,
        "code": info.code,
        "category": info.category.value if info.category else None,
        "retry": info.retry.value,
        "processed": info.processed.value,
        "message_zh": info.message_zh,
        "message_en": info.message_en,
        "solution_zh": info.solution_zh,
        "solution_en": info.solution_en,
        "provider_message": info.provider_message,
        "sub_code": info.sub_code,
        "window": info.window,
        "cooldown": info.cooldown,
        "rules": [
            {"methods": list(rule.methods), "changes": {k: str(v) for k, v in rule.changes.items()}}
            for rule in info.rules
        ],
    }


_ENUMS = {"category": Category, "retry": RetryHint, "processed": Processed}


def _rule(data: dict[str, Any]) -> MethodRule:
    changes = {k: _ENUMS[k](v) if k in _ENUMS else v for k, v in data["changes"].items()}
    return MethodRule(tuple(data["methods"]), changes)


def info_from(data: dict[str, Any]) -> CodeInfo:
    return CodeInfo(
        provider=data["provider"],
        code=data["code"],
        category=Category(data["category"]) if data["category"] else None,
        retry=RetryHint(data["retry"]),
        processed=Processed(data["processed"]),
        message_zh=data["message_zh"],
        message_en=data["message_en"],
        solution_zh=data["solution_zh"],
        solution_en=data["solution_en"],
        provider_message=data["provider_message"],
        sub_code=data["sub_code"],
        window=data["window"],
        cooldown=data["cooldown"],
        rules=tuple(_rule(rule) for rule in data["rules"]),
    )


def token_from(data: dict[str, Any] | None) -> TokenPlacement | None:
    """Where the token travels, from ``TokenPlacement.as_dict``'s form."""
    if data is None:
        return None
    return TokenPlacement(
        data["in"], data["name"], data["template"], data["prefix"], data["encode"]
    )
