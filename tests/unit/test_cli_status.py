"""``kong-slo status`` against the Dynatrace emulator."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kong_slo.cli import main
from kong_slo.objectives.sli import slo_name
from tests.fakes.dynatrace import FakeDynatrace
from tests.unit.stack_files import write_aws_stack

TOKEN = "dt0c01.STATUSPUBLIC.STATUSSECRETVALUE"


@pytest.fixture
def fake() -> Iterator[FakeDynatrace]:
    with FakeDynatrace(TOKEN, read_lag=0) as server:
        yield server


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    return write_aws_stack(tmp_path, "ci", apis=[{"name": "HealthService"}, {"name": "Orders", "latency": False}])


def deploy(fake: FakeDynatrace, name: str, target: float = 99.0, warning: float = 99.5) -> None:
    fake.slos[name] = fake.stored({"name": name, "metricName": name.replace(" ", "_").replace(":", ""),
                                   "enabled": True, "evaluationType": "AGGREGATE", "metricExpression": "(100)",
                                   "target": target, "warning": warning, "timeframe": "-1h",
                                   "errorBudgetBurnRate": {"burnRateVisualizationEnabled": True,
                                                           "fastBurnThreshold": 10}})


def status(fake: FakeDynatrace, stack_file: Path, *extra: str) -> int:
    return main(["status", "--config-file", str(stack_file), "--environment-url", fake.url, *extra])


def test_all_healthy_prints_a_table_and_exits_0(fake, stack_file, monkeypatch, capsys):
    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    for api, objective in [("HealthService", "latency"), ("HealthService", "availability"), ("Orders", "availability")]:
        deploy(fake, slo_name("ci", api, objective))
        fake.evaluate(slo_name("ci", api, objective), 99.8, 0.2)
    assert status(fake, stack_file) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["API", "OBJECTIVE", "CURRENT", "TARGET", "BUDGET", "LEFT", "BURN", "RATE", "STATE"]
    assert len(lines) == 4
    assert lines[1].split()[:2] == ["HealthService", "latency"]
    assert "80 %" in lines[1] and lines[1].endswith("ok")  # (99.8 - 99) / (100 - 99) of the budget is left


def test_a_failing_objective_exits_1_and_json_reports_it(fake, stack_file, monkeypatch, capsys):
    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    for api, objective in [("HealthService", "latency"), ("HealthService", "availability"), ("Orders", "availability")]:
        deploy(fake, slo_name("ci", api, objective))
        fake.evaluate(slo_name("ci", api, objective), 99.9, 0.1)
    fake.evaluate(slo_name("ci", "Orders", "availability"), 97.0, 12.5)
    assert status(fake, stack_file, "--json") == 1
    rows = {(row["api"], row["objective"]): row for row in json.loads(capsys.readouterr().out)}
    failing = rows[("Orders", "availability")]
    assert failing["state"] == "failing"
    assert failing["current"] == 97.0 and failing["budget_left"] == pytest.approx(-200.0)
    assert failing["burn_rate"] == 12.5 and failing["burn"] == "FAST"
    assert rows[("HealthService", "latency")]["state"] == "ok"
    assert ("Orders", "latency") not in rows  # switched off in the stack file


def test_undeployed_and_unevaluated_objectives(fake, stack_file, monkeypatch, capsys):
    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    deploy(fake, slo_name("ci", "HealthService", "latency"))  # no evaluation: Dynatrace reports -1
    assert status(fake, stack_file, "--json") == 1
    states = [row["state"] for row in json.loads(capsys.readouterr().out)]
    assert states == ["no data", "missing", "missing"]
    assert fake.per_method() == {"GET": 1}


def test_missing_token_is_bad_input(fake, stack_file, monkeypatch, capsys):
    monkeypatch.delenv("DT_API_TOKEN", raising=False)
    assert status(fake, stack_file) == 2
    assert "DT_API_TOKEN" in capsys.readouterr().err
    assert fake.calls == []


def test_wrong_token_is_reported_without_the_token(fake, stack_file, monkeypatch, capsys):
    monkeypatch.setenv("DT_API_TOKEN", "dt0c01.WRONG.WRONGSECRETVALUE")
    assert status(fake, stack_file) == 2
    err = capsys.readouterr().err
    assert "401" in err and "WRONGSECRETVALUE" not in err


def test_stack_without_dynatrace_is_bad_input(tmp_path, capsys):
    path = tmp_path / "Pulumi.local.yaml"
    path.write_text("config:\n  kong-slo:target: local\n  kong-slo:apis:\n    - name: HealthService\n")
    assert main(["status", "--config-file", str(path)]) == 2
    assert "no kong-slo:dynatrace block" in capsys.readouterr().err


def test_unreachable_dynatrace_is_said_plainly_with_its_own_exit_code(stack_file, monkeypatch, capsys):
    from kong_slo.commands import status as status_command
    from kong_slo.http import RetryPolicy

    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    monkeypatch.setattr(status_command, "POLICY", RetryPolicy(attempts=3, timeout=2, sleep=lambda _: None))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        assert main(["status", "--config-file", str(stack_file), "--environment-url", url]) == 3
    err = capsys.readouterr().err
    assert err == (f"kong-slo status: cannot reach Dynatrace at {url}: list SLOs: no answer after 3 attempts "
                   "(connection refused)\n")
    assert TOKEN not in err


def test_status_gives_up_within_seconds() -> None:
    from kong_slo.commands.status import POLICY

    waits = sum(POLICY.initial_delay * POLICY.multiplier ** attempt for attempt in range(POLICY.attempts - 1))
    assert POLICY.attempts <= 3 and waits <= 2


def test_a_target_is_shown_as_it_was_written(tmp_path, fake, monkeypatch, capsys):
    objective = {"target": 99.99999999, "warning": 99.999999999}
    stack_file = write_aws_stack(tmp_path, "ci", apis=[{"name": "Orders", "latency": False, "availability": objective}])
    monkeypatch.setenv("DT_API_TOKEN", TOKEN)
    assert status(fake, stack_file) == 1  # not deployed: missing
    assert "99.99999999 %" in capsys.readouterr().out
