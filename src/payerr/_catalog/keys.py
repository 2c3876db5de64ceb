"""The compiled catalog's key: which adapter files, and which payerr, it was compiled from.

The key names a cache file (and the compiled catalog a wheel carries): it changes with
any adapter file, with any module that shapes the compiled data (``_SHAPING_MODULES``),
and with the cache format. A wheel's own catalog is trusted by the sizes and times of
its files (``key_of``), every other by their bytes (``digest``).
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

from .cache import _DAMAGED, _SHAPING_MODULES, FORMAT, first_line, shipped_path


def key_of(files: Sequence[Path]) -> str:
    """The catalog's key. A wheel's compiled catalog names its key and the sizes of the
    files it was compiled from: while every file still has that size and none was changed
    after the catalog was installed, that key holds without reading 1.3 MB of files on
    every start (sizes and times, as Python trusts its own bytecode). Otherwise ``digest``.
    """
    shipped = shipped_key(files, shipped_path("").parent)
    return digest(files) if shipped is None else shipped


INSTALL_WINDOW = 5.0
"""Seconds a file may be newer than the compiled catalog and still count as installed with
it (an installer writes a wheel's files one after another); later means edited since."""


def shipped_key(files: Sequence[Path], directory: Path) -> str | None:
    """The key of the compiled catalog in ``directory`` when the files it was compiled
    from are as they were (``key_of``); None when there is none, or they may not be."""
    try:
        names = [n for n in os.listdir(directory) if n.startswith("compiled-")]
        if len(names) != 1 or not names[0].endswith(".jsonl"):
            return None
        compiled = directory / names[0]
        built_from = first_line(compiled, keep=True)[0].get("built_from")
        newest = os.stat(compiled).st_mtime + INSTALL_WINDOW
        sources = _sources(files)
        if not isinstance(built_from, dict) or built_from.keys() != sources.keys():
            return None
        for name, path in sources.items():
            found = os.stat(path)
            if found.st_size != built_from[name] or found.st_mtime > newest:
                return None
    except (OSError, *_DAMAGED):
        return None
    return names[0].removeprefix("compiled-").removesuffix(".jsonl")


def sizes(files: Sequence[Path]) -> dict[str, int]:
    """What a compiled catalog records of the files it was compiled from (``key_of``)."""
    return {name: path.stat().st_size for name, path in _sources(files).items()}


def _sources(files: Sequence[Path]) -> dict[str, Path]:
    """Every file the key covers, by the name the key gives it."""
    here = Path(__file__).parents[1]
    named = {name: here / name for name in _SHAPING_MODULES}
    return {**named, **{path.name: path for path in files}}


def digest(files: Sequence[Path]) -> str:
    """Changes with any adapter file, module shaping the compiled data, or the format: files
    count by name, length and CRC-32 (5 M instructions a start; SHA-256 cost 38 M)."""
    parts = [f"payerr-cache-{FORMAT}"]
    for name, path in _sources(files).items():
        data = path.read_bytes()
        parts.append(f"{name}:{len(data)}:{zlib.crc32(data):08x}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
