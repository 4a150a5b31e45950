"""``kong-slo report`` for a platform stack opened in Debian's headless Chromium, with an alert that fired: the
emulator holds the same known traffic as the classic page's test (``test_report_page``: Orders 6 slow calls a
minute in the last 15 of 30 minutes, which burns the latency budget faster than the 1-hour page rule allows), the
stack's platform SLOs and burn-rate detectors; the report reads the counter and the detectors' Davis events through
Grail's query API. The page's figures are the platform SLO API's evaluation, its charts drew through the window's
intervals, and its alert rows are the events the emulator's detectors raise over the timeframe the report asked."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from kong_slo.cli import main
from kong_slo.dynatrace.platform.alerting import DETECTOR_SCHEMA
from kong_slo.dynatrace.platform.definitions import platform_external_id, platform_slo_payload
from kong_slo.dynatrace.platform.detectors import burn_rate_detectors
from kong_slo.objectives.sli import slo_definitions
from kong_slo.secrets import Secret
from kong_slo.settings import load_stack_file
from tests.e2e.test_report_page import CALLS_PER_MINUTE, MINUTES, chromium, feed
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_detectors import detector_events
from tests.unit.settings_helpers import TOKEN
from tests.unit.stack_files import write_aws_stack

PLATFORM_TOKEN = "dt0s16.REPORTPUBLIC.REPORTPLATFORMSECRETNEVERSHOWN"
STACK = "e2e"


def deploy(fake: FakeDynatrace, stack_file: Path) -> list:
    settings = load_stack_file(stack_file, STACK)
    definitions = slo_definitions(settings)
    bearer = {"Authorization": f"Bearer {PLATFORM_TOKEN}"}
    for definition in definitions:
        created = requests.post(f"{fake.url}/platform/slo/v1/slos", json=platform_slo_payload(definition, STACK),
                                headers=bearer, timeout=10)
        assert created.status_code == 201, created.text
        for _, ext_id, value in burn_rate_detectors(settings.project, STACK, definition):
            item = fake.settings_item({"schemaId": DETECTOR_SCHEMA, "value": value, "externalId": ext_id})
            assert item["code"] == 200, item
    return definitions


def figure(block: str, name: str) -> float:
    return float(re.search(rf'data-figure="{name}" data-value="([^"]+)"', block).group(1))


def test_platform_report_page_shows_the_evaluation_the_charts_and_the_fired_alert(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dynatrace = {"environmentUrl": "https://abc12345.apps.dynatrace.com", "apiToken": Secret(TOKEN),
                 "platformToken": Secret(PLATFORM_TOKEN), "alerting": {"emails": ["sre@example.com"]}}
    stack_file = write_aws_stack(tmp_path, STACK, apis=[{"name": "Orders"}, {"name": "HealthService"}],
                                 dynatrace=dynatrace)
    page = tmp_path / "report.html"
    with FakeDynatrace(read_lag=0) as fake:
        fake.platform.platform_token = PLATFORM_TOKEN
        feed(fake)
        definitions = deploy(fake, stack_file)
        monkeypatch.setenv("DT_PLATFORM_TOKEN", PLATFORM_TOKEN)
        assert main(["report", "--config-file", str(stack_file), "--environment-url", fake.url,
                     "--out", str(page)]) == 0
        by_id = {slo["externalId"]: slo for slo in fake.platform.slos.values()}
        evaluated = {d.name: fake.platform.evaluate_slo(by_id[platform_external_id(d)])[0] for d in definitions}
        (_query, start, end), = [run for run in fake.grail.executed if run[0].startswith("fetch")]
        raised = detector_events(fake, start, end)
    text = page.read_text()
    assert PLATFORM_TOKEN not in text and "<script" not in text
    assert "not read for platform stacks" not in text

    dom = chromium("--dump-dom", page.as_uri()).stdout
    for definition in definitions:
        section = re.search(rf'data-api="{definition.api}".*?</section>', dom, re.S).group(0)
        block = re.search(rf'data-objective="{definition.objective}".*?</figure></div>', section, re.S).group(0)
        result = evaluated[definition.name]
        assert figure(block, "value") == pytest.approx(result["value"], abs=1e-3)
        assert figure(block, "budget") == pytest.approx(100 * result["errorBudget"] / (100 - definition.target),
                                                        abs=0.02)
        assert figure(block, "calls") == CALLS_PER_MINUTE[definition.api] * MINUTES
        paths = re.findall(r'<path d="M([^"]+)"', block)
        assert len(paths) == 2 and all(len(path.split(" L")) >= MINUTES // 2 for path in paths), paths

    assert raised, "the known traffic must make a detector fire"
    assert any(" Orders latency page: " in event.title and event.closed_ms is None for event in raised)
    rows = re.findall(r"<tr data-alert[^>]*><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", dom)
    expected = [(event.title, "OPEN" if event.closed_ms is None else "CLOSED",
                 time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(event.opened_ms / 1000)),
                 "open" if event.closed_ms is None else
                 time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(event.closed_ms / 1000))) for event in raised]
    assert rows == expected

    screenshot = tmp_path / "report-platform.png"
    chromium(f"--screenshot={screenshot}", "--window-size=1160,1040", page.as_uri())
    assert screenshot.stat().st_size > 10_000
