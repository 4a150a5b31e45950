"""How long the Pulumi program takes under mocks, against the SDK's own floor.

For N = 1, 10, 100 and 500 APIs, runs ``__main__.py`` (an ``aws`` stack) under Pulumi mocks, then a
bare program declaring the same number of plain resources under the same mocks, and prints seconds per
run and per resource for both and their ratio. Nothing is asserted: the figures are for reading.

    .venv/bin/python benchmarks/program_eval.py [--repeat 5] [--apis 1,10,100,500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
from pulumi.runtime import settings as runtime_settings  # noqa: E402
from pulumi.runtime.config import set_all_config  # noqa: E402
from pulumi.runtime.stack import run_pulumi_func  # noqa: E402
from pulumi.runtime.sync_await import _sync_await  # noqa: E402

from kong_slo.collector.render import render_cloud_init  # noqa: E402
from kong_slo.infra.aws_plan import token_parameter_name  # noqa: E402
from tests.program.mocks import (  # noqa: E402
    PROJECT,
    ProgramMocks,
    RecordingMonitor,
    aws_config,
    run_program,
    settings_of,
)


def config_with_apis(apis: int) -> dict[str, Any]:
    return aws_config(apis=[{"name": f"service-{index:03d}"} for index in range(apis)])


def bare_program(count: int) -> int:
    """Declare ``count`` plain custom resources under the same mocks; the number registered."""
    mocks = ProgramMocks(region="eu-west-1", preview=False)
    monitor = RecordingMonitor(mocks)
    runtime_settings.ROOT.set(None)
    set_all_config({}, [])
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="bench", preview=False, monitor=monitor)

    def declare() -> None:
        for index in range(count):
            pulumi.CustomResource("bench:index:Plain", f"plain-{index}", {"value": index, "label": f"r{index}"})

    _sync_await(run_pulumi_func(declare))
    return len(monitor.registered)


def settings_and_render(config: dict[str, Any]) -> str:
    """The pure part of the program: parse the settings and render the cloud-init."""
    settings = settings_of(config, stack="bench")
    return render_cloud_init(settings, token_parameter=token_parameter_name(settings), region="eu-west-1")


def timed(action: Any, repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls, and the last result."""
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median is printed)")
    parser.add_argument("--apis", default="1,10,100,500", help="comma-separated API counts")
    args = parser.parse_args()

    start = time.perf_counter()
    run_program(config_with_apis(1), stack="warm-up")
    bare_program(1)
    print(f"first run, imports included: {time.perf_counter() - start:.2f} s")
    print()
    header = (f"{'APIs':>5} {'resources':>9} {'program s/run':>14} {'s/resource':>11} "
              f"{'bare s/run':>11} {'s/resource':>11} {'ratio':>6} {'of it pure s':>13}")
    print(header)
    print("-" * len(header))
    for apis in (int(item) for item in args.apis.split(",")):
        config = config_with_apis(apis)
        program_seconds, run = timed(lambda config=config: run_program(config, stack="bench"), args.repeat)
        resources = len(run.resources)
        bare_seconds, bare_count = timed(lambda resources=resources: bare_program(resources), args.repeat)
        pure_seconds, _ = timed(lambda config=config: settings_and_render(config), args.repeat)
        print(f"{apis:>5} {resources:>9} {program_seconds:>14.4f} {program_seconds / resources:>11.5f} "
              f"{bare_seconds:>11.4f} {bare_seconds / bare_count:>11.5f} {program_seconds / bare_seconds:>6.1f} "
              f"{pure_seconds:>13.4f}")
    print()
    print("resources: registered by the program (components included); the bare program declares as many.")
    print("ratio: program s/run over bare s/run. of it pure s: settings parsing and template rendering alone.")
    set_all_config({}, [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
