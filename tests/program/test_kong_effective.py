"""After the patch, each node's Admin API tells what Kong runs with: the apply script, run with the local ``sh``
against a Kong stand-in (``tests/fakes/kong_node``: Kong's own precedence, kong.conf then ``KONG_*``), stops with
one line naming the node and the variable when the environment Kong loads in overrides the patched file."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kong_slo.kong.conf_patch import APPLY_SCRIPT, patched_payload, remote_script
from kong_slo.kong.effective import effective_arguments
from kong_slo.kong.tracing import TracingSettings
from kong_slo.settings import KongVersion
from tests.fakes.kong_admin import FakeKong
from tests.fakes.kong_node import NodeRuntime, path_with
from tests.providers.doctor_chain import closed_port_url

pytestmark = pytest.mark.skipif(shutil.which("sh") is None or shutil.which("curl") is None,
                                reason="needs a POSIX sh and curl")
ORIGINAL = "# kong.conf\n#tracing_sampling_rate = 0.01\nlog_level = notice\n"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[NodeRuntime, FakeKong, Path]]:
    runtime = NodeRuntime(tmp_path / "bin")
    runtime.folder.mkdir()
    runtime.install()
    conf = tmp_path / "kong.conf"
    conf.write_text(ORIGINAL)
    with FakeKong("3.9", node=runtime) as kong:
        yield runtime, kong, conf


def apply(conf: Path, admin_url: str, tracing: TracingSettings, **environment: str) -> subprocess.CompletedProcess[str]:
    payload = patched_payload(base64.b64encode(conf.read_bytes()).decode(), tracing)
    command = remote_script(APPLY_SCRIPT, str(conf), f"kong reload -c {conf}", "10.0.1.10", admin_url, "0",
                            *effective_arguments(tracing))
    env = {key: value for key, value in os.environ.items() if not key.startswith("KONG_")}
    env.update(environment, PATH=path_with(conf.parent / "bin"))
    return subprocess.run(["sh", "-c", command], input=payload, text=True, capture_output=True, env=env,
                          timeout=60, check=False)


def test_a_node_running_the_patched_file_passes(node: tuple[NodeRuntime, FakeKong, Path]) -> None:
    runtime, kong, conf = node
    result = apply(conf, kong.url, TracingSettings())
    assert result.returncode == 0, result.stderr
    assert runtime.calls()[-1] == f"reload -c {conf}"
    assert kong.node_info()["configuration"]["tracing_sampling_rate"] == 1.0
    assert kong.node_info()["configuration"]["tracing_instrumentations"] == ["all"]


def test_an_overriding_variable_stops_with_one_line_naming_node_and_variable(
        node: tuple[NodeRuntime, FakeKong, Path]) -> None:
    _, kong, conf = node
    result = apply(conf, kong.url, TracingSettings(), KONG_TRACING_SAMPLING_RATE="0.01")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("kong-slo:")]
    assert lines == ["kong-slo: 10.0.1.10: Kong runs with tracing_sampling_rate = 0.01, not kong.conf's 1.0 "
                     "(KONG_TRACING_SAMPLING_RATE in Kong's environment overrides it); remove the variable from the "
                     "environment Kong starts in (its systemd unit, container or shell) and run pulumi up again"]
    assert "tracing_sampling_rate = 1.0" in conf.read_text(), "the file is right; the environment is not"
    again = apply(conf, kong.url, TracingSettings(), KONG_TRACING_SAMPLING_RATE="0.01")
    assert again.returncode == 1 and "already has" in again.stdout, "the next up checks again"
    assert apply(conf, kong.url, TracingSettings()).returncode == 1, "Kong still runs the old environment"


def test_both_overrides_are_named(node: tuple[NodeRuntime, FakeKong, Path]) -> None:
    _, kong, conf = node
    result = apply(conf, kong.url, TracingSettings(), KONG_TRACING_INSTRUMENTATIONS="off",
                   KONG_TRACING_SAMPLING_RATE="0.5")
    assert result.returncode == 1
    assert "tracing_instrumentations = off, not kong.conf's all (KONG_TRACING_INSTRUMENTATIONS" in result.stderr
    assert "tracing_sampling_rate = 0.5, not kong.conf's 1.0 (KONG_TRACING_SAMPLING_RATE" in result.stderr


def test_a_deprecated_alias_in_the_environment_loses_to_the_file(node: tuple[NodeRuntime, FakeKong, Path]) -> None:
    _, kong, conf = node
    result = apply(conf, kong.url, TracingSettings(), KONG_OPENTELEMETRY_TRACING_SAMPLING_RATE="0.01")
    assert result.returncode == 0, result.stderr


def test_kong_3_0_names_its_own_keys(tmp_path: Path) -> None:
    runtime = NodeRuntime(tmp_path / "bin")
    runtime.folder.mkdir()
    runtime.install()
    conf = tmp_path / "kong.conf"
    conf.write_text(ORIGINAL)
    tracing = TracingSettings(kong_version=KongVersion(3, 0))
    with FakeKong("3.0", node=runtime) as kong:
        result = apply(conf, kong.url, tracing, KONG_OPENTELEMETRY_TRACING="off")
        assert result.returncode == 1 and "opentelemetry_tracing = off" in result.stderr
        assert "KONG_OPENTELEMETRY_TRACING in Kong's environment" in result.stderr
        assert kong.node_info()["configuration"]["opentelemetry_tracing_sampling_rate"] == 1.0


def test_an_admin_api_it_cannot_read_is_reported_and_the_patch_stands(
        node: tuple[NodeRuntime, FakeKong, Path]) -> None:
    _, _, conf = node
    result = apply(conf, closed_port_url(), TracingSettings())
    assert result.returncode == 0
    assert "kong-slo: 10.0.1.10: the settings Kong runs with could not be read back at http://127.0.0.1:" \
        in result.stderr and "set adminUrl for this node" in result.stderr
