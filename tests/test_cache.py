"""The compiled adapter cache: same specs as the files, ignored when stale or broken."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from payerr._catalog import cache as _cache
from payerr._catalog import codec
from payerr._catalog import keys as _keys
from payerr._catalog.loader import adapter_dir, load_adapter_file
from payerr._catalog.model import ProviderSpec
from payerr._catalog.tables import LazyTable
from payerr._enums import Category, RetryHint


@pytest.fixture
def files() -> list[Path]:
    return sorted(adapter_dir().glob("*.toml"))


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PAYERR_NO_CACHE", raising=False)
    return tmp_path / "payerr"


_VALIDATED = _cache._validated


@pytest.fixture(autouse=True)
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer from the adapter files would hide a broken reader: only the tests
    that damage the cache may fall back (``fallback``)."""
    monkeypatch.setattr(_cache, "_validated", lambda: pytest.fail("fell back to the files"))


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cache, "_validated", _VALIDATED)


def _built(key: str) -> list[ProviderSpec]:
    """Every provider in the cache, built (reading it builds none)."""
    pending = _cache.read(key)
    assert pending is not None
    return [spec.build() for spec in pending]


def _wechat(specs: list[ProviderSpec]) -> ProviderSpec:
    return next(spec for spec in specs if spec.name == "wechat")


def test_round_trip_gives_the_same_specs(files: list[Path]) -> None:
    """Specs rebuilt from the cache equal the specs validated from the files."""
    specs = [load_adapter_file(path) for path in files]
    key = _keys.digest(files)
    _cache.write(key, specs)
    assert _built(key) == specs


def test_generic_texts_round_trip(files: list[Path]) -> None:
    """``generic.toml`` read back from the cache equals the file validated: a process
    whose first answer is an error page needs no TOML parser and no pydantic."""
    from payerr._catalog.generic import validated_generic

    key = _keys.digest(files)
    _cache.write(key, [load_adapter_file(path) for path in files])
    compiled = _cache.read_generic(key)
    assert compiled == validated_generic()
    assert compiled is not None and compiled.file_types.match("image/png")


def test_look_ups_answer_as_the_files_do(files: list[Path]) -> None:
    """Every look-up a request or a person makes gives the same entry from either source."""
    specs = [load_adapter_file(path) for path in files]
    key = _keys.digest(files)
    _cache.write(key, specs)
    for validated, cached in zip(specs, _built(key), strict=True):
        for code in [*validated.codes, *validated.sub_codes, "no-such-code", "200", "404"]:
            assert cached.lookup(code) == validated.lookup(code), (validated.name, code)
            assert cached.find(code) == validated.find(code), (validated.name, code)
        for sub_code in validated.sub_codes:
            parent = validated.sub_codes[sub_code].code
            assert cached.lookup(parent, sub_code) == validated.lookup(parent, sub_code)


def test_key_changes_with_the_files(files: list[Path], tmp_path: Path) -> None:
    """Editing an adapter file changes the key, so a stale cache is never used."""
    copy = tmp_path / files[0].name
    copy.write_bytes(files[0].read_bytes())
    before = _keys.digest([copy])
    copy.write_bytes(files[0].read_bytes() + b"\n# edited\n")
    assert _keys.digest([copy]) != before


def test_broken_cache_is_ignored(files: list[Path], cache_home: Path) -> None:
    """A corrupt cache file reads as a miss, not an error."""
    key = _keys.digest(files)
    cache_home.mkdir(parents=True)
    _cache.cache_path(key).write_text(json.dumps([{"name": "x"}]))
    assert _cache.read(key) is None


def test_truncated_cache_is_ignored(files: list[Path]) -> None:
    """A file shorter than its first line says (a copy cut short) reads as a miss."""
    key = _keys.digest(files)
    _cache.write(key, [load_adapter_file(path) for path in files])
    path = _cache.cache_path(key)
    path.write_bytes(path.read_bytes()[:-10])
    assert _cache.read(key) is None


def test_entries_are_built_when_first_looked_up(files: list[Path]) -> None:
    """Reading the cache builds no code entry; a look-up builds that one entry only."""
    key = _keys.digest(files)
    _cache.write(key, [load_adapter_file(path) for path in files])
    specs = _built(key)
    assert all(" 0 built" in repr(spec.codes) for spec in specs)
    wechat = _wechat(specs)
    assert wechat.codes["40001"].category is Category.AUTH
    assert "40001" in wechat.codes and "no-such-code" not in wechat.codes
    assert wechat.codes.get("no-such-code") is None
    assert repr(wechat.codes).endswith(" 1 built)")


def test_providers_not_built_still_mask_their_secrets(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider read from the cache but never used still has its secret names masked."""
    from payerr._reading import redact as _redact

    key = _keys.digest(files)
    _cache.write(key, [load_adapter_file(path) for path in files])
    monkeypatch.setattr(_redact, "_extra_names", set())
    monkeypatch.setattr(_redact, "_SECRET", None)
    monkeypatch.setattr(_redact, "_QUOTED", None)
    assert not _redact.is_secret_name("alipay_root_cert_sn")
    assert _cache.read(key) is not None
    assert _redact.is_secret_name("alipay_root_cert_sn")
    assert "s3cr3t" not in _redact.redact_text("alipay_root_cert_sn=s3cr3t")


def _damage(path: Path, old: bytes, new: bytes) -> None:
    """Change bytes in place, keeping the length (so only that part reads wrong)."""
    assert len(old) == len(new)
    blob = path.read_bytes()
    assert blob.count(old) >= 1
    path.write_bytes(blob.replace(old, new, 1))


@pytest.mark.usefixtures("fallback")
def test_a_damaged_entry_is_answered_from_the_adapter_files(files: list[Path]) -> None:
    """An entry that no longer parses is read from the validated files, not raised."""
    specs = [load_adapter_file(path) for path in files]
    key = _keys.digest(files)
    _cache.write(key, specs)
    expected = _wechat(specs).codes["40001"]
    line = codec.line(codec.info_data(expected))
    _damage(_cache.cache_path(key), line, line.replace(b'"auth"', b'"xxxx"'))
    assert _wechat(_built(key)).codes["40001"] == expected


@pytest.mark.usefixtures("fallback")
def test_a_damaged_table_is_answered_from_the_adapter_files(files: list[Path]) -> None:
    """A table whose keys no longer read is taken whole from the validated files."""
    specs = [load_adapter_file(path) for path in files]
    key = _keys.digest(files)
    _cache.write(key, specs)
    keys = codec.line(list(_wechat(specs).codes))
    _damage(_cache.cache_path(key), keys, b"{" + keys[1:])
    assert _wechat(_built(key)).codes == _wechat(specs).codes


@pytest.mark.usefixtures("fallback")
def test_a_cache_removed_after_reading_is_answered_from_the_adapter_files(
    files: list[Path],
) -> None:
    """Tables are read when first used; a file gone by then is no error."""
    specs = [load_adapter_file(path) for path in files]
    key = _keys.digest(files)
    _cache.write(key, specs)
    pending = _cache.read(key)
    assert pending is not None
    _cache.cache_path(key).unlink()
    assert [spec.build() for spec in pending] == specs


def test_a_cache_written_again_meanwhile_still_reads(files: list[Path]) -> None:
    """Another checkout with the same files writes the same tables under a first line
    of another length (its own paths); tables read after that still match."""
    specs = [load_adapter_file(path) for path in files]
    key = _keys.digest(files)
    _cache.write(
        key, [spec.replace(source="/a/much/longer/checkout" + spec.source) for spec in specs]
    )
    pending = _cache.read(key)
    assert pending is not None
    _cache.write(key, specs)
    built = [spec.build() for spec in pending]
    assert [spec.codes for spec in built] == [spec.codes for spec in specs]
    assert [spec.sub_codes for spec in built] == [spec.sub_codes for spec in specs]


@pytest.mark.usefixtures("fallback")
def test_a_damaged_provider_is_answered_from_the_adapter_files(files: list[Path]) -> None:
    """A provider whose line lost a field is built from the validated files."""
    specs = [load_adapter_file(path) for path in files]
    key = _keys.digest(files)
    _cache.write(key, specs)
    _damage(_cache.cache_path(key), b'"display":"WeChat', b'"displaX":"WeChat')
    assert _built(key) == specs


def test_override_on_a_catalog_read_from_the_cache(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """override_code changes one entry of a lazily read table and leaves the rest."""
    import payerr
    from payerr._catalog import registry as _catalog

    _cache.write(_keys.digest(files), [load_adapter_file(path) for path in files])
    monkeypatch.setattr(_catalog, "_catalog", None)
    before = payerr.explain("wechat", "40014")
    assert isinstance(_catalog.catalog().spec("wechat").codes, LazyTable)  # from the cache
    payerr.override_code("wechat", "40013", category=Category.INVALID_REQUEST)
    payerr.override_code("wechat", "61999", category=Category.CONFIGURATION)
    payerr.override_code("alipay", "ACQ.TRADE_NOT_EXIST", retry=RetryHint.NEVER)
    assert payerr.explain("wechat", "40013").category is Category.INVALID_REQUEST
    assert payerr.explain("wechat", "61999").category is Category.CONFIGURATION
    assert payerr.explain("alipay", "ACQ.TRADE_NOT_EXIST").retry is RetryHint.NEVER
    assert payerr.explain("wechat", "40014") == before
    assert "61999" in _catalog.catalog().spec("wechat").codes
    monkeypatch.setattr(_catalog, "_catalog", None)


def test_cache_can_be_turned_off(
    files: list[Path], cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PAYERR_NO_CACHE=1: nothing written, nothing read."""
    monkeypatch.setenv("PAYERR_NO_CACHE", "1")
    key = _keys.digest(files)
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
    _cache.write(_keys.digest(files), [load_adapter_file(files[0])])
    assert _cache.read(_keys.digest(files)) is None


def test_a_changed_default_is_never_answered_from_an_old_cache(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key covers the Python that shapes the compiled data: change a class default
    (here AuthError.default_retry, as a code edit would) and the old cache is not used."""
    from payerr._catalog import registry as _catalog
    from payerr._enums import RetryHint
    from payerr._errors import AuthError

    old_key = _keys.digest(files)
    _cache.write(old_key, [load_adapter_file(path) for path in files])
    source = Path(_cache.__file__).parents[1] / "_errors.py"
    edited = source.read_bytes() + b"\n# default_retry changed\n"
    real_read = Path.read_bytes
    monkeypatch.setattr(
        Path, "read_bytes", lambda self: edited if self == source else real_read(self)
    )
    monkeypatch.setattr(AuthError, "default_retry", RetryHint.NEVER)
    assert _keys.digest(files) != old_key
    monkeypatch.setattr(_catalog, "_catalog", None)
    info = _catalog.catalog().spec("wechat").codes["40014"]  # auth, retry left to the default
    assert info.retry is RetryHint.NEVER
    monkeypatch.setattr(_catalog, "_catalog", None)


def test_files_of_older_keys_are_removed_when_a_new_one_is_written(
    files: list[Path], cache_home: Path
) -> None:
    """One file stays, not one per adapter change or upgrade."""
    spec = load_adapter_file(files[0])
    _cache.write("a" * 32, [spec])
    _cache.write("b" * 32, [spec])
    assert sorted(p.name for p in cache_home.iterdir()) == [f"adapters-{'b' * 32}.jsonl"]


def test_no_home_means_no_cache(monkeypatch: pytest.MonkeyPatch, files: list[Path]) -> None:
    """HOME unset and no passwd entry: no cache directory, reading and writing are no-ops."""
    monkeypatch.delenv("XDG_CACHE_HOME")

    def nowhere() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(nowhere))
    assert _cache.cache_dir() is None
    _cache.write(_keys.digest(files), [load_adapter_file(files[0])])
    assert _cache.read(_keys.digest(files)) is None


def _imported_at_load(path: Path) -> set[Path]:
    """The payerr modules a module imports when it is loaded (not in a function)."""
    import ast

    package = Path(_cache.__file__).parents[1]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            target = base.joinpath(*(node.module or "").split("."))
            named = [target / alias.name for alias in node.names]
            candidates = [p.with_suffix(".py") for p in [*named, target]]
            found |= {p.relative_to(package) for p in candidates if p.is_file()}
    return found


def test_every_module_that_shapes_the_compiled_data_is_in_its_key() -> None:
    """The loader builds what the cache stores: every module either of them loads, and
    theirs in turn, is hashed into the key (a split module must stay listed)."""
    package = Path(_cache.__file__).parents[1]
    seen: set[Path] = set()
    todo = [Path("_catalog/cache.py"), Path("_catalog/loader.py")]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(_imported_at_load(package / module))
    assert {str(path) for path in seen} <= set(_cache._SHAPING_MODULES)


@pytest.fixture
def installed(files: list[Path], tmp_path: Path) -> tuple[Path, list[Path]]:
    """An installed wheel's adapter directory: its files and the catalog compiled from them."""
    directory = tmp_path / "adapters"
    directory.mkdir()
    copies = []
    for path in files:
        copies.append(directory / path.name)
        copies[-1].write_bytes(path.read_bytes())
    data = _cache.dump([load_adapter_file(p) for p in files], built_from=_keys.sizes(copies))
    (directory / _cache.shipped_name(_keys.digest(copies))).write_bytes(data)
    return directory, copies


def test_an_installed_catalog_is_trusted_by_its_files_sizes(
    installed: tuple[Path, list[Path]],
) -> None:
    """A start reads no adapter file to find the key: sizes and times say they are the
    files the catalog was compiled from."""
    directory, copies = installed
    assert _keys.shipped_key(copies, directory) == _keys.digest(copies)


@pytest.mark.parametrize("change", ["size", "time"])
def test_an_installed_file_changed_since_is_read_again(
    installed: tuple[Path, list[Path]], change: str
) -> None:
    """An adapter file edited after install (another size, or the same size later) means
    the catalog may not match: the key is computed from the bytes."""
    directory, copies = installed
    edited = copies[0]
    data = edited.read_bytes()
    if change == "size":
        edited.write_bytes(data + b"\n")
    else:
        later = edited.stat().st_mtime + _keys.INSTALL_WINDOW + 60
        os.utime(edited, (later, later))
    assert _keys.shipped_key(copies, directory) is None


def test_a_checkout_has_no_installed_catalog(files: list[Path]) -> None:
    """An editable install or a checkout compiles its own: the key is the files' digest."""
    assert _keys.key_of(files) == _keys.digest(files)
