"""The emulator's metric store: what ingest paths add is what evaluators read."""

from tests.fakes.dynatrace_metrics import MetricStore


def test_total_sums_only_points_with_every_asked_dimension() -> None:
    store = MetricStore()
    store.add("kong.slo.calls.count", {"service.name": "Orders", "slo.latency": "good"}, 5, 1_000)
    store.add("kong.slo.calls.count", {"service.name": "Orders", "slo.latency": "bad"}, 2, 2_000)
    store.add("kong.slo.calls.count", {"service.name": "Health", "slo.latency": "good"}, 7, 2_000)
    assert store.total("kong.slo.calls.count", **{"service.name": "Orders"}) == 7
    assert store.total("kong.slo.calls.count", **{"service.name": "Orders", "slo.latency": "good"}) == 5
    assert store.total("other") == 0


def test_a_declared_key_is_known_without_points() -> None:
    store = MetricStore()
    assert "kong.slo.calls.count" not in store.known_keys()
    store.declare("kong.slo.calls.count")
    assert store.known_keys() == {"kong.slo.calls.count"}
    assert store.points() == []
