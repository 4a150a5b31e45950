"""Burn-rate rules (kong_slo.objectives.burn_rate) and alert texts (kong_slo.objectives.alert_text), pure."""

from __future__ import annotations

import pytest

from kong_slo.objectives.alert_text import alert_description, alert_title
from kong_slo.objectives.burn_rate import ALERT_WINDOW_MAX, alert_rules, unexpressed_rules, workbook_rules
from kong_slo.objectives.sli import SloDefinition, slo_definitions
from kong_slo.settings import parse_settings
from kong_slo.settings.model import BurnRatePolicy
from tests.unit.settings_helpers import aws_config


def availability(window: str, **dynatrace: object) -> SloDefinition:
    config = aws_config(apis=[{"name": "Orders", "latency": False, "availability": {"window": window}}])
    config["dynatrace"].update(dynatrace)
    (definition,) = slo_definitions(parse_settings(config, project="kong-slo", stack="dev", aws_region="eu-west-1"))
    return definition


def rules(window: str, chosen=alert_rules) -> list[tuple[str, str, int, int, float]]:
    return [(rule.key, rule.severity, rule.long_minutes, rule.short_minutes, rule.factor)
            for rule in chosen(window, BurnRatePolicy())]


def test_the_workbook_rules_of_a_30_day_objective_are_the_workbooks_own():
    assert rules("30d", workbook_rules) == [("fast", "page", 60, 5, 14.4), ("slow", "page", 360, 30, 6.0),
                                           ("ticket", "ticket", 4320, 360, 1.0)]


def test_a_28_day_objective_scales_every_window_and_keeps_the_factors():
    assert rules("28d", workbook_rules) == [("fast", "page", 56, 5, 14.4), ("slow", "page", 336, 28, 6.0),
                                           ("ticket", "ticket", 4032, 336, 1.0)]


@pytest.mark.parametrize(("window", "expected"), [
    ("1h", [("page", "page", 60, 5, 1.0)]),
    ("30m", [("page", "page", 30, 5, 1.0)]),
    ("2h", [("fast", "page", 60, 5, 2.0)]),  # shorter than page_factor hours: the whole budget in an hour
    ("1d", [("fast", "page", 60, 5, 14.4), ("slow", "page", 60, 5, 6.0)]),
    ("6h", [("fast", "page", 60, 5, 6.0)]),  # no slow page: it would need the same burn rate
    ("3d", [("fast", "page", 6, 5, 14.4), ("slow", "page", 36, 5, 6.0)]),
    ("7d", [("fast", "page", 14, 5, 14.4)]),
    ("28d", [("fast", "page", 56, 5, 14.4)]),
    ("30d", [("fast", "page", 60, 5, 14.4)]),
    ("8w", [("fast", "page", 60, 5, 14.4)]),  # the scaled fast window would be 112 minutes
])
def test_alerts_keep_the_rules_dynatrace_can_evaluate_and_always_page(window, expected):
    assert rules(window) == expected


@pytest.mark.parametrize("window", ["5m", "1h", "6h", "1d", "2d", "3d", "7d", "28d", "30d", "12w"])
def test_no_alert_window_is_longer_than_an_hour_and_every_objective_pages(window):
    chosen = alert_rules(window, BurnRatePolicy())
    assert all(rule.short_minutes <= rule.long_minutes <= ALERT_WINDOW_MAX for rule in chosen)
    assert any(rule.severity == "page" and rule.factor >= 1 for rule in chosen)
    assert not {rule.key for rule in chosen} & {rule.key for rule in unexpressed_rules(window, BurnRatePolicy())
                                                if rule.key != "fast"}


def test_what_no_alert_can_express_is_named():
    assert [(rule.key, rule.long_minutes) for rule in unexpressed_rules("28d", BurnRatePolicy())] == [
        ("slow", 336), ("ticket", 4032)]
    assert unexpressed_rules("1h", BurnRatePolicy()) == []


def test_the_short_window_gets_min_requests_at_the_same_rate():
    (fast,) = alert_rules("28d", BurnRatePolicy())
    assert fast.short_min_requests(1000) == 90  # 1000 * 5 / 56, rounded up
    assert fast.short_min_requests(0) == 0


def test_alert_texts_name_the_api_objective_window_and_budget():
    definition = availability("28d")
    (fast,) = alert_rules("28d", BurnRatePolicy())
    assert alert_title(definition, "dev", fast) == \
        "kong-slo dev: Orders availability page: error budget burning over 56 minutes"
    text = alert_description(definition, "dev", fast)
    assert text.startswith("Orders availability: share of Orders requests not answered with 5XX, over 28d.")
    assert "at least 14.4 times as fast as the 99 % target over 28 days allows (2 % of the budget in 56 minutes)" \
        in text
    assert "a full budget lasts less than 46.7 hours" in text and "over the last 5 minutes" in text
    hourly = availability("1h")
    assert "the error budget of the 1 hour window is used up" in alert_description(
        hourly, "dev", alert_rules("1h", BurnRatePolicy())[0])
