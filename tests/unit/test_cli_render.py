"""`kong-slo render`: the six files, valid, and never a secret value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kong_slo.cli import main
from kong_slo.collector.model import TOKEN_ENV_FILE
from kong_slo.commands import render as render_command
from kong_slo.commands.artifacts import COLLECTOR_PLACEHOLDER, TIER_PLACEHOLDER, render_all
from kong_slo.secrets import Secret
from tests.unit.settings_helpers import TOKEN, aws_config, parse
from tests.unit.test_render_compose import compose

FILES = {"docker-compose.yml", "otel-collector-config.yaml", "cloud-init.yaml", "kong-plugins.json", "slos.json",
       "kong.env", "kong-slo-deck.yaml", "kong-slo-dbless.yaml", "dashboard.json"}


def test_render_dev_writes_eight_files_compose_accepts(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    out = tmp_path / "out"
    assert main(["render", "--config-file", "examples/stacks/Pulumi.dev.yaml", "--out", str(out)]) == 0
    assert {path.name for path in out.iterdir()} == FILES | {"alerts.json"}
    assert f"wrote {len(FILES) + 1} files for stack dev" in capsys.readouterr().out
    (out / TOKEN_ENV_FILE).write_text("DT_API_TOKEN=dt0c01.EXAMPLE.EXAMPLE\n")  # what the host's unit writes
    result = compose(out, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_render_local_has_no_cloud_init(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    assert main(["render", "--stack", "local", "--out", str(tmp_path)]) == 0
    assert {path.name for path in tmp_path.iterdir()} == FILES - {"cloud-init.yaml", "dashboard.json", "slos.json",
                                                                  "alerts.json"}
    plugins = json.loads((tmp_path / "kong-plugins.json").read_text())
    assert plugins["collectorUrl"] == "http://otel-collector:4318"


def test_no_secret_value_in_any_file() -> None:
    admin_token = "SENTINEL-KONG-ADMIN-TOKEN-3c1d"
    settings = parse(aws_config(kong={"adminUrl": "http://k:8001", "adminToken": Secret(admin_token)}))
    files = render_all(settings)
    assert set(files) == FILES
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


def test_a_tier_renders_the_load_balancer_placeholder_and_exposes_health_checks() -> None:
    collector = {"allowedCidrs": ["10.0.0.0/16"], "replicas": 2, "subnetIds": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]}
    files = render_all(parse(aws_config(collector=collector)))
    assert json.loads(files["kong-plugins.json"])["collectorUrl"] == TIER_PLACEHOLDER != COLLECTOR_PLACEHOLDER
    assert '"13133:13133"' in files["docker-compose.yml"]
    assert '"127.0.0.1:13133:13133"' in render_all(parse(aws_config()))["docker-compose.yml"]


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


def test_out_onto_an_existing_file_is_bad_input(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    target = tmp_path / "out"
    target.write_text("mine\n")
    assert main(["render", "--stack", "local", "--out", str(target)]) == 2
    assert capsys.readouterr().err == f"kong-slo render: --out {target}: exists and is not a folder\n"
    assert target.read_text() == "mine\n"


def test_out_that_cannot_be_created_is_bad_input(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)

    def denied(self: Path, parents: bool = False, exist_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    assert main(["render", "--stack", "local", "--out", str(tmp_path / "new")]) == 2
    assert "--out" in (err := capsys.readouterr().err) and "cannot create the folder (Permission denied)" in err


def test_a_file_that_cannot_be_written_leaves_the_folder_as_it_was(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    out = tmp_path / "out"
    assert main(["render", "--stack", "local", "--out", str(out)]) == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    (root_stack := tmp_path / "Pulumi.local.yaml").write_text(
        (root / "stacks" / "Pulumi.local.yaml").read_text().replace("thresholdMs: 400", "thresholdMs: 450"))
    real_mkstemp = render_command.tempfile.mkstemp
    made: list[str] = []

    def third_fails(**kwargs: str) -> tuple[int, str]:
        if len(made) == 2:
            raise OSError(28, "No space left on device", str(out / "slos.json"))
        handle, name = real_mkstemp(**kwargs)
        made.append(name)
        return handle, name

    monkeypatch.setattr(render_command.tempfile, "mkstemp", third_fails)
    assert main(["render", "--config-file", str(root_stack), "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert made and not any(Path(name).exists() for name in made)


def test_a_folder_in_place_of_a_file_is_refused_before_writing(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    (tmp_path / "kong.env").mkdir()
    assert main(["render", "--stack", "local", "--out", str(tmp_path)]) == 2
    assert "kong.env exists and is not a regular file; nothing written" in capsys.readouterr().err
    assert {path.name for path in tmp_path.iterdir()} == {"kong.env"}


def test_a_platform_stack_renders_platform_payloads_instead_of_classic_ones() -> None:
    platform_token = "dt0s16.SENTINELPUBLIC.SENTINELPLATFORMSECRET"
    settings = parse(aws_config(dynatrace={"environmentUrl": "https://abc12345.apps.dynatrace.com",
                                           "apiToken": Secret(TOKEN), "platformToken": Secret(platform_token)}))
    files = render_all(settings)
    assert set(files) == FILES - {"slos.json"} | {"platform-slos.json"}
    slos = json.loads(files["platform-slos.json"])
    assert [(slo["api"], slo["objective"]) for slo in slos] == [
        ("HealthService", "latency"), ("HealthService", "availability"),
        ("Orders", "latency"), ("Orders", "availability")]
    assert {slo["path"] for slo in slos} == {"/platform/slo/v1/slos"}
    assert all("customSli" in slo["body"] and slo["body"]["externalId"] for slo in slos)
    assert all(platform_token not in text and platform_token.split(".")[2] not in text for text in files.values())
    # the collector still exports to the live host
    assert "https://abc12345.live.dynatrace.com/api/v2/otlp" in files["otel-collector-config.yaml"]


def test_a_second_render_clears_what_an_earlier_stack_left_and_nothing_else(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    out = tmp_path / "out"
    assert main(["render", "--config-file", "examples/stacks/Pulumi.dev.yaml", "--out", str(out)]) == 0
    (out / "notes.md").write_text("mine\n")
    (out / "platform-slos.json.orig").write_text("mine too\n")
    (out / "old").mkdir()
    capsys.readouterr()
    assert main(["render", "--stack", "local", "--out", str(out)]) == 0
    removed = "removed cloud-init.yaml, slos.json, alerts.json: stack local renders no such file"
    assert removed in capsys.readouterr().out
    assert {path.name for path in out.iterdir()} == (FILES - {"cloud-init.yaml", "slos.json"}) | {
        "notes.md", "platform-slos.json.orig", "old"}
    assert (out / "notes.md").read_text() == "mine\n"


def test_alerts_json_holds_what_the_program_declares(root: Path) -> None:
    """The metric events in alerts.json are the ones `pulumi up` would create (the program under mocks)."""
    from kong_slo.settings import load_stack_file
    from tests.program.mocks import run_program, stack_config

    settings = load_stack_file(root / "examples" / "stacks" / "Pulumi.dev.yaml")
    document = json.loads(render_all(settings)["alerts.json"])
    run = run_program(stack_config("dev"), stack="dev")
    declared = {resource.inputs["external_id"]: resource.inputs["value"]
                for resource in run.of_type("pulumi-python:dynamic/dynatrace:SettingsObject")}
    rendered = {event["externalId"]: event["value"] for event in document["metricEvents"]}
    assert rendered and all(declared[key] == value for key, value in rendered.items())
    assert {key for key in declared if ":burn-rate-" in key} == set(rendered)
    profile = {key: value for key, value in document["profile"]["value"].items() if value is not None}
    assert profile == declared[document["profile"]["externalId"]]  # Pulumi drops inputs that are None


def test_a_platform_stack_renders_its_detectors(root: Path) -> None:
    from kong_slo.settings import load_stack_file

    document = json.loads(render_all(load_stack_file(root / "examples" / "stacks" / "Pulumi.platform.yaml"))[
        "alerts.json"])
    assert "metricEvents" not in document and document["detectors"]
    assert {detector["schemaId"] for detector in document["detectors"]} == {"builtin:davis.anomaly-detectors"}
