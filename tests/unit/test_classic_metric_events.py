"""Classic burn-rate metric events (kong_slo.dynatrace.classic.metric_events), pure, their selectors checked
against the metric selector rules Dynatrace documents (tests/fakes/dynatrace_selector_rules.py)."""

from __future__ import annotations

import re

import pytest

from kong_slo.dynatrace.classic.metric_events import SELECTOR_MAX, metric_event_value, rule_selector
from kong_slo.objectives.burn_rate import alert_rules
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings import parse_settings
from kong_slo.settings.model import BurnRatePolicy
from tests.fakes.dynatrace_selector_parser import SelectorError
from tests.fakes.dynatrace_selector_rules import check
from tests.unit.settings_helpers import aws_config


def definition(window: str = "28d", objective: str = "availability", api: str = "Orders", **dynatrace: object):
    other = "latency" if objective == "availability" else "availability"
    config = aws_config(apis=[{"name": api, other: False, objective: {"window": window}}])
    config["dynatrace"].update(dynatrace)
    (found,) = slo_definitions(parse_settings(config, project="kong-slo", stack="dev", aws_region="eu-west-1"))
    return found


def selector_of(found, min_requests: int = 1000) -> str:
    (rule, *_) = alert_rules(found.window, BurnRatePolicy())
    return rule_selector(found, rule, min_requests)


def test_the_selector_reads_both_windows_padded_with_min_requests():
    selector = selector_of(definition(), min_requests=500)
    assert sorted(set(re.findall(r":rollup\(sum,(\d+)m\)", selector))) == ["5", "56"]
    assert 'value("counted",ge(500))):default(500,always):splitBy()' in selector
    assert 'value("counted",ge(45))):default(45,always):splitBy()' in selector  # 500 * 5 / 56, rounded up
    assert '"slo.outcome","failure"' in selector and selector.endswith("/(0.01)")
    assert selector.count(':partition("kong_slo.burn",value("burning",ge(0.144)))') == 2  # 14.4 x the 1 % allowed


@pytest.mark.parametrize("window", ["30m", "1h", "1d", "3d", "7d", "28d", "12w"])
@pytest.mark.parametrize("objective", ["availability", "latency"])
def test_every_selector_passes_dynatraces_documented_rules(window, objective):
    found = definition(window, objective, api="orders.v2~beta")
    for rule in alert_rules(window, BurnRatePolicy()):
        selector = rule_selector(found, rule, 1000)
        check(selector)  # raises on an undocumented transformation, a rollup over 60 minutes, …
        assert ":abs" not in selector and len(selector) <= SELECTOR_MAX


def test_the_rules_refuse_what_earlier_selectors_used():
    with pytest.raises(SelectorError, match="unknown transformation :abs"):
        check("(kong.slo.calls.count:splitBy():sum):abs")
    with pytest.raises(SelectorError, match="limited to 60 minutes"):
        check("kong.slo.calls.count:splitBy():sum:rollup(sum,61m)")


def test_latency_alerts_count_slow_requests():
    assert '"slo.latency","bad"' in selector_of(definition(objective="latency"))


def test_service_metric_slos_average_the_slos_per_minute_value_over_each_window():
    found = definition("1h", sliSource="service")
    selector = selector_of(found)
    check(selector)
    assert f"func:slo.{found.metric_name}:avg:rollup(avg,60m)" in selector
    assert f"func:slo.{found.metric_name}:avg:rollup(avg,5m)" in selector
    assert "kong.slo.calls" not in selector


def test_the_value_is_what_the_schema_types():
    found = definition()
    (rule,) = alert_rules(found.window, BurnRatePolicy())
    value = metric_event_value(found, "dev", rule, 1000)
    model = value["modelProperties"]
    assert all(isinstance(model[key], int) for key in ("samples", "violatingSamples", "dealertingSamples"))
    assert model["violatingSamples"] <= model["samples"] and model["alertOnNoData"] is False
    assert value["eventTemplate"]["eventType"] == "ERROR" and value["queryDefinition"]["type"] == "METRIC_SELECTOR"
    assert value["eventTemplate"]["title"].startswith("kong-slo dev: Orders availability page")
