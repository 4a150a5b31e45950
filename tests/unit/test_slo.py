"""Objectives → SLI definitions → classic SLO payloads (pure)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kong_slo import telemetry
from kong_slo.objectives.sli import (
    METRIC_NAME_PATTERN,
    metric_name,
    selector_string,
    slo_definitions,
    slo_name,
    slo_payload,
)
from kong_slo.settings import StackSettings, parse_settings
from tests.unit.settings_helpers import aws_config


def settings(apis: list[dict[str, Any]], stack: str = "dev", **dynatrace: Any) -> StackSettings:
    config = aws_config(apis=apis)
    config["dynatrace"].update(dynatrace)
    return parse_settings(config, project="kong-slo", stack=stack, aws_region="eu-west-1")


def test_two_objectives_per_api_in_order():
    definitions = slo_definitions(settings([{"name": "HealthService"}, {"name": "Orders"}]))
    assert [(d.api, d.objective) for d in definitions] == [
        ("HealthService", "latency"), ("HealthService", "availability"),
        ("Orders", "latency"), ("Orders", "availability")]


def test_an_objective_switched_off_gives_no_slo():
    definitions = slo_definitions(settings([{"name": "A", "latency": False}, {"name": "B", "availability": False}]))
    assert [(d.api, d.objective) for d in definitions] == [("A", "availability"), ("B", "latency")]


def test_latency_payload_from_the_collector_counters():
    definition = slo_definitions(settings([{"name": "HealthService"}]))[0]
    payload = slo_payload(definition)
    assert payload["enabled"] is True
    assert payload["evaluationType"] == "AGGREGATE"
    assert payload["timeframe"] == "-1h"
    assert (payload["target"], payload["warning"]) == (99.0, 99.5)
    assert payload["errorBudgetBurnRate"] == {"burnRateVisualizationEnabled": True, "fastBurnThreshold": 10.0}
    assert payload["description"].startswith("share of HealthService requests answered within 600 ms")
    assert payload["name"] == "kong-slo dev: HealthService latency"
    assert "filter" not in payload
    expression = payload["metricExpression"]
    assert expression == expression.strip() and len(expression) <= 5000
    assert expression.count(telemetry.CALLS_METRIC_KEY) == 2
    assert f'eq("{telemetry.SERVICE_DIMENSION}","HealthService")' in expression
    assert f'eq("{telemetry.LATENCY_DIMENSION}","{telemetry.LATENCY_GOOD}")' in expression
    assert expression.startswith("(100)*(")


def test_availability_payload_describes_the_failure_codes():
    definitions = slo_definitions(settings([{"name": "Orders", "availability": {
        "target": 99.9, "warning": 99.95, "window": "1d", "failOn": ["5xx", "404"]}}]))
    payload = slo_payload(definitions[1])
    assert payload["description"] == "share of Orders requests not answered with 5XX or 404, over 1d"
    assert payload["timeframe"] == "-1d"
    assert (payload["target"], payload["warning"]) == (99.9, 99.95)
    assert f'eq("{telemetry.OUTCOME_DIMENSION}","{telemetry.OUTCOME_SUCCESS}")' in payload["metricExpression"]


def test_per_api_threshold_and_burn_threshold_reach_the_payload():
    alerting = {"emails": ["a@example.com"], "burnRate": {"fastBurnThreshold": 14}}
    definitions = slo_definitions(settings([{"name": "Orders", "latency": {"thresholdMs": 400}}], alerting=alerting))
    payload = slo_payload(definitions[0])
    assert "within 400 ms" in payload["description"]
    assert payload["errorBudgetBurnRate"]["fastBurnThreshold"] == 14


def test_service_source_uses_unified_service_metrics_in_microseconds():
    definitions = slo_definitions(settings([{"name": "Orders", "latency": {"thresholdMs": 600}}],
                                           sliSource="service"))
    latency, availability = (slo_payload(d) for d in definitions)
    assert "builtin:service.request.response_time" in latency["metricExpression"]
    assert "lt(600000)" in latency["metricExpression"]
    assert latency["filter"] == 'type("SERVICE"),entityName.equals("Orders")'
    assert "minutes" in latency["description"]
    assert "builtin:service.request.failure_count" in availability["metricExpression"]
    assert "builtin:service.request.count" in availability["metricExpression"]
    assert telemetry.CALLS_METRIC_KEY not in availability["metricExpression"]


def test_quotes_in_names_are_escaped_in_selectors():
    assert selector_string('a"b~c') == '"a~"b~~c"'


def test_slo_names_stay_within_200_characters():
    assert len(slo_name("dev", "x" * 500, "availability")) == 200


@given(project=st.text(min_size=1, max_size=40), stack=st.text(min_size=1, max_size=60),
       api=st.text(min_size=1, max_size=300), objective=st.sampled_from(["latency", "availability"]))
def test_metric_names_are_conservative_bounded_and_deterministic(project, stack, api, objective):
    name = metric_name(project, stack, api, objective)
    assert METRIC_NAME_PATTERN.match(name)
    assert len(name) <= 220
    assert name == metric_name(project, stack, api, objective)


@given(st.lists(st.text(min_size=1, max_size=20), min_size=2, max_size=6, unique=True))
def test_metric_names_are_unique_per_api_and_objective(api_names):
    names = {metric_name("kong-slo", "dev", api, objective)
             for api in api_names for objective in ("latency", "availability")}
    assert len(names) == 2 * len(api_names)


def test_metric_names_differ_between_stacks_and_only_case_differing_apis():
    assert metric_name("kong-slo", "dev", "Orders", "latency") != metric_name("kong-slo", "prod", "Orders", "latency")
    assert metric_name("kong-slo", "dev", "Orders", "latency") != metric_name("kong-slo", "dev", "orders", "latency")
    assert metric_name("kong-slo", "dev", "Orders", "latency").startswith("kong_slo_dev_orders_latency_")


def test_definitions_without_a_dynatrace_block_use_collector_defaults():
    config = {"target": "local", "apis": [{"name": "HealthService"}]}
    local = parse_settings(config, project="kong-slo", stack="local", aws_region=None)
    definitions = slo_definitions(local)
    assert [d.sli_source for d in definitions] == ["collector", "collector"]
    assert definitions[0].fast_burn_threshold == 10.0


def test_metric_declaration_lines_declare_the_counter_and_a_zero_point_per_api():
    from kong_slo.objectives.sli import metric_declaration_lines

    lines = metric_declaration_lines(slo_definitions(settings_for_declaration("v2.orders~eu")))
    assert lines[0].startswith(f"#{telemetry.CALLS_METRIC} count dt.meta.displayName=")
    assert lines[1] == (f'{telemetry.CALLS_METRIC},{telemetry.SERVICE_DIMENSION}="v2.orders~eu",'
                        f'{telemetry.LATENCY_DIMENSION}="good",{telemetry.OUTCOME_DIMENSION}="success" count,delta=0')
    assert len(lines) == 2


def settings_for_declaration(api: str) -> StackSettings:
    config = aws_config(apis=[{"name": api}])
    return parse_settings(config, project="kong-slo", stack="dev", aws_region="eu-west-1")


def test_no_declaration_when_the_slis_come_from_dynatrace_service_metrics():
    from kong_slo.objectives.sli import metric_declaration_lines

    config = aws_config()
    config["dynatrace"]["sliSource"] = "service"
    settings = parse_settings(config, project="kong-slo", stack="dev", aws_region="eu-west-1")
    assert metric_declaration_lines(slo_definitions(settings)) == []
