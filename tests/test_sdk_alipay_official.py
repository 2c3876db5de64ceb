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


def test_a_payment_is_never_resent(findings: dict[str, Any]) -> None:
    assert findings["pay_20000"] == ["20000", "query_first"]
    assert findings["pay_20000_sent"] == 1


def test_a_query_is_retried(findings: dict[str, Any]) -> None:
    assert findings["query_after_20000"] == "TRADE_SUCCESS"
    assert findings["query_sent"] == 2


def test_alipay_result_corrects_is_success(findings: dict[str, Any]) -> None:
    assert findings["sdk_is_success_for_20000"] is True
    assert findings["alipay_result_20000"] == ["AlipayServiceUnavailableError", "query_first"]
