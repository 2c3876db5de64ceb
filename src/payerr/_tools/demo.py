"""``payerr demo``: payerr against the embedded sandbox, no keys, no internet.

Each scenario scripts a fault into the sandbox, runs a real httpx or requests
client wrapped by payerr, and checks that payerr did the safe thing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
import requests

from .._clients.httpx_transport import AsyncTransport, Transport
from .._clients.requests_adapter import RequestsAdapter
from .._engine.credentials import HeaderToken, JsonBodyToken, QueryParamToken
from .._engine.wsse import wsse_headers
from .._errors import CATEGORY_CLASSES, PayError
from .._retry.policy import Attempt, RetryPolicy
from ..sandbox import CMI_APP_KEY, CMI_APP_SECRET, Sandbox


@dataclass
class Row:
    provider: str
    client: str
    scenario: str
    expected: str
    attempts: int = 0
    delays: list[float] = field(default_factory=list)
    result: str = ""
    ok: bool = False


class Demo:
    """The scenarios, sharing one sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.url = sandbox.url
        self.delays: list[float] = []

    def policy(self, **changes: Any) -> RetryPolicy:
        settings: dict[str, Any] = {"backoff_initial": 0.05, "backoff_max": 0.4, "deadline": 10.0}
        settings.update(changes)
        return RetryPolicy(on_retry=self._record, **settings)

    def _record(self, attempt: Attempt) -> None:
        self.delays.append(attempt.delay)

    def run(self, row: Row, action: Callable[[], str]) -> Row:
        self.delays = []
        try:
            row.result = action()
            row.attempts = len(self.delays) + 1
        except PayError as error:
            row.attempts = error.attempts
            row.result = _describe(error)
        row.delays = list(self.delays)
        row.ok = row.result.startswith(row.expected)
        return row

    # --- token fetchers, as a user would write them ---------------------------

    def wechat_token(self) -> str:
        params = {"grant_type": "client_credential", "appid": "wx-demo", "secret": "s"}
        token: str = httpx.get(self.url + "/cgi-bin/token", params=params).json()["access_token"]
        return token

    def huawei_token(self) -> str:
        form = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
        token: str = httpx.post(self.url + "/oauth2/v3/token", data=form).json()["access_token"]
        return token

    def cmi_token(self) -> str:
        headers = wsse_headers(CMI_APP_KEY, CMI_APP_SECRET)
        body = {"id": CMI_APP_KEY, "type": 106}
        url = self.url + "/aep/APP_getAccessToken_SBO/v1"
        token: str = httpx.post(url, json=body, headers=headers).json()["accessToken"]
        return token

    # --- scenarios ---------------------------------------------------------------

    def alipay_client(self, **policy: Any) -> httpx.Client:
        transport = Transport(provider="alipay", policy=self.policy(**policy))
        return httpx.Client(base_url=self.url, transport=transport)

    @staticmethod
    def gateway(client: httpx.Client, method: str, **biz: Any) -> dict[str, Any]:
        form = {"method": method, "charset": "utf-8", "biz_content": json.dumps(biz)}
        data: dict[str, Any] = client.post("/gateway.do", data=form).json()
        return data

    def alipay_query_busy(self) -> str:
        with self.alipay_client() as client:
            self.gateway(client, "alipay.trade.pay", out_trade_no="D-Q1", total_amount="8.00")
            self.sandbox.script("alipay.trade.query", ["20000", "html502", "ok"])
            self.delays = []
            node = self.gateway(client, "alipay.trade.query", out_trade_no="D-Q1")
        return f"success: {node['alipay_trade_query_response']['trade_status']}"

    def alipay_pay_unknown(self) -> str:
        self.sandbox.script("alipay.trade.pay", ["20000!"])  # charged, then answered 20000
        with self.alipay_client() as client:
            try:
                self.gateway(client, "alipay.trade.pay", out_trade_no="D-P1", total_amount="30.00")
            except PayError as error:
                node = self.gateway(client, "alipay.trade.query", out_trade_no="D-P1")
                status = node["alipay_trade_query_response"]["trade_status"]
                return f"{_describe(error)}; query says {status}, not resent"
        return "paid at once"

    def alipay_refund(self) -> str:
        with self.alipay_client() as client:
            self.gateway(client, "alipay.trade.pay", out_trade_no="D-R1", total_amount="20.00")
        self.sandbox.script("alipay.trade.refund", ["ACQ.SYSTEM_ERROR!", "reset!", "ok"])
        session = requests.Session()
        session.mount("http://", RequestsAdapter(provider="alipay", policy=self.policy()))
        biz = {"out_trade_no": "D-R1", "refund_amount": "5.00", "out_request_no": "D-R1-1"}
        self.delays = []
        with session:
            form = {"method": "alipay.trade.refund", "biz_content": json.dumps(biz)}
            node = session.post(self.url + "/gateway.do", data=form).json()
        return f"success: refunded {node['alipay_trade_refund_response']['refund_fee']}"

    def wechat_token_voided(self) -> str:
        credentials = QueryParamToken(self.wechat_token)
        session = requests.Session()
        session.mount(
            "http://",
            RequestsAdapter(provider="wechat", policy=self.policy(), credentials=credentials),
        )
        url = self.url + "/cgi-bin/message/custom/send"
        with session:
            session.post(url, json={"touser": "o1", "msgtype": "text"})
            self.sandbox.revoke_tokens("wechat")  # another process fetched a new token
            self.delays = []
            session.post(url, json={"touser": "o1", "msgtype": "text"})
        return "success: token refreshed once"

    def wechat_minute_quota(self) -> str:
        self.sandbox.script("wechat.userinfo", ["45011", "45011", "45011"])
        transport = Transport(
            provider="wechat",
            policy=self.policy(max_retry_after=0.5),
            credentials=QueryParamToken(self.wechat_token),
        )
        with httpx.Client(base_url=self.url, transport=transport) as client:
            client.get("/cgi-bin/user/info", params={"openid": "o1"})
        return "success"

    def wechat_retry_after(self) -> str:
        self.sandbox.script("wechat.userinfo", ["retry_after=1", "ok"])
        transport = Transport(
            provider="wechat", policy=self.policy(), credentials=QueryParamToken(self.wechat_token)
        )
        with httpx.Client(base_url=self.url, transport=transport) as client:
            client.get("/cgi-bin/user/info", params={"openid": "o1"})
        return "success: waited as asked"

    def huawei_confirm_twice(self) -> str:
        async def flow() -> str:
            credentials = HeaderToken.huawei(self.huawei_token)
            transport = AsyncTransport(
                provider="huawei", policy=self.policy(), credentials=credentials
            )
            body = {"purchaseToken": "demo-token-1", "productId": "gems100"}
            async with httpx.AsyncClient(base_url=self.url, transport=transport) as client:
                await client.post("/applications/purchases/tokens/verify", json=body)
                await client.post("/applications/v2/purchases/confirm", json=body)
                await client.post("/applications/v2/purchases/confirm", json=body)
            return "confirmed twice"

        return asyncio.run(flow())

    def cmi_order_reset(self) -> str:
        self.sandbox.script("cmi.create_order", ["reset!"])  # created, answer lost
        self.cmi_create_order("D-C1")
        return "success"

    def cmi_qps(self) -> str:
        self.sandbox.script("cmi.create_order", ["9000004", "ok"])
        self.cmi_create_order("D-C2")
        return "success: order created"

    def cmi_create_order(self, order_id: str) -> None:
        transport = Transport(
            provider="cmi", policy=self.policy(), credentials=JsonBodyToken(self.cmi_token)
        )
        body = {"thirdOrderId": order_id, "transactionCode": f"TX-{order_id}", "packageId": "P7"}
        with httpx.Client(base_url=self.url, transport=transport) as client:
            client.post("/aep/APP_createOrder_SBO/v1", json=body)

    def alipay_pay_gateway_page(self) -> str:
        self.sandbox.script("alipay.trade.pay", ["html502"])
        with self.alipay_client() as client:
            self.gateway(client, "alipay.trade.pay", out_trade_no="D-P2", total_amount="12.00")
        return "paid"

    def scenarios(self) -> list[tuple[Row, Callable[[], str]]]:
        return [
            (
                Row("alipay", "httpx", "query: 20000, then a 502 page", "success"),
                self.alipay_query_busy,
            ),
            (
                Row(
                    "alipay", "httpx", "pay: charged but answered 20000", "ServiceUnavailableError"
                ),
                self.alipay_pay_unknown,
            ),
            (
                Row("alipay", "httpx", "pay: nginx 502 page", "ServiceUnavailableError"),
                self.alipay_pay_gateway_page,
            ),
            (
                Row("alipay", "requests", "refund: SYSTEM_ERROR, reset", "success"),
                self.alipay_refund,
            ),
            (
                Row("wechat", "requests", "token voided by another worker", "success"),
                self.wechat_token_voided,
            ),
            (
                Row("wechat", "httpx", "45011 minute quota", "RateLimitError 45011"),
                self.wechat_minute_quota,
            ),
            (Row("wechat", "httpx", "429 with Retry-After: 1", "success"), self.wechat_retry_after),
            (
                Row("huawei", "httpx async", "verify, confirm, confirm again", "ConflictError"),
                self.huawei_confirm_twice,
            ),
            (
                Row("cmi", "httpx", "createOrder: reset after creating", "ConflictError 1000162"),
                self.cmi_order_reset,
            ),
            (Row("cmi", "httpx", "createOrder: 9000004 QPS limit", "success"), self.cmi_qps),
        ]


def _describe(error: PayError) -> str:
    name = CATEGORY_CLASSES[error.category].__name__
    text = " ".join(p for p in (name, error.code, "→", error.retry.value) if p)
    return text + (f" (retry_after {error.retry_after:.0f}s)" if error.retry_after else "")


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, "-" * len(line), *body])


def run_demo(out: TextIO | None = None) -> int:
    """Run every scenario against a fresh sandbox; 0 when payerr did the safe thing in all."""
    out = out or sys.stdout
    started = time.monotonic()
    with Sandbox() as sandbox:
        print(
            f"payerr demo: sandbox on {sandbox.url} (Alipay, WeChat, Huawei IAP, CMI)\n", file=out
        )
        rows = _run_scenarios(Demo(sandbox), out)
        print("\nWhat happened:\n", file=out)
        print(_table(_HEADER, [_cells(r) for r in rows]), file=out)
        duplicates = _print_ledger(sandbox, out)
    failed = [r for r in rows if not r.ok]
    seconds = time.monotonic() - started
    verdict = "all scenarios behaved" if not failed else f"{len(failed)} scenario(s) misbehaved"
    print(f"{verdict}; finished in {seconds:.1f}s", file=out)
    return 0 if not failed and not duplicates else 1


_HEADER = ["provider", "client", "scenario", "attempts", "delays (s)", "result"]


def _run_scenarios(demo: Demo, out: TextIO) -> list[Row]:
    """Each scenario in turn, said as it starts and as it ends."""
    rows = []
    for row, action in demo.scenarios():
        print(f"  running  {row.provider:<7} {row.scenario} ...", file=out, flush=True)
        rows.append(demo.run(row, action))
        mark = "ok" if rows[-1].ok else "UNEXPECTED"
        print(f"  {mark:<8} {row.result}", file=out, flush=True)
    return rows


def _cells(row: Row) -> list[str]:
    delays = ", ".join(f"{d:.2f}" for d in row.delays) or "-"
    return [row.provider, row.client, row.scenario, str(row.attempts), delays, row.result]


def _print_ledger(sandbox: Sandbox, out: TextIO) -> int:
    """The sandbox's ledger as a table; returns how many executions were duplicates."""
    ledger = sandbox.ledger
    print("\nSandbox ledger (requests that carried each key, and real executions):\n", file=out)
    ledger_rows = [
        [kind, key, str(row["requests"]), str(row["executions"])]
        for kind, keys in sorted(ledger.snapshot().items())
        for key, row in sorted(keys.items())
    ]
    print(_table(["key", "value", "requests", "executions"], ledger_rows), file=out)
    duplicates = len(ledger.duplicates())
    print(f"\nduplicate executions: {duplicates}", file=out)
    return duplicates
