"""The shared retrying ``send``: what is retried, how long it waits, and what it gives back."""

from __future__ import annotations

import email.utils
import socket
from typing import Any

import pytest
import requests
import urllib3

from kong_slo.http import (
    ApiError,
    RetryPolicy,
    Unreachable,
    is_loopback_host,
    plain_reason,
    retry_after_seconds,
    send,
)

URL = "http://127.0.0.1:9/thing"


class Reply:
    """Just enough of ``requests.Response`` for ``send``."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}
        self.closed = False

    def close(self) -> None:
        self.closed = True


class ScriptedSession:
    """Answers each request with the next scripted reply, or raises it when it is an exception."""

    def __init__(self, *script: Reply | Exception) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Reply:
        self.calls.append({"method": method, "url": url, **kwargs})
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def policy(sleeps: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, initial_delay=1.0, multiplier=2.0, max_delay=5.0, timeout=7.0,
                       sleep=sleeps.append)


def call(session: ScriptedSession, sleeps: list[float], **kwargs: Any) -> Any:
    return send(session, "PUT", URL, policy=policy(sleeps), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("header", "expected"), [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), (None, None),
                                                  ("soon", None)])
def test_retry_after_as_seconds(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds({} if header is None else {"Retry-After": header}) == expected


def test_retry_after_as_an_http_date() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 12, usegmt=True)
    assert retry_after_seconds({"Retry-After": header}, now=now) == pytest.approx(12.0)
    assert retry_after_seconds({"Retry-After": email.utils.formatdate(now - 60, usegmt=True)}, now=now) == 0.0


def test_429_waits_as_long_as_the_server_asks_and_closes_the_refused_reply() -> None:
    sleeps: list[float] = []
    refused = Reply(429, {"Retry-After": "4"})
    session = ScriptedSession(refused, Reply(200))
    assert call(session, sleeps).status_code == 200
    assert sleeps == [4.0] and refused.closed
    assert all(request["timeout"] == 7.0 for request in session.calls), "every request has a timeout"


def test_a_huge_retry_after_is_capped() -> None:
    sleeps: list[float] = []
    call(ScriptedSession(Reply(503, {"Retry-After": "86400"}), Reply(200)), sleeps)
    assert sleeps == [10.0]


def test_5xx_backs_off_within_bounds_and_the_last_answer_is_returned() -> None:
    sleeps: list[float] = []
    session = ScriptedSession(*(Reply(503) for _ in range(4)))
    assert call(session, sleeps).status_code == 503
    assert len(session.calls) == 4 and len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        assert 0.5 * min(5.0, 2.0 ** attempt) <= slept <= min(5.0, 2.0 ** attempt)


def test_a_client_error_is_returned_at_once() -> None:
    sleeps: list[float] = []
    session = ScriptedSession(Reply(400), Reply(200))
    assert call(session, sleeps).status_code == 400
    assert len(session.calls) == 1 and sleeps == []


def test_only_the_given_statuses_are_retried() -> None:
    sleeps: list[float] = []
    session = ScriptedSession(Reply(500), Reply(200))
    assert call(session, sleeps, retry_statuses={429, 503}).status_code == 500
    assert len(session.calls) == 1


def test_connection_errors_are_retried_then_reported_with_the_label() -> None:
    sleeps: list[float] = []
    session = ScriptedSession(*(requests.ConnectionError("refused") for _ in range(4)))
    with pytest.raises(Unreachable, match=r"^create thing: no answer after 4 attempts \(the connection failed\)$"):
        call(session, sleeps, describe="create thing")
    assert len(session.calls) == 4 and len(sleeps) == 3


def test_a_timeout_then_an_answer_succeeds() -> None:
    sleeps: list[float] = []
    session = ScriptedSession(requests.ReadTimeout("slow"), Reply(200))
    assert call(session, sleeps).status_code == 200 and len(sleeps) == 1


def test_a_tls_failure_is_not_retried() -> None:
    sleeps: list[float] = []
    session = ScriptedSession(requests.exceptions.SSLError("certificate verify failed"), Reply(200))
    with pytest.raises(ApiError, match=r"TLS failed .*certificate verify failed"):
        call(session, sleeps)
    assert len(session.calls) == 1 and sleeps == []


@pytest.mark.parametrize(("error", "reason"), [
    (requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"))), "the connection failed"),
    (requests.ConnectionError(ConnectionRefusedError(111, "Connection refused")), "connection refused"),
    (requests.ConnectionError(socket.gaierror(-2, "Name or service not known")), "the host name does not resolve"),
    (requests.ReadTimeout("read timed out"), "no answer in time"),
    (requests.ConnectionError(ConnectionResetError(104, "reset")), "the connection was reset"),
])
def test_a_failed_connection_is_said_plainly(error: Exception, reason: str) -> None:
    assert plain_reason(error) == reason


def test_a_refused_port_is_said_plainly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with requests.Session() as session, pytest.raises(Unreachable) as caught:
            send(session, "GET", f"http://127.0.0.1:{port}/api/v2/slo", policy=RetryPolicy(
                attempts=2, timeout=2, sleep=lambda _: None), describe="list SLOs")
    assert str(caught.value) == "list SLOs: no answer after 2 attempts (connection refused)"


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("LOCALHOST", True), ("localhost.localdomain", True), ("127.0.0.1", True),
    ("127.1.2.3", True), ("::1", True), ("[::1]", True), (None, False), ("", False), ("10.0.0.1", False),
    ("localhost.example.com", False), ("abc12345.live.dynatrace.com", False), ("::ffff:10.0.0.1", False),
])
def test_loopback_hosts_are_this_machine_only(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
