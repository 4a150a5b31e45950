"""Burn-rate alerts end to end in the emulator: the metric events and Davis detectors kong-slo creates, replayed
minute by minute over traffic histories (tests/providers/alert_replay.py), and the properties the SRE workbook's
rules promise held on the results. The README's alert timing table is this replay's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from kong_slo.dynatrace.classic.metric_events import METRIC_EVENT_SCHEMA, metric_event_value
from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.settings_objects import SettingsObjectProvider
from kong_slo.objectives.burn_rate import alert_rules, unexpressed_rules
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings.model import BurnRatePolicy
from tests.fakes.dynatrace import FakeDynatrace
from tests.providers.alert_replay import (
    EMAIL,
    OBJECTIVES,
    TABLE_END,
    TABLE_START,
    Outcome,
    markdown_table,
    replay,
)
from tests.providers.dynatrace_helpers import TOKEN, checked, configured, stack_settings

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return [outcome for objective in OBJECTIVES for outcome in replay(objective)]


def find(outcomes: list[Outcome], objective: str, scenario: str) -> list[Outcome]:
    found = [o for o in outcomes if o.objective == objective and o.scenario.key == scenario]
    assert len(found) == 2  # classic and platform
    return found


def test_no_alert_fires_where_none_should(outcomes):
    assert [(o.objective, o.scenario.key, o.flavour) for o in outcomes if o.false_alerts] == []


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_burn_that_keeps_pace_with_the_budget_never_pages(outcomes, objective):
    assert all(o.page_after is None for o in find(outcomes, objective, "burn1"))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_quiet_api_with_one_failure_in_three_requests_does_not_page(outcomes, objective):
    assert all(o.page_after is None for o in find(outcomes, objective, "quiet"))


def test_a_14_4x_burn_of_a_28_day_budget_pages_once_2_percent_of_the_budget_is_gone(outcomes):
    # At exactly 14.4x, 2 % of the budget is gone when the whole 56-minute fast window has burned at that rate.
    for outcome in find(outcomes, "28d", "burn14"):
        assert outcome.page_after is not None and outcome.page_after <= 56, outcome


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_an_outage_pages_within_ten_minutes(outcomes, objective):
    for outcome in find(outcomes, objective, "outage"):
        assert outcome.page_after is not None and outcome.page_after <= 10, outcome


def test_every_page_resets_within_ten_minutes_of_the_burn_ending(outcomes):
    paged = [o for o in outcomes if o.page_after is not None]
    assert paged and all(not o.still_open and o.reset_after is not None and o.reset_after <= 10 for o in paged)


def test_faster_burns_page_no_later_and_the_flavours_agree_within_two_minutes(outcomes):
    for objective in OBJECTIVES:
        for flavour in ("classic", "platform"):
            times = [o.page_after for key in ("burn2", "burn6", "burn14", "outage")
                     for o in find(outcomes, objective, key) if o.flavour == flavour and o.page_after is not None]
            assert times == sorted(times, reverse=True), (objective, flavour, times)
        for key in ("burn2", "burn6", "burn14", "outage", "burst"):
            classic, platform = find(outcomes, objective, key)
            assert (classic.page_after is None) == (platform.page_after is None)
            if classic.page_after is not None:
                assert abs(classic.page_after - platform.page_after) <= 2  # type: ignore[operator]


def test_a_ten_minute_burst_pages_a_one_hour_objective_and_no_longer_one(outcomes):
    assert all(o.page_after is not None for o in find(outcomes, "1h", "burst"))
    assert all(o.page_after is None for objective in ("1d", "7d", "28d")
               for o in find(outcomes, objective, "burst"))


def test_tickets_are_what_no_alert_window_can_hold(outcomes):
    assert all(o.ticket_after is None for o in outcomes)
    for objective in OBJECTIVES:
        policy = BurnRatePolicy()
        tickets = [rule for rule in unexpressed_rules(objective, policy) if rule.severity == "ticket"]
        assert not [rule for rule in alert_rules(objective, policy) if rule.severity == "ticket"]
        assert tickets or objective in ("1h", "1d")  # the short objectives' workbook rules have no ticket


def test_the_readme_shows_this_replay(outcomes):
    text = README.read_text(encoding="utf-8")
    assert TABLE_START in text and TABLE_END in text
    shown = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert shown == markdown_table(outcomes), "run: .venv/bin/python benchmarks/alert_timing.py --readme"


def test_every_page_reaches_the_stacks_email_in_both_flavours(outcomes):
    paged = [o for o in outcomes if o.page_after is not None]
    assert {o.flavour for o in paged} == {"classic", "platform"}
    assert all(o.recipients == (EMAIL,) for o in paged)


def test_an_alert_on_a_metric_never_seen_is_refused():
    settings = stack_settings(apis=[{"name": "Orders", "latency": False}], alerting={"emails": [EMAIL]})
    (definition,) = slo_definitions(settings)
    (rule,) = alert_rules(definition.window, BurnRatePolicy())
    provider = SettingsObjectProvider()
    configured(provider)
    provider.create_attempts = 1  # type: ignore[misc]
    with FakeDynatrace(TOKEN, read_lag=0) as fresh, pytest.raises(DynatraceError, match="Metric selector is invalid"):
        provider.create(checked(provider, {"schema_id": METRIC_EVENT_SCHEMA, "external_id": "kong-slo:t:burn",
                                           "value": metric_event_value(definition, "t", rule, 1000),
                                           "environment_url": fresh.url}))
