"""``kong-slo status`` for a platform stack, against the emulator's platform SLO API and DQL evaluator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kong_slo.cli import main
from kong_slo.dynatrace.platform.definitions import platform_slo_payload
from kong_slo.objectives.sli import slo_definitions
from kong_slo.secrets import Secret
from kong_slo.settings import parse_settings
from tests.fakes.dynatrace import FakeDynatrace
from tests.unit.settings_helpers import TOKEN, aws_config
from tests.unit.stack_files import write_aws_stack

PLATFORM_TOKEN = "dt0s16.STATUSPUBLIC.STATUSPLATFORMSECRET"
ACCOUNT = "urn:dtaccount:12345678-abcd-4ef0-9abc-1234567890ab"
NOW = 1_800_000_000_000
APIS = [{"name": "HealthService"}, {"name": "Orders", "latency": False}]


def dynatrace(**extra) -> dict:
    return {"environmentUrl": "https://abc12345.apps.dynatrace.com", "apiToken": Secret(TOKEN), **extra}


@pytest.fixture
def fake() -> Iterator[FakeDynatrace]:
    with FakeDynatrace() as server:
        server.platform.platform_token = PLATFORM_TOKEN
        server.platform.now_ms = NOW
        yield server


def ci_payloads() -> list[dict]:
    config = aws_config(apis=APIS, dynatrace=dynatrace(platformToken=Secret(PLATFORM_TOKEN)))
    settings = parse_settings(config, project="kong-slo", stack="ci", aws_region="eu-west-1")
    return [platform_slo_payload(definition, "ci") for definition in slo_definitions(settings)]


def deploy_all(fake: FakeDynatrace) -> None:
    for payload in ci_payloads():
        fake.platform.create(payload)


def calls(fake: FakeDynatrace, api: str, good: float, bad: float) -> None:
    for outcome, latency, count in (("success", "good", good), ("failure", "bad", bad)):
        fake.metrics.add("kong.slo.calls.count", {"service.name": api, "slo.outcome": outcome, "slo.latency": latency},
                         count, NOW - 120_000)


def run(fake: FakeDynatrace, path: Path, *extra: str) -> int:
    return main(["status", "--config-file", str(path), "--environment-url", fake.url, "--json", *extra])


def test_platform_slos_are_found_by_external_id_and_evaluated(fake, tmp_path, monkeypatch, capsys):
    path = write_aws_stack(tmp_path, "ci", apis=APIS, dynatrace=dynatrace(platformToken=Secret(PLATFORM_TOKEN)))
    monkeypatch.setenv("DT_PLATFORM_TOKEN", PLATFORM_TOKEN)
    deploy_all(fake)
    calls(fake, "HealthService", good=998, bad=2)
    calls(fake, "Orders", good=96, bad=4)
    assert run(fake, path) == 1
    rows = {(row["api"], row["objective"]): row for row in json.loads(capsys.readouterr().out)}
    healthy = rows[("HealthService", "availability")]
    assert healthy["state"] == "ok" and healthy["current"] == pytest.approx(99.8)
    assert healthy["budget_left"] == pytest.approx(80.0) and healthy["burn_rate"] == pytest.approx(0.2)
    failing = rows[("Orders", "availability")]
    assert failing["state"] == "failing" and failing["burn"] == "SLOW" and failing["burn_rate"] == pytest.approx(4.0)
    assert fake.auth_headers[-1] == f"Bearer {PLATFORM_TOKEN}"


def test_missing_slos_and_missing_data(fake, tmp_path, monkeypatch, capsys):
    path = write_aws_stack(tmp_path, "ci", apis=APIS, dynatrace=dynatrace(platformToken=Secret(PLATFORM_TOKEN)))
    monkeypatch.setenv("DT_PLATFORM_TOKEN", PLATFORM_TOKEN)
    fake.platform.create(ci_payloads()[0])
    assert run(fake, path) == 1
    assert [row["state"] for row in json.loads(capsys.readouterr().out)] == ["no data", "missing", "missing"]


def test_oauth_client_from_the_stack_with_its_secret_from_the_environment(fake, tmp_path, monkeypatch, capsys):
    secret = "dt0s02.CLIENT.STATUSCLIENTSECRET"
    fake.platform.add_client("dt0s02.CLIENT", secret, ACCOUNT)
    oauth = {"clientId": "dt0s02.CLIENT", "clientSecret": Secret(secret), "accountUrn": ACCOUNT,
             "tokenUrl": f"{fake.url}/sso/oauth2/token"}
    path = write_aws_stack(tmp_path, "ci", apis=APIS, dynatrace=dynatrace(oauth=oauth))
    monkeypatch.delenv("DT_PLATFORM_TOKEN", raising=False)
    monkeypatch.setenv("DT_CLIENT_SECRET", secret)
    deploy_all(fake)
    assert run(fake, path) == 0  # deployed, no data yet: nothing is failing
    assert fake.count("POST", "/sso/oauth2/token") == 1
    assert all(row["state"] == "no data" for row in json.loads(capsys.readouterr().out))


def test_no_platform_credentials_is_bad_input(fake, tmp_path, monkeypatch, capsys):
    path = write_aws_stack(tmp_path, "ci", apis=APIS, dynatrace=dynatrace(platformToken=Secret(PLATFORM_TOKEN)))
    for name in ("DT_PLATFORM_TOKEN", "DT_CLIENT_ID", "DT_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert run(fake, path) == 2
    assert "DT_PLATFORM_TOKEN" in capsys.readouterr().err
    assert fake.calls == []


def test_an_evaluation_gone_before_its_poll_is_started_again(fake, tmp_path, monkeypatch, capsys):
    """``evaluation:poll`` documents 410 among its answers: the evaluation expired; a new one is started."""
    path = write_aws_stack(tmp_path, "ci", apis=APIS, dynatrace=dynatrace(platformToken=Secret(PLATFORM_TOKEN)))
    monkeypatch.setenv("DT_PLATFORM_TOKEN", PLATFORM_TOKEN)
    deploy_all(fake)
    calls(fake, "HealthService", good=998, bad=2)
    fake.platform.gone_polls = 1
    run(fake, path)
    rows = {(row["api"], row["objective"]): row for row in json.loads(capsys.readouterr().out)}
    assert rows[("HealthService", "availability")]["current"] == pytest.approx(99.8)
    assert fake.count("POST", "/platform/slo/v1/slos/evaluation:start") == len(rows) + 1


def test_evaluations_that_keep_expiring_say_so_in_one_line(fake, tmp_path, monkeypatch, capsys):
    path = write_aws_stack(tmp_path, "ci", apis=APIS, dynatrace=dynatrace(platformToken=Secret(PLATFORM_TOKEN)))
    monkeypatch.setenv("DT_PLATFORM_TOKEN", PLATFORM_TOKEN)
    deploy_all(fake)
    fake.platform.gone_polls = 1000
    assert run(fake, path) != 0
    err = capsys.readouterr().err
    assert "expired before it finished (410 Gone)" in err and "Traceback" not in err
