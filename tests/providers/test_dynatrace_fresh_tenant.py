"""A first deploy on a Dynatrace environment that has never seen the SLO counter.

Dynatrace refuses an SLO on a custom metric key it does not know ("Metric selector is invalid", the
``builtin:monitoring.slo`` metric-selector validator); metric metadata may be sent before any data point
(https://docs.dynatrace.com/docs/shortlink/metric-ingestion-protocol). The emulator refuses unknown keys by
default, so these tests show both the refusal and the declaration that avoids it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from kong_slo import telemetry
from kong_slo.dynatrace.classic.metric import MetricDeclarationProvider
from kong_slo.dynatrace.classic.slo import ServiceLevelObjectiveProvider
from kong_slo.objectives.sli import metric_declaration_lines, slo_definitions
from tests.fakes.dynatrace import FakeDynatrace
from tests.providers.dynatrace_helpers import TOKEN, checked, configured, payloads, stack_settings

HEADERS = {"Authorization": f"Api-Token {TOKEN}"}


@pytest.fixture
def fresh() -> Iterator[FakeDynatrace]:
    with FakeDynatrace(TOKEN, read_lag=0) as fake:
        yield fake


def declaration(fake: FakeDynatrace) -> dict:
    lines = metric_declaration_lines(slo_definitions(stack_settings()))
    return {"metric_key": telemetry.CALLS_METRIC_KEY, "lines": lines, "environment_url": fake.url}


def test_an_slo_on_a_key_never_seen_is_refused_as_dynatrace_words_it(fresh):
    response = requests.post(f"{fresh.url}/api/v2/slo", json=payloads()[0], headers=HEADERS, timeout=5)
    assert response.status_code == 400
    assert "Metric selector is invalid" in response.json()["error"]["message"]
    assert telemetry.CALLS_METRIC_KEY in response.json()["error"]["message"]
    assert fresh.slos == {}


def test_the_emulator_can_be_told_to_accept_unknown_keys():
    with FakeDynatrace(TOKEN, read_lag=0, require_known_metrics=False) as fake:
        response = requests.post(f"{fake.url}/api/v2/slo", json=payloads()[0], headers=HEADERS, timeout=5)
    assert response.status_code == 201


def test_declaring_the_metric_first_lets_every_slo_be_created(fresh):
    metric = MetricDeclarationProvider()
    configured(metric)
    result = metric.create(checked(metric, declaration(fresh)))
    assert result.id == telemetry.CALLS_METRIC_KEY and result.outs["known"] is True
    assert telemetry.CALLS_METRIC_KEY in fresh.metrics.known_keys()
    # one POST with every line, then the descriptor read once: no waiting when it is visible at once
    assert fresh.calls == [("POST", "/metrics/ingest"), ("GET", f"/metrics/{telemetry.CALLS_METRIC_KEY}")]
    slo = ServiceLevelObjectiveProvider()
    configured(slo)
    for payload in payloads():
        slo.create(checked(slo, {"payload": payload, "environment_url": fresh.url}))
    assert len(fresh.slos) == 4


def test_the_zero_points_add_nothing_and_leave_the_slo_without_data(fresh):
    metric = MetricDeclarationProvider()
    configured(metric)
    metric.create(checked(metric, declaration(fresh)))
    points = fresh.metrics.points(telemetry.CALLS_METRIC_KEY)
    assert {point.dimension(telemetry.SERVICE_DIMENSION) for point in points} == {"HealthService", "Orders"}
    assert {point.value for point in points} == {0.0}
    slo = ServiceLevelObjectiveProvider()
    configured(slo)
    created = slo.create(checked(slo, {"payload": payloads()[1], "environment_url": fresh.url}))
    read = requests.get(f"{fresh.url}/api/v2/slo/{created.id}", headers=HEADERS, timeout=5).json()
    assert read["evaluatedPercentage"] == -1.0  # zero requests: no SLI yet, not 0 % and not 100 %


def test_a_metric_not_yet_visible_is_polled_for_a_bounded_time(fresh, monkeypatch):
    metric = MetricDeclarationProvider()
    waits = configured(metric)
    monkeypatch.setattr(fresh.metrics, "declare", lambda key: None)  # accepted, but slow to appear
    props = {**declaration(fresh), "lines": declaration(fresh)["lines"][:1]}  # the metadata line alone
    result = metric.create(checked(metric, props))
    polls = MetricDeclarationProvider.visibility_polls
    assert result.outs["known"] is False  # not an error: the SLO create still retries for a while
    assert fresh.count("GET", "/metrics/") == polls
    assert waits == [MetricDeclarationProvider.visibility_delay] * (polls - 1)


def test_a_rejected_line_fails_the_declaration_with_dynatraces_answer(fresh):
    metric = MetricDeclarationProvider()
    configured(metric)
    with pytest.raises(Exception, match="invalid lines"):
        metric.create(checked(metric, {**declaration(fresh), "lines": ["kong.slo.calls not-a-payload"]}))


def test_diff_sees_new_apis_and_update_sends_their_lines(fresh):
    metric = MetricDeclarationProvider()
    configured(metric)
    old = checked(metric, declaration(fresh))
    created = metric.create(old)
    assert metric.diff(created.id, created.outs, old).changes is False
    lines = metric_declaration_lines(slo_definitions(stack_settings(apis=[{"name": "HealthService"},
                                                                          {"name": "Orders"}, {"name": "Billing"}])))
    new = {**old, "lines": lines}
    diff = metric.diff(created.id, created.outs, new)
    assert diff.changes is True and diff.replaces == []
    metric.update(created.id, created.outs, new)
    assert "Billing" in {p.dimension(telemetry.SERVICE_DIMENSION) for p in fresh.metrics.points()}
    metric.delete(created.id, created.outs)  # a metric is never deleted: the counted requests stay
    assert telemetry.CALLS_METRIC_KEY in fresh.metrics.known_keys()
