"""The generic texts and rules (``generic.toml``): status fallbacks, file types, no-answer errors.

Read once, on first need: a success that is plain JSON never loads it. The compiled
catalog carries it, so a process whose first answer is an error does not load pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .._values import Frozen
from .loader import entry_meaning
from .model import AdapterFileError, CodeInfo
from .patterns import Globs

GENERIC_FILE = Path(__file__).with_name("generic.toml")


FALLBACKS = (
    "client_error",
    "server_error",
    "malformed",
    "network",
    "outcome_unknown",
    "unknown_code",
)
"""The no-answer texts ``generic.toml`` declares under ``[fallbacks]``."""


class Generic(Frozen):
    """What payerr says when a provider's envelope says nothing."""

    _fields = ("statuses", *FALLBACKS, "content_types")
    __slots__ = (*_fields, "file_types")
    statuses: Mapping[int, CodeInfo]
    client_error: CodeInfo
    server_error: CodeInfo
    malformed: CodeInfo
    network: CodeInfo
    outcome_unknown: CodeInfo
    unknown_code: CodeInfo
    content_types: tuple[str, ...]
    """Media types (globs) that are files, not API answers."""
    file_types: Globs

    def __init__(
        self,
        statuses: Mapping[int, CodeInfo],
        client_error: CodeInfo,
        server_error: CodeInfo,
        malformed: CodeInfo,
        network: CodeInfo,
        outcome_unknown: CodeInfo,
        unknown_code: CodeInfo,
        content_types: tuple[str, ...],
    ) -> None:
        set_ = object.__setattr__
        set_(self, "statuses", statuses)
        set_(self, "client_error", client_error)
        set_(self, "server_error", server_error)
        set_(self, "malformed", malformed)
        set_(self, "network", network)
        set_(self, "outcome_unknown", outcome_unknown)
        set_(self, "unknown_code", unknown_code)
        set_(self, "content_types", content_types)
        set_(self, "file_types", Globs(t.lower() for t in content_types))


def _info(key: str, entry: Any) -> CodeInfo:
    return CodeInfo(provider="", code="", **entry_meaning(entry))


@cache
def generic() -> Generic:
    """``generic.toml``, from the compiled catalog when it holds the file as it is now;
    otherwise read and validated (what a process that found no compiled catalog does)."""
    from .loader import compiled_generic

    return compiled_generic() or validated_generic()


def validated_generic() -> Generic:
    """``generic.toml`` read and checked; every failure names the file and the key."""
    import tomllib

    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    from .file_format import file_models  # pydantic: only when the file itself is read

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
            content_types=tuple(model.files.content_types),
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
    return generic().file_types.match(media)
