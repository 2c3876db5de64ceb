"""SDK paths, counted: an SDK with payerr installed against the same SDK alone.

    python bench/sdks.py      # needs valgrind; a few minutes

Each SDK call goes to payerr's sandbox, which runs in a process of its own (so
its work is not counted) and signs its answers as Alipay and WeChat Pay do.
The client process runs under callgrind twice per contender (a short and a
long run); the difference over the extra calls is the client's own work per
call: wechatpy ``user.get``, wechatpayv3 ``query`` and python-alipay-sdk
``api_alipay_trade_query``, each alone and with ``install()``. An A/A row
(the SDK alone, again) shows how far two identical runs differ.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _timing import table

SHORT, LONG = 50, 300
CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
Keys = dict[str, str]


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


def wechatpy(keys: Keys, install: bool) -> Callable[[], object]:
    from wechatpy import WeChatClient

    from payerr.integrations import wechatpy as payerr_wechatpy
    from payerr.sandbox._redirect import _ToSandbox, sandbox_adapter

    client = WeChatClient("wx-sandbox", "secret")
    if install:
        payerr_wechatpy.install(client, adapter=sandbox_adapter(keys["url"]))
    else:
        moving = _ToSandbox()
        moving.sandbox_url = keys["url"]
        client._http.mount("https://", moving)
    return lambda: client.user.get("o-1")


def wechatpayv3(keys: Keys, install: bool) -> Callable[[], object]:
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
    return lambda: pay.query(out_trade_no="W0")


def alipay(keys: Keys, install: bool) -> Callable[[], object]:
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
    return lambda: sdk.api_alipay_trade_query(out_trade_no="A0")


SDKS = {
    "wechatpy user.get": wechatpy,
    "wechatpayv3 query": wechatpayv3,
    "python-alipay-sdk trade_query": alipay,
}


def contenders() -> dict[str, tuple[str, bool]]:
    found = {}
    for sdk in SDKS:
        found[f"{sdk}: alone"] = (sdk, False)
        found[f"{sdk}: alone (again: A/A)"] = (sdk, False)
        found[f"{sdk}: + install()"] = (sdk, True)
    return found


def child(name: str, keys: Keys, count: int) -> None:
    sdk, install = contenders()[name]
    one = SDKS[sdk](keys, install)
    for _ in range(20):
        one()
    for _ in range(count):
        one()


def counted(name: str, keys: Keys, count: int) -> int:
    result = subprocess.run(
        [*CALLGRIND, sys.executable, __file__, "--child", name, str(count)],
        input=json.dumps(keys),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    for line in result.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise RuntimeError(f"callgrind printed no total for {name}:\n{result.stderr[-2000:]}")


def per_call(name: str, keys: Keys) -> float:
    return (counted(name, keys, LONG) - counted(name, keys, SHORT)) / (LONG - SHORT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "COUNT"))
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    if args.child:
        child(args.child[0], json.loads(sys.stdin.read()), int(args.child[1]))
        return 0
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        keys: Any = json.loads(server.stdout.readline())
        names = [n for n in contenders() if not args.only or any(o in n for o in args.only)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = dict(zip(names, pool.map(lambda n: per_call(n, keys), names), strict=True))
    finally:
        server.terminate()
        server.wait()
    rows = []
    for name, instructions in found.items():
        alone = found.get(f"{contenders()[name][0]}: alone", instructions)
        rows.append(
            [
                name,
                f"{instructions / 1000:,.1f} k",
                f"{(instructions - alone) / 1000:+,.1f} k",
                f"{instructions / alone:.3f}×",
            ]
        )
    print(table(["SDK call", "instructions per call", "vs alone", "ratio"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
