"""`kong-slo render`: the six files, valid, and never a secret value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kong_slo.artifacts import COLLECTOR_PLACEHOLDER, render_all
from kong_slo.cli import main
from kong_slo.collector_model import TOKEN_ENV_FILE
from kong_slo.secrets import Secret
from tests.unit.settings_helpers import TOKEN, aws_config, parse
from tests.unit.test_render_compose import compose

SIX = {"docker-compose.yml", "otel-collector-config.yaml", "cloud-init.yaml", "kong-plugins.json", "slos.json",
       "kong.env"}


def test_render_dev_writes_six_files_compose_accepts(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    assert {path.name for path in out.iterdir()} == SIX
    assert "wrote 6 files for stack dev" in capsys.readouterr().out
    (out / TOKEN_ENV_FILE).write_text("DT_API_TOKEN=dt0c01.EXAMPLE.EXAMPLE\n")  # what the host's unit writes
    result = compose(out, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_render_local_has_no_cloud_init(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    assert main(["render", "--stack", "local", "--out", str(tmp_path)]) == 0
    assert {path.name for path in tmp_path.iterdir()} == SIX - {"cloud-init.yaml"}
    plugins = json.loads((tmp_path / "kong-plugins.json").read_text())
    assert plugins["collectorUrl"] == "http://otel-collector:4318"


def test_no_secret_value_in_any_file() -> None:
    admin_token = "SENTINEL-KONG-ADMIN-TOKEN-3c1d"
    settings = parse(aws_config(kong={"adminUrl": "http://k:8001", "adminToken": Secret(admin_token)}))
    files = render_all(settings)
    assert set(files) == SIX
    for name, text in files.items():
        assert TOKEN not in text and admin_token not in text, name
        assert TOKEN.split(".")[2] not in text, name


def test_plugin_and_slo_requests_cover_every_api_and_objective() -> None:
    settings = parse(aws_config(apis=[{"name": "HealthService"}, {"name": "Orders", "latency": False},
                                      {"name": "Search", "route": "search-v2"}]))
    files = render_all(settings)
    plugins = json.loads(files["kong-plugins.json"])
    paths = [request["path"] for request in plugins["requests"]]
    assert [path.rsplit("/", 1)[0] for path in paths] == [
        "/services/HealthService/plugins", "/services/Orders/plugins", "/routes/search-v2/plugins"]
    assert plugins["collectorUrl"] == COLLECTOR_PLACEHOLDER
    assert plugins["kongVersionAssumed"] is True
    slos = json.loads(files["slos.json"])
    assert [(slo["api"], slo["objective"]) for slo in slos] == [
        ("HealthService", "latency"), ("HealthService", "availability"), ("Orders", "availability"),
        ("Search", "latency"), ("Search", "availability")]
    assert all(slo["body"]["enabled"] is True for slo in slos)


def test_a_workspace_prefixes_every_admin_path() -> None:
    settings = parse(aws_config(kong={"adminUrl": "http://k:8001", "workspace": "payments",
                                      "collectorUrl": "http://otel.internal:4318"}))
    plugins = json.loads(render_all(settings)["kong-plugins.json"])
    assert all(request["path"].startswith("/payments/services/") for request in plugins["requests"])
    assert plugins["requests"][0]["body"]["config"]["traces_endpoint"] == "http://otel.internal:4318/v1/traces"


def test_the_default_workspace_has_no_path_prefix() -> None:
    """The Admin API client reaches the default workspace unprefixed (OSS Kong knows no prefixes)."""
    settings = parse(aws_config(kong={"adminUrl": "http://k:8001", "workspace": "default"}))
    plugins = json.loads(render_all(settings)["kong-plugins.json"])
    assert [request["path"].split("/")[1] for request in plugins["requests"]] == ["services", "services"]


def test_a_platform_stack_renders_platform_payloads_instead_of_classic_ones() -> None:
    platform_token = "dt0s16.SENTINELPUBLIC.SENTINELPLATFORMSECRET"
    settings = parse(aws_config(dynatrace={"environmentUrl": "https://abc12345.apps.dynatrace.com",
                                           "apiToken": Secret(TOKEN), "platformToken": Secret(platform_token)}))
    files = render_all(settings)
    assert set(files) == SIX - {"slos.json"} | {"platform-slos.json"}
    slos = json.loads(files["platform-slos.json"])
    assert [(slo["api"], slo["objective"]) for slo in slos] == [
        ("HealthService", "latency"), ("HealthService", "availability"),
        ("Orders", "latency"), ("Orders", "availability")]
    assert {slo["path"] for slo in slos} == {"/platform/slo/v1/slos"}
    assert all("customSli" in slo["body"] and slo["body"]["externalId"] for slo in slos)
    assert all(platform_token not in text and platform_token.split(".")[2] not in text for text in files.values())
    # the collector still exports to the live host
    assert "https://abc12345.live.dynatrace.com/api/v2/otlp" in files["otel-collector-config.yaml"]
