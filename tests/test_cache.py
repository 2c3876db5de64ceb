"""The compiled adapter cache: same specs as the files, ignored when stale or broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payerr import _cache
from payerr._catalog import adapter_dir, load_adapter_file


@pytest.fixture
def files() -> list[Path]:
    return sorted(adapter_dir().glob("*.toml"))


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PAYERR_NO_CACHE", raising=False)
    return tmp_path / "payerr"


def test_round_trip_gives_the_same_specs(files: list[Path]) -> None:
    """Specs rebuilt from the cache equal the specs validated from the files."""
    specs = [load_adapter_file(path) for path in files]
    key = _cache.digest(files)
    _cache.write(key, specs)
    assert _cache.read(key) == specs


def test_key_changes_with_the_files(files: list[Path], tmp_path: Path) -> None:
    """Editing an adapter file changes the key, so a stale cache is never used."""
    copy = tmp_path / files[0].name
    copy.write_bytes(files[0].read_bytes())
    before = _cache.digest([copy])
    copy.write_bytes(files[0].read_bytes() + b"\n# edited\n")
    assert _cache.digest([copy]) != before


def test_broken_cache_is_ignored(files: list[Path], cache_home: Path) -> None:
    """A corrupt cache file reads as a miss, not an error."""
    key = _cache.digest(files)
    cache_home.mkdir(parents=True)
    (cache_home / f"adapters-{key}.json").write_text(json.dumps([{"name": "x"}]))
    assert _cache.read(key) is None


def test_cache_can_be_turned_off(
    files: list[Path], cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PAYERR_NO_CACHE=1: nothing written, nothing read."""
    monkeypatch.setenv("PAYERR_NO_CACHE", "1")
    key = _cache.digest(files)
    _cache.write(key, [load_adapter_file(files[0])])
    assert not cache_home.exists()
    assert _cache.read(key) is None


def test_unwritable_cache_is_no_error(
    files: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A read-only or missing home just means no cache."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    _cache.write(_cache.digest(files), [load_adapter_file(files[0])])
    assert _cache.read(_cache.digest(files)) is None


def test_a_changed_default_is_never_answered_from_an_old_cache(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key covers the Python that shapes the compiled data: change a class default
    (here AuthError.default_retry, as a code edit would) and the old cache is not used."""
    from payerr import _catalog
    from payerr._enums import RetryHint
    from payerr._errors import AuthError

    old_key = _cache.digest(files)
    _cache.write(old_key, [load_adapter_file(path) for path in files])
    source = Path(_cache.__file__).with_name("_errors.py")
    edited = source.read_bytes() + b"\n# default_retry changed\n"
    real_read = Path.read_bytes
    monkeypatch.setattr(
        Path, "read_bytes", lambda self: edited if self == source else real_read(self)
    )
    monkeypatch.setattr(AuthError, "default_retry", RetryHint.NEVER)
    assert _cache.digest(files) != old_key
    monkeypatch.setattr(_catalog, "_catalog", None)
    info = _catalog.catalog().spec("wechat").codes["40014"]  # auth, retry left to the default
    assert info.retry is RetryHint.NEVER
    monkeypatch.setattr(_catalog, "_catalog", None)
