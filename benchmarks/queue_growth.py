"""How fast the SLO counts' queue grows while Dynatrace is unreachable, measured with the real collector on the
rendered config: bytes the persistent queue holds per minute of outage, per API, read from the collector's own
``otelcol_exporter_queue_size`` (sized in bytes). Prints the outage one GiB of queue holds.

    .venv/bin/python benchmarks/queue_growth.py [--minutes 2] [--apis 1 10]

Needs ``make tools``. The counts are aggregated before they are queued (one data point per API, latency mark and
outcome every connector flush), so the growth depends on the number of APIs, not on the request rate: the run
sends every API a steady trickle and a burst to show it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kong_slo.collector.model import COUNTS_EXPORTER, COUNTS_QUEUE_MIB  # noqa: E402
from kong_slo.collector.render import render_collector_config  # noqa: E402
from kong_slo.doctor.collector_telemetry import parse  # noqa: E402
from tests.e2e.collector import Collector  # noqa: E402
from tests.fakes.dynatrace import FakeDynatrace  # noqa: E402
from tests.fakes.kong_spans import KongRequest, export_requests, send  # noqa: E402
from tests.unit.settings_helpers import aws_config  # noqa: E402
from tests.unit.settings_helpers import parse as parse_settings  # noqa: E402

GIB = 1024 ** 3


def queued_bytes(collector: Collector) -> float:
    return parse(requests.get(collector.telemetry_url, timeout=5).text).get("otelcol_exporter_queue_size",
                                                                            COUNTS_EXPORTER)


def measure(apis: int, minutes: float, workdir: Path) -> float:
    """Bytes queued per minute of outage for ``apis`` APIs."""
    names = [f"api-{index:03d}" for index in range(apis)]
    config = render_collector_config(parse_settings(aws_config(
        apis=[{"name": name} for name in names], collector={"allowedCidrs": ["10.0.0.0/16"]})))
    with FakeDynatrace() as fake, Collector(config, workdir, dynatrace_url=fake.url, token=fake.token,
                                            telemetry=True) as collector:
        fake.otlp.available = False
        start, first = time.monotonic(), None
        with requests.Session() as http:
            while time.monotonic() - start < minutes * 60:
                traffic = [KongRequest(name, 50 + index % 900, (200, 404, 500, None)[index % 4])
                           for name in names for index in range(20)]
                send(collector.traces_url, export_requests(traffic, "3.9.1"), http)
                size = queued_bytes(collector)
                if first is None and size > 0:
                    first = (time.monotonic(), size)
                time.sleep(1)
        end = (time.monotonic(), queued_bytes(collector))
    if first is None or end[0] <= first[0]:
        raise SystemExit("the queue did not grow: the outage did not reach the exporter")
    return (end[1] - first[1]) / ((end[0] - first[0]) / 60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--apis", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    print(f"SLO counts queued per minute of Dynatrace outage (real collector, {args.minutes:g} min each):")
    for apis in args.apis:
        with tempfile.TemporaryDirectory() as workdir:
            per_minute = measure(apis, args.minutes, Path(workdir))
        days = GIB / per_minute / 1440
        capacity = COUNTS_QUEUE_MIB * 1024 ** 2 / per_minute / 1440
        print(f"  {apis:>4} APIs: {per_minute / 1024:8.1f} KiB per minute; 1 GiB holds {days:,.0f} days, "
              f"the default {COUNTS_QUEUE_MIB} MiB queue {capacity:,.0f} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
