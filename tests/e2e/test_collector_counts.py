"""The rendered collector, running for real, turns the spans Kong sends into exact SLO counters in Dynatrace."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from pathlib import Path

import pytest

from kong_slo.collector.render import render_collector_config
from kong_slo.kong.payload import plugin_body, resource_attributes
from kong_slo.kong.release_facts import HONOUR
from kong_slo.settings import Api, AvailabilityObjective, KongVersion, LatencyObjective
from tests.e2e.collector import Collector, wait_for
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.kong_spans import VERSIONS, KongRequest, export_requests, send
from tests.fakes.kong_tracing_rules import status_attribute
from tests.unit.settings_helpers import aws_config, parse

CALLS = "kong.slo.calls.count"
COLLECTOR = "http://127.0.0.1:4318"
SETTLE = 20.0
"""Longer than the exporter's first retry interval (5 s) and a spanmetrics flush (15 s)."""
FLUSH_WAIT = 90.0
"""Spanmetrics flushes every 15 s and the metrics batch waits up to 10 s; allow for retries on a loaded machine."""

APIS = {  # name: (latency threshold in ms, failOn)
    "HealthService": (600, ["5xx"]),
    "Orders": (400, ["5xx", "404"]),
    "Payments": (1000, ["4xx", "5xx"]),
}


def stack_config(**collector: object) -> str:
    apis = [{"name": name, "latency": {"thresholdMs": threshold}, "availability": {"failOn": fail_on}}
            for name, (threshold, fail_on) in APIS.items()]
    return render_collector_config(parse(aws_config(
        apis=apis, collector={"allowedCidrs": ["10.0.0.0/16"], **collector})))


def api(name: str, threshold_ms: int | None = None, fail_on: list[str] | None = None) -> Api:
    """An API as the settings hold it (threshold and failOn from ``APIS`` unless given)."""
    threshold, failing = APIS.get(name, (600, ["5xx"]))
    return Api(name, None, LatencyObjective(threshold_ms or threshold, 99.0, 99.5, "1h"),
               AvailabilityObjective(99.0, 99.5, "1h", tuple(fail_on or failing)), None)


def plugin_configs(apis: dict[str, Api] | None = None) -> dict[str, dict[str, object]]:
    """Each API's plugin config as kong-slo writes it: its objectives travel as resource attributes."""
    apis = apis or {name: api(name) for name in APIS}
    return {name: {"resource_attributes": resource_attributes(value)} for name, value in apis.items()}


def kong_exports(requests: list[KongRequest], version: str, *, seed: int = 0) -> list:
    """What Kong sends for ``requests`` under kong-slo's plugins (each API's objectives on its resource)."""
    return export_requests(requests, version, seed=seed, plugin_configs=plugin_configs())


def traffic() -> list[KongRequest]:
    """Every API with durations on both sides of (and exactly at) its threshold and statuses across classes,
    and clients that went away before Kong answered (no status: nginx logs 499)."""
    requests = []
    for name, (threshold, _) in APIS.items():
        for duration, status in itertools.product((5, threshold - 1, threshold, threshold + 1, 3 * threshold),
                                                  (200, 204, 301, 404, 429, 500, 503, None)):
            requests.append(KongRequest(name, duration, status, route=f"/{name.lower()}"))
    return requests


def expected_marks(requests: list[KongRequest], version: str = "3.9.1") -> Counter[tuple[str, str, str]]:
    """What the SLOs mean, written out independently of the collector rules: a request whose root span carries
    no status (every request on Kong 3.0 and 3.1; a client gone before the answer on any release) is neither a
    success nor a failure, and counts for latency with the time Kong spent on it."""
    marks: Counter[tuple[str, str, str]] = Counter()
    for request in requests:
        threshold, fail_on = APIS[request.api]
        status = request.status
        failed = status is not None and any(str(status) == rule or f"{status // 100}xx" == rule for rule in fail_on)
        outcome = "unknown" if status_attribute(version) is None or status is None else \
            "failure" if failed else "success"
        marks[(request.api, "good" if request.duration_ms <= threshold else "bad", outcome)] += 1
    return marks


def counted(fake: FakeDynatrace) -> Counter[tuple[str, str, str]]:
    marks: Counter[tuple[str, str, str]] = Counter()
    for point in fake.metrics.points(CALLS):
        marks[(point.dimension("service.name"), point.dimension("slo.latency"), point.dimension("slo.outcome"))] += \
            int(point.value)
    return marks


def test_every_request_of_every_supported_version_is_counted_once_with_its_marks(tmp_path: Path) -> None:
    """The span shapes of each release line (3.0-3.2 name the request span "<METHOD> <path>", 3.3+ "kong"; the
    status from 3.2; http.route from 3.4) through one collector: the counts are the sum, exactly."""
    requests = traffic()
    expected: Counter[tuple[str, str, str]] = Counter()
    with FakeDynatrace() as fake, Collector(stack_config(), tmp_path, dynatrace_url=fake.url,
                                            token=fake.token) as collector:
        for seed, version in enumerate(VERSIONS):
            assert send(collector.traces_url, kong_exports(requests, version, seed=seed)) > 0
            expected += expected_marks(requests, version)
        total = len(requests) * len(VERSIONS)
        wait_for(lambda: fake.metrics.total(CALLS) >= total, FLUSH_WAIT, f"{total} counted calls")
        time.sleep(SETTLE)  # nothing more arrives: each request once
        assert counted(fake) == expected
        assert fake.otlp.rejected_points == 0, "Dynatrace would drop cumulative points"
        assert fake.otlp.histograms == [], "no SLO reads a histogram; it would only cost ingest"
    assert "deprecated" not in collector.log().lower(), collector.log()


def test_counts_survive_an_ingest_outage_and_a_collector_restart(tmp_path: Path) -> None:
    """Dynatrace unreachable while requests arrive, the collector restarted, Dynatrace back: every counted request
    arrives, once. (Counted: flushed by the span metrics connector, which keeps nothing across a restart.)"""
    requests = traffic()
    with FakeDynatrace() as fake:
        fake.otlp.available = False
        collector = Collector(stack_config(), tmp_path, dynatrace_url=fake.url, token=fake.token)
        with collector:
            send(collector.traces_url, kong_exports(requests, "3.9.1"))
            wait_for(lambda: fake.otlp.refused["metrics"] > 0, FLUSH_WAIT, "the counters waiting in the queue")
        with collector:  # the same queue directory: the restarted collector resumes what was queued
            fake.otlp.available = True
            wait_for(lambda: fake.metrics.total(CALLS) >= len(requests), FLUSH_WAIT, "the queued counters")
            time.sleep(SETTLE)  # a duplicate would come from a retry of something already delivered
    assert counted(fake) == expected_marks(requests)


def test_trace_sampling_thins_exported_traces_but_never_the_counters(tmp_path: Path) -> None:
    requests = [KongRequest("HealthService", 20, 200) for _ in range(1000)]
    with FakeDynatrace() as fake, Collector(stack_config(traceSampling=0.1), tmp_path, dynatrace_url=fake.url,
                                            token=fake.token) as collector:
        send(collector.traces_url, kong_exports(requests, "3.9.1", seed=7))
        wait_for(lambda: fake.metrics.total(CALLS) >= len(requests), FLUSH_WAIT, "1000 counted calls")
        roots = wait_for(lambda: [span for span in fake.otlp.spans if span.name == "kong"], FLUSH_WAIT,
                         "exported traces")
        assert fake.metrics.total(CALLS) == len(requests)
    # 1000 traces kept with probability 0.1: 100 expected, standard deviation 9.5.
    assert 60 <= len(roots) <= 140, len(roots)


@pytest.mark.parametrize("version", ["3.4.2", "3.9.1"])
def test_callers_that_sampled_out_are_counted_with_the_plugin_kong_slo_writes(version: str, tmp_path: Path) -> None:
    """Half the callers send `traceparent …-00`. Kong honours it unless the plugin ignores incoming context, which
    the plugin body kong-slo writes does by default; a plugin that honours it loses those requests."""
    unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
    sampled = "00-5bf92f3577b34da6a3ce929d0e0e4736-10f067aa0ba902b7-01"
    requests = [KongRequest(api, 20, 200, traceparent=unsampled if index % 2 else sampled)
                for api in ("HealthService", "Orders") for index in range(100)]
    kong_version = KongVersion.parse(version)
    configs = {
        "HealthService": plugin_body(Api("HealthService", None, None, None, None), stack="e2e", collector_url=COLLECTOR,
                                     export_logs=False, version=kong_version)["config"],
        "Orders": plugin_body(Api("Orders", None, None, None, None), stack="e2e", collector_url=COLLECTOR,
                              export_logs=False, version=kong_version, incoming_context=HONOUR)["config"],
    }
    with FakeDynatrace() as fake, Collector(stack_config(), tmp_path, dynatrace_url=fake.url,
                                            token=fake.token) as collector:
        send(collector.traces_url, export_requests(requests, version, plugin_configs=configs))
        wait_for(lambda: fake.metrics.total(CALLS) >= 150, FLUSH_WAIT, "the exported requests counted")
        time.sleep(SETTLE)
        assert fake.metrics.total(CALLS, **{"service.name": "HealthService"}) == 100
        assert fake.metrics.total(CALLS, **{"service.name": "Orders"}) == 50


def test_objectives_travel_with_each_request_and_a_change_applies_from_the_next(tmp_path: Path) -> None:
    """The collector config names no API: each request carries its API's objectives from its plugin. A plugin that
    predates them gets kong-slo's defaults (600 ms, 5xx); a changed threshold applies from the next request."""
    legacy = [KongRequest("Legacy", duration, status) for duration in (599, 600, 601) for status in (200, 404, 503)]
    before = [KongRequest("Orders", 350, 404)] * 10  # Orders: 400 ms and ["5xx", "404"]: good, failure
    after = [KongRequest("Orders", 350, 404)] * 7  # moved to 300 ms and ["5xx"]: bad, success
    configs: dict[str, dict[str, object]] = {**plugin_configs(),
                                             "Legacy": {"resource_attributes": {"service.name": "Legacy"}}}
    with FakeDynatrace() as fake, Collector(stack_config(), tmp_path, dynatrace_url=fake.url,
                                            token=fake.token) as collector:
        send(collector.traces_url, export_requests(legacy + before, "3.9.1", plugin_configs=configs))
        configs["Orders"] = {"resource_attributes": resource_attributes(api("Orders", 300, ["5xx"]))}
        send(collector.traces_url, export_requests(after, "3.9.1", seed=1, plugin_configs=configs))
        total = len(legacy) + len(before) + len(after)
        wait_for(lambda: fake.metrics.total(CALLS) >= total, FLUSH_WAIT, f"{total} counted calls")
        time.sleep(SETTLE)
        assert counted(fake) == Counter({
            ("Legacy", "good", "success"): 4, ("Legacy", "good", "failure"): 2,
            ("Legacy", "bad", "success"): 2, ("Legacy", "bad", "failure"): 1,
            ("Orders", "good", "failure"): 10, ("Orders", "bad", "success"): 7})
        assert not any(dimension.startswith("kong_slo.") for point in fake.metrics.points(CALLS)
                       for dimension, _ in point.dimensions), "the objectives are read, not counted"
