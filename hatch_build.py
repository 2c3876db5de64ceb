"""Wheel build step: the shipped adapter catalog is compiled here, once, into the wheel.

Without it every installed process compiles the TOML files on first use (parse
and validate: ~160 ms) and caches the result in the user's cache directory; a
process that cannot write one (a read-only file system, ``PAYERR_NO_CACHE``,
no home) paid that on every start. The compiled file is named by the same key
payerr computes at run time (a hash of the adapter files and of the Python that
shapes the data), so a wheel whose files were changed afterwards is never
answered from it. Editable installs are left alone: they compile on first use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_COMPILE = """
import sys
from payerr._catalog import cache as _cache
from payerr._catalog import keys as _keys
from payerr._catalog import loader as _loader
files = _loader.adapter_files()
name = _cache.shipped_name(_keys.digest(files))
specs = [_loader.load_adapter_file(path) for path in files]
data = _cache.dump(specs, built_from=_keys.sizes(files))
sys.stdout.buffer.write(name.encode() + b"\\n" + data)
"""


class CompiledCatalogHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds ``payerr/adapters/compiled-<key>.jsonl`` to the wheel (``_cache.shipped_name``)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        # A separate process with the source tree first on the path: the payerr being
        # built, never one installed in the build environment.
        env = {
            **os.environ,
            "PYTHONPATH": str(root / "src"),
            "PAYERR_NO_CACHE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",  # nothing written into the tree being packed
        }
        result = subprocess.run(
            [sys.executable, "-c", _COMPILE], cwd=root, env=env, capture_output=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                "compiling the adapter catalog failed:\n" + result.stderr.decode(errors="replace")
            )
        name, _, data = result.stdout.partition(b"\n")
        self._scratch = tempfile.mkdtemp(prefix="payerr-compiled-")
        path = Path(self._scratch) / name.decode()
        path.write_bytes(data)
        build_data["force_include"][str(path)] = f"payerr/adapters/{path.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
