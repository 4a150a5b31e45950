"""From spans to SLO values: the real collector counts what Kong's stand-in sends, the Dynatrace emulator
ingests it and evaluates the SLOs kong-slo defines (classic metric selectors and platform DQL), and
`kong-slo status` shows the value computed from those spans: 1,000 requests of which 7 too slow give 99.3 %."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from kong_slo.cli import main
from kong_slo.collector.render import render_collector_config
from kong_slo.dynatrace.credentials import TOKEN_ENV
from kong_slo.dynatrace.platform.credentials import PLATFORM_TOKEN_ENV
from kong_slo.dynatrace.platform.definitions import platform_slo_payload
from kong_slo.objectives.sli import slo_definitions, slo_payload
from kong_slo.secrets import Secret
from kong_slo.settings import load_stack_file
from tests.e2e.collector import Collector, wait_for
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.kong_spans import KongRequest, export_requests, send
from tests.unit.settings_helpers import TOKEN
from tests.unit.stack_files import write_aws_stack

CALLS = "kong.slo.calls.count"
PLATFORM_TOKEN = "dt0s16.E2EPUBLIC.E2EPLATFORMSECRET"
TRAFFIC = ([KongRequest("Orders", 120, 200)] * 990 + [KongRequest("Orders", 950, 200)] * 7
           + [KongRequest("Orders", 80, 503)] * 3)
"""1,000 requests: 7 slower than 600 ms, 3 failed (5xx)."""


def status_rows(stack_file: Path, url: str, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:
    capsys.readouterr()
    main(["status", "--config-file", str(stack_file), "--environment-url", url, "--json"])
    return {row["objective"]: row for row in json.loads(capsys.readouterr().out)}


@pytest.mark.parametrize("flavour", ["classic", "platform"])
def test_status_shows_the_value_computed_from_the_spans_sent(flavour: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    dynatrace = {"environmentUrl": "https://abc12345.live.dynatrace.com", "apiToken": Secret(TOKEN)}
    if flavour == "platform":
        dynatrace = {"environmentUrl": "https://abc12345.apps.dynatrace.com", "apiToken": Secret(TOKEN),
                     "platformToken": Secret(PLATFORM_TOKEN)}
    stack_file = write_aws_stack(tmp_path, "e2e", apis=[{"name": "Orders"}], dynatrace=dynatrace)
    settings = load_stack_file(stack_file, "e2e")
    with FakeDynatrace() as fake, Collector(render_collector_config(settings), tmp_path / "collector",
                                            dynatrace_url=fake.url, token=fake.token) as collector:
        send(collector.traces_url, export_requests(TRAFFIC, "3.9.1"))
        wait_for(lambda: fake.metrics.total(CALLS) >= len(TRAFFIC), 90, "1,000 counted requests")
        auth = {"Authorization": f"Api-Token {fake.token}"}
        fake.platform.platform_token = PLATFORM_TOKEN
        for definition in slo_definitions(settings):
            if flavour == "classic":
                created = requests.post(f"{fake.url}/api/v2/slo", json=slo_payload(definition), headers=auth,
                                        timeout=10)
            else:
                created = requests.post(f"{fake.url}/platform/slo/v1/slos", timeout=10,
                                        json=platform_slo_payload(definition, settings.stack),
                                        headers={"Authorization": f"Bearer {PLATFORM_TOKEN}"})
            assert created.status_code in (200, 201), created.text
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        monkeypatch.setenv(PLATFORM_TOKEN_ENV, PLATFORM_TOKEN)
        rows = wait_for(lambda: (found := status_rows(stack_file, fake.url, monkeypatch, capsys))
                        and all(row["current"] is not None for row in found.values()) and found, 30,
                        "both SLOs evaluated")
    assert rows["latency"]["current"] == pytest.approx(99.3, abs=1e-6)
    assert rows["availability"]["current"] == pytest.approx(99.7, abs=1e-6)
