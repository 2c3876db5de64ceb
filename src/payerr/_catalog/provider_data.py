"""What an adapter file declares beyond its codes: where the provider's access token
travels, when the provider's day starts, and how the sandbox fakes it.

Kept apart from the catalog so each stays one job: the catalog finds a
provider and its codes; these say how to talk to it and to its fake.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from .._values import Frozen


class TokenPlacement(Frozen):
    """Where a provider wants its access token: a query parameter, a header or a JSON field.

    A header's value is ``prefix`` + ``template`` (``{token}`` replaced), the
    template base64-encoded first when ``encode = "base64"``.
    """

    __slots__ = _fields = ("place", "name", "template", "prefix", "encode")
    place: Literal["query", "header", "json"]
    name: str
    template: str
    prefix: str
    encode: Literal["none", "base64"]

    def __init__(
        self,
        place: Literal["query", "header", "json"],
        name: str,
        template: str = "{token}",
        prefix: str = "",
        encode: Literal["none", "base64"] = "none",
    ) -> None:
        set_ = object.__setattr__
        set_(self, "place", place)
        set_(self, "name", name)
        set_(self, "template", template)
        set_(self, "prefix", prefix)
        set_(self, "encode", encode)

    def value(self, token: str) -> str:
        """What the header (or parameter) carries for this token."""
        text = self.template.replace("{token}", token)
        if self.encode == "base64":
            import base64

            text = base64.b64encode(text.encode()).decode()
        return self.prefix + text

    def as_dict(self) -> dict[str, str]:
        return {
            "in": self.place,
            "name": self.name,
            "template": self.template,
            "prefix": self.prefix,
            "encode": self.encode,
        }


def day_reset_offset(value: str) -> int:
    """Seconds to add to a UNIX time so that a day-window reset falls on a multiple of a day.

    ``"00:00+08:00"`` (midnight, Beijing time) is 28800: the provider's day
    starts at 16:00 UTC.
    """
    match = re.fullmatch(r"(\d\d):(\d\d)([+-])(\d\d):(\d\d)", value)
    if match is None:
        raise ValueError(f"{value!r}: write HH:MM+HH:MM (local reset time and UTC offset)")
    hour, minute, sign, off_h, off_m = match.groups()
    if int(hour) > 23 or int(minute) > 59 or int(off_h) > 14 or int(off_m) > 59:
        raise ValueError(f"{value!r}: not a time of day and a UTC offset")
    offset = (1 if sign == "+" else -1) * (int(off_h) * 3600 + int(off_m) * 60)
    return (offset - int(hour) * 3600 - int(minute) * 60) % 86400


def sandbox_model(strict: Any) -> Any:
    """The ``[sandbox]`` table: the routes the sandbox's fake of this provider answers."""
    from pydantic import Field

    class SandboxAuth(strict):  # type: ignore[misc]
        in_: Literal["query", "form", "json", "header"] = Field(alias="in")
        name: str = Field(min_length=1)
        template: str = "${token}"
        missing: str = Field(min_length=1)
        invalid: str = Field(min_length=1)

    class SandboxRoute(strict):  # type: ignore[misc]
        name: str = Field(min_length=1)
        path: str = Field(min_length=1)
        http_method: str | None = None
        when: dict[str, str] = Field(default_factory=dict)
        token: Literal["issue"] | None = None
        rotate: bool = True
        auth: SandboxAuth | None = None
        key: str | None = None
        duplicate: str | None = None
        success: dict[str, Any] = Field(default_factory=dict)
        status: int = Field(200, ge=100, le=599)

    class SandboxError(strict):  # type: ignore[misc]
        status: int = Field(200, ge=100, le=599)
        body: dict[str, Any] = Field(min_length=1)
        http_body: dict[str, Any] = Field(default_factory=dict)

    class Sandbox(strict):  # type: ignore[misc]
        format: Literal["json", "form", "xml"] = "json"
        transient: str = Field(min_length=1)
        headers: dict[str, str] = Field(default_factory=dict)
        sign: str = ""
        error: SandboxError
        route: list[SandboxRoute] = Field(min_length=1)

    return Sandbox
