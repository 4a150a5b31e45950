"""Kong requests per second one core of the real collector sustains through the rendered pipeline, and its memory.

For 1, 100 and 1,000 APIs: the stack's rendered collector config runs on `.tools/bin/otelcol` (`make tools`) pinned
to one core (``taskset`` and ``GOMAXPROCS=1``), exporting to the Dynatrace emulator (traces accepted without being
decoded, so the sink is not the limit). A generator on the other core posts Kong's OTLP exports (batches of 200
requests, each a root span and its router, plugin and balancer children, as Kong 3.9 sends them) for a fixed time.
Printed: requests accepted per second (refusals by the memory limiter are not counted), the collector's CPU
seconds over the run, requests per CPU-second (what one fully used core handles, whether or not the generator
kept the core busy), and peak resident memory.

    .venv/bin/python benchmarks/collector_throughput.py [SECONDS]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kong_slo.collector.render import render_collector_config
from kong_slo.kong.payload import resource_attributes
from kong_slo.settings import StackSettings
from tests.e2e.collector import Collector
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.kong_spans import BATCH_SIZE, KongRequest, export_requests
from tests.unit.settings_helpers import aws_config, parse

SIZES = (1, 100, 1000)
SENDERS = 4


def settings_of(apis: int) -> StackSettings:
    entries = [{"name": f"api-{index}", "latency": {"thresholdMs": 300 + 100 * (index % 5)}} for index in range(apis)]
    return parse(aws_config(apis=entries))


def stack(apis: int) -> str:
    return render_collector_config(settings_of(apis))


def payloads(apis: int) -> list[bytes]:
    """Kong's exports under kong-slo's plugins: each API's objectives on its resource, as its plugin sets them."""
    configs = {api.name: {"resource_attributes": resource_attributes(api)} for api in settings_of(apis).apis}
    requests_ = [KongRequest(f"api-{index % apis}", 20 + index % 900, 500 if index % 50 == 0 else 200)
                 for index in range(BATCH_SIZE * max(apis, 4))]
    return [export.SerializeToString() for export in export_requests(requests_, "3.9.1", plugin_configs=configs)]


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(apis: int, seconds: float) -> tuple[float, float, float, int]:
    workdir = Path(tempfile.mkdtemp(prefix="kong-slo-bench-"))
    bodies = payloads(apis)
    accepted, refused = [0], [0]
    lock = threading.Lock()
    with FakeDynatrace() as fake:
        fake.otlp.keep_spans = False
        collector = Collector(stack(apis), workdir, dynatrace_url=fake.url, token=fake.token)
        with collector:
            if shutil.which("taskset"):
                subprocess.run(["taskset", "-a", "-p", "-c", "0", str(collector.process.pid)],
                               capture_output=True, check=False)
            cpu_before = cpu_seconds(collector.process.pid)
            deadline = time.monotonic() + seconds

            def sender(offset: int) -> None:
                http = requests.Session()
                index = offset
                while time.monotonic() < deadline:
                    reply = http.post(collector.traces_url, data=bodies[index % len(bodies)], timeout=10,
                                      headers={"Content-Type": "application/x-protobuf"})
                    with lock:
                        if reply.ok:
                            accepted[0] += 1
                        else:
                            refused[0] += 1
                    index += SENDERS

            threads = [threading.Thread(target=sender, args=(offset,)) for offset in range(SENDERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            cpu = cpu_seconds(collector.process.pid) - cpu_before
            memory = peak_memory_mib(collector.process.pid)
    shutil.rmtree(workdir, ignore_errors=True)
    return accepted[0] * BATCH_SIZE / seconds, cpu, memory, refused[0]


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    print(f"collector throughput, one core, {seconds:.0f} s per size, Kong 3.9 exports of {BATCH_SIZE} requests")
    print(f"{'APIs':>6} {'requests/s':>12} {'CPU s':>7} {'requests/CPU-s':>15} {'peak RSS MiB':>13} {'refused':>8}")
    for apis in SIZES:
        rate, cpu, memory, refused = measure(apis, seconds)
        per_core = rate * seconds / cpu if cpu else float("nan")
        print(f"{apis:>6} {rate:>12,.0f} {cpu:>7.1f} {per_core:>15,.0f} {memory:>13.0f} {refused:>8}")


if __name__ == "__main__":
    main()
