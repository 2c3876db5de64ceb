"""The public API as a type checker sees it: intended uses type-check, intended mistakes fail.

tests/data/typing_public_api.py holds both; mypy --strict (the project's settings) runs
over it. A loosened signature shows up as an unused ``type: ignore``, a changed return
type as a failed ``assert_type``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
USES = Path(__file__).parent / "data" / "typing_public_api.py"


@pytest.mark.slow  # mypy takes seconds, more with a cold cache
def test_public_api_types_as_intended() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--warn-unused-ignores", str(USES)],
        cwd=ROOT,  # the project's [tool.mypy] settings and its cache
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found in 1 source file")
