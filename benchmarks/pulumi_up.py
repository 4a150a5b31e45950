"""The real ``pulumi up`` of a target-external stack with 10 and 100 APIs, against the Kong and Dynatrace emulators.

The Pulumi CLI and language host from ``.tools/bin`` (``make tools``; or ``KONG_SLO_TOOLS_BIN``) run the project's
``__main__.py`` in a throwaway project (``tests/e2e/pulumi_project.py``: file backend, passphrase secrets, the
project's ``.venv``). For each size, three steps:

- up         every plugin, SLO and alerting object created
- unchanged  ``pulumi up --expect-no-changes`` on the same stack (must make no write call)
- destroy    ``pulumi destroy``

Beside it, the engine's floor: ``benchmarks/pulumi_floor`` declares as many no-op dynamic resources as the kong-slo
stack holds and runs the same steps the same way. The difference is kong-slo's own work (payloads, HTTP calls,
emulator replies) plus Dynatrace's read-after-write lag: each new SLO is read back by id until it shows, and the
emulator, like Dynatrace, shows it only on the third read, a second apart. The ``no lag`` rows run the same stack
against an emulator that reads back at once, kong-slo's own work alone, and the last lines set it against the
floor. Wall seconds and the calls each emulator received are printed, not asserted; ``+50ms/rt`` is what those
calls add, one after another, over a 50 ms round trip (the provider runs at most four at once, so a real run adds
between a quarter of it and all of it).

    .venv/bin/python benchmarks/pulumi_up.py [SIZE ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.pulumi_project import PulumiProject
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.kong_admin import FakeKong

SIZES = (10, 100)
FLOOR_PROGRAM = Path(__file__).resolve().parent / "pulumi_floor" / "__main__.py"
COLLECTOR_URL = "http://127.0.0.1:4318"
KONG_TOKEN = "benchmark-kong-admin-token"
STEPS = (("up", ("up", "--yes", "--skip-preview")),
         ("unchanged", ("up", "--yes", "--skip-preview", "--expect-no-changes")),
         ("destroy", ("destroy", "--yes")))


@dataclass(frozen=True)
class Row:
    program: str
    apis: int
    resources: int
    step: str
    seconds: float
    kong: tuple[int, int] | None = None
    dynatrace: tuple[int, int] | None = None


def api_names(count: int) -> list[str]:
    return [f"api-{index:03d}" for index in range(count)]


def kong_slo_config(kong: FakeKong, dynatrace: FakeDynatrace, count: int) -> dict[str, Any]:
    return {
        "target": "external",
        "kong": {"adminUrl": kong.url, "collectorUrl": COLLECTOR_URL, "version": "3.9"},
        "dynatrace": {"environmentUrl": dynatrace.url, "alerting": {"emails": ["sre@example.com"]}},
        "apis": [{"name": name} for name in api_names(count)],
    }


def dynamic_resources(project: PulumiProject) -> int:
    """How many dynamic resources the stack's state holds."""
    resources = project.export()["deployment"].get("resources") or []
    return sum(1 for resource in resources if resource["type"].startswith("pulumi-python:dynamic/"))


def kong_slo_rows(workdir: Path, count: int, *, read_lag: int = 2) -> tuple[list[Row], int]:
    rows: list[Row] = []
    label = "kong-slo" if read_lag else "no lag"
    with FakeKong("3.9", token=KONG_TOKEN) as kong, FakeDynatrace(read_lag=read_lag) as dynatrace:
        for name in api_names(count):
            kong.add_service(name)
        project = PulumiProject(workdir, stack=f"bench-{count}")
        project.configure(kong_slo_config(kong, dynatrace, count))
        project.set_secret("dynatrace.apiToken", dynatrace.token)
        project.set_secret("kong.adminToken", KONG_TOKEN)
        resources = 0
        for step, args in STEPS:
            kong.reset_counts()
            dynatrace.reset_calls()
            seconds = timed(project, args)
            if step == "up":
                resources = dynamic_resources(project)
            rows.append(Row(label, count, resources, step, seconds,
                            (sum(kong.calls.values()), kong.writes), (len(dynatrace.calls), dynatrace.writes())))
    return rows, resources


def floor_rows(workdir: Path, count: int, resources: int) -> list[Row]:
    project = PulumiProject(workdir, stack=f"floor-{count}", program=FLOOR_PROGRAM)
    project.configure({"resources": resources})
    return [Row("no-op floor", count, resources, step, timed(project, args)) for step, args in STEPS]


def timed(project: PulumiProject, args: tuple[str, ...]) -> float:
    started = time.perf_counter()
    project.run(*args)
    return time.perf_counter() - started


ROUND_TRIP = 0.050
"""Seconds one call adds over a real network far from Kong or the tenant."""


def network(row: Row) -> str:
    """What the row's calls add over ``ROUND_TRIP``, one after another (the provider runs at most four at once)."""
    if row.kong is None or row.dynatrace is None:
        return "-"
    return f"{(row.kong[0] + row.dynatrace[0]) * ROUND_TRIP:.1f}"


def calls(pair: tuple[int, int] | None) -> str:
    return "-" if pair is None else f"{pair[0]} ({pair[1]} w)"


def main(sizes: tuple[int, ...]) -> None:
    print("Real `pulumi up` (CLI and language host from .tools/bin) of a target-external stack against the emulators;")
    print("calls are requests the emulator received, (N w) of them writes. The floor runs no-op dynamic resources.\n")
    print(f"{'program':<12} {'APIs':>4} {'resources':>9}  {'step':<9} {'seconds':>8}  {'Kong calls':>13}  "
          f"{'Dynatrace calls':>15}  {'+50ms/rt':>8}")
    summaries: list[str] = []
    for count in sizes:
        with tempfile.TemporaryDirectory(prefix="kong-slo-bench-") as folder:
            rows, resources = kong_slo_rows(Path(folder) / "kong-slo", count)
            rows += kong_slo_rows(Path(folder) / "no-lag", count, read_lag=0)[0]
            rows += floor_rows(Path(folder) / "floor", count, resources)
        for row in rows:
            print(f"{row.program:<12} {row.apis:>4} {row.resources:>9}  {row.step:<9} {row.seconds:>8.1f}  "
                  f"{calls(row.kong):>13}  {calls(row.dynatrace):>15}  {network(row):>8}")
        summaries.extend(against_floor(rows, count))
    print()
    print("\n".join(summaries))


def against_floor(rows: list[Row], count: int) -> list[str]:
    """Per step, kong-slo's own time (no lag) as a multiple of the floor's; for ``up``, the only step that creates
    SLOs and so waits for them to read back, also what the lag added."""
    seconds = {(row.program, row.step): row.seconds for row in rows}
    lines = []
    for step, _ in STEPS:
        own, floor = seconds["no lag", step], seconds["no-op floor", step]
        line = (f"{count:>4} APIs {step:<9}: kong-slo's own work {own:.1f} s = {own / floor:.1f}x the floor "
                f"({floor:.1f} s)")
        if step == "up":
            line += f"; Dynatrace's read-after-write lag added {seconds['kong-slo', step] - own:.1f} s"
        lines.append(line)
    return lines


if __name__ == "__main__":
    main(tuple(int(size) for size in sys.argv[1:]) or SIZES)
