"""Loading: the shipped adapter files found and read (through the compiled cache when it
matches), and a validated file turned into the ``ProviderSpec`` the catalog holds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._enums import Processed, RetryHint
from .._errors import category_defaults
from .envelopes import Envelope
from .model import AdapterFileError, CodeInfo, MethodRule, PendingSpec, ProviderSpec
from .provider_data import TokenPlacement, day_reset_offset

if TYPE_CHECKING:
    from .generic import Generic


def _adapter_dirs() -> Iterator[Path]:
    """Where the shipped files may be; the second is resolved (system calls) only if needed."""
    yield Path(__file__).parents[1] / "adapters"  # installed wheel
    yield Path(__file__).resolve().parents[3] / "adapters"  # source checkout, editable install


def adapter_files() -> list[Path]:
    """The shipped adapter files in name order (one directory listing: every first use)."""
    for directory in _adapter_dirs():
        try:
            names = sorted(name for name in os.listdir(directory) if name.endswith(".toml"))
        except OSError:
            continue
        if names:
            return [directory / name for name in names]
    searched = " or ".join(map(str, _adapter_dirs()))
    raise AdapterFileError(f"no adapter files found in {searched}")


def adapter_dir() -> Path:
    return adapter_files()[0].parent


def shipped_specs() -> list[ProviderSpec] | list[PendingSpec]:
    """The shipped adapters: from the compiled cache when it matches the files, else read."""
    from . import cache as _cache
    from . import keys as _keys

    files = adapter_files()
    key = _keys.key_of(files)
    cached = _cache.read(key)
    if cached is not None:
        return cached
    specs = [load_adapter_file(path) for path in files]
    _cache.write(key, specs)
    return specs


def compiled_generic() -> Generic | None:
    """``generic.toml`` from the compiled catalog of the shipped files as they are now."""
    from . import cache as _cache
    from . import keys as _keys

    try:
        return _cache.read_generic(_keys.key_of(adapter_files()))
    except AdapterFileError:
        return None


def load_adapter_file(path: Path) -> ProviderSpec:
    """Read and validate one adapter file; every failure names the file and the key."""
    from .file_format import validated_model  # pydantic: only when a file is read

    return _spec(validated_model(path), path)


def _success(provider: str, code: str, entry: Any) -> CodeInfo:
    return CodeInfo(
        provider=provider,
        code=code,
        category=None,
        retry=RetryHint.NEVER,
        processed=Processed.YES,
        provider_message=entry.message,
        message_zh=entry.zh,
        message_en=entry.en,
        solution_zh="无需处理。",
        solution_en="Nothing to do.",
    )


def _spec(model: Any, path: Path) -> ProviderSpec:
    """The hot-path form of a validated adapter file."""
    name, provider, idempotency = model.provider.name, model.provider, model.idempotency
    codes = {k: _code_info(name, k, v, sub=False) for k, v in model.codes.items()}
    for key, entry in model.sub_codes.items():
        if entry.code is not None and entry.code not in codes:
            raise AdapterFileError(
                f"{path}: sub_codes.{key}.code: no code {entry.code!r} in [codes]"
            )
    return ProviderSpec(
        name=name,
        display=provider.display,
        envelopes=tuple(Envelope.from_dict(e.model_dump()) for e in model.envelope),
        hosts=tuple(host.lower() for host in provider.hosts),
        request_id_headers=tuple(h.lower() for h in provider.request_id_headers),
        success={k: _success(name, k, v) for k, v in model.success.items()},
        idempotent_methods=tuple(idempotency.methods),
        idempotency_keys=dict(idempotency.keys),
        money_methods=tuple(idempotency.money),
        token_paths=tuple(provider.token_paths),
        secret_names=tuple(provider.secrets),
        codes=codes,
        sub_codes={
            k: _code_info(name, k, v, sub=True, parent=codes.get(v.code or ""))
            for k, v in model.sub_codes.items()
        },
        statuses={int(k): _code_info(name, k, v, sub=False) for k, v in model.statuses.items()},
        source=str(path),
        order=provider.order,
        error_class=provider.error_class or "",
        day_reset=day_reset_offset(provider.day_reset),
        nested_fields=tuple(provider.nested_fields),
        token=_token(provider.token),
    )


def _token(model: Any) -> TokenPlacement | None:
    if model is None:
        return None
    return TokenPlacement(model.in_, model.name, model.template, model.prefix, model.encode)


def _code_info(
    provider: str, key: str, entry: Any, *, sub: bool, parent: CodeInfo | None = None
) -> CodeInfo:
    """A table entry as ``CodeInfo``; a sub-code without rules of its own keeps its parent's."""
    return CodeInfo(
        provider=provider,
        code=(entry.code or "") if sub else key,
        sub_code=key if sub else None,
        provider_message=entry.message,
        window=entry.window,
        cooldown=entry.cooldown,
        rules=parent.rules if parent is not None and not entry.when else _rules(entry.when),
        **entry_meaning(entry),
    )


def entry_meaning(entry: Any) -> dict[str, Any]:
    """What any code-table entry (an adapter file's or ``generic.toml``'s) says of its code:
    the category, the retry and processed it implies, and the texts in both languages."""
    retry, processed = category_defaults(entry.category, entry.retry, entry.processed)
    return {
        "category": entry.category,
        "retry": retry,
        "processed": processed,
        "message_zh": entry.zh,
        "message_en": entry.en,
        "solution_zh": entry.fix_zh,
        "solution_en": entry.fix_en,
    }


def _rules(when: list[Any]) -> tuple[MethodRule, ...]:
    """An entry's ``when`` tables: per-API changes, with only the fields each one sets."""
    return tuple(
        MethodRule(
            methods=tuple(rule.methods),
            changes={
                name: value
                for name, value in (
                    ("category", rule.category),
                    ("retry", rule.retry),
                    ("processed", rule.processed),
                    ("solution_zh", rule.fix_zh),
                    ("solution_en", rule.fix_en),
                )
                if value is not None
            },
        )
        for rule in when
    )
