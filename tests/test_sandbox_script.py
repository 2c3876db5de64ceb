"""Sandbox scripts name real routes and real steps, or are refused with the valid ones."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from payerr.sandbox import Sandbox
from payerr.sandbox._table import Route, routes
from payerr.sandbox._wire import Incoming


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Not started: script() and the router need no socket traffic.
    made = Sandbox()
    yield made
    made.stop()


@pytest.mark.parametrize("route", ["wechat.custom.send", "alipay.trade.fastpay", "", "WECHAT.SEND"])
def test_unknown_route_is_refused_with_the_routes(sandbox: Sandbox, route: str) -> None:
    """A route the sandbox does not serve would never fire: refused, the valid ones listed."""
    with pytest.raises(ValueError, match="unknown sandbox route") as info:
        sandbox.script(route, ["45009"])
    assert "wechat.send" in str(info.value) and "alipay.trade.pay" in str(info.value)
    assert sandbox.faults.pending() == {}


@pytest.mark.parametrize(
    ("route", "step"),
    [
        ("wechat.send", "SYSTEM_EROR"),
        ("alipay.trade.pay", "45009x"),
        ("cmi.create_order", "retry_after=soon"),
        ("alipay.trade.query", "slow=-1"),
        ("huawei.verify", "reset?"),
    ],
)
def test_unknown_step_is_refused_with_the_steps(sandbox: Sandbox, route: str, step: str) -> None:
    """A step that is no code of the route's provider and no fault step is refused."""
    with pytest.raises(ValueError, match=route.replace(".", r"\.")) as info:
        sandbox.script(route, ["ok", step])
    assert "html502" in str(info.value) and "retry_after=N" in str(info.value)
    assert sandbox.faults.pending() == {}


@pytest.mark.parametrize(
    ("route", "steps"),
    [
        ("alipay.trade.pay", ["20000!", "ACQ.SYSTEM_ERROR", "isv.invalid-signature", "ok"]),
        ("wechat.send", ["45009", "-1", "retry_after=1", "reset!", "html502"]),
        ("wechatpay.refund", ["SYSTEM_ERROR!", "FREQUENCY_LIMITED"]),
        ("cmi.token", ["429", "9000004", "slow=0.1", "big=4096"]),
        ("huawei.confirm", ["1001880009", "503", "transient", "truncated", "gbk"]),
    ],
)
def test_real_steps_are_queued(sandbox: Sandbox, route: str, steps: list[str]) -> None:
    """Codes of the route's provider, HTTP statuses and fault steps are accepted as given."""
    sandbox.script(route, steps)
    assert sandbox.faults.pending() == {route: steps}


def test_http_control_refuses_an_unknown_route() -> None:
    """POST /_sandbox/script answers 400 with the reason, and queues nothing."""
    with Sandbox() as sandbox:
        answer = httpx.post(
            f"{sandbox.url}/_sandbox/script", json={"route": "cmi.order", "steps": ["ok"]}
        )
        assert answer.status_code == 400
        assert "cmi.create_order" in answer.json()["error"]
        assert sandbox.faults.pending() == {}


def _request(route: Route) -> Incoming:
    """A request that reaches this route, made from what the route table says."""
    if route.provider == "alipay" and route.where.startswith("POST /gateway.do"):
        return Incoming("POST", "/gateway.do", {"method": route.name}, {}, b"")
    path = route.where.removeprefix("POST ").replace("…", "/applications")
    return Incoming("POST", path.replace("{out_trade_no}", "X1"), {}, {}, b"")


@pytest.mark.parametrize("route", routes(), ids=[route.name for route in routes()])
def test_every_listed_route_is_served_under_its_name(sandbox: Sandbox, route: Route) -> None:
    """The route table that script() and docs/testing.md use is the router's."""
    routed = sandbox.providers.route(_request(route))
    assert routed is not None
    assert routed[:2] == (route.provider, route.name)
