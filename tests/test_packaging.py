"""The wheel ships the adapter files and py.typed, and payerr finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("payerr-*.whl")
    return built


def test_wheel_contains_adapters_and_marker(wheel: Path) -> None:
    """Every adapter TOML and py.typed are inside the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for provider in ("alipay", "wechat", "huawei", "cmi"):
        assert f"payerr/adapters/{provider}.toml" in names
    assert "payerr/py.typed" in names


def test_installed_layout_finds_adapters(wheel: Path, tmp_path: Path) -> None:
    """Unpacked as a wheel installs it, payerr loads its adapters from inside the package."""
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = (
        "import payerr, payerr._catalog as c; "
        "print(c.adapter_dir()); print(payerr.explain('huawei', '1001880009').category)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": ""},
    )
    directory, category = result.stdout.split()
    assert directory.startswith(str(tmp_path / "site"))
    assert category == "conflict"
