"""The policy's deadline covers the status line and headers, not only the body: a server
that drips its head, or stalls after it, is cut at the deadline on every client."""

from __future__ import annotations

import multiprocessing
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

import payerr
from payerr import RetryHint as H
from payerr import testing
from support.rawserver import RawServer
from test_hostile_bodies import send

CLIENTS = ["httpx", "httpx-async", "requests"]
HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: "
    + b"p" * 80
    + b"\r\nContent-Length: 27\r\nConnection: close\r\n\r\n"
)
BODY = b'{"errcode":0,"errmsg":"ok"}'


class Drip(RawServer):
    """Answers with ``HEAD`` one byte every ``gap`` seconds, or the head at once and then
    nothing (``stall``): the two ways a server holds a client without a read timeout."""

    def __init__(self, gap: float = 0.25, stall: bool = False) -> None:
        super().__init__()
        self.gap, self.stall = gap, stall

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(30)
            if self.read_head(conn) is None:
                return
            self.requests += 1
            if self.stall:
                conn.sendall(HEAD)
                self._stop.wait(30)
                return
            for byte in HEAD + BODY:
                if self._stop.wait(self.gap):
                    return
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()


@pytest.fixture(autouse=True)
def instant() -> Iterator[None]:
    with testing.instant_sleeps():
        yield


def _dripped(kind: str, gap: float, deadline: float) -> tuple[payerr.PayError, float, int]:
    with Drip(gap) as server:
        started = time.monotonic()
        with pytest.raises(payerr.OutcomeUnknownError) as info:
            send(kind, server.url + "/pay/micropay", method="POST", deadline=deadline)
        return info.value, time.monotonic() - started, server.requests


@pytest.mark.slow
@pytest.mark.parametrize("kind", CLIENTS)
def test_head_dripped_a_byte_every_quarter_second_is_cut_at_two_seconds(kind: str) -> None:
    """One byte of status line and headers every 0.25 s (40 s in all), deadline 2 s: an
    OutcomeUnknownError within 2.5 s."""
    error, elapsed, sends = _dripped(kind, 0.25, 2.0)
    assert elapsed < 2.5, f"{elapsed:.2f} s"
    assert error.retry is H.QUERY_FIRST
    assert sends == 1


@pytest.mark.parametrize("kind", CLIENTS)
def test_dripped_head_is_cut_at_the_deadline(kind: str) -> None:
    """A head dripped a byte every 50 ms, deadline 0.2 s: OutcomeUnknownError (query first
    after a payment), saying the deadline passed, long before the head is in."""
    info, elapsed, sends = _dripped(kind, 0.05, 0.2)
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert info.retry is H.QUERY_FIRST
    assert "deadline" in str(info)
    assert sends == 1


@pytest.mark.parametrize("kind", CLIENTS)
def test_stalled_body_after_the_head_is_cut_at_the_deadline(kind: str) -> None:
    """The head at once, then silence (the client's read timeout is 5 s): cut at the
    policy's 0.2 s deadline."""
    with Drip(stall=True) as server:
        started = time.monotonic()
        with pytest.raises(payerr.OutcomeUnknownError):
            send(kind, server.url + "/pay/micropay", method="POST", deadline=0.2)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"{elapsed:.2f} s"


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_quick_answer_after_a_cut_one_still_works(kind: str) -> None:
    """The watch ends with the send: the next request on the same machinery is answered."""
    with Drip(gap=0.0) as server:
        response = send(kind, server.url + "/cgi-bin/user/info", deadline=5.0)
    assert response.status_code == 200
    assert payerr.inspect(response).ok


def test_ended_watches_leave_nothing_behind() -> None:
    """Every requests send is watched; a send that ends forgets its socket at once, so a
    busy process keeps one entry per send in flight, not one per request of the deadline."""
    from payerr._clients.requests_head import WATCHDOG, unwatch

    far = time.monotonic() + 3600
    before = len(WATCHDOG.watched)
    for _ in range(20_000):
        sock = object()
        WATCHDOG.watch(far, sock)
        unwatch([far, sock])
    assert len(WATCHDOG.watched) == before


def _dripped_in_a_child(url: str, answers: Any) -> None:
    started = time.monotonic()
    try:
        send("requests", url + "/pay/micropay", method="POST", deadline=0.2)
    except payerr.OutcomeUnknownError as error:
        answers.put(("cut", "deadline" in str(error), time.monotonic() - started))
    else:
        answers.put(("answered", False, time.monotonic() - started))


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_forked_worker_has_its_own_watchdog() -> None:
    """A worker forked after the parent used the watchdog (gunicorn, Celery) gets a thread
    and a lock of its own: forked while the parent's lock is held (as by a thread waking
    the watchdog), its dripped head is still cut at the deadline, not blocked for good."""
    from payerr._clients.requests_head import WATCHDOG

    with Drip(gap=0.05) as server:
        _dripped("requests", 0.05, 0.2)  # the parent's watchdog is running
        context = multiprocessing.get_context("fork")
        answers = context.Queue()
        child = context.Process(target=_dripped_in_a_child, args=(server.url, answers), daemon=True)
        with WATCHDOG._wake:  # the child is forked with the parent's lock held
            child.start()
        try:
            outcome, said_deadline, elapsed = answers.get(timeout=10)
        finally:
            child.join(10)
            if child.is_alive():  # blocked for good: not left behind the test
                child.kill()
    assert (outcome, said_deadline) == ("cut", True)
    assert elapsed < 2.0, f"{elapsed:.2f} s"
