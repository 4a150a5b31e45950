"""How long the Pulumi program takes under mocks, against the SDK's own floor.

For N = 1, 10, 100 and 500 APIs, runs ``__main__.py`` (an ``aws`` stack) under Pulumi mocks, then two bare
programs under the same mocks:

- replay: declares the very resources the program registered (same types, names, parents, inputs with their
  secrets, the pickled dynamic providers included, and the options the engine is told: dependencies, aliases,
  delete-first, ignored changes, replacement triggers) with no program logic around them: the SDK's own cost of
  registering them;
- plain: declares as many resources of two scalar inputs each, the SDK's cost per resource alone.

It prints seconds per run and per resource and the program's ratio to each. Nothing is asserted: the figures
are for reading.

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
    RegisteredResource,
    aws_config,
    run_program,
    settings_of,
)


def config_with_apis(apis: int) -> dict[str, Any]:
    return aws_config(apis=[{"name": f"service-{index:03d}"} for index in range(apis)])


def under_mocks(declare: Any) -> int:
    """Run ``declare`` as a program under the same mocks as ``run_program``; the number of resources registered."""
    mocks = ProgramMocks(region="eu-west-1", preview=False)
    monitor = RecordingMonitor(mocks)
    runtime_settings.ROOT.set(None)
    set_all_config({}, [])
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="bench", preview=False, monitor=monitor)
    _sync_await(run_pulumi_func(declare))
    return len(monitor.registered)


def bare_program(count: int) -> int:
    """Declare ``count`` plain custom resources under the same mocks; the number registered."""

    def declare() -> None:
        for index in range(count):
            pulumi.CustomResource("bench:index:Plain", f"plain-{index}", {"value": index, "label": f"r{index}"})

    return under_mocks(declare)


def replay_program(registered: list[RegisteredResource]) -> int:
    """Declare exactly ``registered`` with no program around it: type, name, parent, inputs (secret ones as
    secrets) and the options the engine is told (dependencies, aliases, replace-first or delete-first, ignored
    changes, replacement trigger); the number registered."""

    def declare() -> None:
        declared: dict[str, pulumi.Resource] = {}
        for resource in registered:
            opts = pulumi.ResourceOptions(
                parent=declared.get(resource.parent),
                depends_on=[declared[urn] for urn in resource.dependencies if urn in declared],
                aliases=[pulumi.Alias(type_=alias) for alias in resource.alias_types],
                delete_before_replace=resource.delete_before_replace or None,
                ignore_changes=list(resource.ignore_changes) or None,
                replacement_trigger=resource.replacement_trigger)
            if not resource.custom:
                declared[resource.urn] = pulumi.ComponentResource(resource.type, resource.name, None, opts)
                continue
            inputs = {key: pulumi.Output.secret(value) if key in resource.secret_inputs else value
                      for key, value in resource.inputs.items()}
            declared[resource.urn] = pulumi.CustomResource(resource.type, resource.name, inputs, opts)

    return under_mocks(declare)


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
    header = (f"{'APIs':>5} {'resources':>9} {'program s/run':>14} {'replay s/run':>13} {'ratio':>6} "
              f"{'plain s/run':>12} {'ratio':>6} {'of it pure s':>13}")
    print(header)
    print("-" * len(header))
    for apis in (int(item) for item in args.apis.split(",")):
        config = config_with_apis(apis)
        program_seconds, run = timed(lambda config=config: run_program(config, stack="bench"), args.repeat)
        resources = len(run.resources)
        replay_seconds, replayed = timed(lambda run=run: replay_program(run.resources), args.repeat)
        bare_seconds, bare_count = timed(lambda resources=resources: bare_program(resources), args.repeat)
        assert replayed == bare_count == resources, (replayed, bare_count, resources)
        pure_seconds, _ = timed(lambda config=config: settings_and_render(config), args.repeat)
        print(f"{apis:>5} {resources:>9} {program_seconds:>14.4f} {replay_seconds:>13.4f} "
              f"{program_seconds / replay_seconds:>6.2f} {bare_seconds:>12.4f} {program_seconds / bare_seconds:>6.1f} "
              f"{pure_seconds:>13.4f}")
    print()
    print("resources: registered by the program (components included); replay and plain declare as many.")
    print("replay: the same resources, inputs and options without the program; plain: two scalar inputs each.")
    print("ratio: program s/run over the bare program's. of it pure s: settings parsing and template rendering.")
    set_all_config({}, [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
