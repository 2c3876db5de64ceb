"""Alipay's official SDK through payerr: run in its own interpreter (see sdk_scripts/).

alipay-sdk-python and python-alipay-sdk both install a top-level ``alipay``
package, so the official one is installed apart (``.ci/run`` does it:
``pip install --no-deps --target .venv/sdks/alipay-official alipay-sdk-python``)
and put first on the path of a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = Path(os.environ.get("PAYERR_ALIPAY_OFFICIAL", ROOT / ".venv/sdks/alipay-official"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def findings() -> dict[str, Any]:
    if not (OFFICIAL / "alipay" / "aop").is_dir():
        pytest.fail(
            f"alipay-sdk-python is not installed at {OFFICIAL}: "
            "pip install --no-deps --target .venv/sdks/alipay-official alipay-sdk-python"
        )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(OFFICIAL), str(ROOT / "src")])}
    script = Path(__file__).parent / "sdk_scripts" / "alipay_official.py"
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_success_is_the_sdks_verified_node(findings: dict[str, Any]) -> None:
    assert findings["success"]["code"] == "10000"


def test_a_signed_failure_is_returned_as_the_sdk_returns_it(findings: dict[str, Any]) -> None:
    assert findings["pay_20000_default"] == "20000"
    assert findings["pay_20000_sent"] == 1


def test_raise_errors_types_it_and_never_resends_a_payment(findings: dict[str, Any]) -> None:
    assert findings["pay_20000_raised"] == ["ResponseException", "PayError", "20000"]
    assert findings["pay_20000_hint"] == "query_first"
    assert findings["pay_20000_raised_sent"] == 1


@pytest.mark.parametrize("number", ["O1", "O404"], ids=["success", "40004"])
def test_an_answer_is_verified_once(findings: dict[str, Any], number: str) -> None:
    assert findings[f"rsa_checks {number}"] == 1


def test_a_query_is_retried(findings: dict[str, Any]) -> None:
    assert findings["query_after_20000"] == "TRADE_SUCCESS"
    assert findings["query_sent"] == 2


@pytest.mark.parametrize(
    ("case", "handler"),
    [
        ("unsigned:isv.invalid-app-id", "ResponseException"),
        ("html502", "ResponseException"),
        ("reset", "RequestException"),
        ("refused", "RequestException"),
    ],
)
def test_the_handler_an_app_writes_today_still_catches(
    findings: dict[str, Any], case: str, handler: str
) -> None:
    assert findings["handlers"][case] == [handler, "PayError"]


def test_errors_pickle_as_both_kinds(findings: dict[str, Any]) -> None:
    assert findings["pickled"] == ["ResponseException", "PayError", "isv.invalid-app-id"]


def test_every_wrongly_signed_answer_is_the_sdks_validation_error(
    findings: dict[str, Any],
) -> None:
    """Successes and errors alike, with and without raise_errors: sent once, never typed."""
    assert len(findings["unverified"]) == 10
    for case, seen in findings["unverified"].items():
        assert seen == ["ResponseException", 1], case


def test_a_body_with_two_nodes_goes_back_to_the_sdk_untouched(findings: dict[str, Any]) -> None:
    """Unsigned or signed for another node: the SDK's own ResponseException, sent once."""
    assert len(findings["two_nodes"]) == 4
    for case, seen in findings["two_nodes"].items():
        assert seen == ["ResponseException", 1], case


def test_alipay_result_reads_the_official_response_objects(findings: dict[str, Any]) -> None:
    assert findings["sdk_is_success_for_20000"] is True
    assert findings["alipay_result_20000"] == ["AlipayServiceUnavailableError", "query_first"]
    assert findings["alipay_result_not_exist"] == ["AlipayNotFoundError", "ACQ.TRADE_NOT_EXIST"]
    assert findings["alipay_result_success"] == "TRADE_SUCCESS"


def test_install_twice_is_a_no_op_and_the_views_are_reachable(findings: dict[str, Any]) -> None:
    assert findings["install_twice_same"] is True
    assert findings["views_cooldowns"] == []


def test_an_installed_client_pickles_and_is_installed_again_on_load(
    findings: dict[str, Any],
) -> None:
    assert findings["bare_pickles"] == "bytes"
    assert findings["copy_query"] == "TRADE_SUCCESS"
    assert findings["copy_sent"] == 2  # retried: the copy sends through payerr
    assert findings["copy_views"] == []


@pytest.mark.parametrize("how", ["copy", "deepcopy"])
def test_a_copy_is_installed_with_its_own_transport(findings: dict[str, Any], how: str) -> None:
    assert findings["copies"][how] == ["TRADE_SUCCESS", 2, True]
