"""``kong-slo report`` opened in a real browser (Debian's headless Chromium): the emulator holds known traffic
(250 Orders calls a minute for 30 minutes, 6 of them too slow in each of the last 15 minutes and 3 failed in every
third minute: 98.8 % fast, 99.6 % not failed; 50 good HealthService calls a minute) and
evaluates the stack's classic SLOs on it; the page's figures are the ones the emulator evaluates, and each chart
drew a line through its points. ``KONG_SLO_UPDATE_SCREENSHOT=1`` also saves the screenshot as docs/report.png."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from kong_slo.cli import main
from kong_slo.dynatrace.credentials import TOKEN_ENV
from kong_slo.objectives.sli import slo_definitions, slo_payload
from kong_slo.settings import load_stack_file
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace
from tests.unit.stack_files import write_aws_stack

ROOT = Path(__file__).resolve().parents[2]
MINUTES = 30
CALLS_PER_MINUTE = {"Orders": 250, "HealthService": 50}


def traffic(minute: int) -> dict[tuple[str, str, str], int]:
    slow = 6 if minute >= MINUTES // 2 else 0
    failed = 3 if minute % 3 == 0 else 0
    return {("Orders", "good", "success"): 250 - slow - failed, ("Orders", "bad", "success"): slow,
            ("Orders", "good", "failure"): failed, ("HealthService", "good", "success"): 50}


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--disable-dev-shm-usage", *args],
                          capture_output=True, text=True, timeout=120, check=True)


def feed(fake: FakeDynatrace) -> None:
    now = int(time.time() * 1000)
    for minute in range(MINUTES):
        stamp = now - (MINUTES - minute) * 60_000 + 1_000
        for (api, latency, outcome), calls in traffic(minute).items():
            fake.metrics.add(CALLS_METRIC_KEY, {"service.name": api, "slo.latency": latency, "slo.outcome": outcome},
                             calls, stamp)


def test_report_page_shows_the_emulators_figures_and_draws_its_charts(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    stack_file = write_aws_stack(tmp_path, "e2e", apis=[{"name": "Orders"}, {"name": "HealthService"}])
    definitions = slo_definitions(load_stack_file(stack_file, "e2e"))
    page = tmp_path / "report.html"
    with FakeDynatrace(read_lag=0) as fake:
        feed(fake)
        auth = {"Authorization": f"Api-Token {fake.token}"}
        for definition in definitions:
            created = requests.post(f"{fake.url}/api/v2/slo", json=slo_payload(definition), headers=auth, timeout=10)
            assert created.status_code == 201, created.text
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        assert main(["report", "--config-file", str(stack_file), "--environment-url", fake.url,
                     "--out", str(page)]) == 0
        listed = requests.get(f"{fake.url}/api/v2/slo", headers=auth, timeout=10,
                              params={"evaluate": "true", "enabledSlos": "all", "pageSize": 25}).json()["slo"]
    evaluated = {slo["name"]: slo for slo in listed}
    text = page.read_text()
    assert "<script" not in text and "http://" not in text.replace(fake.url, "") and "https://" not in text

    dom = chromium("--dump-dom", page.as_uri()).stdout
    for definition in definitions:
        section = re.search(rf'data-api="{definition.api}".*?</section>', dom, re.S).group(0)
        block = re.search(rf'data-objective="{definition.objective}".*?</figure></div>', section, re.S).group(0)
        value = float(re.search(r'data-figure="value" data-value="([^"]+)"', block).group(1))
        slo = evaluated[definition.name]
        assert value == pytest.approx(slo["evaluatedPercentage"], abs=1e-4)
        budget = float(re.search(r'data-figure="budget" data-value="([^"]+)"', block).group(1))
        assert budget == pytest.approx(100 * slo["errorBudget"] / (100 - definition.target), abs=0.01)
        assert float(re.search(r'data-figure="calls" data-value="([^"]+)"', block).group(1)) == \
            CALLS_PER_MINUTE[definition.api] * MINUTES
        for path in re.findall(r'<path d="M([^"]+)"', block):
            assert len(path.split(" L")) >= MINUTES // 2, path  # a line through the window's points
        assert len(re.findall(r'<path d="M', block)) == 2
    orders = {row["objective"]: row for row in [evaluated[d.name] | {"objective": d.objective}
                                                 for d in definitions if d.api == "Orders"]}
    assert orders["latency"]["evaluatedPercentage"] == pytest.approx(98.8)
    assert orders["availability"]["evaluatedPercentage"] == pytest.approx(99.6)

    screenshot = tmp_path / "report.png"
    chromium(f"--screenshot={screenshot}", "--window-size=1160,1040", page.as_uri())
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("KONG_SLO_UPDATE_SCREENSHOT"):
        shutil.copy(screenshot, ROOT / "docs" / "report.png")
