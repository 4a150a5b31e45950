"""Burn-rate detectors for platform SLOs (pure), their DQL evaluated by the emulator's DQL evaluator."""

from __future__ import annotations

import pytest

from kong_slo.dynatrace.platform.alerting import (
    BURN_RATE_FIELD,
    DETECTOR_SCHEMA,
    STATIC_THRESHOLD_ANALYZER,
    burn_rate_query,
    detectors,
)
from kong_slo.objectives.burn_rate import rules_for
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings.model import BurnRatePolicy
from tests.fakes.dynatrace_dql import evaluate
from tests.fakes.dynatrace_metrics import MetricStore
from tests.unit.settings_helpers import aws_config, parse

NOW = 1_800_000_000_000


def availability(window: str = "30d"):
    settings = parse(aws_config(apis=[{"name": "Orders", "latency": False, "availability": {"window": window}}]))
    return slo_definitions(settings)[0]


def traffic(store: MetricStore, minutes: range, failures: int, per_minute: int = 100) -> None:
    for minute in minutes:
        at = NOW - (minute + 1) * 60_000 + 1_000
        dimensions = {"service.name": "Orders", "slo.latency": "good"}
        store.add("kong.slo.calls.count", {**dimensions, "slo.outcome": "failure"}, failures, at)
        store.add("kong.slo.calls.count", {**dimensions, "slo.outcome": "success"}, per_minute - failures, at)


def last_burn_rate(store: MetricStore, query: str) -> float | None:
    records = evaluate(query, store, now_ms=NOW)
    assert len(records) == 1 and set(records[0]) == {"timeframe", "interval", BURN_RATE_FIELD}
    return records[0][BURN_RATE_FIELD][-1]


@pytest.fixture
def page() -> str:
    return burn_rate_query(availability(), rules_for(availability(), BurnRatePolicy())[0])  # 1 h, 5 min, above 14.4


def test_both_windows_burning_gives_the_burn_rate(page):
    store = MetricStore()
    traffic(store, range(60), failures=20)  # 20 % failing against a 1 % budget: burn rate 20 in both windows
    assert last_burn_rate(store, page) == pytest.approx(20.0)


def test_a_recovered_short_window_silences_the_page(page):
    store = MetricStore()
    traffic(store, range(10, 60), failures=20)
    traffic(store, range(10), failures=0)  # the last 10 minutes are clean
    assert last_burn_rate(store, page) == pytest.approx(0.0)


def test_a_short_spike_alone_stays_below_the_long_window_factor(page):
    store = MetricStore()
    traffic(store, range(5), failures=20)
    traffic(store, range(5, 60), failures=0)
    burn = last_burn_rate(store, page)
    assert burn == pytest.approx(100 * 100 / 6000 / 1.0)  # the 1 h window: 100 failures of 6000 calls
    assert burn < rules_for(availability(), BurnRatePolicy())[0].factor


def test_three_detectors_per_objective_with_the_scaled_thresholds():
    found = detectors(availability("7d"), "dev")
    # the classic rules, scaled from 30 days to 7: 1 h and 5 min → 14 and 1 min, 6 h and 30 min → 84 and 7 min, …
    assert [(rule.key, rule.long_minutes, rule.short_minutes, rule.factor) for rule, _ in found] == [
        ("fast", 14, 1, 14.4), ("slow", 84, 7, 6.0), ("ticket", 1008, 84, 1.0)]
    for alert, value in found:
        inputs = {item["key"]: item["value"] for item in value["analyzer"]["input"]}
        assert value["analyzer"]["name"] == STATIC_THRESHOLD_ANALYZER
        assert inputs["threshold"] == f"{alert.factor:g}" and inputs["alertCondition"] == "ABOVE"
        assert f"arrayMovingSum(good, {alert.long_minutes})" in inputs["query"]
        properties = {item["key"]: item["value"] for item in value["eventTemplate"]["properties"]}
        assert properties["event.type"] == "CUSTOM_ALERT"
        assert properties["event.name"].startswith("kong-slo dev: Orders availability burning its error budget")
        assert 2 <= len(value["title"]) <= 500
    assert DETECTOR_SCHEMA == "builtin:davis.anomaly-detectors"


def test_a_service_user_runs_the_detectors_when_one_is_given():
    actor = "12345678-abcd-4ef0-9abc-1234567890ab"
    assert {value["executionSettings"].get("actor") for _, value in detectors(availability(), "dev", actor=actor)} == \
        {actor}
    assert all(value["executionSettings"] == {} for _, value in detectors(availability(), "dev"))
