"""The local stack under Pulumi mocks: containers, ports, uploads, Kong services and plugins, no leaked secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kong_slo.collector.model import COLLECTOR_CONFIG_PATH, TOKEN_FILE
from kong_slo.collector.render import render_collector_config
from kong_slo.errors import KongSloError
from kong_slo.infra.local import migrations_outcome
from tests.program.mocks import ProgramRun, run_program, settings_of, stack_config

CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
IMAGE = "docker:index/remoteImage:RemoteImage"
PLUGIN = "pulumi-python:dynamic/kong:OpenTelemetryPlugin"
ROUTE = "pulumi-python:dynamic/kong:KongRoute"
SLO = "pulumi-python:dynamic/dynatrace:ServiceLevelObjective"
DYNATRACE = {"environmentUrl": "https://abc12345.live.dynatrace.com", "apiToken": {"secure": "v1:x"}}


def container(run: ProgramRun, role: str) -> dict[str, Any]:
    (found,) = [resource for resource in run.of_type(CONTAINER) if resource.name == f"local-{role}"]
    return found.inputs


@pytest.fixture(scope="module")
def local_run() -> ProgramRun:
    return run_program(stack_config("local"), stack="local")


def test_the_whole_chain_runs_on_one_private_network(local_run: ProgramRun) -> None:
    (gateway,) = local_run.of_type("kongslo:local:LocalGateway")
    (network,) = local_run.of_type(NETWORK)
    assert network.parent == gateway.urn
    names = {resource.name for resource in local_run.of_type(CONTAINER)}
    assert names == {"local-postgres", "local-kong-migrations", "local-kong", "local-collector", "local-upstream"}
    for role in ("postgres", "kong", "collector", "upstream"):
        assert container(local_run, role)["networksAdvanced"][0]["name"] == network.inputs["name"]
    assert container(local_run, "collector")["networksAdvanced"][0]["aliases"] == ["otel-collector"]


def test_only_loopback_ports_are_published(local_run: ProgramRun) -> None:
    published = {(role, port["internal"], port["ip"]) for role in ("kong", "collector", "postgres", "upstream")
                 for port in container(local_run, role).get("ports") or []}
    assert {(role, internal) for role, internal, _ in published} == {
        ("kong", 8000), ("kong", 8001), ("collector", 4318), ("collector", 13133), ("collector", 8888)}
    assert {ip for _, _, ip in published} == {"127.0.0.1"}


def test_postgres_keeps_its_data_on_a_named_volume_and_is_ready_only_over_tcp(local_run: ProgramRun) -> None:
    postgres = container(local_run, "postgres")
    (data,) = [volume for volume in local_run.of_type(VOLUME) if volume.name == "local-postgres-data"]
    assert postgres["volumes"] == [{"volumeName": data.inputs["name"], "containerPath": "/var/lib/postgresql/data"}]
    check = postgres["healthcheck"]["tests"]
    assert check[:4] == ["CMD", "pg_isready", "-h", "127.0.0.1"], "the image's first start answers on its socket early"


def test_kong_starts_only_after_its_migrations_succeeded(local_run: ProgramRun) -> None:
    assert container(local_run, "kong")["labels"] == [{"label": "kong-slo.migrations", "value": "done"}]
    assert migrations_outcome(0, "ok") == "done"
    with pytest.raises(KongSloError, match=r"(?s)kong migrations failed \(exit code 1\); Kong said:\n.*"
                                           r"Error: \[PostgreSQL error\] failed to retrieve"):
        migrations_outcome(1, "line\n" * 40 + "Error: [PostgreSQL error] failed to retrieve PostgreSQL version")


@pytest.mark.parametrize(("version", "image"), [("3.4", "kong:3.4"), ("3.9", "kong:3.9"),
                                                ("3.10", "kong/kong-gateway:3.10"), ("3.12", "kong/kong-gateway:3.12")])
def test_the_kong_image_follows_the_version(version: str, image: str) -> None:
    config = stack_config("local")
    config["kong-slo:kong"] = {**(config.get("kong-slo:kong") or {}), "version": version}
    images = {resource.name: resource.inputs["name"] for resource in run_program(config, stack="local").of_type(IMAGE)}
    assert images["local-kong-image"] == image


def test_kong_traces_every_request_and_waits_for_its_migrations(local_run: ProgramRun) -> None:
    kong = container(local_run, "kong")
    assert "KONG_TRACING_INSTRUMENTATIONS=all" in kong["envs"]
    assert "KONG_TRACING_SAMPLING_RATE=1.0" in kong["envs"]
    images = {resource.name: resource.inputs["name"] for resource in local_run.of_type(IMAGE)}
    assert images["local-kong-image"] == "kong:3.9", "the stack's kong.version picks the image"
    (kong_resource,) = [resource for resource in local_run.of_type(CONTAINER) if resource.name == "local-kong"]
    migrations = next(resource for resource in local_run.of_type(CONTAINER) if resource.name == "local-kong-migrations")
    assert migrations.urn in kong_resource.dependencies
    assert migrations.inputs["mustRun"] is False


def test_the_collector_gets_the_rendered_config(local_run: ProgramRun) -> None:
    uploads = container(local_run, "collector")["uploads"]
    settings = settings_of(stack_config("local"), stack="local")
    assert uploads == [{"file": COLLECTOR_CONFIG_PATH, "content": render_collector_config(settings)}]
    assert "debug" in uploads[0]["content"]


def test_each_api_gets_a_service_route_and_a_plugin_after_them(local_run: ProgramRun) -> None:
    routes = {resource.inputs["service"]: resource for resource in local_run.of_type(ROUTE)}
    plugins = {resource.inputs["api_name"]: resource for resource in local_run.of_type(PLUGIN)}
    assert set(routes) == set(plugins) == {"HealthService", "Orders"}
    for name, plugin in plugins.items():
        assert routes[name].inputs["path"] == f"/{name.lower()}"
        assert routes[name].inputs["upstream_url"] == "http://upstream:8080"
        assert routes[name].urn in plugin.dependencies
        assert plugin.inputs["collector_url"] == "http://otel-collector:4318"
        assert plugin.inputs["admin_url"] == "http://127.0.0.1:8001"
        assert plugin.inputs["service"] == name and plugin.inputs.get("route") is None
    assert local_run.of_type(SLO) == []


def test_outputs_say_where_to_call_and_how_to_watch(local_run: ProgramRun) -> None:
    assert local_run.output("proxy_urls") == {"HealthService": "http://127.0.0.1:8000/healthservice/get",
                                              "Orders": "http://127.0.0.1:8000/orders/get"}
    assert local_run.output("collector_health_url") == "http://127.0.0.1:13133/"
    assert local_run.output("watch_telemetry") == "docker logs -f kong-slo-local-collector"


def test_with_dynatrace_the_token_is_a_secret_file_never_an_env_or_output() -> None:
    run = run_program(stack_config("local", **{"kong-slo:dynatrace": DYNATRACE}), stack="local")
    (token,) = run.secrets.values()
    collector = container(run, "collector")
    files = {upload["file"]: upload for upload in collector["uploads"]}
    assert files[TOKEN_FILE]["content"] == token and files[TOKEN_FILE]["permissions"] == "0400"
    assert f"${{file:{TOKEN_FILE}}}" in files[COLLECTOR_CONFIG_PATH]["content"]
    for resource in run.of_type(CONTAINER):
        assert token not in json.dumps(resource.inputs.get("envs") or []), resource.name
    assert all(token not in json.dumps(output.value) for output in run.outputs.values())
    (queue,) = [volume for volume in run.of_type(VOLUME) if volume.name == "local-queue"]
    assert collector["volumes"] == [{"volumeName": queue.inputs["name"],
                                     "containerPath": "/var/lib/otelcol/file_storage"}]
    (collector_resource,) = [resource for resource in run.of_type(CONTAINER) if resource.name == "local-collector"]
    assert "uploads" in collector_resource.secret_inputs, "the token file is stored encrypted in the state"
    assert len(run.of_type(SLO)) == 4


def test_a_changed_container_is_removed_before_its_replacement_starts() -> None:
    """Fixed names and published ports: create-first replacement (the Docker provider's default) would fail."""
    run = run_program(stack_config("local", **{"kong-slo:dynatrace": DYNATRACE}), stack="local")
    containers = run.of_type(CONTAINER)
    assert {resource.name for resource in containers} >= {"local-collector", "local-kong", "local-queue-permissions"}
    for resource in containers:
        assert resource.inputs["name"].startswith("kong-slo-local-"), resource.name
        assert resource.delete_before_replace, f"{resource.name} would clash with its own replacement"
