"""Import cost: whole-process time of `python -c "import ..."`, interleaved, medians.

python bench/imports.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import table

CASES = {
    "python (nothing)": "pass",
    "import httpx": "import httpx",
    "import payerr": "import payerr",
    "import httpx, payerr": "import httpx, payerr",
    "payerr first use, compiled cache": "import payerr; payerr.explain('wechat', '40001')",
    "payerr first use, no cache": "import payerr; payerr.explain('wechat', '40001')",
    "httpx user: Transport + inspect": (
        "import httpx, payerr; payerr.Transport; payerr.inspect(payerr.RawResponse("
        "200, {}, b'{\"errcode\":0}', 'https://api.weixin.qq.com/x'))"
    ),
}
MIDDLEWARE = "httpx user: Transport + inspect"
CHECK = (
    "import sys, httpx, payerr; payerr.Transport; payerr.inspect(payerr.RawResponse("
    "200, {}, b'{}', 'https://api.weixin.qq.com/x')); print('asyncio' in sys.modules)"
)


def run(code: str, no_cache: bool) -> float:
    env = {**os.environ, **({"PAYERR_NO_CACHE": "1"} if no_cache else {})}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - started


def main() -> int:
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    run(CASES["payerr first use, compiled cache"], no_cache=False)  # write the cache
    for _ in range(15):
        for name, code in CASES.items():
            samples[name].append(run(code, no_cache=name.endswith("no cache")))
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
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
    asyncio_loaded = subprocess.run(
        [sys.executable, "-c", CHECK], check=True, capture_output=True, text=True
    ).stdout.strip()
    print(f"asyncio imported by sync use: {asyncio_loaded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
