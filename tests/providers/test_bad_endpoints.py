"""Endpoints that answer badly — an SSO login page with 200, a proxy's error page, a 404 page, a persistent 503 or
429, JSON of another shape — never make ``kong-slo status`` or ``doctor`` print a traceback.

``status`` prints one line naming the URL and what came back and exits 3, in both flavours (``--json``: a JSON
error object on stdout). ``doctor`` still checks Kong and the collector, reports Dynatrace as a problem naming its
URL, and exits 1. Every case runs against a small HTTP server on 127.0.0.1 that answers every request alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from kong_slo.cli import main
from kong_slo.dynatrace.platform.credentials import PLATFORM_TOKEN_ENV
from kong_slo.secrets import Secret
from tests.fakes.loopback_server import LoopbackServer
from tests.providers.doctor_chain import DT_TOKEN, Chain, closed_port_url
from tests.unit.settings_helpers import TOKEN
from tests.unit.stack_files import write_aws_stack

PLATFORM_TOKEN = "dt0s16.BADENDPOINTPUBLIC.BADENDPOINTSECRET"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in - Example SSO</title></head><body>form</body></html>"
NOT_FOUND_PAGE = b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>nginx</body></html>"


@dataclass(frozen=True)
class Reply:
    """What the bad endpoint answers to every request."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


CASES = {
    "login page with 200": Reply(200, LOGIN_PAGE, "text/html; charset=utf-8"),
    "login page without a content type": Reply(200, LOGIN_PAGE, ""),
    "plain text with 200": Reply(200, b"OK", "text/plain"),
    "empty body with 200": Reply(200, b"", "text/plain"),
    "truncated JSON with 200": Reply(200, b'{"slo": [', "application/json"),
    "JSON list with 200": Reply(200, b"[1, 2, 3]"),
    "JSON null with 200": Reply(200, b"null"),
    "JSON number with 200": Reply(200, b"42"),
    "JSON of another shape with 200": Reply(200, b'{"slo": "not a list", "slos": "x", "scopes": 7}'),
    "404 page": Reply(404, NOT_FOUND_PAGE, "text/html"),
    "404 JSON": Reply(404, b'{"error": {"code": 404, "message": "Not found"}}'),
    "persistent 503": Reply(503, b"<html><title>Service Unavailable</title></html>", "text/html",
                            (("Retry-After", "0"),)),
    "persistent 429": Reply(429, b'{"error": {"code": 429, "message": "Too many requests"}}', "application/json",
                            (("Retry-After", "0"),)),
    "502 from a proxy": Reply(502, b"<html><title>502 Bad Gateway</title></html>", "text/html",
                              (("Retry-After", "0"),)),
    "500 JSON": Reply(500, b'{"error": {"code": 500, "message": "boom"}}', "application/json",
                      (("Retry-After", "0"),)),
    "redirect to a login page": Reply(302, b"", "text/html", (("Location", "/login"),)),
}


class BadEndpoint:
    """Answers every request with ``reply``, except ``/login`` (the SSO page a redirect leads to)."""

    def __init__(self, reply: Reply) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                endpoint.requests += 1
                answer = Reply(200, LOGIN_PAGE, "text/html") if self.path == "/login" else reply
                self.send_response(answer.status)
                if answer.content_type:
                    self.send_header("Content-Type", answer.content_type)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = _answer

        self.requests = 0
        self.http = LoopbackServer(Handler)
        self.url = self.http.url

    def __enter__(self) -> BadEndpoint:
        self.http.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.http.stop()


@pytest.fixture(params=sorted(CASES), ids=sorted(CASES))
def bad(request: pytest.FixtureRequest) -> Iterator[BadEndpoint]:
    with BadEndpoint(CASES[request.param]) as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries still happen (a persistent 503 is asked again), but without sleeping between them."""
    from kong_slo.http import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)


def _one_line_naming(err: str, url: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert url in lines[0], err
    assert "<html" not in lines[0].lower() and "<!doctype" not in lines[0].lower(), err
    return lines[0]


def test_classic_status_says_what_came_back_and_exits_3(bad: BadEndpoint, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    path = write_aws_stack(tmp_path, "ci")
    assert main(["status", "--config-file", str(path), "--environment-url", bad.url]) == 3
    captured = capsys.readouterr()
    line = _one_line_naming(captured.err, bad.url)
    assert line.startswith("kong-slo status: ") and TOKEN not in captured.err + captured.out
    assert captured.out == ""
    assert bad.requests >= 1


def test_classic_status_json_prints_an_error_object(bad: BadEndpoint, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    path = write_aws_stack(tmp_path, "ci")
    assert main(["status", "--config-file", str(path), "--environment-url", bad.url, "--json"]) == 3
    captured = capsys.readouterr()
    error = json.loads(captured.out)
    assert set(error) == {"error", "exit"} and error["exit"] == 3 and bad.url in error["error"]
    _one_line_naming(captured.err, bad.url)


def test_platform_status_says_what_came_back_and_exits_3(bad: BadEndpoint, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(PLATFORM_TOKEN_ENV, PLATFORM_TOKEN)
    path = write_aws_stack(tmp_path, "ci", dynatrace={"environmentUrl": "https://abc12345.apps.dynatrace.com",
                                                      "apiToken": Secret(TOKEN),
                                                      "platformToken": Secret(PLATFORM_TOKEN)})
    assert main(["status", "--config-file", str(path), "--environment-url", bad.url, "--json"]) == 3
    captured = capsys.readouterr()
    assert bad.url in json.loads(captured.out)["error"]
    _one_line_naming(captured.err, bad.url)
    assert PLATFORM_TOKEN not in captured.err + captured.out


def test_doctor_still_checks_kong_and_the_collector_when_dynatrace_answers_badly(
        healthy: Chain, bad: BadEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--config-file", str(healthy.stack_file()), "--environment-url", bad.url,
                 "--collector-health-url", f"{healthy.collector_url}/", "--json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    report = json.loads(captured.out)
    states = {check["name"]: check["state"] for check in report["checks"]}
    assert states["kong.admin_api"] == "ok" and states["collector.health"] == "ok" and states["collector.otlp"] == "ok"
    assert any(name.startswith("plugins.") and state == "ok" for name, state in states.items())
    dynatrace = [check for check in report["checks"] if check["link"] == "dynatrace"]
    assert [check["state"] for check in dynatrace if check["state"] == "problem"], dynatrace
    assert any(bad.url in check["detail"] for check in dynatrace if check["state"] == "problem"), dynatrace
    assert code == 1
    assert DT_TOKEN not in captured.out + captured.err


def test_doctor_on_a_platform_stack_where_nothing_answers_well_is_a_report(
        bad: BadEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(PLATFORM_TOKEN_ENV, PLATFORM_TOKEN)
    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    closed = closed_port_url()
    path = write_aws_stack(tmp_path, "ci", kong={"adminUrl": closed, "collectorUrl": closed},
                           dynatrace={"environmentUrl": "https://abc12345.apps.dynatrace.com",
                                      "apiToken": Secret(TOKEN), "platformToken": Secret(PLATFORM_TOKEN)})
    code = main(["doctor", "--config-file", str(path), "--environment-url", bad.url])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and code == 1, captured.err
    assert "Kong" in captured.out and "Collector" in captured.out and "Dynatrace" in captured.out
    assert bad.url in captured.out
    assert PLATFORM_TOKEN not in captured.out + captured.err and TOKEN not in captured.out + captured.err


@pytest.mark.parametrize(("option", "value"), [
    ("--collector-url", "not-a-url"), ("--collector-url", "http://collector:99999"),
    ("--collector-health-url", "ftp://collector/"), ("--environment-url", "abc12345.live.dynatrace.com"),
])
def test_doctor_refuses_a_url_option_that_is_no_url_in_one_line(root: Path, option: str, value: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    stack = root / "examples" / "stacks" / "Pulumi.dev.yaml"
    assert main(["doctor", "--config-file", str(stack), option, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kong-slo doctor: {option} {value!r} is not") and err.count("\n") == 1, err


def test_an_otlp_port_that_answers_404_is_not_a_collector(healthy: Chain, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with BadEndpoint(CASES["404 page"]) as other:
        healthy.collector_elsewhere = other.url
        code = main(["doctor", "--config-file", str(healthy.stack_file()), "--environment-url",
                     healthy.dynatrace.url, "--collector-health-url", f"{healthy.collector.url}/", "--json"])
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["collector.otlp"]["state"] == "problem"
    assert "answered HTTP 404 to a GET, where an OTLP/HTTP receiver answers 405" in checks["collector.otlp"]["detail"]
    assert code == 1


def test_doctor_reports_a_dynatrace_that_does_not_answer_and_still_checks_the_rest(
        healthy: Chain, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    closed = closed_port_url()
    code = main(["doctor", "--config-file", str(healthy.stack_file()), "--environment-url", closed,
                 "--collector-health-url", f"{healthy.collector_url}/", "--json"])
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["kong.admin_api"]["state"] == "ok" and checks["collector.otlp"]["state"] == "ok"
    assert checks["dynatrace.reach"]["state"] == "problem"
    assert checks["dynatrace.reach"]["detail"].startswith(f"Dynatrace at {closed} is unreachable from here: ")
    assert code == 1
