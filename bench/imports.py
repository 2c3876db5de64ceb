"""Import cost: whole-process time of `python -c "import ..."`, interleaved, medians.

python bench/imports.py

Every module is loaded from bytecode, as from an installed wheel (pip compiles
at install time): the children write and read it under a fresh
PYTHONPYCACHEPREFIX, and each case runs once before timing. Otherwise a
checkout run with PYTHONDONTWRITEBYTECODE=1 compiles payerr's sources on every
start while httpx comes from site-packages bytecode, and the difference
measures the compiler, not the import.

The "wheel" cases run payerr as installed from a wheel built here (with the
compiled catalog its build hook adds): with a warm user cache, and with a
cache that cannot be written (its directory under a file; ``PAYERR_NO_CACHE``).
Each case's cost over ``import httpx`` is the median of its differences from an
``import httpx`` run right beside it (before or after, alternately; the cases in an
order shuffled every round), beside an A/A row: ``import httpx`` against itself.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
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
WHEEL_CASES = {
    "wheel: Transport + inspect, warm cache": "warm",
    "wheel: Transport + inspect, read-only cache": "read-only",
    "wheel: Transport + inspect, PAYERR_NO_CACHE": "no cache",
}
"""The middleware case again, payerr installed from a wheel built with its compiled catalog."""
CASES["import httpx (again: the noise floor)"] = CASES["import httpx"]
for _name in WHEEL_CASES:
    CASES[_name] = CASES[MIDDLEWARE]
ROUNDS = 21
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


def installed(scratch: Path) -> Path:
    """payerr from a wheel built now, unpacked as pip installs it: its site directory."""
    root = Path(__file__).resolve().parents[1]
    dist = scratch / "dist"
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(dist)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("payerr-*.whl")
    site = scratch / "site"
    zipfile.ZipFile(wheel).extractall(site)
    return site


def wheel_environment(pycache: str, site: Path, scratch: Path, kind: str) -> dict[str, str]:
    env = environment(pycache, no_cache=kind == "no cache")
    env["PYTHONPATH"] = str(site)  # ahead of the editable install's path entry
    if kind == "read-only":
        blocker = scratch / "not-a-directory"
        blocker.touch()
        env["XDG_CACHE_HOME"] = str(blocker / "cache")  # unwritable, even for root
    else:
        env["XDG_CACHE_HOME"] = str(scratch / "cache")
    return env


def run(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - started


Samples = dict[str, list[float]]


def measure(pycache: str, scratch: Path) -> tuple[Samples, Samples]:
    """Milliseconds per case and round after one warm-up each, and beside each an
    ``import httpx`` run right before or right after it (alternately, round by round).

    Each case is held to its own neighbour, in an order shuffled every round: a process
    run later in a round runs a little slower (a fixed order made ``import httpx``
    against itself read +2 ms), and that drift must not count as payerr's."""
    envs = {name: environment(pycache, name.endswith("no cache")) for name in CASES}
    site = installed(scratch)
    for name, kind in WHEEL_CASES.items():
        envs[name] = wheel_environment(pycache, site, scratch, kind)
    for name, code in CASES.items():  # bytecode written, compiled adapter cache written
        run(code, envs[name])
    reference = CASES["import httpx"], envs["import httpx"]
    samples: Samples = {name: [] for name in CASES}
    beside: Samples = {name: [] for name in CASES}
    order = random.Random(27)
    for number in range(ROUNDS):
        names = list(CASES)
        order.shuffle(names)
        for name in names:
            case = CASES[name], envs[name]
            first, second = (case, reference) if number % 2 else (reference, case)
            one, other = run(*first) * 1000, run(*second) * 1000
            ours, theirs = (one, other) if number % 2 else (other, one)
            samples[name].append(ours)
            beside[name].append(theirs)
    return samples, beside


def over_httpx(samples: Samples, beside: Samples, name: str) -> tuple[float, float]:
    """The median of the per-round differences from the ``import httpx`` run beside it,
    and their spread (half the interquartile range)."""
    differences = [a - b for a, b in zip(samples[name], beside[name], strict=True)]
    quartiles = statistics.quantiles(differences, n=4)
    return statistics.median(differences), (quartiles[2] - quartiles[0]) / 2


CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")


def instructions(code: str, env: dict[str, str]) -> int:
    """Instructions of one whole process under callgrind: the same on a busy machine."""
    result = subprocess.run(
        [*CALLGRIND, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "PYTHONHASHSEED": "0"},
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise RuntimeError(result.stderr[-2000:])


def _chosen(name: str) -> bool:
    """``--only TEXT``: count ``import httpx`` and the cases whose name holds TEXT."""
    if "--only" not in sys.argv:
        return True
    wanted = sys.argv[sys.argv.index("--only") + 1]
    return name.startswith("import httpx") or wanted in name


def counted() -> int:
    """``--instructions``: each case's instructions over ``import httpx``'s, counted."""
    with tempfile.TemporaryDirectory(prefix="payerr-bench-pycache-") as pycache:
        scratch = Path(pycache) / "scratch"
        envs = {name: environment(pycache, name.endswith("no cache")) for name in CASES}
        site = installed(scratch)
        for name, kind in WHEEL_CASES.items():
            envs[name] = wheel_environment(pycache, site, scratch, kind)
        for name, code in CASES.items():  # bytecode and the user cache written first
            run(code, envs[name])
        chosen = {name: code for name, code in CASES.items() if _chosen(name)}
        counts = {name: instructions(code, envs[name]) for name, code in chosen.items()}
    httpx = counts["import httpx"]
    rows = [
        [name, f"{n / 1e6:,.1f} M", f"{(n - httpx) / 1e6:+,.1f} M", f"{n / httpx:.2f}×"]
        for name, n in counts.items()
    ]
    print(table(["process", "instructions", "vs import httpx", "ratio"], rows))
    return 0


def main() -> int:
    if "--instructions" in sys.argv:
        return counted()
    with tempfile.TemporaryDirectory(prefix="payerr-bench-pycache-") as pycache:
        samples, beside = measure(pycache, Path(pycache) / "scratch")
        asyncio_loaded = subprocess.run(
            [sys.executable, "-c", CHECK],
            check=True,
            capture_output=True,
            text=True,
            env=environment(pycache, no_cache=False),
        ).stdout.strip()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["python (nothing)"]
    rows = []
    for name, ms in medians.items():
        paired, spread = over_httpx(samples, beside, name)
        rows.append(
            [name, f"{ms:.0f} ms", f"{ms - base:+.0f} ms", f"{paired:+.1f} ± {spread:.1f} ms"]
        )
    print(table(["process", "wall time", "vs bare python", "vs import httpx (paired)"], rows))
    print(f"\n{ROUNDS} paired rounds; target: < 15 ms over `import httpx` for these:")
    for name in (MIDDLEWARE, *WHEEL_CASES):
        print(f"  {name}: {over_httpx(samples, beside, name)[0]:+.1f} ms")
    print(f"asyncio imported by sync use: {asyncio_loaded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
