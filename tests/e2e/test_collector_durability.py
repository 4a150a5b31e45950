"""Nothing counted is lost, proven with the real collector (0.160) on the rendered config: a Dynatrace outage longer
than the exporter's old five-minute give-up, a revoked token (dropped, and doctor says so), a collector drained the
graceful way, a hard kill within its stated bound, a single host replaced (its queue volume moved to the new host)
during an outage, and a tier scaling in under traffic."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import requests

from kong_slo.collector.model import COUNTS_EXPORTER, DRAIN_SECONDS, FLUSH_SECONDS
from kong_slo.doctor.collector_telemetry import check_telemetry, parse
from tests.e2e.collector import Collector, wait_for
from tests.e2e.forwarder import Backend, RoundRobinForwarder
from tests.e2e.test_collector_counts import (
    CALLS,
    FLUSH_WAIT,
    SETTLE,
    counted,
    expected_marks,
    kong_exports,
    stack_config,
    traffic,
)
from tests.e2e.test_collector_tier import tier_config
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.kong_spans import send

OUTAGE_SECONDS = 330
"""Longer than the 300 s after which the exporter used to give up and the queue deleted the batch."""


class Kong:
    """Sends the test traffic every second until stopped, counting what the collector accepted."""

    def __init__(self, url: str) -> None:
        self.url, self.sent = url, Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.sent_at: list[tuple[float, Counter]] = []

    def _run(self) -> None:
        seed = 0
        with requests.Session() as http:
            while not self._stop.is_set():
                batch = traffic()
                exports = kong_exports(batch, "3.9.1", seed=seed)
                try:
                    if send(self.url, exports, http) == len(exports):
                        marks = expected_marks(batch)
                        self.sent += marks
                        self.sent_at.append((time.time(), marks))
                except requests.RequestException:
                    pass  # the collector is gone: Kong's queue would retry elsewhere; this export is not counted
                seed += 1
                self._stop.wait(1.0)

    def __enter__(self) -> Kong:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_an_outage_longer_than_five_minutes_loses_no_count(tmp_path: Path) -> None:
    with FakeDynatrace() as fake, Collector(stack_config(), tmp_path, dynatrace_url=fake.url,
                                            token=fake.token) as collector:
        fake.otlp.available = False
        with Kong(collector.traces_url) as kong:
            time.sleep(OUTAGE_SECONDS)
        assert fake.otlp.refused["metrics"] > 0 and fake.metrics.total(CALLS) == 0
        fake.otlp.available = True
        total = sum(kong.sent.values())
        wait_for(lambda: fake.metrics.total(CALLS) >= total, 120, f"{total} counted calls after the outage")
        time.sleep(SETTLE)
        assert counted(fake) == kong.sent  # every count, exactly once
    drops = [line for line in collector.log().splitlines() if "Dropping data" in line]
    # Traces gave up after their five minutes, as configured; the counts' exporter never did.
    assert drops and all('"otelcol.component.id": "otlp_http/dynatrace"' in line for line in drops), drops


def test_a_revoked_token_drops_counts_and_doctor_says_so(tmp_path: Path) -> None:
    with FakeDynatrace() as fake, Collector(stack_config(), tmp_path, dynatrace_url=fake.url, token=fake.token,
                                            telemetry=True) as collector:
        send(collector.traces_url, kong_exports(traffic(), "3.9.1"))
        wait_for(lambda: fake.metrics.total(CALLS) > 0, FLUSH_WAIT, "the first counts")
        (healthy,) = [c for c in check_telemetry(collector.telemetry_url, "log") if c.name == "collector.counts"]
        assert healthy.state == "ok", healthy
        fake.token_info.enabled = False  # revoked: every call answered 401, a final answer for the exporter
        send(collector.traces_url, kong_exports(traffic(), "3.9.1", seed=1))
        wait_for(lambda: parse(requests.get(collector.telemetry_url, timeout=5).text).get(
            "otelcol_exporter_send_failed_metric_points", COUNTS_EXPORTER) > 0, FLUSH_WAIT, "the dropped counts")
        checks = {check.name: check for check in check_telemetry(collector.telemetry_url, "the collector's log")}
    assert checks["collector.counts"].state == "problem"
    assert "dropped" in checks["collector.counts"].detail and "token" in checks["collector.counts"].fix


def test_a_drained_collector_hands_over_every_count_before_it_stops(tmp_path: Path) -> None:
    """Graceful: stop receiving, keep running past one flush, then stop. Kong sends elsewhere meanwhile."""
    with FakeDynatrace() as fake, Collector(stack_config(), tmp_path, dynatrace_url=fake.url,
                                            token=fake.token) as collector:
        with Kong(collector.traces_url) as kong:
            time.sleep(FLUSH_SECONDS * 2 + 3)
        time.sleep(DRAIN_SECONDS)  # Kong stopped sending to it (deregistered); the connector flushes once more
        collector.stop()
        total = sum(kong.sent.values())
        wait_for(lambda: fake.metrics.total(CALLS) >= total, FLUSH_WAIT, f"{total} counted calls")
        assert counted(fake) == kong.sent


def test_a_hard_kill_loses_at_most_the_last_flush_interval(tmp_path: Path) -> None:
    with FakeDynatrace() as fake, Collector(stack_config(), tmp_path, dynatrace_url=fake.url,
                                            token=fake.token) as collector:
        with Kong(collector.traces_url) as kong:
            time.sleep(FLUSH_SECONDS * 3 + 7)
            collector.kill()
            killed_at = time.time()
        collector.start()  # the same queue on disk: what was flushed before the kill is sent now
        time.sleep(SETTLE)
        arrived = counted(fake)
        assert arrived - kong.sent == Counter(), "nothing counted twice or invented"
        lost = sum((kong.sent - arrived).values())
        bound = sum(sum(marks.values()) for at, marks in kong.sent_at if at > killed_at - FLUSH_SECONDS - 1)
        assert lost <= bound, (lost, bound)  # README: a hard kill loses what arrived since the last flush
    assert (tmp_path / "queue").is_dir()


def test_a_replaced_host_sends_what_the_old_one_queued(tmp_path: Path) -> None:
    """A single host replaced during a Dynatrace outage: the old collector drains and stops, its queue volume moves
    to a new host (another process, another working folder, the same queue directory), which sends every count
    exactly once when Dynatrace is back."""
    with FakeDynatrace() as fake:
        fake.otlp.available = False
        with Collector(stack_config(), tmp_path / "old-host", dynatrace_url=fake.url, token=fake.token) as old:
            with Kong(old.traces_url) as kong:
                time.sleep(FLUSH_SECONDS * 2 + 3)
            time.sleep(DRAIN_SECONDS)
            old.stop()
        assert fake.metrics.total(CALLS) == 0, "nothing reached Dynatrace before the replacement"
        total = sum(kong.sent.values())
        assert total > 0
        with Collector(stack_config(), tmp_path / "new-host", dynatrace_url=fake.url, token=fake.token,
                       storage=old.storage):
            fake.otlp.available = True
            wait_for(lambda: fake.metrics.total(CALLS) >= total, 120, f"{total} counts queued by the old host")
            time.sleep(SETTLE)
            assert counted(fake) == kong.sent  # every count, exactly once


def test_scale_in_under_traffic_loses_no_count(tmp_path: Path) -> None:
    """Two collectors behind the balancer; one is deregistered (no new connection), drained, then stopped."""
    config = tier_config()
    with FakeDynatrace() as fake:
        staying = Collector(config, tmp_path / "a", dynatrace_url=fake.url, token=fake.token)
        leaving = Collector(config, tmp_path / "b", dynatrace_url=fake.url, token=fake.token)
        with staying, leaving:
            backends = [Backend("a", staying.ports["http"], staying.health_url),
                        Backend("b", leaving.ports["http"], leaving.health_url)]
            with RoundRobinForwarder(backends) as balancer:
                wait_for(lambda: balancer.healthy("a") and balancer.healthy("b"), 10, "both collectors healthy")
                with _Connections(balancer.traces_url) as kong:
                    time.sleep(FLUSH_SECONDS + 5)
                    balancer.deregister("b")  # the load balancer's deregistration: no new connection to b
                    time.sleep(DRAIN_SECONDS)  # the lifecycle hook's wait: b flushes what it counted
                    leaving.stop()
                    time.sleep(FLUSH_SECONDS)
                assert "b" in balancer.routes and balancer.routes[-1] == "a"
            total = sum(kong.sent.values())
            wait_for(lambda: fake.metrics.total(CALLS) >= total, FLUSH_WAIT, f"{total} counted calls")
            time.sleep(SETTLE)
            assert counted(fake) == kong.sent


class _Connections(Kong):
    """Kong as the balancer sees it: every export on a new connection, so connections spread over the tier."""

    def _run(self) -> None:
        seed = 0
        while not self._stop.is_set():
            for requests_ in _per_api(traffic()):
                exports = kong_exports(requests_, "3.9.1", seed=seed)
                with requests.Session() as http:  # a new connection each: the balancer spreads connections
                    if send(self.url, exports, http) == len(exports):
                        self.sent += expected_marks(requests_)
            seed += 1
            self._stop.wait(0.5)


def _per_api(batch: list) -> list[list]:
    """``batch`` split by API, in order of first use."""
    apis = list(dict.fromkeys(request.api for request in batch))
    return [[request for request in batch if request.api == api] for api in apis]
