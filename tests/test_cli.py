"""The payerr command, through its real entry points."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import payerr
from payerr._tools.cli import main
from support.payloads import ALL_CASES, Case


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

    from payerr._catalog.file_format import adapter_schema
    from payerr._catalog.loader import adapter_dir

    jsonschema = pytest.importorskip("jsonschema")
    schema = adapter_schema()
    for path in sorted(adapter_dir().glob("*.toml")):
        jsonschema.validate(tomllib.loads(path.read_text("utf-8")), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"provider": {"name": "x", "display": "X", "bogus": 1}}, schema)


# --- the code reference pages --------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_code_pages_are_current() -> None:
    """docs/codes.md and docs/codes/*.md are what the catalog makes of them today."""
    from payerr._tools.codedocs import render_all

    files = render_all(DOCS)
    stale = [
        name
        for name, text in files.items()
        if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted(
        f"codes/{path.name}"
        for path in (DOCS / "codes").glob("*.md")
        if f"codes/{path.name}" not in files
    )
    assert not stale and not extra, (
        f"stale {stale}, left over {extra}: run `python -m payerr._tools.codedocs docs`"
    )


def test_every_error_code_has_one_card_with_its_own_anchor() -> None:
    """Each catalog entry is on exactly one page, and anchors are unique on a page."""
    from payerr._catalog.registry import catalog
    from payerr._tools.codedocs import anchor_of, pages

    found = pages()
    for page in found:
        anchors = [anchor_of(info) for info in page.codes]
        assert len(anchors) == len(set(anchors)), page.path
    placed = sum(len(page.codes) for page in found)
    expected = sum(sum(1 for info in spec.all_codes() if not info.ok) for spec in catalog())
    assert placed == expected


@pytest.mark.parametrize(
    ("provider", "code", "page", "anchor"),
    [
        ("wechat", "45009", "codes/wechat-server.md", "45009"),
        ("wechat", "SYSTEM_ERROR", "codes/wechat-pay.md", "SYSTEM_ERROR"),
        ("alipay", "ACQ.TRADE_NOT_EXIST", "codes/alipay-acq.md", "ACQ.TRADE_NOT_EXIST"),
        ("alipay", "isv.invalid-signature", "codes/alipay-isv.md", "isv.invalid-signature"),
        ("huawei", "1001880009", "codes/huawei.md", "1001880009"),
        ("cmi", "9000004", "codes/cmi.md", "9000004"),
    ],
)
def test_explain_links_to_the_card(
    capsys: pytest.CaptureFixture[str], provider: str, code: str, page: str, anchor: str
) -> None:
    """The docs link explain prints opens the page on the code's own heading."""
    assert main(["explain", code, "-p", provider, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"/{page.removesuffix('.md')}/#{anchor}" in out
    assert f"{{ #{anchor} }}" in (DOCS / page).read_text(encoding="utf-8")


def test_site_url_and_explain_links_agree() -> None:
    """explain links to the address mkdocs publishes the site at (site_url's default)."""
    from payerr._tools.cli import DOCS_URL

    assert f'"{DOCS_URL}"' in (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")


# --- wrong answers that were -------------------------------------------------------


def _run(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """main() in-process, with its own stdin, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv, stdin=io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["explain", ""],
        ["explain", "   "],
        ["explain", "9" * 5000],
        ["explain"],
        ["explain", "45009", "--body", "{}"],
        ["explain", "45009", "--url", "https://example.com/no/adapter"],
        ["explain", "45009", "-p", "nope"],
        ["sandbox", "--port", "99999"],
        ["sandbox", "--port", "-1"],
        ["sandbox", "--fault-rate", "2"],
        ["sandbox", "--fault-rate", "nan"],
        ["sandbox", "--seed", "x"],
        ["sandbox", "--port", "0", "--script", "wechat.custom.send=45009"],
        ["sandbox", "--port", "0", "--script", "wechat.send=NOT_A_STEP"],
        ["sandbox", "--port", "0", "--script", "wechat.send"],
        ["codes", "--format", "yaml"],
        ["nope"],
        [],
    ],
    ids=lambda argv: " ".join(a[:20] for a in argv) or "(nothing)",
)
def test_bad_input_is_one_line_and_exit_two(argv: list[str]) -> None:
    """Every bad input ends in one line on stderr and exit 2."""
    code, _, err = _run(argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_unexpected_failure_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a failure nobody foresaw ends in one line and exit 2 (PAYERR_DEBUG shows it)."""
    import payerr._tools.demo

    monkeypatch.delenv("PAYERR_DEBUG", raising=False)
    monkeypatch.setattr(payerr._tools.demo, "run_demo", mock.Mock(side_effect=RuntimeError("x\ny")))
    code, _, err = _run(["demo"])
    assert code == 2
    assert err.strip().splitlines() == ["payerr: RuntimeError: x y (PAYERR_DEBUG=1 shows where)"]


def test_sandbox_port_in_use_is_one_line() -> None:
    """A port another process holds is a one-line message, not an OSError."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        code, _, err = _run(["sandbox", "--port", str(port)])
    assert code == 2
    assert f"port {port}" in err and "in use" in err


def test_unknown_sub_code_is_not_found() -> None:
    """An unknown --sub-code says so and exits 1; the parent code is shown as such."""
    code, out, err = _run(["explain", "40004", "-s", "ACQ.NO_SUCH_THING", "-p", "alipay"])
    assert code == 1
    assert "no sub_code 'ACQ.NO_SUCH_THING'" in err
    assert "40004 alone" in out


def test_sub_code_under_another_code_keeps_the_code_typed() -> None:
    """20000 + ACQ.SYSTEM_ERROR shows 20000, and where the catalog files the sub-code."""
    code, out, _ = _run(["explain", "20000", "-s", "ACQ.SYSTEM_ERROR", "--lang", "en"])
    assert code == 0
    assert out.startswith("alipay 20000/ACQ.SYSTEM_ERROR: ServiceUnavailableError")
    assert "under 40004" in out


def test_unknown_5xx_is_service_unavailable() -> None:
    """502 on Alipay is what payerr.inspect makes of a bare 502: ServiceUnavailableError."""
    code, out, _ = _run(["explain", "502", "-p", "alipay", "--lang", "en"])
    assert code == 0
    assert "ServiceUnavailableError" in out and "category=unavailable" in out


def test_codes_stats_json() -> None:
    """codes --stats --format json is JSON, one object per provider."""
    code, out, _ = _run(["codes", "--stats", "--format", "json"])
    assert code == 0
    rows = json.loads(out)
    assert {row["provider"] for row in rows} >= {"alipay", "wechat", "huawei", "cmi"}
    assert all(row["error_codes"] > 0 for row in rows)


def test_version() -> None:
    """--version prints the installed version."""
    from payerr import __version__

    code, out, _ = _run(["--version"])
    assert code == 0
    assert out.strip() == f"payerr {__version__}"


@pytest.mark.parametrize("spelling", ["WeChat", "WECHAT", " wechat "])
def test_provider_names_ignore_case(spelling: str) -> None:
    """-p WeChat is -p wechat, on explain and codes alike."""
    assert _run(["explain", "45009", "-p", spelling])[0] == 0
    assert _run(["codes", "-p", spelling, "-f", "json"])[0] == 0


def test_explain_and_codes_share_option_names_and_choices() -> None:
    """--provider, --lang, --format and --json mean the same on both commands."""
    from payerr._tools.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    explain, codes = sub.choices["explain"], sub.choices["codes"]  # type: ignore[index]

    def options(parser: argparse.ArgumentParser) -> dict[str, object]:
        return {s: a.choices for a in parser._actions for s in a.option_strings}

    shared = ("--provider", "-p", "--lang", "--format", "-f", "--json")
    assert {k: options(explain)[k] for k in shared} == {k: options(codes)[k] for k in shared}


def test_every_option_has_help() -> None:
    """Each option of each command says what it does in --help."""
    from payerr._tools.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        for action in command._actions:
            assert action.help, f"payerr {name} {action.option_strings or action.dest}"


# --- explain --body: the same reading as payerr.inspect --------------------------

CASES = [case for cases in ALL_CASES.values() for case in cases]


def _curl_i(case: Case) -> bytes:
    body = case.body.encode() if isinstance(case.body, str) else case.body
    head = [f"HTTP/1.1 {case.status} X"] + [f"{k}: {v}" for k, v in case.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_body_from_stdin_reads_as_inspect(case: Case) -> None:
    """curl -i output on stdin, with --url, gives payerr.inspect's class, code and hint."""
    code, out, err = _run(["explain", "--body", "-", "--url", case.url, "--json"], _curl_i(case))
    assert code in (0, 1), err
    reading = json.loads(out)
    raw = case.raw()
    outcome = payerr.inspect(payerr.RawResponse(raw.status_code, raw.headers, raw.body, case.url))
    if outcome.error is None:
        assert reading["ok"] is True
        return
    assert reading["class"] == type(outcome.error).__name__
    assert (reading["code"], reading["sub_code"]) == (outcome.error.code, outcome.error.sub_code)
    assert reading["retry"] == outcome.error.retry.value


@pytest.mark.parametrize(
    ("pasted", "expect"),
    [
        (
            b'{"errcode":45009,"errmsg":"reach max api daily quota limit rid: 6500"}',
            "wechat 45009: WeChatRateLimitError",
        ),
        (
            b'2026-12-04 10:00:01 ERROR shop.pay answer={"alipay_trade_pay_response":'
            b'{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR",'
            b'"sub_msg":"\xe7\xb3\xbb\xe7\xbb\x9f\xe9\x94\x99\xe8\xaf\xaf"},"sign":"x"} took 312ms',
            "alipay 40004/ACQ.SYSTEM_ERROR on alipay.trade.pay: AlipayServiceUnavailableError "
            "(category=unavailable, retry=query_first",
        ),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/2 429 \r\ncontent-type: application/json\r\n"
            b'\r\n{"responseCode":"6","responseMessage":"busy"}',
            "RateLimitError",
        ),
    ],
    ids=["bare-json", "log-line", "curl-i-continue"],
)
def test_body_pasted_text(pasted: bytes, expect: str) -> None:
    """A bare body, a log line holding one, curl -i output with a 100 Continue first."""
    _, out, err = _run(["explain", "--body", "-", "--lang", "en"], pasted)
    assert expect in out, out + err
    assert "docs: " in out or "RateLimitError" in expect


def test_body_with_url_picks_provider_and_api() -> None:
    """--url names the API: WeChat Pay's refund SYSTEM_ERROR gets the refund's advice."""
    body = '{"code":"SYSTEM_ERROR","message":"系统错误"}'
    url = "https://api.mch.weixin.qq.com/v3/refund/domestic/refunds"
    code, out, _ = _run(["explain", "--body", body, "--status", "500", "--url", url])
    assert code == 0
    assert "on /v3/refund/domestic/refunds" in out
    assert "out_refund_no" in out


@pytest.mark.parametrize(
    ("url", "retry"),
    [
        ("https://openapi.alipay.com/gateway.do?method=alipay.trade.pay", "query_first"),
        ("https://openapi.alipay.com/gateway.do?method=alipay.trade.query", "backoff"),
    ],
)
def test_code_with_url_gets_that_apis_hint(url: str, retry: str) -> None:
    """explain 20000 --url ...: a payment is queried first, a query is retried."""
    code, out, _ = _run(["explain", "20000", "--url", url, "--format", "json"])
    assert code == 0
    reading = json.loads(out)
    assert (reading["code"], reading["retry"]) == ("20000", retry)
    assert reading["docs"].endswith("/codes/alipay-public/#20000")


# --- any input: one line and an exit code, never a traceback ----------------------

WORDS = st.sampled_from(
    [
        "explain",
        "codes",
        "schema",
        "sandbox",
        "demo",
        "--provider",
        "-p",
        "wechat",
        "ALIPAY",
        "--lang",
        "zh",
        "both",
        "--format",
        "json",
        "markdown",
        "--json",
        "--sub-code",
        "-s",
        "--body",
        "-",
        "--url",
        "--status",
        "--category",
        "--retryable",
        "--stats",
        "--port",
        "0",
        "--fault-rate",
        "--seed",
        "--script",
        "45009",
        "40004",
        "ACQ.SYSTEM_ERROR",
        "--help",
        "--version",
        "",
    ]
)


def _never_a_traceback(argv: list[str], stdin: bytes) -> None:
    """Whatever the arguments and standard input: exit 0, 1 or 2; a usage error is one line."""
    import payerr._tools.demo
    from payerr.sandbox import Sandbox

    with (
        mock.patch.object(Sandbox, "serve_forever", Sandbox.stop),
        mock.patch.object(payerr._tools.demo, "run_demo", return_value=0),
        mock.patch.dict(os.environ, {"PAYERR_DEBUG": "1"}),  # a bug raises, not a tidy line
    ):
        code, _, err = _run(argv, stdin)
    assert code in (0, 1, 2)
    if code == 2 and "--help" not in argv:
        assert len(err.strip().splitlines()) <= 1, err


ARGV = st.lists(st.one_of(WORDS, st.text(max_size=30)), max_size=7)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=ARGV, stdin=st.binary(max_size=300))
def test_any_argv_and_stdin_never_shows_a_traceback(argv: list[str], stdin: bytes) -> None:
    """Any arguments and standard input: an exit code and at most one line, no traceback."""
    _never_a_traceback(argv, stdin)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=ARGV, stdin=st.binary(max_size=2000))
def test_any_argv_and_stdin_never_shows_a_traceback_long(argv: list[str], stdin: bytes) -> None:
    """The same, over many more inputs (slow tier)."""
    _never_a_traceback(argv, stdin)
