"""Run the 8-process single-refresh test again and again beside a CPU-heavy process.

    python bench/fleet_refresh.py [runs]      # default 50; needs redis-server

Prints how many runs saw exactly one token refresh for the whole fleet.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/test_coordinator.py::test_eight_processes_fifty_requests_one_refresh"


def burn(stop_at: float) -> None:
    """Keep one core busy."""
    while time.monotonic() < stop_at:
        sum(i * i for i in range(10_000))


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    burner = multiprocessing.Process(target=burn, args=(time.monotonic() + 3600,), daemon=True)
    burner.start()
    passed = 0
    started = time.monotonic()
    try:
        for number in range(1, runs + 1):
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-m",
                    "slow",
                    TEST,
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            ok = result.returncode == 0 and " passed" in result.stdout
            passed += ok
            if not ok:
                print(f"run {number} failed:\n{result.stdout[-2000:]}", file=sys.stderr)
    finally:
        burner.terminate()
    elapsed = time.monotonic() - started
    print(f"{passed}/{runs} runs passed under CPU load ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
