"""``Lazy``: a module of the error path, imported when one of its names is first used.

A success needs neither the retry decision nor the failure's log lines; imported at the
top of the engine, they were loaded by every process that starts (1.4 M instructions on
an installed wheel's start, ``bench/imports.py --instructions``).
"""

from __future__ import annotations

import importlib
from typing import Any


class Lazy:
    """Stands for the module ``name`` until one of its names is asked for; that name is
    then kept on this object, so a later look-up costs what a module attribute costs."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<Lazy {self._name}>"
