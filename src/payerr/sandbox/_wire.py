"""The request a fake provider's handler sees and the answer it gives back.

Shared by the built-in routes, the routes adapter files declare and the server.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Incoming:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        if b"=" not in self.body or self.body.lstrip().startswith(b"{"):
            return {}
        return dict(parse_qsl(self.body.decode("utf-8", "replace")))

    @property
    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, /, **headers: str) -> Reply:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json;charset=utf-8", **headers})


def rid() -> str:
    """A request id as the providers print them in their answers."""
    return secrets.token_hex(6)
