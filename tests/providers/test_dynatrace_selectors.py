"""The emulator's metric selector evaluator and metrics API, checked against Dynatrace's documented semantics
(https://docs.dynatrace.com/docs/dynatrace-api/environment-api/metric-v2/metric-selector)."""

from __future__ import annotations

import pytest
import requests

from kong_slo import telemetry
from kong_slo.objectives.sli import slo_definitions, slo_payload
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_metrics import MetricStore
from tests.fakes.dynatrace_selector_parser import SelectorError, metric_keys
from tests.fakes.dynatrace_selectors import Timeframe, evaluate, single_value
from tests.providers.dynatrace_helpers import TOKEN, stack_settings

MINUTE = 60_000
KEY = "kong.slo.calls.count"


def traffic(store: MetricStore, minutes: range, *, api: str = "Orders", good: float = 99, bad: float = 1) -> None:
    for minute in minutes:
        for outcome, value in (("success", good), ("failure", bad)):
            store.add(KEY, {"service.name": api, "slo.outcome": outcome}, value, minute * MINUTE)


def failures(api: str = "Orders") -> str:
    return f'{KEY}:filter(and(eq("service.name","{api}"),eq("slo.outcome","failure"))):splitBy():sum'


def test_filter_and_split_by_sum_the_matching_series_per_slot():
    store = MetricStore()
    traffic(store, range(3))
    traffic(store, range(3), api="Other", good=10, bad=5)
    assert evaluate(failures(), store, Timeframe(0, 3 * MINUTE)) == {(): [1.0, 1.0, 1.0]}
    by_api = evaluate(f'{KEY}:filter(eq("slo.outcome","failure")):splitBy("service.name")', store,
                      Timeframe(0, MINUTE))
    assert by_api == {(("service.name", "Orders"),): [1.0], (("service.name", "Other"),): [5.0]}
    negated = evaluate(f'{KEY}:filter(not(eq("service.name","Orders"))):splitBy():sum', store, Timeframe(0, MINUTE))
    assert negated == {(): [15.0]}


def test_rollup_reads_data_from_before_the_timeframe():
    store = MetricStore()
    traffic(store, range(10))
    rolled = evaluate(f"({failures()}):rollup(sum,5m)", store, Timeframe(3 * MINUTE, 6 * MINUTE))
    assert rolled == {(): [4.0, 5.0, 5.0]}  # minutes 0 to 3, 1 to 4 and 2 to 5


def test_default_fills_gaps_but_makes_no_series_without_always():
    store = MetricStore()
    store.add(KEY, {"service.name": "Orders", "slo.outcome": "failure"}, 2, MINUTE)
    frame = Timeframe(0, 3 * MINUTE)
    assert evaluate(f"{failures()}:default(0)", store, frame) == {(): [0.0, 2.0, 0.0]}
    assert evaluate(f"{failures('Nobody')}:default(0)", store, frame) == {}
    assert evaluate(f"({failures('Nobody')}):default(7,always)", store, frame) == {(): [7.0, 7.0, 7.0]}


def test_arithmetic_applies_numbers_to_every_series_and_empty_slots_stay_empty():
    store = MetricStore()
    store.add(KEY, {"service.name": "Orders", "slo.outcome": "failure"}, 4, 0)
    frame = Timeframe(0, 2 * MINUTE)
    assert evaluate(f"(100)*({failures()})/(2)", store, frame) == {(): [200.0, None]}
    assert evaluate(f"({failures()})/({failures()}:default(0))", store, frame) == {(): [1.0, None]}  # 0/0: empty
    assert evaluate(f"({failures()}):fold(sum)", store, frame) == {(): [4.0]}


def test_the_slo_expression_evaluates_to_the_share_of_good_requests():
    store = MetricStore()
    traffic(store, range(60), good=199, bad=1)
    availability = slo_payload(slo_definitions(stack_settings(apis=[{"name": "Orders"}]))[1])
    assert single_value(availability["metricExpression"], store, 0, 60 * MINUTE) == pytest.approx(99.5)
    assert metric_keys(availability["metricExpression"]) == {KEY}


@pytest.mark.parametrize("selector", ["kong.slo.calls.count:percentile(90)", "(1", "a:filter(in(\"x\",\"y\"))"])
def test_what_the_evaluator_does_not_know_is_invalid(selector):
    with pytest.raises(SelectorError):
        evaluate(selector, MetricStore(), Timeframe(0, MINUTE))


def test_ingest_query_and_an_slo_evaluated_from_ingested_points():
    with FakeDynatrace(TOKEN, read_lag=0) as fake:
        fake.clock = lambda: 3600.0  # the emulator's "now": 01:00 on its first day
        headers = {"Authorization": f"Api-Token {TOKEN}"}
        lines = []
        for minute in range(60):
            dims = f'{telemetry.SERVICE_DIMENSION}="Orders",{telemetry.LATENCY_DIMENSION}="good"'
            lines.append(f'kong.slo.calls,{dims},{telemetry.OUTCOME_DIMENSION}="success" count,delta=98 '
                         f"{minute * MINUTE}")
            lines.append(f'kong.slo.calls,{dims},{telemetry.OUTCOME_DIMENSION}="failure" count,delta=2 '
                         f"{minute * MINUTE}")
        answer = requests.post(f"{fake.url}/api/v2/metrics/ingest", data="\n".join([*lines, "bad line"]),
                               headers={**headers, "Content-Type": "text/plain"}, timeout=5)
        assert answer.status_code == 202
        assert answer.json()["linesOk"] == 120 and answer.json()["linesInvalid"] == 1
        assert fake.metrics.total(KEY, **{"slo.outcome": "failure"}) == 120  # count lines get ".count"
        query = requests.get(f"{fake.url}/api/v2/metrics/query", headers=headers, timeout=5,
                             params={"metricSelector": failures(), "from": "now-1h", "resolution": "Inf"}).json()
        assert query["result"][0]["data"][0]["values"] == [120.0]
        availability = slo_payload(slo_definitions(stack_settings(apis=[{"name": "Orders"}]))[1])
        assert requests.post(f"{fake.url}/api/v2/slo", json=availability, headers=headers, timeout=5).status_code == 201
        listed = requests.get(f"{fake.url}/api/v2/slo", headers=headers, timeout=5,
                              params={"evaluate": "true", "enabledSlos": "all"}).json()["slo"][0]
        assert listed["evaluatedPercentage"] == pytest.approx(98.0)
        assert listed["errorBudgetBurnRate"]["burnRateValue"] == pytest.approx(2.0, rel=1e-4)  # 2 % of 1 %
        assert listed["status"] == "FAILURE"
        descriptor = requests.get(f"{fake.url}/api/v2/metrics/{KEY}", headers=headers, timeout=5)
        assert descriptor.status_code == 200
        assert requests.get(f"{fake.url}/api/v2/metrics/nope.count", headers=headers, timeout=5).status_code == 404


@pytest.mark.parametrize(("selector", "reason"), [
    (f"({KEY}:splitBy():sum):abs", "unknown transformation :abs"),
    (f"{KEY}:splitBy():rollup(sum,5m)", "aggregation transformation must come before :rollup"),
    (f'{KEY}:splitBy():partition("p",value("x",gt(1)))', "aggregation transformation must come before partition"),
    (f'{KEY}:splitBy():sum:partition("p",value("x",between(1)))', "is not a partition criterion"),
    ("(1)+(2)", "at least one metric key"),
    (f"{KEY}:splitBy():sum:timeshift(-1h)", "not emulated"),
])
def test_what_dynatrace_documents_as_invalid_or_the_emulator_cannot_evaluate_is_refused(selector, reason):
    """The metric selector reference lists every transformation and what each needs before it."""
    with pytest.raises(SelectorError, match=reason):
        evaluate(selector, MetricStore(), Timeframe(0, MINUTE))


def test_partition_keeps_each_point_in_the_first_partition_it_meets_and_default_always_fills_the_rest():
    store = MetricStore()
    for minute, value in enumerate((5, 20, 50)):
        store.add(KEY, {"service.name": "Orders", "slo.outcome": "failure"}, value, minute * MINUTE)
    frame = Timeframe(0, 3 * MINUTE)
    parts = evaluate(f'{failures()}:partition("p",value("high",ge(20)),value("low",otherwise))', store, frame)
    assert parts == {(("p", "high"),): [None, 20.0, 50.0], (("p", "low"),): [5.0, None, None]}
    at_least = f'({failures()}:partition("p",value("x",ge(20))):default(20,always):splitBy())'
    assert evaluate(at_least, store, frame) == {(): [20.0, 20.0, 50.0]}  # max(count, 20)
    assert evaluate(f'{failures()}:partition("p",value("x",ge(99))):default(7,always):splitBy()', store, frame) == \
        {(): [7.0, 7.0, 7.0]}


def test_a_rollup_longer_than_an_hour_is_refused_as_dynatrace_documents():
    with pytest.raises(SelectorError, match="limited to 60 minutes"):
        evaluate(f"({failures()}):rollup(sum,61m)", MetricStore(), Timeframe(0, MINUTE))


def test_func_slo_is_the_slos_expression_at_the_querys_resolution():
    """``func:slo.<metricName>`` is the stored metric query holding the SLO's expression (schema
    ``builtin:metric.query``): a metric event sampling it per minute reads each minute's SLI, not the timeframe's."""
    store = MetricStore()
    traffic(store, range(0, 60), good=100, bad=0)
    traffic(store, range(60, 120), good=90, bad=10)
    availability = slo_payload(slo_definitions(stack_settings(apis=[{"name": "Orders"}]))[1])
    slos = {"orders": availability["metricExpression"]}
    values = evaluate("func:slo.orders", store, Timeframe(59 * MINUTE, 121 * MINUTE), slos)[()]
    assert values[0] == pytest.approx(100.0) and values[1] == pytest.approx(90.0) and values[61] is None
    rolled = evaluate("func:slo.orders:avg:rollup(avg,60m)", store, Timeframe(119 * MINUTE, 120 * MINUTE), slos)
    assert rolled[()] == [pytest.approx(90.0)]
    assert evaluate("func:slo.unknown", store, Timeframe(0, MINUTE), slos) == {}
