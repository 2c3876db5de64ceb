"""Side-by-side timing: interleaved repetitions, medians, ratios."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

KEPT = ("PATH", "HOME", "LANG", "PYTHONPATH", "XDG_CACHE_HOME", "PAYERR_NO_CACHE")


def counted_env(**extra: str) -> dict[str, str]:
    """The environment of a process callgrind counts: a fixed few variables, not the
    shell's. requests reads every variable on every request (looking for proxies), so
    each one more costs ~30 k instructions a request, and a count taken in another shell
    would be another count."""
    kept = {name: os.environ[name] for name in KEPT if name in os.environ}
    return {**kept, "PYTHONHASHSEED": "0", **extra}


def per_call(fn: Callable[[], object], number: int) -> float:
    """Seconds per call of ``fn`` over ``number`` calls."""
    started = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - started) / number


def interleaved(
    contenders: dict[str, Callable[[], object]], number: int, repeats: int = 15
) -> dict[str, float]:
    """Median seconds per call of each contender, measured in alternation."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            samples[name].append(per_call(fn, number))
    return {name: statistics.median(values) for name, values in samples.items()}


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(out + ["| " + " | ".join(row) + " |" for row in rows])
