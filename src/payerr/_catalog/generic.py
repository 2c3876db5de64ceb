"""The generic texts and rules (``generic.toml``): status fallbacks, file types, no-answer errors.

Read once, on first need: a success that is plain JSON never loads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fnmatch import translate
from functools import cache
from pathlib import Path
from typing import Any

from .._values import Frozen
from .file_format import AdapterFileError, file_models
from .loader import entry_meaning
from .model import CodeInfo

GENERIC_FILE = Path(__file__).with_name("generic.toml")


class Generic(Frozen):
    """What payerr says when a provider's envelope says nothing."""

    __slots__ = _fields = (
        "statuses",
        "client_error",
        "server_error",
        "malformed",
        "network",
        "outcome_unknown",
        "unknown_code",
        "file_types",
    )
    statuses: Mapping[int, CodeInfo]
    client_error: CodeInfo
    server_error: CodeInfo
    malformed: CodeInfo
    network: CodeInfo
    outcome_unknown: CodeInfo
    unknown_code: CodeInfo
    file_types: re.Pattern[str]

    def __init__(
        self,
        statuses: Mapping[int, CodeInfo],
        client_error: CodeInfo,
        server_error: CodeInfo,
        malformed: CodeInfo,
        network: CodeInfo,
        outcome_unknown: CodeInfo,
        unknown_code: CodeInfo,
        file_types: re.Pattern[str],
    ) -> None:
        set_ = object.__setattr__
        set_(self, "statuses", statuses)
        set_(self, "client_error", client_error)
        set_(self, "server_error", server_error)
        set_(self, "malformed", malformed)
        set_(self, "network", network)
        set_(self, "outcome_unknown", outcome_unknown)
        set_(self, "unknown_code", unknown_code)
        set_(self, "file_types", file_types)


def _info(key: str, entry: Any) -> CodeInfo:
    return CodeInfo(provider="", code="", **entry_meaning(entry))


@cache
def generic() -> Generic:
    """The parsed and validated ``generic.toml``."""
    import tomllib

    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    code_model = file_models()[1]

    class Files(BaseModel):
        model_config = ConfigDict(extra="forbid")
        content_types: list[str] = Field(min_length=1)

    class GenericFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        files: Files
        statuses: dict[int, code_model]  # type: ignore[valid-type]
        fallbacks: dict[str, code_model]  # type: ignore[valid-type]

    try:
        model = GenericFile.model_validate(tomllib.loads(GENERIC_FILE.read_text("utf-8")))
        fallbacks = {name: _info(name, entry) for name, entry in model.fallbacks.items()}
        return Generic(
            statuses={int(k): _info(str(k), v) for k, v in model.statuses.items()},
            file_types=re.compile(
                "|".join(translate(t.lower()) for t in model.files.content_types)
            ),
            **fallbacks,
        )
    except (OSError, ValueError, TypeError, ValidationError) as exc:
        raise AdapterFileError(f"{GENERIC_FILE}: {exc}") from None


def is_file(content_type: str | None, disposition: str | None) -> bool:
    """Whether headers describe a file (an image, a bill, an attachment), not an API answer."""
    if disposition and disposition.lstrip().lower().startswith("attachment"):
        return True
    if not content_type:
        return False
    media = content_type.partition(";")[0].strip().lower()
    return generic().file_types.match(media) is not None
