"""`kong-slo doctor` on a platform stack (Latest Dynatrace), against the emulator's platform API: credentials, one
SLO per objective found by externalId and evaluating, the burn-rate detectors; read-only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kong_slo.doctor.diagnose import Access, check_dynatrace
from kong_slo.doctor.dynatrace_platform import check_platform
from kong_slo.doctor.dynatrace_token import required_scopes
from kong_slo.dynatrace.dashboard_sections import dashboard_external_id, dashboard_name
from kong_slo.dynatrace.platform.alerting import DETECTOR_SCHEMA, detectors
from kong_slo.dynatrace.platform.credentials import PLATFORM_TOKEN_ENV
from kong_slo.dynatrace.platform.dashboard import DOCUMENT_API_PATH, _form
from kong_slo.dynatrace.platform.dashboard_content import platform_dashboard
from kong_slo.dynatrace.platform.definitions import platform_slo_payload
from kong_slo.dynatrace.platform.detectors import burn_rate_detectors
from kong_slo.http import RetryPolicy
from kong_slo.objectives.sli import slo_definitions
from kong_slo.secrets import Secret
from kong_slo.settings import StackSettings, load_stack_file
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_platform import PLATFORM_TOKEN_SCOPES
from tests.unit.settings_helpers import TOKEN
from tests.unit.stack_files import write_aws_stack

PLATFORM_TOKEN = "dt0s16.DOCTORPUBLIC.DOCTORPLATFORMSECRET"
QUICK = RetryPolicy(attempts=1, initial_delay=0.01, max_delay=0.01, timeout=5.0)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDynatrace]:
    monkeypatch.setenv(PLATFORM_TOKEN_ENV, PLATFORM_TOKEN)
    with FakeDynatrace() as server:
        server.platform.platform_token = PLATFORM_TOKEN
        yield server


def platform_stack(tmp_path: Path) -> StackSettings:
    path = write_aws_stack(tmp_path, "ci", apis=[{"name": "Orders"}], dynatrace={
        "environmentUrl": "https://abc12345.apps.dynatrace.com", "apiToken": Secret(TOKEN),
        "platformToken": Secret(PLATFORM_TOKEN), "alerting": {"emails": ["sre@example.com"]}})
    return load_stack_file(path, "ci")


def deploy(fake: FakeDynatrace, settings: StackSettings, *, skip_detector: str | None = None) -> None:
    """What `pulumi up` leaves: the platform SLOs with data to evaluate, and their burn-rate detectors."""
    now = int(time.time() * 1000)
    for outcome, calls in (("success", 95), ("failure", 5)):
        fake.metrics.add(CALLS_METRIC_KEY, {"service.name": "Orders", "slo.latency": "good", "slo.outcome": outcome},
                         calls, now - 60_000)
    bearer = {"Authorization": f"Bearer {PLATFORM_TOKEN}"}
    for definition in slo_definitions(settings):
        reply = requests.post(f"{fake.url}/platform/slo/v1/slos", json=platform_slo_payload(definition, "ci"),
                              headers=bearer, timeout=5)
        assert reply.status_code in (200, 201), reply.text
        for rule, ext_id, value in burn_rate_detectors(settings.project, "ci", definition):
            if rule.key != skip_detector:
                item = fake.settings_item({"schemaId": DETECTOR_SCHEMA, "value": value, "externalId": ext_id})
                assert item["code"] == 200, item
    content = platform_dashboard("ci", fake.url, slo_definitions(settings))
    form = _form(dashboard_name("ci"), content, dashboard_external_id(settings.project, "ci"))
    reply = requests.post(f"{fake.url}{DOCUMENT_API_PATH}/documents", files=form, headers=bearer, timeout=5)
    assert reply.status_code == 201, reply.text


def states(checks: list) -> dict[str, str]:
    return {check.name: check.state for check in checks}


def test_a_healthy_platform_stack_is_all_ok_and_nothing_is_written(fake: FakeDynatrace, tmp_path: Path) -> None:
    settings = platform_stack(tmp_path)
    deploy(fake, settings)
    fake.reset_calls()
    checks = check_platform(settings, fake.url, QUICK)
    assert set(states(checks).values()) == {"ok"}, [(c.name, c.detail) for c in checks]
    assert {"dynatrace.slo.Orders.latency", "dynatrace.slo.Orders.availability",
            "dynatrace.alert.Orders.availability"} <= set(states(checks))
    assert fake.writes() == 0


def test_a_missing_slo_and_a_missing_detector_are_named_with_the_fix(fake: FakeDynatrace, tmp_path: Path) -> None:
    settings = platform_stack(tmp_path)
    alert = detectors(slo_definitions(settings)[0], "ci")[0][0].key
    deploy(fake, settings, skip_detector=alert)
    latency = next(slo_id for slo_id, slo in fake.platform.slos.items() if "latency" in slo["name"])
    del fake.platform.slos[latency]
    checks = {check.name: check for check in check_platform(settings, fake.url, QUICK)}
    assert checks["dynatrace.slo.Orders.latency"].state == "problem"
    assert "no platform SLO with externalId" in checks["dynatrace.slo.Orders.latency"].detail
    assert checks["dynatrace.slo.Orders.latency"].fix == "pulumi up"
    assert checks["dynatrace.slo.Orders.availability"].state == "ok"
    problems = [check for check in checks.values() if check.name.startswith("dynatrace.alert.")
                and check.state == "problem"]
    assert problems and all(alert in check.detail for check in problems)


def test_refused_credentials_are_a_problem_not_a_traceback(fake: FakeDynatrace, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    settings = platform_stack(tmp_path)
    monkeypatch.setenv(PLATFORM_TOKEN_ENV, "dt0s16.WRONG.WRONGSECRET")
    (check,) = check_platform(settings, fake.url, QUICK)
    assert (check.name, check.state) == ("dynatrace.platform.credentials", "problem")
    assert "WRONGSECRET" not in check.detail and "slo:slos:read" in check.fix


def test_on_a_platform_stack_the_api_token_needs_only_the_ingest_scopes(tmp_path: Path) -> None:
    """Platform SLOs, detectors and status use the platform credentials; the API token only feeds the collector."""
    needs = required_scopes(platform_stack(tmp_path))
    assert [need.key for need in needs] == ["export"]
    assert "slo.read" not in needs[0].scopes and "openTelemetryTrace.ingest" in needs[0].scopes


def test_doctor_on_a_platform_stack_checks_the_ingest_token_and_the_platform(fake: FakeDynatrace, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    settings = platform_stack(tmp_path)
    deploy(fake, settings)
    checks = check_dynatrace(settings, Access(dynatrace_token=fake.token, environment_url=fake.url, policy=QUICK))
    found = states(checks)
    assert found["dynatrace.token"] == "ok" and found["dynatrace.platform.credentials"] == "ok"
    assert "dynatrace.scopes.slos" not in found


def test_with_an_oauth_client_the_detectors_are_read_with_a_settings_scope(fake: FakeDynatrace, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An access token carries only the scopes asked for: the SLO scopes cannot list Settings objects."""
    secret, account = "dt0s02.CLIENT.DOCTORCLIENTSECRET", "urn:dtaccount:12345678-1234-1234-1234-123456789abc"
    fake.platform.add_client("dt0s02.CLIENT", secret, account)
    path = write_aws_stack(tmp_path, "ci", apis=[{"name": "Orders"}], dynatrace={
        "environmentUrl": "https://abc12345.apps.dynatrace.com", "apiToken": Secret(TOKEN),
        "oauth": {"clientId": "dt0s02.CLIENT", "clientSecret": Secret(secret), "accountUrn": account,
                  "tokenUrl": f"{fake.url}/sso/oauth2/token"},
        "alerting": {"emails": ["sre@example.com"]}})
    settings = load_stack_file(path, "ci")
    deploy(fake, settings)
    monkeypatch.delenv(PLATFORM_TOKEN_ENV, raising=False)
    monkeypatch.setenv("DT_CLIENT_SECRET", secret)
    checks = check_platform(settings, fake.url, QUICK)
    assert set(states(checks).values()) == {"ok"}, [(c.name, c.detail) for c in checks]
    asked = [set(scopes) for scopes in fake.platform.access_tokens.values()]
    assert {"settings:objects:read"} in asked and all("settings:objects:write" not in s for s in asked)


def test_a_token_without_the_report_or_document_scopes_is_named(fake: FakeDynatrace, tmp_path: Path) -> None:
    settings = platform_stack(tmp_path)
    deploy(fake, settings)
    fake.platform.platform_token_scopes = PLATFORM_TOKEN_SCOPES - {"storage:events:read", "document:documents:read"}
    checks = {check.name: check for check in check_platform(settings, fake.url, QUICK)}
    report, dashboard = checks["dynatrace.platform.report"], checks["dynatrace.platform.dashboard"]
    assert report.state == "problem" and "storage:events:read" in report.detail + report.fix
    assert dashboard.state == "problem" and "document:documents:read" in dashboard.detail + dashboard.fix
    assert checks["dynatrace.platform.credentials"].state == "ok"
