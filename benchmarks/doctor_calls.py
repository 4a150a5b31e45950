"""Calls and seconds one ``kong-slo doctor`` run makes for 10 and 100 APIs on a healthy stack, against the Kong
and Dynatrace emulators and a stand-in collector. Doctor reads only: every call is a GET (and one token lookup).

    .venv/bin/python benchmarks/doctor_calls.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kong_slo.doctor.diagnose import Access, diagnose
from tests.providers.doctor_chain import DT_TOKEN, KONG_TOKEN, chain

SIZES = (10, 100)
ROUND_TRIP = 0.050
"""Seconds one call adds over a real network far from Kong or the tenant (doctor asks one after another)."""


def measure(count: int) -> str:
    with tempfile.TemporaryDirectory() as directory, chain(Path(directory)) as stack:
        stack.apis = [{"name": f"api-{index:03d}"} for index in range(count)]
        stack.deploy()
        access = Access(kong_token=KONG_TOKEN, dynatrace_token=DT_TOKEN, environment_url=stack.dynatrace.url,
                        collector_health_url=f"{stack.collector_url}/")
        started = time.perf_counter()
        report = diagnose(stack.settings(), access)
        seconds = time.perf_counter() - started
        assert not report.problems, report.problems
        kong_calls = sum(stack.kong.calls.values())
        dynatrace = dict(stack.dynatrace.per_method())
    return (f"{count:>4} APIs  {len(report.checks):>4} checks  Kong {kong_calls:>4} calls  "
            f"Dynatrace {sum(dynatrace.values()):>3} calls {dynatrace}  {seconds:.2f} s  "
            f"+{(kong_calls + sum(dynatrace.values())) * ROUND_TRIP:.1f} s over a 50 ms round trip")


if __name__ == "__main__":
    for size in SIZES:
        print(measure(size))
