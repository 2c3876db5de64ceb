"""Every ```python block in README.md runs as written.

Each block runs alone, in a fresh interpreter, with ``PAYERR_SANDBOX_URL``
set to a sandbox started for it (blocks may also start their own). A block
that cannot run here says why in a ``<!-- not run: reason -->`` comment on
the line before it: it is still compiled, and reported as skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from payerr.sandbox import Sandbox

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^\s*```\s*([\w+-]*)")  # indented too: a block inside a list item
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(.*?)\s*-->$")
PYTHON = {"python", "py", "python3"}


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    not_run: str | None  # the reason given by a marker right before the block

    @property
    def name(self) -> str:
        return f"README.md:{self.line}"


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with the marker (if any) right before each."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and not lines[index].lstrip().startswith("```"):
            index += 1
        marker = NOT_RUN.match(lines[start - 1].strip()) if start else None
        found.append(
            Block(
                line=start + 1,
                language=fence.group(1).lower(),
                code=textwrap.dedent("\n".join(lines[start + 1 : index]) + "\n"),
                not_run=marker.group(1) if marker else None,
            )
        )
        index += 1
    return found


BLOCKS = [block for block in blocks(README.read_text(encoding="utf-8")) if block.language in PYTHON]


def test_blocks_are_found() -> None:
    """The reader found the README's python blocks (an empty list would pass vacuously)."""
    assert len(BLOCKS) >= 5


def test_markers_mark_python_blocks_and_say_why() -> None:
    """A ``not run`` marker sits right before a python block and gives a reason."""
    text = README.read_text(encoding="utf-8")
    markers = [line for line in text.splitlines() if "not run" in line and "<!--" in line]
    marked = [block for block in blocks(text) if block.not_run is not None]
    assert len(markers) == len(marked), "a 'not run' marker is not right before a block"
    for block in marked:
        assert block.language in PYTHON, f"{block.name}: only python blocks are run or marked"
        assert block.not_run, f"{block.name}: the marker must say why the block cannot run"


@pytest.mark.slow  # a fresh interpreter per case: the slow tier
@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_block_runs(block: Block) -> None:
    """The block exits 0 with nothing on stderr that looks like a failure."""
    compile(block.code, block.name, "exec")  # marked blocks must still be valid Python
    if block.not_run is not None:
        pytest.skip(f"{block.name} not run: {block.not_run}")
    with Sandbox() as sandbox:
        env = {**os.environ, "PAYERR_SANDBOX_URL": sandbox.url}
        result = subprocess.run(
            # padded so that a traceback's line numbers are the README's
            [sys.executable, "-c", "\n" * block.line + block.code],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert result.returncode == 0, f"{block.name} failed:\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{block.name}:\n{result.stderr}"
        assert sandbox.ledger.duplicates() == []
