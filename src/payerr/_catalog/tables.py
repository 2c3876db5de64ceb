"""Code tables whose entries are built on their first look-up.

A provider's compiled table is a mapping of code to encoded row; a success never
looks a code up, and an error looks up one or two, so rows become ``CodeInfo``
only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .model import CodeInfo


class LazyTable(Mapping[str, CodeInfo]):
    """A code table read on first use and whose entries are built on their first look-up.

    Building all 1,600 shipped entries from the compiled cache was most of
    payerr's first use (8 ms), and a success never looks a code up.
    """

    __slots__ = ("_built", "_decode", "_load", "_raw")

    def __init__(
        self,
        load: Callable[[], Mapping[str, bytes]],
        decode: Callable[[str, bytes], CodeInfo],
        built: Mapping[str, CodeInfo] | None = None,
    ) -> None:
        self._load = load
        self._decode = decode
        self._raw: Mapping[str, bytes] | None = None
        self._built: dict[str, CodeInfo] = dict(built or {})

    def _rows(self) -> Mapping[str, bytes]:
        raw = self._raw
        if raw is None:
            raw = self._raw = self._load()
        return raw

    def __getitem__(self, key: str) -> CodeInfo:
        found = self._built.get(key)
        if found is None:
            # setdefault: two threads building one entry both get the first one stored
            found = self._built.setdefault(key, self._decode(key, self._rows()[key]))
        return found

    def get(self, key: str, default: Any = None) -> Any:
        found = self._built.get(key)
        if found is not None:
            return found
        return self[key] if key in self._rows() else default

    def __contains__(self, key: object) -> bool:
        return key in self._rows()

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())

    def __repr__(self) -> str:
        return f"LazyTable({len(self)} entries, {len(self._built)} built)"

    def with_entry(self, key: str, info: CodeInfo) -> LazyTable:
        """A copy with one entry set, the rest still unbuilt (``override_code``)."""
        raw = self._rows()
        rows = raw if key in raw else {**raw, key: b""}
        return LazyTable(lambda: rows, self._decode, {**self._built, key: info})


def with_entry(table: Mapping[str, CodeInfo], key: str, info: CodeInfo) -> Mapping[str, CodeInfo]:
    """A copy of a code table with one entry set (a lazy table stays lazy)."""
    if isinstance(table, LazyTable):
        return table.with_entry(key, info)
    return {**table, key: info}
