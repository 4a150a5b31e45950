"""doctor reads every ``kong.ssh`` node's own Admin API it can reach from here: a node whose environment overrides
the patched kong.conf is a problem naming the variable; a node whose Admin API listens on its own loopback is
skipped (``pulumi up`` reads that one over SSH)."""

from __future__ import annotations

from pathlib import Path

from kong_slo.doctor.kong_nodes import check_nodes
from kong_slo.doctor.report import OK, PROBLEM, SKIPPED
from kong_slo.http import RetryPolicy
from kong_slo.kong.conf import patch_kong_conf
from kong_slo.kong.tracing import TracingSettings
from kong_slo.secrets import Secret
from tests.fakes.kong_admin import FakeKong
from tests.fakes.kong_node import NodeRuntime
from tests.providers.doctor_chain import closed_port_url
from tests.unit.settings_helpers import aws_config, parse

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase64Key"
QUICK = RetryPolicy(attempts=1, initial_delay=0.1, max_delay=0.1, timeout=2.0)


def running(folder: Path, environment: str) -> NodeRuntime:
    """A node last reloaded with the patched kong.conf in ``environment`` (``KEY=value`` lines)."""
    folder.mkdir()
    (folder / "running.conf").write_text(patch_kong_conf("log_level = notice\n", TracingSettings()))
    (folder / "running.env").write_text(environment)
    return NodeRuntime(folder)


def test_each_reachable_node_is_read_and_an_override_is_named(tmp_path: Path) -> None:
    clean = running(tmp_path / "a", "")
    overridden = running(tmp_path / "b", "KONG_TRACING_SAMPLING_RATE=0.01\n")
    with FakeKong("3.9", node=clean) as first, FakeKong("3.9", node=overridden) as second:
        nodes = [{"host": "127.0.0.1", "port": 2201, "hostKey": KEY, "adminUrl": first.url},
                 {"host": "127.0.0.1", "port": 2202, "hostKey": KEY, "adminUrl": second.url},
                 {"host": "10.0.1.12", "hostKey": KEY}]
        settings = parse(aws_config(kong={"adminUrl": first.url, "ssh": {"privateKey": Secret("k"),
                                                                          "nodes": nodes}}))
        checks = {check.name: check for check in check_nodes(settings, None, QUICK)}
    assert checks["kong.node.127.0.0.1:2201.tracing"].state == OK
    assert checks["kong.node.127.0.0.1:2201.sampling"].state == OK
    sampling = checks["kong.node.127.0.0.1:2202.sampling"]
    assert sampling.state == PROBLEM and sampling.detail.startswith("node 127.0.0.1: tracing_sampling_rate = 0.01")
    assert "KONG_TRACING_SAMPLING_RATE in the environment Kong starts in overrides it" in (sampling.fix or "")
    far = checks["kong.node.10.0.1.12:22"]
    assert far.state == SKIPPED and "listens on the node itself (http://127.0.0.1:8001)" in far.detail


def test_a_node_that_does_not_answer_is_skipped_with_why() -> None:
    closed = closed_port_url()
    settings = parse(aws_config(kong={"adminUrl": "http://kong:8001", "ssh": {"privateKey": Secret("k"), "nodes": [
        {"host": "127.0.0.1", "hostKey": KEY, "adminUrl": closed}]}}))
    [check] = check_nodes(settings, None, QUICK)
    assert check.state == SKIPPED and check.detail.startswith(f"node 127.0.0.1: its Admin API at {closed} gave no "
                                                              "Kong answer here")
