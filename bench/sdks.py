"""SDK paths, counted: an SDK with payerr installed against the same SDK alone.

    python bench/sdks.py                      # needs valgrind; several minutes
    python bench/sdks.py --only wechatpy      # only the rows whose name holds this
    python bench/sdks.py --calls 20 120       # fewer calls per run (coarser, faster)

Each SDK call goes to payerr's sandbox, which signs its answers as Alipay and
WeChat Pay do. Every counted run gets a sandbox process of its own (its work is
not counted), so two runs side by side never share state: WeChat voids a token
on every fetch, and two clients of one sandbox would keep voiding each other's
and resend every call. The client process runs under callgrind twice per
contender (a short and a long run); the difference over the extra calls is the
client's own work per call. Every process of one bench reads the catalog from a
cache directory of the bench's own, compiled once by the first sandbox: a
checkout being edited (or another bench beside it) changes the cache key, and a
run that compiled the catalog while its pair did not would count the compile
as calls. "requests per call" is what the sandbox served per
call in that difference: a row whose SDK resent or fetched more than the other
is not comparing the same work, and shows it.

Rows: wechatpy ``user.get`` (success); wechatpayv3 ``query`` and
python-alipay-sdk ``api_alipay_trade_query`` for an order that exists
(success) and one that does not (404 ``ORDER_NOT_EXIST``, ``40004
ACQ.TRADE_NOT_EXIST``: answers payerr reads as errors). Each alone, again
(A/A: how far two identical runs differ), and with ``install()``. Both
contenders reach the sandbox the same way: wechatpy through the same
redirecting adapter (alone, mounted on its session; installed, under payerr's
adapter), the others by their gateway URL. (Alipay's official alipay-sdk-python
has no row: its own HTTP call cannot reach a URL with a port, so it cannot
reach the sandbox alone.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_sources, counted_env, table

CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
Keys = dict[str, str]
Call = Callable[[], object]


def serve() -> None:
    """The sandbox process: prints its URL and keys as one JSON line, serves until killed."""
    from payerr.sandbox import Sandbox

    sandbox = Sandbox(signing=True).start()
    keys = {
        "url": sandbox.url,
        "merchant_private_key_pem": sandbox.merchant_private_key_pem,
        "public_key_pem": sandbox.public_key_pem,
        "app_private_key_pem": sandbox.app_private_key_pem,
        "wechatpay_public_key_id": sandbox.wechatpay_public_key_id,
    }
    print(json.dumps(keys), flush=True)
    while True:
        time.sleep(3600)


def wechatpy(keys: Keys, install: bool, success: bool) -> Call:
    from wechatpy import WeChatClient

    from payerr.integrations import wechatpy as payerr_wechatpy
    from payerr.sandbox._redirect import _ToSandbox, sandbox_adapter

    client = WeChatClient("wx-sandbox", "secret")
    if install:
        # provider= as install() itself gives it: only the redirect to the sandbox differs
        payerr_wechatpy.install(client, adapter=sandbox_adapter(keys["url"], provider="wechat"))
    else:
        moving = _ToSandbox()
        moving.sandbox_url = keys["url"]
        client._http.mount("https://", moving)
    return lambda: client.user.get("o-1")


def wechatpayv3(keys: Keys, install: bool, success: bool) -> Call:
    from wechatpayv3 import WeChatPay, WeChatPayType

    from payerr.integrations import wechatpayv3 as payerr_wechatpay

    pay = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid="1900000001",
        private_key=keys["merchant_private_key_pem"],
        cert_serial_no="5157F09EFDC096DE15EBE81A47057A72",
        appid="wx00sandbox",
        apiv3_key="k" * 32,
        notify_url="https://shop.example/notify",
        public_key=keys["public_key_pem"],
        public_key_id=keys["wechatpay_public_key_id"],
    )
    pay._core._gate_way = keys["url"]
    if install:
        payerr_wechatpay.install(pay)
    number = "W1" if success else "W0"
    if success:
        status, _ = pay.pay(description="bench", out_trade_no=number, amount={"total": 1})
        assert status == 200, status
    return lambda: pay.query(out_trade_no=number)


def alipay(keys: Keys, install: bool, success: bool) -> Call:
    from alipay import AliPay

    from payerr.integrations import alipay as payerr_alipay

    sdk = AliPay(
        appid="2021000000000001",
        app_notify_url=None,
        app_private_key_string=keys["app_private_key_pem"],
        alipay_public_key_string=keys["public_key_pem"],
        sign_type="RSA2",
    )
    sdk._gateway = f"{keys['url']}/gateway.do"
    if install:
        payerr_alipay.install(sdk)
    number = "A1" if success else "A0"
    if success:
        made = sdk.api_alipay_trade_precreate(subject="bench", out_trade_no=number, total_amount=1)
        assert made["code"] == "10000", made
    return lambda: sdk.api_alipay_trade_query(out_trade_no=number)


SDKS: dict[str, tuple[Callable[[Keys, bool, bool], Call], bool]] = {
    "wechatpy user.get": (wechatpy, True),
    "wechatpayv3 query, success": (wechatpayv3, True),
    "wechatpayv3 query, 404 ORDER_NOT_EXIST": (wechatpayv3, False),
    "python-alipay-sdk trade_query, success": (alipay, True),
    "python-alipay-sdk trade_query, 40004": (alipay, False),
}


def contenders() -> dict[str, tuple[str, bool]]:
    found = {}
    for sdk in SDKS:
        found[f"{sdk}: alone"] = (sdk, False)
        found[f"{sdk}: alone (again: A/A)"] = (sdk, False)
        found[f"{sdk}: + install()"] = (sdk, True)
    return found


def served(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_sandbox/ledger") as answer:
        return int(json.load(answer)["requests_served"])


def child(name: str, keys: Keys, count: int) -> None:
    sdk, install = contenders()[name]
    make, success = SDKS[sdk]
    one = make(keys, install, success)
    for _ in range(20):
        one()
    before = served(keys["url"])
    for _ in range(count):
        one()
    print(json.dumps({"served": served(keys["url"]) - before}))


def counted(name: str, keys: Keys, count: int) -> tuple[int, int]:
    """(instructions, requests the sandbox served in the counted loop) of one run."""
    env = counted_env()
    result = subprocess.run(
        [*CALLGRIND, sys.executable, __file__, "--child", name, str(count)],
        input=json.dumps(keys),
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    sent = json.loads(result.stdout.strip().splitlines()[-1])["served"]
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip()), sent
    raise RuntimeError(f"callgrind printed no total for {name}:\n{result.stderr[-2000:]}")


def per_call(name: str, short: int, long: int) -> tuple[float, float]:
    """(instructions, requests) per call, against a sandbox of this contender's own."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        keys: Any = json.loads(server.stdout.readline())
        few, few_sent = counted(name, keys, short)
        many, many_sent = counted(name, keys, long)
    finally:
        server.terminate()
        server.wait()
    extra = long - short
    return (many - few) / extra, (many_sent - few_sent) / extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "COUNT"))
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--calls", nargs=2, type=int, default=(50, 300), metavar=("SHORT", "LONG"))
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    if args.child:
        child(args.child[0], json.loads(sys.stdin.read()), int(args.child[1]))
        return 0
    short, long = args.calls
    names = [n for n in contenders() if not args.only or any(o in n for o in args.only)]
    os.environ["XDG_CACHE_HOME"] = cache = tempfile.mkdtemp(prefix="payerr-bench-")
    try:
        warm = subprocess.run(
            [sys.executable, "-c", "from payerr._catalog.registry import catalog; catalog().names"],
            check=False,
        )
        assert warm.returncode == 0, "the catalog did not compile"
        compile_sources()
        with ThreadPoolExecutor(max_workers=2) as pool:
            counts = pool.map(lambda n: per_call(n, short, long), names)
            found = dict(zip(names, counts, strict=True))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    rows = []
    for name, (instructions, requests) in found.items():
        alone = found.get(f"{contenders()[name][0]}: alone", (instructions, requests))[0]
        rows.append(
            [
                name,
                f"{instructions / 1000:,.1f} k",
                f"{(instructions - alone) / 1000:+,.1f} k",
                f"{instructions / alone:.3f}×",
                f"{requests:.2f}",
            ]
        )
    header = ["SDK call", "instructions per call", "vs alone", "ratio", "requests per call"]
    print(table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
