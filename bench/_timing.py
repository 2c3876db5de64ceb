"""Side-by-side timing: interleaved repetitions, medians, ratios."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

KEPT = ("PATH", "HOME", "LANG", "PYTHONPATH", "XDG_CACHE_HOME", "PAYERR_NO_CACHE")


def counted_env(**extra: str) -> dict[str, str]:
    """The environment of a process callgrind counts: a fixed few variables, not the
    shell's. requests reads every variable on every request (looking for proxies), so
    each one more costs ~30 k instructions a request, and a count taken in another shell
    would be another count."""
    kept = {name: os.environ[name] for name in KEPT if name in os.environ}
    return {**kept, "PYTHONHASHSEED": "0", **extra}


def compile_sources() -> None:
    """Write the bytecode of payerr and of these benches before anything is counted.

    A counted child that imports a module with no bytecode yet compiles it (a fresh
    checkout, an edited file, a shell with ``PYTHONDONTWRITEBYTECODE``): its long run
    then counts some 180 M instructions of compiling as requests.
    """
    import payerr

    sources = [str(Path(payerr.__file__).parent), str(Path(__file__).parent)]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *sources], check=True, env=counted_env()
    )


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
