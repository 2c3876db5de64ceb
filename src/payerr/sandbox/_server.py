"""The sandbox's HTTP side: routing, fault injection, and the control routes."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ._declared import CONTENT_TYPES, write
from ._routes import Incoming, Providers, Reply
from ._signing import WECHATPAY_PUBLIC_KEY_ID, Signer
from ._state import Faults, Ledger, Tokens, check_script
from ._table import providers_by_route

if TYPE_CHECKING:
    from .._clients.requests_adapter import RequestsAdapter

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
NGINX_503 = NGINX_502.replace(b"502 Bad Gateway", b"503 Service Temporarily Unavailable")
MAX_HANG = 10.0


class _Reset(Exception):
    """Drop the connection without an answer."""


class Sandbox:
    """A local fake of Alipay, WeChat, Huawei IAP, CMI and every provider whose adapter file
    declares its routes (``[sandbox]``), on 127.0.0.1.

        with Sandbox() as sandbox:
            sandbox.script("alipay.trade.query", ["20000", "20000", "ok"])
            ...  # point a client pinned to provider="alipay" at sandbox.url
            assert sandbox.ledger.duplicates() == []

    Steps: ``ok``; a provider code (``20000``, ``ACQ.SYSTEM_ERROR``, ``-1``,
    ``9000004``...), with a trailing ``!`` to execute the request first (the
    provider processed it, then failed to say so); ``reset`` / ``reset!``;
    ``html502`` / ``html503``; ``retry_after=N``; ``slow=S``; ``hang``;
    ``truncated``; ``gbk``; ``empty``; ``big=N``; ``deep``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, signing: bool = False) -> None:
        self.ledger = Ledger()
        self.tokens = Tokens()
        self.faults = Faults()
        self.providers = Providers(self.ledger, self.tokens)
        self.signer = Signer() if signing else None
        """With ``signing=True``: Alipay and WeChat Pay v3 answers are really signed, so
        SDKs that verify them (python-alipay-sdk, alipay-sdk-python, wechatpayv3) run as
        in production. Hand them ``public_key_pem`` and ``merchant_private_key_pem`` /
        ``app_private_key_pem``."""
        self.providers.signer = self.providers.wechatpay.signer = self.signer
        for declared in self.providers.declared.values():
            declared.signer = self.signer
            self.faults.transient[declared.name] = declared.table.transient
        self.requests_served = 0
        self.received: deque[Incoming] = deque(maxlen=1000)
        """The last 1,000 requests, as the sandbox parsed them: what a client really sent."""
        self.route_hits: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.sandbox = self
        self._thread: threading.Thread | None = None

    @property
    def public_key_pem(self) -> str:
        """The key the sandbox signs with (Alipay's public key, WeChat Pay's platform key)."""
        return self._signing().public_key_pem

    @property
    def merchant_private_key_pem(self) -> str:
        """A WeChat Pay merchant key (PKCS#8) for an SDK; request signatures are not checked."""
        return self._signing().merchant_private_key_pem

    @property
    def app_private_key_pem(self) -> str:
        """An Alipay app private key (PKCS#1) for an SDK; request signatures are not checked."""
        return self._signing().app_private_key_pem

    wechatpay_public_key_id = WECHATPAY_PUBLIC_KEY_ID

    def _signing(self) -> Signer:
        if self.signer is None:
            raise RuntimeError("this sandbox does not sign: start it with Sandbox(signing=True)")
        return self.signer

    def requests_adapter(self, **options: Any) -> RequestsAdapter:
        """A payerr ``RequestsAdapter`` that sends every request here, whatever its host.

        payerr still sees the real URL (``api.weixin.qq.com``…), so an SDK with
        fixed endpoints runs unchanged against the sandbox.
        """
        from ._redirect import sandbox_adapter

        return sandbox_adapter(self.url, **options)

    def httpx_transport(self, **options: Any) -> Any:
        """A payerr ``Transport`` that sends every request here (``AsyncTransport`` for
        ``asyncio=True``); payerr sees the real URL."""
        from ._redirect import sandbox_transport

        return sandbox_transport(self.url, **options)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}" if isinstance(host, str) else f"http://127.0.0.1:{port}"

    def start(self) -> Sandbox:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                args=(0.05,),  # stop() returns within 50 ms, not half a second
                name="payerr-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the ``payerr sandbox`` command)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- the Python side of the control API -------------------------------

    def script(self, route: str, steps: list[str] | tuple[str, ...] | str) -> None:
        """Queue steps for a route (``alipay.trade.pay``, ``wechat.send``, ``cmi.create_order``).

        An unknown route or step raises ``ValueError`` listing the valid ones: it would
        never fire, and a test relying on it would pass for the wrong reason.
        """
        if isinstance(steps, str):
            steps = steps.split(",")
        known = {**providers_by_route(), **self.providers.declared_routes()}
        self.faults.script(route, check_script(route, steps, known, _has_code))

    def random_faults(
        self,
        rate: float,
        *,
        seed: int | None = None,
        steps: tuple[str, ...] = ("transient",),
        routes: tuple[str, ...] | None = None,
    ) -> None:
        """Fail a share of requests at random (reproducibly with a seed)."""
        self.faults.random(rate, seed=seed, steps=steps, routes=routes)

    def set_latency(self, seconds: float) -> None:
        self.faults.latency = seconds

    def revoke_tokens(self, provider: str) -> None:
        """Void every token of a provider, as if it expired or another client re-fetched."""
        self.tokens.revoke(provider)

    def reset(self) -> None:
        self.faults.clear()
        self.ledger.clear()

    # --- handling -------------------------------------------------------------

    def handle(self, request: Incoming) -> Reply:
        """One request: controls, then the scripted or random fault, then the route."""
        with self._count_lock:
            self.requests_served += 1
            self.received.append(request)
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        routed = self.providers.route(request)
        if routed is None:
            return Reply.json({"error": f"no sandbox route for {request.path}"}, 404)
        provider, route, handler = routed
        with self._count_lock:
            self.route_hits[route] += 1
        for kind, key in self.providers.keys(route, request):
            self.ledger.saw(kind, key)
        if self.faults.latency:
            time.sleep(self.faults.latency)
        step = self.faults.next_step(provider, route)
        return self._step(step, provider, route, handler, request)

    def _step(
        self,
        step: str,
        provider: str,
        route: str,
        handler: Callable[[Incoming], Reply],
        request: Incoming,
    ) -> Reply:
        """The answer a script step gives; ``STEP!`` carries the call out before failing.

        Long because it is the table of steps, one branch each, read as the docs list them.
        """
        execute_first = step.endswith("!")
        step = step.rstrip("!")
        if step == "ok":
            return handler(request)
        if step.startswith("slow="):
            time.sleep(min(float(step.partition("=")[2]), MAX_HANG))
            return handler(request)
        if step == "hang":
            time.sleep(MAX_HANG)
            return handler(request)
        if execute_first:
            handler(request)
        if step == "reset":
            raise _Reset
        if step in ("html502", "html503"):
            status = 502 if step == "html502" else 503
            return Reply(
                status,
                NGINX_502 if status == 502 else NGINX_503,
                {"Content-Type": "text/html", "Server": "nginx"},
            )
        if step.startswith("retry_after="):
            seconds = step.partition("=")[2]
            return Reply(429, b"", {"Retry-After": seconds})
        if step in ("truncated", "gbk", "empty") or step.startswith("big="):
            declared = self.providers.declared.get(provider)
            body_format = declared.table.format if declared is not None else "json"
            reply = handler(request) if not execute_first else Reply(200, write({}, body_format))
            return _mangle(reply, step, body_format)
        if step == "deep":
            return Reply(200, b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"})
        return self.providers.error(provider, route, step, request)

    def _control(self, request: Incoming) -> Reply:
        action = request.path.removeprefix("/_sandbox/")
        body = request.json
        if action == "ledger":
            return Reply.json(
                {
                    "ledger": self.ledger.snapshot(),
                    "duplicates": self.ledger.duplicates(),
                    "requests_served": self.requests_served,
                    "faults_injected": self.faults.injected,
                }
            )
        if action == "script" and request.method == "POST":
            try:
                self.script(str(body.get("route", "")), list(body.get("steps", [])))
            except ValueError as exc:
                return Reply.json({"error": str(exc)}, 400)
            return Reply.json({"scripted": self.faults.pending()})
        if action == "faults" and request.method == "POST":
            self.random_faults(
                float(body.get("rate", 0.0)),
                seed=body.get("seed"),
                steps=tuple(body.get("steps", ("transient",))),
                routes=tuple(body["routes"]) if body.get("routes") else None,
            )
            self.set_latency(float(body.get("latency", 0.0)))
            return Reply.json({"ok": True})
        if action == "revoke" and request.method == "POST":
            self.revoke_tokens(str(body.get("provider", "")))
            return Reply.json({"ok": True})
        if action == "reset" and request.method == "POST":
            self.reset()
            return Reply.json({"ok": True})
        return Reply.json({"error": f"unknown control action {action!r}"}, 404)


def _has_code(provider: str, code: str) -> bool:
    """Whether a provider's adapter lists this code, sub-code or HTTP status."""
    from .._catalog.registry import catalog

    spec = catalog().spec(provider)
    return (
        code in spec.codes
        or code in spec.sub_codes
        or (code.isdigit() and len(code) < 4 and int(code) in spec.statuses)
    )


def _mangle(reply: Reply, step: str, body_format: str) -> Reply:
    """An answer spoilt as the step says, in the provider's own format (its adapter's
    ``[sandbox] format``): a form or XML answer is padded as a form or XML, never parsed as
    JSON."""
    headers = {"Content-Type": CONTENT_TYPES[body_format], **reply.headers}
    if step == "truncated":
        return Reply(reply.status, reply.body[: max(1, len(reply.body) // 2)], headers)
    if step == "gbk":  # GBK bytes under a label that still says UTF-8
        return Reply(reply.status, reply.body.decode("utf-8").encode("gbk", "replace"), headers)
    if step == "empty":
        return Reply(reply.status, b"", headers)
    padding = b"x" * max(0, int(step.partition("=")[2]) - len(reply.body))
    return Reply(reply.status, _PADDERS[body_format](reply.body, padding), headers)


def _pad_json(body: bytes, padding: bytes) -> bytes:
    data: Any = json.loads(body or b"{}")
    if not isinstance(data, dict):
        return body
    data["padding"] = padding.decode()
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _pad_form(body: bytes, padding: bytes) -> bytes:
    return body + (b"&" if body else b"") + b"padding=" + padding


def _pad_xml(body: bytes, padding: bytes) -> bytes:
    end = body.rfind(b"</")  # inside the root element, before it closes
    if end < 0:
        return body + b"<padding>" + padding + b"</padding>"
    return body[:end] + b"<padding>" + padding + b"</padding>" + body[end:]


_PADDERS: dict[str, Callable[[bytes, bytes], bytes]] = {
    "json": _pad_json,
    "form": _pad_form,
    "xml": _pad_xml,
}
"""``big=N``: how an answer of each format grows to N bytes and stays that format."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512
    sandbox: Sandbox


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY a kept-alive client
    # waits out the delayed-ACK timer (~40 ms) on every answer.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Incoming(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            reply = self.server.sandbox.handle(request)
        except _Reset:
            linger = struct.pack("ii", 1, 0)  # close with RST, so the client sees a reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in {"Content-Type": "application/json", **reply.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve
