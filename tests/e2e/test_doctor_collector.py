"""`kong-slo doctor`'s collector link against the real collector: up, its health endpoint and OTLP port answer as
doctor expects; stopped, doctor names it down. (The other links are tested against the emulators.)"""

from __future__ import annotations

from pathlib import Path

import requests

from kong_slo.collector.render import render_collector_config
from kong_slo.doctor.collector import CollectorAddress, check_collector
from tests.e2e.collector import Collector
from tests.fakes.dynatrace import FakeDynatrace
from tests.unit.settings_helpers import aws_config, parse


def test_doctor_sees_the_real_collector_up_then_down(tmp_path: Path) -> None:
    with FakeDynatrace() as fake:
        collector = Collector(render_collector_config(parse(aws_config())), tmp_path, dynatrace_url=fake.url,
                              token=fake.token)
        base = f"http://127.0.0.1:{collector.ports['http']}"
        address = CollectorAddress(f"{base}/v1/traces", base, collector.health_url, "kong.collectorUrl")
        with collector:
            # what doctor's probes rely on: the receiver answers a GET without taking data, health says ready
            assert requests.get(f"{base}/v1/traces", timeout=5).status_code == 405
            assert requests.get(collector.health_url, timeout=5).status_code == 200
            up = check_collector(address, "the log")
        down = check_collector(address, "the log")
    assert [(check.name, check.state) for check in up] == [("collector.health", "ok"), ("collector.otlp", "ok")]
    assert [(check.name, check.state) for check in down] == [("collector.health", "problem"),
                                                             ("collector.otlp", "problem")]
    assert all("down" in check.detail for check in down)
