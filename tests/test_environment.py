"""Processes without a home: no HOME and a uid with no passwd entry (``--user N`` in a
container), a read-only or odd cache directory. explain, inspect and a request work,
the cache is simply not used, and payerr says so in at most one debug line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOBODY = 54321  # a uid and gid with no passwd or group entry

CHILD = r"""
import json, logging, os, sys
import httpx, payerr
from payerr._catalog import registry as _catalog
from payerr._catalog import cache as _cache

def run():
    info = payerr.explain("wechat", "40001")
    raw = payerr.RawResponse(200, {}, b'{"errcode":45011,"errmsg":"limit"}',
                             "https://api.weixin.qq.com/cgi-bin/user/info")
    error = payerr.inspect(raw).error
    mock = httpx.MockTransport(lambda request: httpx.Response(200, json={"errcode": 0}))
    transport = payerr.Transport(mock, provider="wechat")
    with httpx.Client(transport=transport) as client:
        status = client.get("https://api.weixin.qq.com/cgi-bin/user/info").status_code
    return [info.category.value, error.code, status]

# First as root with a cache of its own: every module payerr may import lazily is loaded
# while the interpreter's files (under /root) can still be read.
os.environ["XDG_CACHE_HOME"] = sys.argv[1]
run()
_catalog._catalog = None
_cache._told = False
os.environ.pop("XDG_CACHE_HOME")
if sys.argv[2] != "-":
    os.environ["XDG_CACHE_HOME"] = sys.argv[2]
os.setgroups([])
os.setgid(int(sys.argv[3]))
os.setuid(int(sys.argv[3]))

lines = []
class Keep(logging.Handler):
    def emit(self, record):
        lines.append(record.getMessage())
logger = logging.getLogger("payerr")
logger.addHandler(Keep())
logger.setLevel(logging.DEBUG)
answers = run()
print(json.dumps({"answers": answers, "lines": [l for l in lines if "cache" in l]}))
"""


def _child(tmp_path: Path, xdg: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME")}
    env.pop("PAYERR_NO_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "root-cache"), xdg, str(NOBODY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _read_only(tmp_path: Path) -> str:
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    return str(directory)


@pytest.mark.skipif(not hasattr(os, "setuid") or os.geteuid() != 0, reason="needs root")
@pytest.mark.slow
@pytest.mark.parametrize(
    "xdg",
    [
        pytest.param(lambda tmp: "-", id="no-home-no-passwd-entry"),
        pytest.param(lambda tmp: "relative/cache", id="relative-xdg"),
        pytest.param(lambda tmp: "/dev/null", id="xdg-is-a-device"),
        pytest.param(lambda tmp: "", id="empty-xdg"),
        pytest.param(_read_only, id="read-only-xdg"),
    ],
)
def test_no_home_still_explains_inspects_and_sends(tmp_path: Path, xdg: object) -> None:
    """explain, inspect and a first request all work; at most one debug line about it."""
    tmp_path.chmod(0o755)
    value = xdg(tmp_path)  # type: ignore[operator]
    result = _child(tmp_path, value)
    assert result["answers"] == ["auth", "45011", 200]
    assert len(result["lines"]) <= 1  # type: ignore[arg-type]
    assert not Path("relative").exists()  # a relative XDG_CACHE_HOME is ignored, as XDG says
