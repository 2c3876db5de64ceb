"""WeCom (企业微信) as data: its code list, its token rules, its per-API quotas, its sandbox.

The catalog-wide rules (bilingual, hints fit categories, sources cited) run over
WeCom in test_catalog_rules.py; this file checks what is WeCom's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import payerr
from payerr import Category as C
from payerr import RetryHint as H
from payerr._catalog.loader import adapter_dir
from payerr._catalog.registry import catalog
from payerr.sandbox import Sandbox
from payerr.testing import instant_sleeps

PEERS = json.loads((Path(__file__).parent / "data" / "wecom_peer_codes.json").read_text("utf-8"))
ADAPTER = (adapter_dir() / "wecom.toml").read_text(encoding="utf-8")
API = "https://qyapi.weixin.qq.com/cgi-bin"


def answer(code: int | str, path: str = "/user/get", tail: str = "") -> payerr.RawResponse:
    body = json.dumps({"errcode": code, "errmsg": f"x{tail}"}).encode()
    return payerr.RawResponse(200, {}, body, f"{API}{path}?access_token=T", "GET")


# --- the code list ---------------------------------------------------------------------


def test_the_whole_public_list_is_in_the_adapter() -> None:
    """Every code on WeCom's global code page (1250, success aside) has an entry."""
    spec = catalog().spec("wecom")
    listed = set(PEERS["official_page"]["codes"])
    assert len(listed) >= 1000
    assert listed - set(spec.codes) == set()


@pytest.mark.parametrize("peer", ["wxjava", "qiyehao"])
def test_at_least_ninety_percent_of_what_peer_sdks_enumerate(peer: str) -> None:
    """WxJava's WxCpErrorMsgEnum and the 企业号 list: at least 90 % of their codes known."""
    codes = set(PEERS[peer]["codes"]) - {"0"}
    known = codes & set(catalog().spec("wecom").codes)
    assert len(known) >= 0.9 * len(codes), sorted(codes - known)


@pytest.mark.parametrize("code", ["40014", "42001", "40001", "41001", "42009", "40082"])
def test_token_errors_refresh_the_token(code: str) -> None:
    """The codes peer SDKs refresh on are AUTH with REFRESH_CREDENTIALS."""
    error = payerr.inspect(answer(int(code))).error
    assert isinstance(error, payerr.AuthError) and isinstance(error, payerr.WeComError)
    assert error.retry is H.REFRESH_CREDENTIALS


@pytest.mark.parametrize("code", ["40013", "40091", "45031", "90318", "49004"])
def test_credential_errors_a_refresh_cannot_fix_are_not_refreshed(code: str) -> None:
    """A wrong corpid, another corp's secret, a replayed nonce: no token fetch helps."""
    assert payerr.explain("wecom", code).retry is not H.REFRESH_CREDENTIALS


def _scope_comment(code: str) -> str | None:
    """The `# Scope:` comment of a code's entry in the adapter file."""
    entry = re.search(rf'\[codes\."{re.escape(code)}"\]\n((?:#.*\n)*)', ADAPTER)
    assert entry is not None, code
    found = re.search(r"# Scope: (.+)", entry.group(1))
    return found.group(1) if found else None


RATE_LIMITS = [
    c
    for c in sorted(catalog().spec("wecom").codes, key=int)
    if catalog().spec("wecom").codes[c].category is C.RATE_LIMITED
]


@pytest.mark.parametrize("code", RATE_LIMITS)
def test_every_quota_says_its_scope_and_source(code: str) -> None:
    """Each rate limit is scoped, its scope says what it holds and cites where that comes from."""
    info = payerr.explain("wecom", code)
    comment = _scope_comment(code)
    assert comment is not None and re.search(r"https://developer\.work\.weixin\.qq\.com/", comment)
    held = {"api": "other APIs and the token endpoint go on", "subject": "nothing else is held"}
    assert info.cooldown in held and held[info.cooldown] in comment, (code, info.cooldown)


@pytest.mark.parametrize(("code", "window"), [("45009", "minute"), ("45033", "second")])
def test_the_per_api_quotas(code: str, window: str) -> None:
    """45009 (call frequency) and 45033 (concurrency) hold the one API, for their window."""
    info = payerr.explain("wecom", code)
    assert (info.category, info.cooldown, info.window) == (C.RATE_LIMITED, "api", window)
    assert info.processed is payerr.Processed.NO


@pytest.mark.parametrize("code", ["-1", "6000", "81026"])
def test_busy_answers_are_retried_as_not_run(code: str) -> None:
    """WeCom's page says retry later: the call was not carried out."""
    info = payerr.explain("wecom", code)
    assert (info.retry, info.processed) == (H.BACKOFF, payerr.Processed.NO)


def test_every_group_of_codes_cites_its_source() -> None:
    """Each block of entries opens with a Source comment naming a page or a peer SDK."""
    blocks = re.findall(r"# --- .+ ---\n# Source: (.+)", ADAPTER)
    assert len(blocks) >= 40
    assert all(re.search(r"https?://|WxJava|wechat-php-sdk", source) for source in blocks)


def test_the_same_code_means_what_wecom_says_on_its_host() -> None:
    """40001 on qyapi is WeCom's (secret), on api.weixin.qq.com WeChat's: the host decides."""
    wecom = payerr.inspect(answer(40001)).error
    body = b'{"errcode":40001,"errmsg":"invalid credential"}'
    wechat = payerr.inspect(
        payerr.RawResponse(200, {}, body, "https://api.weixin.qq.com/cgi-bin/user/info", "GET")
    ).error
    assert wecom is not None and wechat is not None
    assert (wecom.provider, wechat.provider) == ("wecom", "wechat")
    assert wecom.solution != wechat.solution


# --- the envelope -----------------------------------------------------------------------

TAIL = (
    ", hint: [1576065934_28_e0fae07666aa64636023c1fa7e8f49a4], from ip: 9.30.0.138,"
    " more info at https://open.work.weixin.qq.com/devtool/query?e=42001"
)


def test_the_hint_is_the_request_id_and_the_tail_is_cut() -> None:
    """errmsg's ', hint: [...], from ip: ..., more info at ...' becomes request_id."""
    error = payerr.inspect(answer(42001, tail=TAIL)).error
    assert error is not None
    assert error.request_id == "1576065934_28_e0fae07666aa64636023c1fa7e8f49a4"
    assert error.message == "x"


def test_the_token_never_shows_in_the_error() -> None:
    """access_token and corpsecret are masked in the URL the error keeps."""
    url = f"{API}/gettoken?corpid=ww1&corpsecret=S3cr3t&access_token=T0k3n"
    raw = payerr.RawResponse(200, {}, b'{"errcode":40001,"errmsg":"x"}', url, "GET")
    error = payerr.inspect(raw).error
    assert error is not None and "S3cr3t" not in str(error.url) and "T0k3n" not in str(error.url)


# --- the sandbox ------------------------------------------------------------------------


_OPEN: list[requests.Session] = []


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running, instant_sleeps():
        yield running
        while _OPEN:
            _OPEN.pop().close()


def _session(sandbox: Sandbox, **options: object) -> requests.Session:
    """A session sent to the sandbox (closed when the test's sandbox stops)."""
    session = requests.Session()
    session.mount("https://", sandbox.requests_adapter(**options))
    _OPEN.append(session)
    return session


def test_sandbox_hands_out_a_token_for_corpid_and_secret(sandbox: Sandbox) -> None:
    session = _session(sandbox)
    got = session.get(f"{API}/gettoken", params={"corpid": "ww1", "corpsecret": "s"}).json()
    assert got["errcode"] == 0 and got["expires_in"] == 7200
    user = session.get(
        f"{API}/user/get", params={"access_token": got["access_token"], "userid": "u"}
    )
    assert user.json()["userid"] == "u"


def test_sandbox_refuses_a_wrong_secret_with_40001(sandbox: Sandbox) -> None:
    session = _session(sandbox, policy=payerr.RetryPolicy(max_attempts=1))
    with pytest.raises(payerr.AuthError) as caught:
        session.get(f"{API}/gettoken", params={"corpid": "ww1", "corpsecret": "wrong"})
    assert caught.value.code == "40001" and caught.value.provider == "wecom"


@pytest.mark.parametrize(
    ("token", "code"), [(None, "41001"), ("never-issued", "40014")], ids=["missing", "voided"]
)
def test_sandbox_checks_the_token(sandbox: Sandbox, token: str | None, code: str) -> None:
    session = _session(sandbox, policy=payerr.RetryPolicy(max_attempts=1))
    params = {"userid": "u"} | ({"access_token": token} if token else {})
    with pytest.raises(payerr.AuthError) as caught:
        session.get(f"{API}/user/get", params=params)
    assert caught.value.code == code
    assert caught.value.request_id


def test_sandbox_scripts_wecom_faults(sandbox: Sandbox) -> None:
    """A scripted -1 is retried; a scripted 45033 reaches the caller as a rate limit."""
    session = _session(
        sandbox, policy=payerr.RetryPolicy(max_attempts=2, backoff_initial=0.01, jitter=False)
    )
    token = session.get(f"{API}/gettoken", params={"corpid": "ww1", "corpsecret": "s"}).json()
    sandbox.script("wecom.department_list", ["-1"])
    listed = session.get(f"{API}/department/list", params={"access_token": token["access_token"]})
    assert listed.json()["department"][0]["id"] == 1
    sandbox.script("wecom.message_send", ["45033", "45033"])
    with pytest.raises(payerr.RateLimitError) as caught:
        session.post(f"{API}/message/send", params={"access_token": token["access_token"]}, json={})
    assert caught.value.code == "45033"


# --- faults on WeCom's routes, through each client --------------------------------------

FAULTS = [
    # (sandbox step, payerr class, sent again on a POST)
    ("transient", payerr.ServiceUnavailableError, True),  # -1: WeCom says nothing ran
    ("reset", payerr.OutcomeUnknownError, False),
    ("html502", payerr.ServiceUnavailableError, False),
    ("truncated", payerr.MalformedResponseError, False),
    ("empty", payerr.MalformedResponseError, False),
]
# requests in the fast tier; both httpx clients read every fault in the slow tier.
CLIENTS = [
    "requests",
    pytest.param("httpx", marks=pytest.mark.slow),
    pytest.param("httpx-async", marks=pytest.mark.slow),
]
TWO = payerr.RetryPolicy(max_attempts=2, backoff_initial=0.01, jitter=False)


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Sandbox, str]]:
    """One sandbox for the fault tests (each counts its own hits), and a token from it."""
    with Sandbox() as running, instant_sleeps():
        with requests.Session() as session:
            session.mount("https://", running.requests_adapter())
            got = session.get(f"{API}/gettoken", params={"corpid": "ww1", "corpsecret": "s"})
        yield running, str(got.json()["access_token"])


def _call(sandbox: Sandbox, kind: str, method: str, path: str, token: str) -> object:
    """One call through payerr with the given client, to the sandbox's WeCom."""
    import asyncio

    import httpx

    url, params = f"{API}{path}", {"access_token": token, "userid": "u"}
    body = {"json": {}} if method == "POST" else {}
    if kind == "requests":
        with requests.Session() as session:
            session.mount("https://", sandbox.requests_adapter(policy=TWO))
            return session.request(method, url, params=params, **body)
    if kind == "httpx":
        with httpx.Client(transport=sandbox.httpx_transport(policy=TWO)) as client:
            return client.request(method, url, params=params, **body)

    async def go() -> object:
        transport = sandbox.httpx_transport(policy=TWO, asyncio=True)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.request(method, url, params=params, **body)

    return asyncio.run(go())


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize(("step", "error", "_"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_read_is_retried_through_every_fault(
    shared: tuple[Sandbox, str], kind: str, step: str, error: type[payerr.PayError], _: bool
) -> None:
    """user/get is a read: each fault is sent again, up to max_attempts, then typed."""
    sandbox, token = shared
    before = sandbox.route_hits["wecom.user_get"]
    sandbox.script("wecom.user_get", [step, step])
    with pytest.raises(error) as caught:
        _call(sandbox, kind, "GET", "/user/get", token)
    assert caught.value.provider == "wecom"
    assert caught.value.attempts == 2
    assert sandbox.route_hits["wecom.user_get"] - before == 2


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize(("step", "error", "resent"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_message_is_not_sent_twice_when_it_may_have_gone(
    shared: tuple[Sandbox, str], kind: str, step: str, error: type[payerr.PayError], resent: bool
) -> None:
    """message/send is no read: only a fault WeCom says did not run (-1) is sent again."""
    sandbox, token = shared
    before = sandbox.route_hits["wecom.message_send"]
    sandbox.script("wecom.message_send", [step, step] if resent else [step])
    with pytest.raises(error) as caught:
        _call(sandbox, kind, "POST", "/message/send", token)
    assert sandbox.route_hits["wecom.message_send"] - before == (2 if resent else 1)
    assert caught.value.retry is (H.BACKOFF if resent else H.QUERY_FIRST)


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_gbk_answer_labelled_utf8_still_reads(shared: tuple[Sandbox, str], kind: str) -> None:
    """The success re-encoded as GBK under a UTF-8 label: a success, its Chinese intact."""
    sandbox, token = shared
    sandbox.script("wecom.user_get", ["gbk"])
    outcome = payerr.inspect(_call(sandbox, kind, "GET", "/user/get", token))
    assert outcome.ok
