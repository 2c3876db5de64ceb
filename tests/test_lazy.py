"""The error path's modules load with the first failure, not with every process start."""

from __future__ import annotations

import subprocess
import sys

from payerr._lazy import Lazy

ERROR_PATH = ("payerr._retry.decide", "payerr._engine.failures", "payerr._reading.build")

SUCCESS = """
import sys, httpx, payerr
answer = httpx.MockTransport(lambda request: httpx.Response(200, json={"errcode": 0}))
with httpx.Client(transport=payerr.Transport(answer)) as client:
    client.get("https://api.weixin.qq.com/cgi-bin/user/info").json()
print(" ".join(name for name in NAMES if name in sys.modules))
"""


def test_a_success_loads_nothing_of_the_error_path() -> None:
    found = subprocess.run(
        [sys.executable, "-c", SUCCESS.replace("NAMES", repr(ERROR_PATH))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.split() == []


FAILURE = """
import sys, httpx, payerr
answer = httpx.MockTransport(lambda request: httpx.Response(200, json={"errcode": 40013}))
with httpx.Client(transport=payerr.Transport(answer)) as client:
    try:
        client.get("https://api.weixin.qq.com/cgi-bin/user/info")
    except payerr.PayError:
        pass
print(" ".join(name for name in NAMES if name in sys.modules))
"""


def test_a_failure_loads_them() -> None:
    found = subprocess.run(
        [sys.executable, "-c", FAILURE.replace("NAMES", repr(ERROR_PATH))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(found.stdout.split()) == sorted(ERROR_PATH)


def test_a_lazy_module_keeps_each_name_it_was_asked_for() -> None:
    lazy = Lazy("colorsys")
    assert "rgb_to_hsv" not in vars(lazy)
    import colorsys

    assert lazy.rgb_to_hsv is colorsys.rgb_to_hsv
    assert vars(lazy)["rgb_to_hsv"] is colorsys.rgb_to_hsv
    assert repr(lazy) == "<Lazy colorsys>"
