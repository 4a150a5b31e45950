"""The first ``pulumi up`` with alerting, under the real Pulumi engine, on a brand-new environment of the strict
Dynatrace emulator (no metric known yet, every Settings value checked against its schema, every metric selector
and detector query against Dynatrace's documented rules), with tokens holding exactly the scopes the README lists:
a classic stack and a platform stack. Then an unchanged ``up`` writes nothing and ``destroy`` leaves nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kong_slo.dynatrace.classic.metric_events import METRIC_EVENT_SCHEMA
from kong_slo.dynatrace.platform.alerting import DETECTOR_SCHEMA
from tests.e2e.pulumi_project import PulumiProject
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_detectors import detector_problems
from tests.fakes.dynatrace_selector_rules import check
from tests.fakes.dynatrace_settings_rules import value_problems
from tests.fakes.kong_admin import FakeKong

README = Path(__file__).resolve().parents[2] / "README.md"
PLATFORM_TOKEN = "dt0s16.E2EPUBLIC.E2EPLATFORMSECRETNEVERSHOWN"
APIS: list[dict[str, Any]] = [
    {"name": "Orders", "availability": {"window": "28d"}},
    {"name": "HealthService", "latency": False},
]
CLASSIC_SCOPES = {"openTelemetryTrace.ingest", "metrics.ingest", "logs.ingest", "slo.read", "slo.write",
                  "settings.read", "settings.write", "metrics.read", "ReadConfig", "WriteConfig", "problems.read"}
"""The README's API token scopes (Dynatrace → Token) for a classic stack."""
PLATFORM_API_SCOPES = {"openTelemetryTrace.ingest", "metrics.ingest", "logs.ingest", "settings.read",
                       "settings.write"}
"""The README's API token scopes for a platform stack: ingest, and the alerting profile and e-mail notification."""
PLATFORM_TOKEN_SCOPES = {"slo:slos:read", "slo:slos:write", "storage:metrics:read", "settings:objects:read",
                         "settings:objects:write", "davis:analyzers:execute", "document:documents:read",
                         "document:documents:write", "document:documents:delete", "document:trash.documents:delete",
                         "storage:buckets:read", "storage:events:read"}
"""The README's platform token scopes with alerting, the dashboard and ``kong-slo report``."""


def readme_paragraph(start: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index(start):].split("\n\n", 1)[0]


def test_the_scopes_used_here_are_the_readmes():
    token = readme_paragraph("**Token.**")
    assert set(re.findall(r"`([a-zA-Z]+\.[a-zA-Z.]+|ReadConfig|WriteConfig)`", token)) == CLASSIC_SCOPES
    platform = readme_paragraph("**Platform credentials**")
    assert set(re.findall(r"`([a-z]+:[a-z.\-]+:[a-z]+)`", platform)) == PLATFORM_TOKEN_SCOPES
    api_token = readme_paragraph("`apiToken` stays:")
    assert set(re.findall(r"`([a-zA-Z]+\.[a-zA-Z]+)`", api_token)) == PLATFORM_API_SCOPES


@pytest.fixture
def kong() -> FakeKong:
    with FakeKong("3.9") as fake:
        for api in APIS:
            fake.add_service(api["name"])
        yield fake


def project_for(tmp_path: Path, kong: FakeKong, dynatrace: dict[str, Any], token: str) -> PulumiProject:
    project = PulumiProject(tmp_path)
    project.configure({"target": "external",
                       "kong": {"adminUrl": kong.url, "collectorUrl": "http://127.0.0.1:4318", "version": "3.9"},
                       "dynatrace": dynatrace, "apis": APIS})
    project.set_secret("dynatrace.apiToken", token)
    return project


def schema_checked(fake: FakeDynatrace) -> None:
    """Every stored object passes its schema's rules again (the emulator checked them on the way in)."""
    for item in fake.settings.values():
        assert value_problems(item["schemaId"], item["value"]) == []
        if item["schemaId"] == METRIC_EVENT_SCHEMA:
            check(item["value"]["queryDefinition"]["metricSelector"])
        if item["schemaId"] == DETECTOR_SCHEMA:
            assert detector_problems(item["value"]) == []


def test_classic_first_up_with_alerting_on_a_new_environment(tmp_path: Path, kong: FakeKong) -> None:
    with FakeDynatrace(read_lag=1) as fake:
        fake.token_info.scopes = set(CLASSIC_SCOPES)
        project = project_for(tmp_path, kong, {"environmentUrl": fake.url, "alerting": {"emails": ["sre@example.com"]}},
                              fake.token)
        project.up()
        schemas = sorted(item["schemaId"] for item in fake.settings.values())
        # one page each: Orders' 28-day availability (56 min), HealthService's 1 h availability; no window SLO
        assert schemas.count(METRIC_EVENT_SCHEMA) == 3, schemas  # Orders latency (1 h) too
        assert len(fake.slos) == 3 and all(slo["timeframe"] in ("-1h", "-28d") for slo in fake.slos.values())
        schema_checked(fake)
        fake.reset_calls()
        project.up("--expect-no-changes")
        assert fake.writes() == 0, fake.per_method()
        project.run("destroy", "--yes")
        assert fake.slos == {} and fake.settings == {} and fake.dashboards.dashboards == {}


def test_platform_first_up_with_alerting_and_only_the_readmes_scopes(tmp_path: Path, kong: FakeKong) -> None:
    with FakeDynatrace(read_lag=1) as fake:
        fake.token_info.scopes = set(PLATFORM_API_SCOPES)
        fake.platform.platform_token = PLATFORM_TOKEN
        fake.platform.platform_token_scopes = frozenset(PLATFORM_TOKEN_SCOPES)
        project = project_for(tmp_path, kong, {"environmentUrl": fake.url, "flavour": "platform",
                                               "alerting": {"emails": ["sre@example.com"]}}, fake.token)
        project.set_secret("dynatrace.platformToken", PLATFORM_TOKEN)
        project.up()
        assert len(fake.platform.slos) == 3
        schemas = sorted(item["schemaId"] for item in fake.settings.values())
        assert schemas.count(DETECTOR_SCHEMA) == 3 and METRIC_EVENT_SCHEMA not in schemas, schemas
        assert fake.count("POST", "/metrics/ingest") == 0  # Grail needs no metric declared first
        schema_checked(fake)
        fake.reset_calls()
        project.up("--expect-no-changes")
        assert fake.writes() == 0, fake.per_method()
        project.run("destroy", "--yes")
        assert fake.platform.slos == {} and fake.settings == {} and fake.documents.documents == {}
