"""Burn-rate rules and alert texts (kong_slo.objectives.burn_rate), pure."""

from __future__ import annotations

import dataclasses
import re

import pytest

from kong_slo.objectives.burn_rate import (
    alert_description,
    alert_title,
    metric_event_value,
    rules_for,
    window_definitions,
    window_metric_name,
)
from kong_slo.objectives.sli import SloDefinition, slo_definitions
from kong_slo.settings import parse_settings
from kong_slo.settings.model import BurnRatePolicy
from tests.unit.settings_helpers import aws_config


def availability(window: str, **dynatrace: object) -> SloDefinition:
    config = aws_config(apis=[{"name": "Orders", "latency": False, "availability": {"window": window}}])
    config["dynatrace"].update(dynatrace)
    (definition,) = slo_definitions(parse_settings(config, project="kong-slo", stack="dev", aws_region="eu-west-1"))
    return definition


def windows(window: str) -> list[tuple[str, str, int, int, float]]:
    return [(rule.key, rule.severity, rule.long_minutes, rule.short_minutes, rule.factor)
            for rule in rules_for(availability(window), BurnRatePolicy())]


def test_a_30_day_objective_gets_the_workbooks_three_rules_unchanged():
    assert windows("30d") == [("fast", "page", 60, 5, 14.4), ("slow", "page", 360, 30, 6.0),
                              ("ticket", "ticket", 4320, 360, 1.0)]


def test_a_28_day_objective_scales_every_window_and_keeps_the_factors():
    assert windows("28d") == [("fast", "page", 56, 5, 14.4), ("slow", "page", 336, 28, 6.0),
                              ("ticket", "ticket", 4032, 336, 1.0)]


@pytest.mark.parametrize(("window", "long", "short"), [("1h", 60, 5), ("30m", 30, 5), ("5m", 5, 5),
                                                       ("1d", 1440, 120), ("2d", 2880, 240)])
def test_objectives_shorter_than_2_5_days_page_once_when_their_own_budget_is_spent(window, long, short):
    assert windows(window) == [("page", "page", long, short, 1.0)]  # no window longer than the objective


def test_the_selector_takes_both_windows_and_the_minimum_request_count():
    definition = availability("28d")
    rule = rules_for(definition, BurnRatePolicy())[0]
    selector = metric_event_value(definition, "dev", rule, BurnRatePolicy(min_requests=500))["queryDefinition"][
        "metricSelector"]
    assert ":rollup(sum,56m)" in selector and ":rollup(sum,5m)" in selector
    assert "(500)" in selector and "(45)" in selector  # the short window: the same rate, 500 * 5 / 56, rounded up
    assert '"slo.outcome","failure"' in selector and "(0.01)" in selector
    assert len(selector) <= 10000  # the schema's limit for metricSelector


def test_latency_alerts_count_slow_requests():
    config_latency = aws_config(apis=[{"name": "Orders", "availability": False}])
    (definition,) = slo_definitions(parse_settings(config_latency, project="p", stack="dev", aws_region="x"))
    rule = rules_for(definition, BurnRatePolicy())[0]
    assert '"slo.latency","bad"' in metric_event_value(definition, "dev", rule, BurnRatePolicy())[
        "queryDefinition"]["metricSelector"]


def test_service_metric_slos_read_every_window_from_slos():
    definition = availability("1h", sliSource="service")
    (window,) = window_definitions(definition, BurnRatePolicy())
    assert window.window == "5m" and window.metric_expression == definition.metric_expression
    assert window.entity_filter == definition.entity_filter
    value = metric_event_value(definition, "dev", rules_for(definition, BurnRatePolicy())[0], BurnRatePolicy())
    selector = value["queryDefinition"]["metricSelector"]
    assert f"func:slo.{definition.metric_name})" in selector and f"func:slo.{window.metric_name})" in selector
    assert "kong.slo.calls" not in selector and ":rollup" not in selector


def test_alert_texts_name_the_api_objective_window_and_budget():
    definition = availability("28d")
    fast, slow, ticket = rules_for(definition, BurnRatePolicy())
    assert alert_title(definition, "dev", fast) == \
        "kong-slo dev: Orders availability page: error budget burning over 56 minutes"
    assert alert_title(definition, "dev", ticket) == \
        "kong-slo dev: Orders availability ticket: error budget burning over 2.8 days"
    text = alert_description(definition, "dev", slow)
    assert text.startswith("Orders availability: share of Orders requests not answered with 5XX, over 28d.")
    assert "more than 6 times as fast as the 99 % target over 28 days allows (5 % of the budget in 5.6 hours)" in text
    assert "a full budget lasts less than 4.7 days" in text and "over the last 28 minutes" in text
    assert "at least as fast as" in alert_description(definition, "dev", ticket)
    hourly = availability("1h")
    assert "the error budget of the 1 hour window is used up" in alert_description(
        hourly, "dev", rules_for(hourly, BurnRatePolicy())[0])
    for rule in (fast, slow, ticket):
        assert "times faster" not in alert_description(definition, "dev", rule)


def test_windows_longer_than_an_hour_read_a_window_slo_of_exactly_that_timeframe():
    definition = availability("28d")
    policy = BurnRatePolicy()
    windows = window_definitions(definition, policy)
    assert [(w.window, w.metric_name) for w in windows] == [("336m", f"{definition.metric_name}_w336m"),
                                                            ("4032m", f"{definition.metric_name}_w4032m")]
    assert all(w.metric_expression == definition.metric_expression and w.target == definition.target
               for w in windows)
    assert windows[0].name == "kong-slo dev: Orders availability, last 5.6 hours"
    slow = rules_for(definition, policy)[1]
    selector = metric_event_value(definition, "dev", slow, policy)["queryDefinition"]["metricSelector"]
    assert f"func:slo.{definition.metric_name}_w336m" in selector and ":rollup(sum,28m)" in selector
    assert all(int(minutes) <= 60 for minutes in re.findall(r":rollup\(sum,(\d+)m\)", selector))


def test_a_one_day_objective_reads_its_own_slo_for_the_day_and_a_window_slo_for_two_hours():
    definition = availability("1d")
    assert window_metric_name(definition, 1440) == definition.metric_name
    assert [w.window for w in window_definitions(definition, BurnRatePolicy())] == ["120m"]
    assert window_definitions(availability("1h"), BurnRatePolicy()) == []  # the default: rollups only


def test_a_window_metric_name_keeps_the_hash_within_220_characters():
    long_name = "a" * 200
    definition = availability("28d")
    definition = dataclasses.replace(definition, metric_name=f"{long_name}_{'b' * 10}_1234abcd")
    name = window_metric_name(definition, 4032)
    assert len(name) <= 220 and name.endswith("_1234abcd_w4032m")
