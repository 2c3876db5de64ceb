"""A compiled form of the adapter files, so first use skips TOML parsing and validation.

The cache is plain JSON (no pickle: nothing in it can run code), keyed by a
hash of the adapter files' bytes and of the Python modules that shape the
compiled data (class defaults, models, envelopes), and kept in the user's
cache directory. Any problem reading or writing it just means the files are
read and validated as usual. ``PAYERR_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ._catalog import CodeInfo, MethodRule, ProviderSpec
from ._enums import Category, Processed, RetryHint
from ._envelopes import Envelope

FORMAT = 2

_SHAPING_MODULES = ("_catalog.py", "_cache.py", "_enums.py", "_envelopes.py", "_errors.py")
"""Modules whose code decides what the compiled data holds: a change to any of them
(a class default, a model field) must never be answered from an old cache."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "payerr"


def digest(files: Sequence[Path]) -> str:
    """Changes whenever an adapter file or the cache format changes."""
    hasher = hashlib.sha256(f"payerr-cache-{FORMAT}".encode())
    here = Path(__file__).parent
    for name in _SHAPING_MODULES:
        hasher.update((here / name).read_bytes())
    for path in files:
        hasher.update(path.name.encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()[:32]


def _info(info: CodeInfo) -> dict[str, Any]:
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


def _from_info(data: dict[str, Any]) -> CodeInfo:
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


def dump(specs: Iterable[ProviderSpec]) -> list[dict[str, Any]]:
    return [
        {
            "name": spec.name,
            "display": spec.display,
            "envelopes": [envelope.as_dict() for envelope in spec.envelopes],
            "hosts": list(spec.hosts),
            "request_id_headers": list(spec.request_id_headers),
            "success": {k: _info(v) for k, v in spec.success.items()},
            "idempotent_methods": list(spec.idempotent_methods),
            "idempotency_keys": dict(spec.idempotency_keys),
            "money_methods": list(spec.money_methods),
            "token_paths": list(spec.token_paths),
            "secret_names": list(spec.secret_names),
            "codes": {k: _info(v) for k, v in spec.codes.items()},
            "sub_codes": {k: _info(v) for k, v in spec.sub_codes.items()},
            "statuses": {str(k): _info(v) for k, v in spec.statuses.items()},
            "source": spec.source,
        }
        for spec in specs
    ]


def load(data: list[dict[str, Any]]) -> list[ProviderSpec]:
    return [
        ProviderSpec(
            name=item["name"],
            display=item["display"],
            envelopes=tuple(Envelope.from_dict(e) for e in item["envelopes"]),
            hosts=tuple(item["hosts"]),
            request_id_headers=tuple(item["request_id_headers"]),
            success={k: _from_info(v) for k, v in item["success"].items()},
            idempotent_methods=tuple(item["idempotent_methods"]),
            idempotency_keys=dict(item["idempotency_keys"]),
            money_methods=tuple(item["money_methods"]),
            token_paths=tuple(item["token_paths"]),
            secret_names=tuple(item["secret_names"]),
            codes={k: _from_info(v) for k, v in item["codes"].items()},
            sub_codes={k: _from_info(v) for k, v in item["sub_codes"].items()},
            statuses={int(k): _from_info(v) for k, v in item["statuses"].items()},
            source=item["source"],
        )
        for item in data
    ]


def read(key: str) -> list[ProviderSpec] | None:
    if os.environ.get("PAYERR_NO_CACHE"):
        return None
    try:
        data = json.loads((cache_dir() / f"adapters-{key}.json").read_bytes())
        return load(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(key: str, specs: Iterable[ProviderSpec]) -> None:
    """Store the compiled form atomically; a read-only home is no error."""
    if os.environ.get("PAYERR_NO_CACHE"):
        return
    directory = cache_dir()
    temporary = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(dump(specs), out, ensure_ascii=False)
        os.replace(temporary, directory / f"adapters-{key}.json")
        temporary = None
    except Exception:  # the cache only saves time: it never stops payerr loading
        pass
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
