"""Writes the provider classes the adapter files declare into ``_errors.py`` and ``__init__.py``.

At run time a provider's class is made from its adapter; type checkers need
it spelled out. ``python -m payerr._tools.codegen`` rewrites the marked blocks, and a
test fails (naming this command) whenever an adapter file was added or
changed without it.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

BEGIN = "# BEGIN GENERATED provider classes"
END = "# END GENERATED provider classes"
DOC_HEAD = "mixed into every error of that provider:\n"
_HERE = Path(__file__).parents[1]


@dataclass(frozen=True)
class ShippedProvider:
    name: str
    display: str
    error_class: str


def shipped_providers() -> list[ShippedProvider]:
    """The shipped adapters, in ``PROVIDERS`` order, read afresh from their files."""
    from .._catalog.loader import shipped_specs
    from .._catalog.registry import Catalog

    fresh = Catalog(shipped_specs())
    return [
        ShippedProvider(name, fresh.spec(name).display, fresh.spec(name).error_class)
        for name in fresh.shipped
    ]


def _replace_block(text: str, block: str, path: Path) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{path}: no {BEGIN!r} ... {END!r} block")
    head_end = text.index("\n", text.index("\n", start) + 1) + 1  # keep the two header lines
    return text[:head_end] + block + text[end:]


def errors_text(text: str, providers: list[ShippedProvider]) -> str:
    """``_errors.py`` with its provider list and class block made from ``providers``."""
    names = ", ".join(p.error_class for p in providers)
    listed = textwrap.fill(names, 96, initial_indent="    ", subsequent_indent="    ")
    start = text.index(DOC_HEAD) + len(DOC_HEAD)
    text = text[:start] + listed + text[text.index("\n\n", start) :]
    classes = "".join(
        f"\n\nclass {p.error_class}(PayError):\n"
        f'    """Anything {p.display} said, or failed to say."""\n'
        f'\n\nPROVIDER_CLASSES["{p.name}"] = {p.error_class}\n'
        for p in providers
    )
    return _replace_block(text, classes.lstrip("\n") if classes else "", _HERE / "_errors.py")


def init_text(text: str, providers: list[ShippedProvider]) -> str:
    """``__init__.py`` with the provider classes imported and exported."""
    names = [p.error_class for p in providers]
    imported = "".join(f"    {name},\n" for name in sorted(names))
    exported = "".join(f'    "{name}",\n' for name in sorted(names))
    block = f"from ._errors import (  # noqa: E402\n{imported})\n\n__all__ += [\n{exported}]\n"
    return _replace_block(text, block if names else "", _HERE / "__init__.py")


def expected() -> dict[Path, str]:
    """Each generated file as it should read now."""
    providers = shipped_providers()
    errors, init = _HERE / "_errors.py", _HERE / "__init__.py"
    return {
        errors: errors_text(errors.read_text(encoding="utf-8"), providers),
        init: init_text(init.read_text(encoding="utf-8"), providers),
    }


def main() -> int:
    for path, text in expected().items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
