"""SLO definitions → platform SLO payloads (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kong_slo.dynatrace.platform.definitions import dql_string, platform_slo_payload, sli_query, timeframe_from
from kong_slo.objectives.sli import slo_definitions
from tests.unit.settings_helpers import aws_config, parse


def payloads(apis: list[dict]) -> list[dict]:
    settings = parse(aws_config(apis=apis))
    return [platform_slo_payload(definition, settings.stack) for definition in slo_definitions(settings)]


def test_one_custom_sli_one_criterion_tags_and_external_id_per_objective():
    latency, availability = payloads([{"name": "HealthService", "availability": {"window": "2w", "target": 99.9,
                                                                                 "warning": 99.95}}])
    assert "sliReference" not in latency
    assert latency["criteria"] == [{"timeframeFrom": "now-1h", "timeframeTo": "now", "target": 99.0, "warning": 99.5}]
    assert availability["criteria"][0]["timeframeFrom"] == "now-14d"
    assert availability["criteria"][0]["target"] == 99.9
    assert latency["tags"] == ["kong-slo-stack:test", "kong-slo-api:HealthService", "kong-slo-objective:latency"]
    assert latency["externalId"] != availability["externalId"]
    assert latency["name"] == "kong-slo test: HealthService latency"


def test_the_sli_reads_the_grail_counter_of_the_api_and_the_objectives_good_mark():
    latency, availability = payloads([{"name": "Orders"}])
    assert "sum(kong.slo.calls)" in latency["customSli"]["indicator"]
    assert "kong.slo.calls.count" not in latency["customSli"]["indicator"]
    assert 'filter: service.name == "Orders"' in latency["customSli"]["indicator"]
    assert 'slo.latency == "good"' in latency["customSli"]["indicator"]
    assert 'slo.outcome == "success"' in availability["customSli"]["indicator"]
    assert availability["customSli"]["indicator"].endswith("| fieldsAdd sli = 100 * good[] / total[]")


def test_names_are_quoted_as_dql_strings():
    assert dql_string('a"b\\c') == '"a\\"b\\\\c"'
    assert 'service.name == "we\\"ird"' in sli_query('we"ird', "latency")


@pytest.mark.parametrize(("window", "expected"), [("30m", "now-30m"), ("1h", "now-1h"), ("7d", "now-7d"),
                                                  ("4w", "now-28d")])
def test_windows_become_dql_relative_times(window, expected):
    assert timeframe_from(window) == expected


@given(api=st.from_regex(r"[A-Za-z0-9._~-]{1,30}", fullmatch=True), good=st.integers(0, 50), bad=st.integers(1, 50))
def test_the_sli_counts_exactly_the_apis_calls_for_any_kong_service_name(api, good, bad):
    from tests.fakes.dynatrace_dql import evaluate
    from tests.fakes.dynatrace_metrics import MetricStore

    store, now = MetricStore(), 1_800_000_000_000
    for name, outcome, count in ((api, "success", good), (api, "failure", bad), (api + "x", "failure", 7)):
        store.add("kong.slo.calls.count", {"service.name": name, "slo.outcome": outcome}, count, now - 30_000)
    records = evaluate(sli_query(api, "availability"), store, now_ms=now, from_ms=now - 60_000)
    assert len(records) == 1
    assert records[0]["sli"] == [pytest.approx(100 * good / (good + bad))]
