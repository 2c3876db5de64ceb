"""The wheel ships the adapter files and py.typed, and payerr finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A wheel built in a subprocess (the slow tier), once for both tests, on one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]


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
        "import payerr, payerr._catalog.loader as c; "
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


def test_wheel_carries_the_compiled_catalog(wheel: Path) -> None:
    """The build hook compiles the shipped adapters into the wheel, named by their key."""
    names = zipfile.ZipFile(wheel).namelist()
    compiled = [n for n in names if n.startswith("payerr/adapters/compiled-")]
    assert len(compiled) == 1
    assert compiled[0].endswith(".jsonl")


FIRST_USE = """
import sys
import payerr, payerr._catalog.cache as cache, payerr._catalog.loader as loader
import payerr._catalog.keys as keys

def refuse(*args, **kwargs):
    raise SystemExit("compiled at run time: " + repr(args))

loader.load_adapter_file = refuse
cache.write = refuse
keys.digest = refuse  # the installed files are trusted by their sizes: none is read
print(payerr.explain("wechat", "40001").category)
answer = b'{"errcode":45009,"errmsg":"reach max api daily quota limit"}'
raw = payerr.RawResponse(200, {}, answer, "https://api.weixin.qq.com/cgi-bin/user/info")
print(payerr.inspect(raw).error.code)
page = payerr.RawResponse(503, {"content-type": "text/html"}, b"<html>busy</html>", raw.url)
print(payerr.inspect(page).error.category)
print("tomllib" in sys.modules, "pydantic" in sys.modules)
"""


@pytest.mark.parametrize(
    "unwritable",
    ["cache dir under a file", pytest.param("PAYERR_NO_CACHE", marks=pytest.mark.slow)],
)
def test_unwritable_cache_starts_from_the_compiled_catalog(
    wheel: Path, tmp_path: Path, unwritable: str
) -> None:
    """Where no cache can be written, an installed payerr reads the wheel's compiled
    catalog: no adapter file (nor ``generic.toml``, which a 503 page needs) is read,
    parsed or validated, no cache is written."""
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "", "HOME": str(tmp_path / "home")}
    if unwritable == "PAYERR_NO_CACHE":
        env["PAYERR_NO_CACHE"] = "1"
    else:
        env["XDG_CACHE_HOME"] = str(blocker / "cache")  # mkdir under a file fails, even as root
    result = subprocess.run(
        [sys.executable, "-c", FIRST_USE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["auth", "45009", "unavailable", "False", "False"]
    assert not (tmp_path / "home").exists()
