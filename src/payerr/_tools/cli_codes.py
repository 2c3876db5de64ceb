"""``payerr codes`` and ``payerr schema``: the catalog listed, counted, or its format.

``render_codes`` is shared with ``explain --format markdown``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import IO, Any

from .._catalog.model import CodeInfo
from .._enums import RetryHint
from .cli_common import EXIT_OK, specs


def _selected(args: argparse.Namespace) -> Iterable[CodeInfo]:
    for spec in specs(args.provider):
        for info in spec.all_codes():
            if info.ok:
                continue
            if args.category and (info.category is None or info.category.value != args.category):
                continue
            if args.retryable and info.retry not in (
                RetryHint.BACKOFF,
                RetryHint.REFRESH_CREDENTIALS,
            ):
                continue
            yield info


def _meaning(info: CodeInfo, lang: str) -> str:
    if lang == "zh":
        return info.message_zh
    if lang == "en":
        return info.message_en
    return f"{info.message_en} / {info.message_zh}"


def render_codes(infos: Iterable[CodeInfo], fmt: str, lang: str = "en") -> str:
    """The codes as a text table, JSON or Markdown."""
    rows = list(infos)
    if fmt == "json":
        return json.dumps([info.as_dict() for info in rows], ensure_ascii=False, indent=2)
    header = ["provider", "code", "sub_code", "class", "retry", "processed", "meaning"]

    def cells(info: CodeInfo) -> list[str]:
        cls = info.error_class
        return [
            info.provider,
            info.code,
            info.sub_code or "",
            cls.__name__ if cls else "",
            info.retry.value,
            info.processed.value,
            _meaning(info, lang),
        ]

    table = [cells(info) for info in rows]
    if fmt == "markdown":
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in table]
        return "\n".join(out)
    widths = [
        max(len(h), *(len(r[i]) for r in table)) if table else len(h)
        for i, h in enumerate(header[:-1])
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header[:-1], widths, strict=True)) + "  meaning"]
    for row in table:
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        )
    return "\n".join(lines)


def stats(provider: str | None = None) -> list[dict[str, Any]]:
    """How many entries each adapter holds: per provider, per envelope, per category."""
    found = []
    for spec in specs(provider):
        errors = [i for i in (*spec.codes.values(), *spec.sub_codes.values()) if not i.ok]
        by_category: dict[str, int] = {}
        for info in errors:
            key = info.category.value if info.category else "success"
            by_category[key] = by_category.get(key, 0) + 1
        found.append(
            {
                "provider": spec.name,
                "error_codes": len(errors),
                "envelopes": [
                    {"name": e.name, "format": e.format, "paths": list(e.paths)}
                    for e in spec.envelopes
                ],
                "codes": len(spec.codes),
                "numeric_codes": sum(
                    1 for i in spec.codes.values() if i.code.lstrip("-").isdigit()
                ),
                "sub_codes": len(spec.sub_codes),
                "statuses": len(spec.statuses),
                "success_codes": len(spec.success),
                "per_api_rules": sum(len(i.rules) for i in errors),
                "by_category": dict(sorted(by_category.items(), key=lambda x: -x[1])),
            }
        )
    return found


def render_stats(provider: str | None = None) -> str:
    """The counts of ``stats`` as text."""
    lines = []
    for row in stats(provider):
        envelopes = ", ".join(
            f"{e['name']} ({e['format']}{', ' + ' '.join(e['paths']) if e['paths'] else ''})"
            for e in row["envelopes"]
        )
        named = row["codes"] - row["numeric_codes"]
        lines.append(f"{row['provider']}: {row['error_codes']} error codes")
        lines.append(f"  envelopes: {envelopes}")
        lines.append(
            f"  codes: {row['codes']} ({row['numeric_codes']} numeric, {named} named)"
            f", sub_codes: {row['sub_codes']}, statuses: {row['statuses']}"
            f", success codes: {row['success_codes']}, per-API rules: {row['per_api_rules']}"
        )
        shown = ", ".join(f"{k} {v}" for k, v in row["by_category"].items())
        lines.append(f"  by category: {shown}")
    return "\n".join(lines)


def run_codes(args: argparse.Namespace, stdin: IO[str]) -> int:
    if args.stats:
        if args.format == "json":
            print(json.dumps(stats(args.provider), ensure_ascii=False, indent=2))
        else:
            print(render_stats(args.provider))
        return EXIT_OK
    print(render_codes(_selected(args), args.format, args.lang))
    return EXIT_OK


# --- schema, demo, sandbox -------------------------------------------------------


def run_schema(args: argparse.Namespace, stdin: IO[str]) -> int:
    from .._catalog.file_format import adapter_schema

    print(json.dumps(adapter_schema(), ensure_ascii=False, indent=2))
    return EXIT_OK
