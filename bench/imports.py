"""Import cost: whole-process time of `python -c "import ..."`, interleaved, medians.

python bench/imports.py

Every module is loaded from bytecode, as from an installed wheel (pip compiles
at install time): the children write and read it under a fresh
PYTHONPYCACHEPREFIX, and each case runs once before timing. Otherwise a
checkout run with PYTHONDONTWRITEBYTECODE=1 compiles payerr's sources on every
start while httpx comes from site-packages bytecode, and the difference
measures the compiler, not the import.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import table

URL = "https://api.weixin.qq.com/cgi-bin/message/custom/send"
SUCCESS = b'{"errcode":0,"errmsg":"ok"}'
ERROR = b'{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest"}'
INSPECT = "payerr.inspect(payerr.RawResponse(200, {{}}, {body!r}, {url!r})){tail}"
CASES = {
    "python (nothing)": "pass",
    "import httpx": "import httpx",
    "import payerr": "import payerr",
    "import httpx, payerr": "import httpx, payerr",
    "payerr first use, compiled cache": "import payerr; payerr.explain('wechat', '40001')",
    "payerr first use, no cache": "import payerr; payerr.explain('wechat', '40001')",
    "httpx user: Transport + inspect": (
        "import httpx, payerr; payerr.Transport; " + INSPECT.format(body=SUCCESS, url=URL, tail="")
    ),
    "httpx user: Transport + inspect, an error built": (
        "import httpx, payerr; payerr.Transport; "
        + INSPECT.format(body=ERROR, url=URL, tail=".error")
    ),
}
MIDDLEWARE = "httpx user: Transport + inspect"
CHECK = (
    "import sys, httpx, payerr; payerr.Transport; "
    + INSPECT.format(body=SUCCESS, url=URL, tail="")
    + "; print('asyncio' in sys.modules)"
)


def environment(pycache: str, no_cache: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    if no_cache:
        env["PAYERR_NO_CACHE"] = "1"
    return env


def run(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - started


def measure(pycache: str) -> dict[str, float]:
    """Median milliseconds per case, 15 alternating runs after one warm-up each."""
    envs = {name: environment(pycache, name.endswith("no cache")) for name in CASES}
    for name, code in CASES.items():  # bytecode written, compiled adapter cache written
        run(code, envs[name])
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(15):
        for name, code in CASES.items():
            samples[name].append(run(code, envs[name]))
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="payerr-bench-pycache-") as pycache:
        medians = measure(pycache)
        asyncio_loaded = subprocess.run(
            [sys.executable, "-c", CHECK],
            check=True,
            capture_output=True,
            text=True,
            env=environment(pycache, no_cache=False),
        ).stdout.strip()
    base, httpx = medians["python (nothing)"], medians["import httpx"]
    rows = [
        [name, f"{ms:.0f} ms", f"{ms - base:+.0f} ms", f"{ms - httpx:+.0f} ms"]
        for name, ms in medians.items()
    ]
    print(table(["process", "wall time", "vs bare python", "vs import httpx"], rows))
    added = medians[MIDDLEWARE] - httpx
    print(
        f"\npayerr adds {added:.0f} ms to an httpx user's first request "
        f"({medians[MIDDLEWARE] / httpx:.2f}x `import httpx`; target < 20 ms)"
    )
    print(f"asyncio imported by sync use: {asyncio_loaded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
