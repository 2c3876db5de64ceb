"""The adapter file format: pydantic models, the JSON Schema made from them, and validation.

pydantic is imported only when a file is read: the compiled cache spares most
processes that, and importing payerr stays cheap.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

from .._enums import Category, Processed, RetryHint
from .model import AdapterFileError, Window
from .patterns import safe_pattern
from .provider_data import day_reset_offset, sandbox_model


@cache
def file_models() -> Any:
    """The pydantic models ``(AdapterFile, Code)``, imported only when a file is read.

    Long because it declares the whole file format in one place (the JSON Schema
    in docs/adapter.schema.json is made from it).
    """
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

    class Rule(Strict):
        methods: list[str] = Field(min_length=1)
        category: Category | None = None
        retry: RetryHint | None = None
        processed: Processed | None = None
        fix_zh: str | None = None
        fix_en: str | None = None

    class Code(Strict):
        category: Category
        retry: RetryHint | None = None
        processed: Processed | None = None
        message: str = ""
        zh: str = Field(min_length=1)
        en: str = Field(min_length=1)
        fix_zh: str = Field(min_length=1)
        fix_en: str = Field(min_length=1)
        code: str | None = None
        window: Window | None = None
        cooldown: Literal["api", "app", "host", "subject"] = "app"
        when: list[Rule] = []

    class ProviderToken(Strict):
        in_: Literal["query", "header", "json"] = Field(alias="in")
        name: str = Field(min_length=1)
        template: str = Field("{token}", pattern=r"\{token\}")
        prefix: str = ""
        encode: Literal["none", "base64"] = "none"

    class Provider(Strict):
        name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
        display: str
        order: int = Field(1000, ge=0)
        error_class: str | None = Field(None, pattern=r"^[A-Z][A-Za-z0-9]*Error$")
        hosts: list[str] = []
        request_id_headers: list[str] = []
        token_paths: list[str] = []
        token: ProviderToken | None = None
        secrets: list[str] = []
        nested_fields: list[str] = []
        day_reset: str = "00:00+00:00"

        @field_validator("day_reset")
        @classmethod
        def _reset(cls, value: str) -> str:
            day_reset_offset(value)
            return value

    class EnvelopeModel(Strict):
        name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
        format: Literal["json", "xml", "form"] = "json"
        paths: list[str] = []
        node: str | None = None
        error_nodes: list[str] = []
        text_node: Literal["success", "unreadable"] = "unreadable"
        code: list[str] = Field(min_length=1)
        sub_code: list[str] = []
        message: list[str] = []
        sub_message: list[str] = []
        request_id: list[str] = []
        status_decides: bool = False
        pending_statuses: list[int] = []
        api_method: list[str] = ["path"]
        message_request_id: str | None = None
        result_code: list[str] = []
        result_message: list[str] = []
        code_required: bool = False

        @field_validator("message_request_id")
        @classmethod
        def _compiles(cls, value: str | None) -> str | None:
            if value is not None:
                try:
                    safe_pattern(value)  # compiles it, and refuses one that could take forever
                except re.error as exc:
                    raise ValueError(f"not a regular expression: {exc}") from None
            return value

        @field_validator("api_method")
        @classmethod
        def _sources(cls, value: list[str]) -> list[str]:
            for source in value:
                kind, _, argument = source.partition(":")
                if kind not in ("param", "node", "path") or (kind == "param" and not argument):
                    raise ValueError(f"{source!r}: use param:<name>, node, path or path:<prefix>")
            return value

    SandboxModel = sandbox_model(Strict)

    class Idempotency(Strict):
        methods: list[str] = []
        keys: dict[str, str] = {}
        money: list[str] = []

    class Success(Strict):
        message: str = ""
        zh: str = Field(min_length=1)
        en: str = Field(min_length=1)

    class AdapterFile(Strict):
        provider: Provider
        envelope: list[EnvelopeModel] = Field(min_length=1)
        sandbox: SandboxModel | None = None  # type: ignore[valid-type]
        idempotency: Idempotency = Idempotency()
        success: dict[str, Success] = Field(min_length=1)
        statuses: dict[str, Code] = {}
        codes: dict[str, Code] = {}
        sub_codes: dict[str, Code] = {}

        @field_validator("statuses")
        @classmethod
        def _statuses_are_http(cls, value: dict[str, Code]) -> dict[str, Code]:
            for key in value:
                if not (key.isdigit() and 100 <= int(key) <= 599):
                    raise ValueError(f"{key!r} is not an HTTP status")
            return value

    return AdapterFile, Code, SandboxModel


def adapter_schema() -> dict[str, Any]:
    """The adapter file format as a JSON Schema (for editors and docs), from the models."""
    schema: dict[str, Any] = file_models()[0].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "payerr adapter file"
    schema["description"] = (
        "One provider: hosts, envelopes, idempotency, success codes and the code table. "
        "Validated by payerr when the file is loaded."
    )
    return schema


def part_of(text: str, part: str) -> dict[str, Any] | None:
    """The tables of one top-level key, parsed without the rest of the file (a code
    table of ten thousand lines is not read for the sandbox); None if that fails."""
    import tomllib

    lines, keep = [], False
    for line in text.splitlines():
        if line.startswith("["):
            keep = line.lstrip("[").startswith((f"{part}]", f"{part}."))
        if keep:
            lines.append(line)
    try:
        document = tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError:
        return None
    return document if part in document else None


def validated_model(path: Path, *, part: str | None = None) -> Any:
    """One adapter file as its validated pydantic model; with ``part="sandbox"`` only its
    ``[sandbox]`` table (None when absent), which the sandbox reads without the code table."""
    import tomllib

    from pydantic import ValidationError

    try:
        text = path.read_text(encoding="utf-8")
        document = part_of(text, part) if part is not None else None
        document = document if document is not None else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AdapterFileError(f"{path}: cannot read adapter file: {exc}") from None
    model = file_models()[0]
    prefix: tuple[str, ...] = ()
    if part is not None:
        model, prefix, document = file_models()[2], (part,), document.get(part)
        if document is None:
            return None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in (*prefix, *err['loc']))}: {err['msg']}"
            for err in exc.errors()
        )
        raise AdapterFileError(f"{path}: {problems}") from None
