"""Grail's DQL query API: the client (``kong_slo.dynatrace.platform.grail``) against the emulator
(``tests.fakes.dynatrace_grail_query``), the emulator's documented refusals, and the platform report's reading of
Davis event updates and of a missing scope."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from kong_slo.cli import main
from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.platform.definitions import calls_timeseries
from kong_slo.dynatrace.platform.grail import GrailClient, duration_ms, iso_timestamp, timestamp_ms
from kong_slo.dynatrace.platform.report import fired_alerts
from kong_slo.secrets import Secret
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_platform import PLATFORM_TOKEN_SCOPES
from tests.providers.dynatrace_helpers import PLATFORM_TOKEN
from tests.unit.settings_helpers import TOKEN
from tests.unit.stack_files import write_aws_stack

EXECUTE = "/platform/storage/query/v1/query:execute"
POLL = "/platform/storage/query/v1/query:poll"
MINUTE = 60_000


@pytest.fixture
def fake(platform_fake: FakeDynatrace) -> FakeDynatrace:
    return platform_fake


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {PLATFORM_TOKEN}"}


def test_a_query_is_started_polled_and_its_records_read(fake: FakeDynatrace) -> None:
    end = (int(time.time() * 1000) // MINUTE) * MINUTE
    for minute in range(10):
        for outcome, calls in (("success", 9), ("failure", 1)):
            fake.metrics.add(CALLS_METRIC_KEY, {"service.name": "Orders", "slo.outcome": outcome,
                                                "slo.latency": "good"}, calls, end - (10 - minute) * MINUTE + 1000)
    query = calls_timeseries("Orders", "availability", total_default=True, options=", interval: 5m")
    with GrailClient(fake.url, PLATFORM_TOKEN) as client:
        records = client.query(query, end - 10 * MINUTE, end)
    assert fake.count("POST", EXECUTE) == 1 and fake.count("GET", POLL) == 1  # 202 RUNNING, then SUCCEEDED
    (record,) = records
    assert timestamp_ms(record["timeframe"]["start"]) == end - 10 * MINUTE
    assert duration_ms(record["interval"]) == 5 * MINUTE and isinstance(record["interval"], str)
    assert record["total"] == [50, 50] and record["good"] == [45, 45]


def test_a_query_that_finishes_within_the_wait_is_answered_by_execute_alone(fake: FakeDynatrace) -> None:
    fake.grail.query_milliseconds = 0  # finishes at once: execute answers the result, nothing to poll
    with GrailClient(fake.url, PLATFORM_TOKEN) as client:
        records = client.query("timeseries sum(kong.slo.calls)", 0, 10 * MINUTE)
    assert isinstance(records, list)
    assert fake.count("POST", EXECUTE) == 1 and fake.count("GET", POLL) == 0


def test_the_emulator_refuses_what_the_api_does(fake: FakeDynatrace) -> None:
    start, end = iso_timestamp(0), iso_timestamp(MINUTE)

    def execute(body: object, headers: dict[str, str] | None = None) -> requests.Response:
        sent = bearer() if headers is None else headers
        return requests.post(f"{fake.url}{EXECUTE}", json=body, headers=sent, timeout=5)

    assert execute({"query": "timeseries sum(kong.slo.calls)"}, {}).status_code == 401
    assert execute({"query": "timeseries sum(kong.slo.calls)", "timeframe": "now-1h"}).status_code == 400
    assert execute({"query": ""}).status_code == 400
    assert execute({"query": "timeseries sum(kong.slo.calls)", "defaultTimeframeStart": "now-1h"}).status_code == 400
    assert execute({"query": "timeseries sum(kong.slo.calls)", "maxResultRecords": "10"}).status_code == 400
    # Valid DQL the emulator does not model answers 400 saying so, never a made-up result.
    for unmodelled in ("fetch logs", 'fetch dt.davis.events\n| filter contains(event.name, "x")'):
        answer = execute({"query": unmodelled, "defaultTimeframeStart": start})
        assert answer.status_code == 400 and "emulated" in answer.text, answer.text
    fake.platform.platform_token_scopes = PLATFORM_TOKEN_SCOPES - {"storage:events:read"}
    refused = execute({"query": "fetch dt.davis.events", "defaultTimeframeStart": start, "defaultTimeframeEnd": end})
    assert refused.status_code == 403 and "storage:events:read" in refused.text
    started = execute({"query": "timeseries sum(kong.slo.calls)", "defaultTimeframeStart": start,
                       "defaultTimeframeEnd": end})
    assert started.status_code == 202 and started.json()["state"] == "RUNNING"
    assert requests.get(f"{fake.url}{POLL}", headers=bearer(), timeout=5).status_code == 400
    token = {"request-token": started.json()["requestToken"]}
    first = requests.get(f"{fake.url}{POLL}", params=token, headers=bearer(), timeout=5)
    assert first.status_code == 200 and set(first.json()["result"]) == {"records", "types", "metadata"}
    assert requests.get(f"{fake.url}{POLL}", params=token, headers=bearer(), timeout=5).status_code == 410


def test_a_result_that_is_gone_is_an_error_not_a_traceback(fake: FakeDynatrace, monkeypatch) -> None:
    monkeypatch.setattr(fake.grail, "results", _Forgetful())
    with GrailClient(fake.url, PLATFORM_TOKEN) as client, pytest.raises(DynatraceError) as raised:
        client.query("timeseries sum(kong.slo.calls)", 0, MINUTE)
    assert raised.value.status == 410


class _Forgetful(dict):
    def __setitem__(self, key: str, value: object) -> None:  # the result expires before the poll
        pass


def test_each_davis_event_is_shown_once_from_its_latest_update() -> None:
    records = [
        {"timestamp": "2030-01-01T10:00:00.000000000Z", "event.id": "1", "event.name": "kong-slo ci: A page",
         "event.status": "ACTIVE", "event.start": "2030-01-01T10:00:00.000000000Z"},
        {"timestamp": "2030-01-01T10:07:00.000000000Z", "event.id": "1", "event.name": "kong-slo ci: A page",
         "event.status": "CLOSED", "event.start": "2030-01-01T10:00:00.000000000Z",
         "event.end": "2030-01-01T10:07:00.000000000Z"},
        {"timestamp": "2030-01-01T10:05:00.000000000Z", "event.id": "2", "event.name": "kong-slo ci: B ticket",
         "event.status": "ACTIVE", "event.start": "2030-01-01T10:05:00.000000000Z"},
    ]
    alerts = fired_alerts(records)
    assert [(a.title, a.status, a.end_ms is None) for a in alerts] == [
        ("kong-slo ci: A page", "CLOSED", False), ("kong-slo ci: B ticket", "OPEN", True)]
    assert alerts[0].end_ms - alerts[0].start_ms == 7 * MINUTE


def test_a_token_without_the_events_scope_gives_a_page_that_says_so(fake: FakeDynatrace, tmp_path: Path,
                                                                      monkeypatch) -> None:
    fake.platform.platform_token_scopes = PLATFORM_TOKEN_SCOPES - {"storage:events:read"}
    stack = write_aws_stack(tmp_path, "ci", apis=[{"name": "Orders"}],
                            dynatrace={"environmentUrl": "https://abc12345.apps.dynatrace.com",
                                       "apiToken": Secret(TOKEN), "platformToken": Secret(PLATFORM_TOKEN)})
    monkeypatch.setenv("DT_PLATFORM_TOKEN", PLATFORM_TOKEN)
    page = tmp_path / "report.html"
    assert main(["report", "--config-file", str(stack), "--environment-url", fake.url, "--out", str(page)]) == 0
    text = page.read_text()
    assert "The alerts could not be read" in text and "storage:events:read" in text
    assert "No SLO of this stack exists" in text and "no data to draw" in text
    assert PLATFORM_TOKEN not in text
