"""The error path's modules load with the first failure, not with every process start."""

from __future__ import annotations

import subprocess
import sys

from payerr._lazy import Lazy

ERROR_PATH = ("payerr._retry.decide", "payerr._engine.failures", "payerr._reading.build")

SEND = """
import sys, httpx, payerr
answer = httpx.MockTransport(lambda request: httpx.Response(200, json={"errcode": CODE}))
with httpx.Client(transport=payerr.Transport(answer)) as client:
    try:
        client.get("https://api.weixin.qq.com/cgi-bin/user/info").json()
    except payerr.PayError:
        pass
print(" ".join(name for name in NAMES if name in sys.modules))
"""


def _error_path_loaded(errcode: int) -> list[str]:
    """The error path's modules loaded by a fresh process after one WeChat answer."""
    script = SEND.replace("CODE", str(errcode)).replace("NAMES", repr(ERROR_PATH))
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return found.stdout.split()


def test_a_success_loads_nothing_of_the_error_path() -> None:
    assert _error_path_loaded(0) == []


def test_a_failure_loads_them() -> None:
    assert sorted(_error_path_loaded(40013)) == sorted(ERROR_PATH)


def test_a_lazy_module_keeps_each_name_it_was_asked_for() -> None:
    lazy = Lazy("colorsys")
    assert "rgb_to_hsv" not in vars(lazy)
    import colorsys

    assert lazy.rgb_to_hsv is colorsys.rgb_to_hsv
    assert vars(lazy)["rgb_to_hsv"] is colorsys.rgb_to_hsv
    assert repr(lazy) == "<Lazy colorsys>"
