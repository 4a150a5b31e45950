"""A collector tier: two real collectors running a tier stack's rendered config behind a round-robin load balancer.

Each collector counts its own share of Kong's requests; the span metrics connector (0.160) marks every point with
``collector.instance.id``, a random id the collector draws at each start, so the collectors' delta points are
separate series that the SLO expressions add up. One collector restarted mid-traffic, Dynatrace unreachable
meanwhile: the other's counts, queued until Dynatrace is back, are all delivered; what the restarted one had
flushed is counted once (sent before it stopped, or from the queue on its disk after the restart); what it had
aggregated but not yet flushed is lost, because the connector's ``Shutdown`` stops its flush ticker without a last
flush.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path

import requests

from kong_slo.collector.render import render_collector_config
from tests.e2e.collector import Collector, wait_for
from tests.e2e.forwarder import Backend, RoundRobinForwarder
from tests.e2e.test_collector_counts import (
    APIS,
    CALLS,
    FLUSH_WAIT,
    SETTLE,
    counted,
    expected_marks,
    kong_exports,
    traffic,
)
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.kong_spans import KongRequest, send
from tests.unit.settings_helpers import aws_config, parse

KONG_NODE = "0e6b1f9a-kong-node"
"""``service.instance.id`` the Kong stand-in puts on its exports."""
FLUSH_INTERVAL_MS = 15_000
"""The rendered ``metrics_flush_interval``."""

Marks = Counter[tuple[str, str, str]]
Delivery = tuple[str, list[KongRequest]]
"""Which collector a connection went to, and the requests of the one export it carried."""


def tier_config() -> str:
    apis = [{"name": name, "latency": {"thresholdMs": threshold}, "availability": {"failOn": fail_on}}
            for name, (threshold, fail_on) in APIS.items()]
    return render_collector_config(parse(aws_config(apis=apis, collector={
        "allowedCidrs": ["10.0.0.0/16"], "replicas": 2, "maxReplicas": 4,
        "subnetIds": ["subnet-0a1b2c3d4e5f60710", "subnet-0a1b2c3d4e5f60721"]})))


def kong_sends(forwarder: RoundRobinForwarder, copies: int, seed: int) -> list[Delivery]:
    """``copies`` times the test traffic, one export per API, each on a new connection (the balancer spreads
    connections, not requests); returns where each export went."""
    deliveries = []
    for api in APIS:
        requests_ = [request for request in traffic() if request.api == api] * copies
        (export,) = kong_exports(requests_, "3.9.1", seed=seed)
        routed = len(forwarder.routes)
        with requests.Session() as http:
            assert send(forwarder.traces_url, [export], http) == 1, f"the {api} export was refused"
        assert len(forwarder.routes) == routed + 1
        deliveries.append((forwarder.routes[-1], requests_))
    return deliveries


def marks_of(deliveries: list[Delivery], collector: str | None = None) -> Marks:
    return sum((expected_marks(requests_) for route, requests_ in deliveries if collector in (None, route)),
               Counter())


def counted_by_instance(fake: FakeDynatrace) -> dict[str, Marks]:
    marks: dict[str, Marks] = defaultdict(Counter)
    for point in fake.metrics.points(CALLS):
        key = (point.dimension("service.name"), point.dimension("slo.latency"), point.dimension("slo.outcome"))
        marks[point.dimension("collector.instance.id")][key] += int(point.value)
    return dict(marks)


def as_multiset(marks: list[Marks]) -> list[list[tuple[tuple[str, str, str], int]]]:
    return sorted(sorted(entry.items()) for entry in marks)


def wait_until_just_after_flush(last_flush_ms: int) -> float:
    """Sleep until 1 s after one of the collector's flushes (they come every ``FLUSH_INTERVAL_MS`` after
    ``last_flush_ms``); returns when the next one is due, in seconds since the epoch."""
    since_flush = (time.time() * 1000 - last_flush_ms) % FLUSH_INTERVAL_MS
    if since_flush > 3000:
        time.sleep((FLUSH_INTERVAL_MS - since_flush + 1000) / 1000)
    elif since_flush < 1000:
        time.sleep((1000 - since_flush) / 1000)
    since_flush = (time.time() * 1000 - last_flush_ms) % FLUSH_INTERVAL_MS
    return time.time() + (FLUSH_INTERVAL_MS - since_flush) / 1000


def test_two_collectors_count_their_shares_and_a_restart_loses_only_what_was_not_flushed(tmp_path: Path) -> None:
    config = tier_config()
    with FakeDynatrace() as fake, \
            Collector(config, tmp_path / "a", dynatrace_url=fake.url, token=fake.token) as first, \
            Collector(config, tmp_path / "b", dynatrace_url=fake.url, token=fake.token) as second, \
            RoundRobinForwarder([Backend("a", first.ports["http"], first.health_url),
                                 Backend("b", second.ports["http"], second.health_url)]) as forwarder:
        # Both up: every API's exports reach both collectors (once and twice the traffic, so shares differ).
        steady = kong_sends(forwarder, 1, seed=1) + kong_sends(forwarder, 2, seed=2)
        assert {route for route, _ in steady} == {"a", "b"}
        wait_for(lambda: fake.metrics.total(CALLS) >= marks_of(steady).total(), FLUSH_WAIT, "both shares counted")
        assert counted(fake) == marks_of(steady)
        by_instance = counted_by_instance(fake)
        assert len(by_instance) == 2, "each collector marks its points with its own collector.instance.id"
        assert as_multiset(list(by_instance.values())) == as_multiset([marks_of(steady, "a"), marks_of(steady, "b")])
        for series in marks_of(steady):
            assert {instance for instance, marks in by_instance.items() if series in marks} == set(by_instance), \
                f"{series} is counted by both collectors"
        # service.instance.id stays the sender's (Kong's node), copied from the spans' resource by both collectors.
        assert {point.dimension("service.instance.id") for point in fake.metrics.points(CALLS)} == {KONG_NODE}
        (first_id,) = (instance for instance, marks in by_instance.items() if marks == marks_of(steady, "a"))

        # Kong keeps sending: what reaches "a" before one of its flushes is flushed (and then delivered, or queued on
        # its disk when it stops); what reaches it after that flush is still in the connector when "a" stops.
        last_flush = max(point.timestamp_ms for point in fake.metrics.points(CALLS)
                         if point.dimension("collector.instance.id") == first_id)
        next_flush = wait_until_just_after_flush(last_flush)
        before_flush = kong_sends(forwarder, 1, seed=3)
        time.sleep(max(0.0, next_flush - time.time()) + 1)
        after_flush = kong_sends(forwarder, 1, seed=4)
        assert {route for route, _ in before_flush + after_flush} == {"a", "b"}
        first.stop()
        assert time.time() < next_flush + FLUSH_INTERVAL_MS / 1000, \
            "the machine was too slow to stop the collector before its next flush"
        wait_for(lambda: not forwarder.healthy("a"), 10, "the balancer's health check to take `a` out")
        fake.otlp.available = False  # Dynatrace unreachable as well: what "b" flushes meanwhile waits in its queue
        while_down = kong_sends(forwarder, 1, seed=5)
        assert {route for route, _ in while_down} == {"b"}, "the balancer sends only to the healthy collector"
        wait_for(lambda: fake.otlp.refused["metrics"] > 0, FLUSH_WAIT, "counts queued on `b`")

        first.start()  # the same host and queue directory, a new process
        wait_for(lambda: forwarder.healthy("a"), 10, "the balancer's health check to take `a` back")
        fake.otlp.available = True
        after_restart = kong_sends(forwarder, 1, seed=6)
        assert {route for route, _ in after_restart} == {"a", "b"}

        delivered = steady + before_flush + after_flush + while_down + after_restart
        unflushed = marks_of(after_flush, "a")
        expected = marks_of(delivered) - unflushed
        wait_for(lambda: fake.metrics.total(CALLS) >= expected.total(), FLUSH_WAIT, "every flushed count")
        time.sleep(SETTLE)  # a duplicate would come from a retry of something already delivered

    assert unflushed.total() > 0
    assert counted(fake) == expected
    by_instance = counted_by_instance(fake)
    assert as_multiset(list(by_instance.values())) == as_multiset([
        marks_of(steady + before_flush, "a"),       # "a" before the restart: what it flushed, nothing after
        marks_of(delivered, "b"),                   # "b": everything sent to it, before, during and after
        marks_of(after_restart, "a"),               # "a" after the restart, under a new collector.instance.id
    ])
    assert fake.otlp.rejected_points == 0
