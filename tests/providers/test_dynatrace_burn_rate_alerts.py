"""Burn-rate alerts end to end in the emulator: the metric events kong-slo creates, evaluated minute by minute over
synthetic traffic in the metric store, and the problems they raise reaching the stack's e-mail through the
alerting profile (see tests/fakes/dynatrace_metric_events.py for the model and its source)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kong_slo import telemetry
from kong_slo.dynatrace.alerting import (
    ALERTING_PROFILE_SCHEMA,
    METRIC_EVENT_SCHEMA,
    NOTIFICATION_SCHEMA,
    alerting_profile_value,
    email_notification_value,
)
from kong_slo.dynatrace.classic.slo import ServiceLevelObjectiveProvider
from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.settings_objects import SettingsObjectProvider
from kong_slo.objectives.burn_rate import metric_event_value, rules_for, window_definitions
from kong_slo.objectives.sli import slo_definitions, slo_payload
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_metric_events import Problem, problems
from tests.providers.dynatrace_helpers import TOKEN, checked, configured, stack_settings

MINUTE = 60_000
START = 1_700_000_000_000 // MINUTE * MINUTE
EMAIL = "sre@example.com"
HISTORY = 3 * 1440
"""Minutes of earlier traffic, so the 28-day objective's longest window (2.8 days) is full."""


@pytest.fixture
def fake() -> Iterator[FakeDynatrace]:
    with FakeDynatrace(TOKEN, read_lag=0) as server:
        server.metrics.declare(telemetry.CALLS_METRIC_KEY)  # as MetricDeclaration does before the alerts
        yield server


def deploy_alerts(fake: FakeDynatrace, window: str) -> None:
    """The availability SLO with its window SLOs, the alerting profile, the e-mail notification and the SLO's
    alerts, created by the providers."""
    settings = stack_settings(apis=[{"name": "Orders", "latency": False, "availability": {"window": window}}],
                              alerting={"emails": [EMAIL]})
    assert settings.dynatrace is not None and settings.dynatrace.alerting is not None
    policy = settings.dynatrace.alerting.burn_rate
    provider = SettingsObjectProvider()
    configured(provider)

    def create(schema: str, name: str, value: dict) -> str:
        props = {"schema_id": schema, "external_id": f"kong-slo:test:{name}", "value": value,
                 "environment_url": fake.url}
        return provider.create(checked(provider, props)).id

    profile = create(ALERTING_PROFILE_SCHEMA, "profile", alerting_profile_value("test"))
    create(NOTIFICATION_SCHEMA, "email", email_notification_value("test", [EMAIL], profile))
    (definition,) = slo_definitions(settings)
    slos = ServiceLevelObjectiveProvider()
    configured(slos)
    for slo in (definition, *window_definitions(definition, policy)):
        slos.create(checked(slos, {"payload": slo_payload(slo), "environment_url": fake.url}))
    for rule in rules_for(definition, policy):
        create(METRIC_EVENT_SCHEMA, f"burn-{rule.key}", metric_event_value(definition, "test", rule, policy))


def traffic(fake: FakeDynatrace, minutes: range, per_minute: float, failing: float, api: str = "Orders") -> None:
    """``per_minute`` requests each minute, ``failing`` of them (a share) answered with a 5xx."""
    for minute in minutes:
        for outcome, share in ((telemetry.OUTCOME_SUCCESS, 1 - failing), (telemetry.OUTCOME_FAILURE, failing)):
            fake.metrics.add(telemetry.CALLS_METRIC_KEY,
                             {telemetry.SERVICE_DIMENSION: api, telemetry.OUTCOME_DIMENSION: outcome,
                              telemetry.LATENCY_DIMENSION: telemetry.LATENCY_GOOD},
                             per_minute * share, START + minute * MINUTE)


def raised(fake: FakeDynatrace, minutes: int) -> list[Problem]:
    return problems(fake, START, START + minutes * MINUTE)


def minute_of(ms: int | None) -> int | None:
    return None if ms is None else (ms - START) // MINUTE


@pytest.mark.parametrize("window", ["1h", "28d"])
def test_a_steady_half_percent_of_failures_never_alerts(fake, window):
    deploy_alerts(fake, window)
    days = 1 if window == "1h" else 4  # the 28-day ticket looks back 2.8 days
    traffic(fake, range(days * 1440), per_minute=100, failing=0.005)
    assert raised(fake, days * 1440) == []


def test_one_hour_objective_a_ten_minute_burst_of_20_percent_pages_within_5_minutes_and_resolves(fake):
    deploy_alerts(fake, "1h")
    traffic(fake, range(0, 120), per_minute=100, failing=0.001)
    traffic(fake, range(120, 130), per_minute=100, failing=0.20)
    traffic(fake, range(130, 240), per_minute=100, failing=0.001)
    (problem,) = raised(fake, 240)
    assert 120 <= minute_of(problem.opened_ms) <= 125  # type: ignore[operator]
    assert 130 < minute_of(problem.closed_ms) <= 145  # type: ignore[operator]
    assert problem.event_type == "ERROR" and problem.recipients == (EMAIL,)
    assert problem.title == "kong-slo test: Orders availability page: error budget burning over 1 hour"
    assert "Over the last hour" in problem.description and "last 5 minutes" in problem.description
    assert "Budget left" in problem.description


def test_28_day_objective_a_ten_minute_burst_spends_half_a_percent_of_the_budget_and_does_not_page(fake):
    deploy_alerts(fake, "28d")
    traffic(fake, range(-HISTORY, 120), per_minute=100, failing=0.001)
    traffic(fake, range(120, 130), per_minute=100, failing=0.20)
    traffic(fake, range(130, 300), per_minute=100, failing=0.001)
    assert raised(fake, 300) == []


def test_28_day_objective_an_outage_pages_within_10_minutes_and_resolves_after_it_ends(fake):
    deploy_alerts(fake, "28d")
    traffic(fake, range(-HISTORY, 120), per_minute=100, failing=0.001)
    traffic(fake, range(120, 135), per_minute=100, failing=1.0)  # 3.7 % of the budget: the fast page only
    traffic(fake, range(135, 300), per_minute=100, failing=0.001)
    (problem,) = raised(fake, 300)
    assert 120 <= minute_of(problem.opened_ms) <= 130  # type: ignore[operator]
    assert 135 < minute_of(problem.closed_ms) <= 150  # type: ignore[operator]
    assert problem.title == "kong-slo test: Orders availability page: error budget burning over 56 minutes"
    assert "more than 14.4 times as fast" in problem.description and problem.recipients == (EMAIL,)


@pytest.mark.parametrize("window", ["1h", "28d"])
def test_a_quiet_api_with_2_failures_in_an_hour_does_not_page(fake, window):
    deploy_alerts(fake, window)
    for minute in range(-HISTORY, 180, 6):  # ten requests an hour, for days
        failing = 1.0 if minute in (66, 96) else 0.0
        traffic(fake, range(minute, minute + 1), per_minute=1, failing=failing)
    assert raised(fake, 180) == []


def test_28_day_objective_a_day_of_2_percent_failures_raises_the_ticket_and_no_page(fake):
    deploy_alerts(fake, "28d")
    traffic(fake, range(0, 1440), per_minute=100, failing=0.02)
    found = raised(fake, 1440)
    assert [problem.event_type for problem in found] == ["CUSTOM_ALERT"]
    (ticket,) = found
    assert ticket.title == "kong-slo test: Orders availability ticket: error budget burning over 2.8 days"
    assert minute_of(ticket.opened_ms) <= 6 * 60  # type: ignore[operator]  # the 5.6-hour short window
    assert ticket.closed_ms is None and ticket.recipients == (EMAIL,)


def test_an_alert_on_a_metric_never_seen_is_refused():
    with FakeDynatrace(TOKEN, read_lag=0) as fresh, pytest.raises(DynatraceError, match="Metric selector is invalid"):
        deploy_alerts(fresh, "1h")


def test_28_day_objective_after_clean_days_2_percent_raises_the_ticket_once_10_percent_of_the_budget_is_gone(fake):
    deploy_alerts(fake, "28d")
    traffic(fake, range(-HISTORY, 0), per_minute=100, failing=0.001)
    traffic(fake, range(0, 40 * 60), per_minute=100, failing=0.02)
    (ticket,) = raised(fake, 40 * 60)
    assert ticket.event_type == "CUSTOM_ALERT"
    assert 31 * 60 <= minute_of(ticket.opened_ms) <= 33 * 60  # type: ignore[operator]
