"""Burn-rate detectors for platform SLOs (pure), their DQL run the way Davis runs a detector: every minute, over
the last ``slidingWindow`` minutes, with no timeframe of its own (tests/fakes/dynatrace_detectors.py)."""

from __future__ import annotations

import pytest

from kong_slo.dynatrace.platform.alerting import (
    DETECTOR_SCHEMA,
    STATIC_THRESHOLD_ANALYZER,
    burn_rate_query,
    detectors,
)
from kong_slo.objectives.burn_rate import alert_rules
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings.model import BurnRatePolicy
from tests.fakes.dynatrace_detectors import detector_problems, query_problems, samples
from tests.fakes.dynatrace_metrics import MetricStore
from tests.unit.settings_helpers import aws_config, parse

NOW = 1_800_000_000_000 // 60_000 * 60_000


def availability(window: str = "1h"):
    settings = parse(aws_config(apis=[{"name": "Orders", "latency": False, "availability": {"window": window}}]))
    return slo_definitions(settings)[0]


def traffic(store: MetricStore, minutes: range, failures: int, per_minute: int = 1000) -> None:
    """``minutes`` counted back from NOW (0: the last minute)."""
    for minute in minutes:
        at = NOW - (minute + 1) * 60_000 + 1_000
        dimensions = {"service.name": "Orders", "slo.latency": "good"}
        store.add("kong.slo.calls.count", {**dimensions, "slo.outcome": "failure"}, failures, at)
        store.add("kong.slo.calls.count", {**dimensions, "slo.outcome": "success"}, per_minute - failures, at)


def burn(store: MetricStore, window: str = "1h", min_requests: int = 1000) -> float | None:
    (rule,) = alert_rules(window, BurnRatePolicy())
    values = samples(burn_rate_query(availability(window), rule, min_requests), store, NOW, rule.long_minutes)
    assert len(set(values)) == 1  # every sample of a run carries the run's value
    return values[-1]


def test_both_windows_burning_give_the_lower_burn_rate():
    store = MetricStore()
    traffic(store, range(5), failures=300)  # 30 % failing lately, 20 % before, against a 1 % budget
    traffic(store, range(5, 60), failures=200)
    assert burn(store) == pytest.approx((55 * 200 + 5 * 300) / 60_000 / 0.01)  # the long window's, the lower


def test_a_burn_of_exactly_the_factor_fires_but_one_that_keeps_pace_with_the_budget_does_not():
    store = MetricStore()
    traffic(store, range(60), failures=144)  # 14.4 %: a 14.4x burn of a 28-day objective's 1 % budget
    (rule,) = alert_rules("28d", BurnRatePolicy())
    values = samples(burn_rate_query(availability("28d"), rule, 1000), store, NOW, rule.long_minutes)
    assert values[-1] == pytest.approx(14.4)
    paced = MetricStore()
    traffic(paced, range(60), failures=10)  # 1 %: the 1 h objective's budget, spent exactly as it is earned
    assert burn(paced) is None


def test_a_recovered_short_window_leaves_no_value():
    store = MetricStore()
    traffic(store, range(10, 60), failures=200)
    traffic(store, range(10), failures=0)
    assert burn(store) is None


def test_a_quiet_api_is_judged_as_if_it_had_served_min_requests():
    store = MetricStore()
    traffic(store, range(3), failures=1, per_minute=1)  # three requests, all failed: 3 of "1,000" is 0.3 %
    assert burn(store) is None
    assert burn(store, min_requests=3) == pytest.approx(100.0)  # judged on its own three requests it burns


def test_the_query_names_no_timeframe_and_runs_per_minute():
    (rule,) = alert_rules("28d", BurnRatePolicy())
    query = burn_rate_query(availability("28d"), rule, 1000)
    assert query_problems(query) == [] and "from:" not in query and "interval: 1m" in query
    assert query_problems(query.replace("interval: 1m", "interval: 1m, from: now-2h")) == [
        "a detector's query may not set from: or to: (the detector chooses the timeframe)"]


def test_one_detector_per_rule_with_the_rules_window_and_factor():
    found = detectors(availability("28d"), "dev")
    assert [(rule.key, rule.long_minutes, rule.short_minutes, rule.factor) for rule, _ in found] == [
        ("fast", 56, 5, 14.4)]
    for _, value in found:
        inputs = {item["key"]: item["value"] for item in value["analyzer"]["input"]}
        assert value["analyzer"]["name"] == STATIC_THRESHOLD_ANALYZER and detector_problems(value) == []
        assert inputs["threshold"] == "0" and inputs["alertCondition"] == "ABOVE"  # the query applies the factor
        assert "failedLong >= 0.144 and failedShort >= 0.144" in inputs["query"]
        assert inputs["slidingWindow"] == "56" and inputs["violatingSamples"] == inputs["dealertingSamples"] == "1"
        assert all(isinstance(item["value"], str) for item in value["analyzer"]["input"])
        properties = {item["key"]: item["value"] for item in value["eventTemplate"]["properties"]}
        assert properties["event.type"] == "CUSTOM_ALERT"
        assert properties["event.name"] == \
            "kong-slo dev: Orders availability page: error budget burning over 56 minutes"
        assert 2 <= len(value["title"]) <= 500
    assert DETECTOR_SCHEMA == "builtin:davis.anomaly-detectors"


def test_a_service_user_runs_the_detectors_when_one_is_given():
    actor = "12345678-abcd-4ef0-9abc-1234567890ab"
    assert {value["executionSettings"].get("actor") for _, value in detectors(availability(), "dev", actor=actor)} == \
        {actor}
    assert all(value["executionSettings"] == {} for _, value in detectors(availability(), "dev"))


def test_the_readme_shows_the_query_a_28_day_objective_gets():
    from pathlib import Path

    (rule,) = alert_rules("28d", BurnRatePolicy())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert burn_rate_query(availability("28d"), rule, 1000) in readme
