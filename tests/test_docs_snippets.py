"""Every code block on every page of the docs site runs as pasted.

The site's copy button copies a block whole, so a block must run alone: Python
blocks in a fresh interpreter (with ``PAYERR_SANDBOX_URL`` set to a sandbox
started for it, as for README.md), shell blocks with bash in an empty folder,
TOML blocks as adapter files payerr loads. A block that cannot run alone says
why in a ``<!-- fragment: reason -->`` comment on the line before it; a Python
fragment must still compile. Running the blocks takes a process each, so it is
in the slow tier; checking what every block is and compiling it is fast.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from payerr.sandbox import Sandbox
from test_readme import Block, blocks

DOCS = Path(__file__).resolve().parents[1] / "docs"
FRAGMENT = re.compile(r"^<!--\s*(?:fragment|not run):\s*(.*?)\s*-->$")
PYTHON = {"python", "py", "python3"}
SHELL = {"bash", "sh", "shell", "console"}
OUTPUT = {"text", "output"}
"""What a command prints or a diagram: shown, not run."""


def _page_blocks(path: Path) -> list[tuple[str, Block]]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for block in blocks(text):
        marker = FRAGMENT.match(lines[block.line - 2].strip()) if block.line > 1 else None
        reason = marker.group(1) if marker else None
        name = f"{path.relative_to(DOCS)}:{block.line}"
        found.append((name, Block(block.line, block.language, block.code, reason)))
    return found


BLOCKS = [item for page in sorted(DOCS.rglob("*.md")) for item in _page_blocks(page)]
IDS = [name for name, _ in BLOCKS]


def test_blocks_are_found() -> None:
    """The docs' blocks were read (an empty list would pass vacuously)."""
    assert len(BLOCKS) >= 30
    assert {"testing.md", "reading.md", "retries.md"} <= {n.split(":")[0] for n in IDS}


@pytest.mark.parametrize(("name", "block"), BLOCKS, ids=IDS)
def test_block_says_what_it_is(name: str, block: Block) -> None:
    """Each block names its language; a fragment says why; Python compiles."""
    assert block.language, f"{name}: name the block's language (python, bash, toml, text)"
    assert block.language in PYTHON | SHELL | OUTPUT | {"toml", "json"}, name
    if block.not_run is not None:
        assert block.not_run, f"{name}: a fragment marker must say why"
    if block.language in PYTHON and block.not_run is None:
        compile(block.code, name, "exec")


def _run(name: str, block: Block, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    with Sandbox() as sandbox:
        venv_bin = str(Path(sys.executable).parent)
        env = {
            **os.environ,
            "PAYERR_SANDBOX_URL": sandbox.url,
            "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        }
        if block.language in PYTHON:
            argv = [sys.executable, "-c", "\n" * block.line + block.code]
        else:
            argv = ["bash", "-euo", "pipefail", "-c", block.code]
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False
        )
        assert sandbox.ledger.duplicates() == [], name
    return result


RUNNABLE = [
    (name, block)
    for name, block in BLOCKS
    if block.language in PYTHON | SHELL | {"toml", "json"} and block.not_run is None
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "block"), RUNNABLE, ids=[name for name, _ in RUNNABLE])
def test_block_runs(name: str, block: Block, tmp_path: Path) -> None:
    """The block runs as pasted: exit 0, no traceback (TOML: an adapter payerr loads)."""
    if block.language == "toml":
        data = tomllib.loads(block.code)
        if "provider" in data and "envelope" in data:
            from payerr._catalog.loader import load_adapter_file

            path = tmp_path / "adapter.toml"
            path.write_text(block.code, encoding="utf-8")
            load_adapter_file(path)
        return
    if block.language == "json":
        import json

        json.loads(block.code)
        return
    result = _run(name, block, tmp_path)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, f"{name}:\n{result.stderr}"
