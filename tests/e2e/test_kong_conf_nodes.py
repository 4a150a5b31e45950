"""Several Kong nodes, each behind its own sshd on 127.0.0.1: the remote scripts, run over the real ``ssh`` client
as pulumi-command runs them, patch every node with the default reload and give each node its file back."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kong_slo.kong.conf import read_kong_conf
from kong_slo.kong.conf_patch import (
    APPLY_SCRIPT,
    READ_SCRIPT,
    RESTORE_SCRIPT,
    patched_payload,
    remote_script,
    restore_arguments,
)
from kong_slo.kong.tracing import TracingSettings
from kong_slo.secrets import Secret
from kong_slo.settings.reader import Node, Problems
from kong_slo.settings.ssh import read_ssh
from tests.e2e.sshd import KongNode

ORIGINAL = "\ufeff# kong.conf of node {n}\ndatabase = postgres\n#tracing_sampling_rate = 0.01\nlog_level = notice\n"


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[KongNode]]:
    key = tmp_path / "client_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    started = [KongNode(tmp_path / f"node-{index}", key) for index in range(3)]
    try:
        yield started
    finally:
        for node in started:
            node.stop()


def test_every_node_is_patched_with_a_reload_and_each_is_given_back(nodes: list[KongNode]) -> None:
    for index, node in enumerate(nodes):
        node.conf.write_text(ORIGINAL.format(n=index), encoding="utf-8")
    problems = Problems()
    settings = read_ssh(Node({"privateKey": Secret("k"), "user": "root", "nodes": [
        {"host": "127.0.0.1", "port": node.port, "hostKey": " ".join(node.host_key), "confPath": str(node.conf)}
        for node in nodes]}, "kong-slo:kong.ssh", problems))
    assert not problems.lines, problems.lines
    tracing = TracingSettings()
    reads = {}
    for node, ssh in zip(nodes, settings, strict=True):
        read = node.run(remote_script(READ_SCRIPT, ssh.conf_path))
        assert read.returncode == 0, read.stderr
        reads[node.port] = read.stdout
        applied = node.run(remote_script(APPLY_SCRIPT, ssh.conf_path, ssh.restart_command),
                           stdin=patched_payload(read.stdout, tracing, f"127.0.0.1:{node.port}"))
        assert applied.returncode == 0, applied.stderr
        text = node.conf.read_text(encoding="utf-8")
        assert read_kong_conf(text)["tracing_sampling_rate"] == "1.0" and text.startswith("\ufeff# kong.conf")
        # no systemd unit runs Kong here, so the default reloads Kong itself with the patched file; never a restart
        assert node.calls() == [f"check {ssh.conf_path}", f"reload -c {ssh.conf_path}"]

    # the second node leaves the list: it is given back, the others stay patched
    leaving, ssh = nodes[1], settings[1]
    restored = leaving.run(remote_script(RESTORE_SCRIPT, ssh.conf_path, ssh.restart_command,
                                         *restore_arguments(reads[leaving.port], tracing)))
    assert restored.returncode == 0, restored.stderr
    assert leaving.conf.read_text(encoding="utf-8") == ORIGINAL.format(n=1)
    assert leaving.calls()[-1] == f"reload -c {ssh.conf_path}"
    for node in (nodes[0], nodes[2]):
        assert read_kong_conf(node.conf.read_text(encoding="utf-8"))["tracing_sampling_rate"] == "1.0"

    # destroy gives every remaining node its file back
    for index in (0, 2):
        node, ssh = nodes[index], settings[index]
        restored = node.run(remote_script(RESTORE_SCRIPT, ssh.conf_path, ssh.restart_command,
                                          *restore_arguments(reads[node.port], tracing)))
        assert restored.returncode == 0, restored.stderr
        assert node.conf.read_text(encoding="utf-8") == ORIGINAL.format(n=index)
