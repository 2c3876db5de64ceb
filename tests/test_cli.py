"""The payerr command, through its real entry points."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from payerr._cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "payerr", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_explain_known_code_exits_zero() -> None:
    """explain prints class, hint and both languages, exit 0."""
    result = run("explain", "1001880009", "--provider", "huawei")
    assert result.returncode == 0
    assert "ConflictError" in result.stdout
    assert "retry=never" in result.stdout
    assert "含义" in result.stdout and "meaning" in result.stdout


def test_console_script_is_installed() -> None:
    """The `payerr` command itself (not only `python -m payerr`) works."""
    from pathlib import Path

    script = Path(sys.executable).with_name("payerr")
    result = subprocess.run(
        [str(script), "explain", "isv.invalid-signature", "--lang", "zh"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "验签失败" in result.stdout


def test_explain_unknown_code_exits_one() -> None:
    """A code nobody knows is exit 1 with a message on stderr."""
    result = run("explain", "31337")
    assert result.returncode == 1
    assert "no code" in result.stderr


def test_explain_bad_usage_exits_two() -> None:
    """A bad flag is exit 2."""
    assert run("explain", "1", "--provider", "nope").returncode == 2


def test_explain_shared_code_shows_every_provider(capsys: pytest.CaptureFixture[str]) -> None:
    """1000000 is both a WeChat and a CMI code: both are shown."""
    assert main(["explain", "1000000", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "cmi 1000000" in out and "wechat 1000000" in out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives machine-readable entries with the method rules."""
    assert main(["explain", "40004", "-p", "alipay", "-s", "ACQ.SYSTEM_ERROR", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["category"] == "unavailable"
    assert entry["methods"][0]["retry"] == "query_first"


def test_codes_filters(capsys: pytest.CaptureFixture[str]) -> None:
    """codes lists by provider, category and retryability."""
    assert main(["codes", "-p", "cmi", "-c", "rate_limited", "--retryable", "-f", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert {e["code"] for e in entries} >= {"9000004", "429"}
    assert all(e["category"] == "rate_limited" for e in entries)


def test_codes_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    """Markdown output is a table with one row per code."""
    assert main(["codes", "-p", "huawei", "-f", "markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| provider")
    assert len(lines) > 10


def test_docs_code_reference_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/codes.md is `payerr codes --format markdown`; regenerate it when adapters change."""
    from pathlib import Path

    assert main(["codes", "--format", "markdown"]) == 0
    current = capsys.readouterr().out
    docs = Path(__file__).resolve().parents[1] / "docs" / "codes.md"
    assert docs.read_text(encoding="utf-8") == current, (
        "docs/codes.md is stale: run `payerr codes --format markdown > docs/codes.md`"
    )


def test_adapter_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/adapter.schema.json is `payerr schema`: editors validate adapters/*.toml with it."""
    import json
    from pathlib import Path

    assert main(["schema"]) == 0
    current = capsys.readouterr().out
    docs = Path(__file__).resolve().parents[1] / "docs" / "adapter.schema.json"
    assert docs.read_text(encoding="utf-8") == current, (
        "docs/adapter.schema.json is stale: run `payerr schema > docs/adapter.schema.json`"
    )
    schema = json.loads(current)
    assert {"provider", "envelope", "success"} <= set(schema["required"])


def test_every_shipped_adapter_fits_the_schema() -> None:
    """The schema accepts every adapter file payerr ships (and is strict about the rest)."""
    import tomllib

    from payerr._catalog import adapter_dir, adapter_schema

    jsonschema = pytest.importorskip("jsonschema")
    schema = adapter_schema()
    for path in sorted(adapter_dir().glob("*.toml")):
        jsonschema.validate(tomllib.loads(path.read_text("utf-8")), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"provider": {"name": "x", "display": "X", "bogus": 1}}, schema)
