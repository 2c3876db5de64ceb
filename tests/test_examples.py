"""Every example in examples/ runs against the sandbox and says what it should."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from payerr.sandbox import Sandbox

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXPECTED = {
    "alipay_query_first.py": "pay said 20000 after 1 attempt; query says TRADE_SUCCESS",
    "catching.py": "rate limited: 45009",
    "cmi_order.py": "order created: True",
    "httpx_async.py": "all answered: True",
    "httpx_sync.py": "trade status: TRADE_SUCCESS",
    "huawei_verify_confirm.py": "already confirmed (1001880009): treat as delivered",
    "requests_session.py": "refunded: 10.00 executions: 1",
    "sdk_alipay.py": "pay: 20000 -> query_first, sent 1 time(s)",
    "sdk_wechatpy.py": "token fetches: 2",
    "sdk_wechatpayv3.py": "charge: SYSTEM_ERROR, query_first, sent 1 time(s)",
    "unionpay_gateway.py": "consume: 03 -> query_first, sent 1 time(s)\nquery: 00",
    "wechat_token_refresh.py": "token fetches: 2",
}


def test_every_example_has_an_expectation() -> None:
    """A new example must say here what it prints."""
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.slow  # a fresh interpreter per case: the slow tier
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str) -> None:
    """The example exits 0 and prints its result line."""
    with Sandbox() as sandbox:
        env = {**os.environ, "PAYERR_SANDBOX_URL": sandbox.url}
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / name)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert EXPECTED[name] in result.stdout
        assert sandbox.ledger.duplicates() == []


@pytest.mark.slow  # a pytest run in a subprocess
def test_the_user_app_tests_pass() -> None:
    """examples/user_app: a user's own tests, faking provider answers with payerr.testing."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLES / "user_app"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
