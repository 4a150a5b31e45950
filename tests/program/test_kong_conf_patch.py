"""``KongConfPatch``: its resources under Pulumi mocks, and its host scripts run for real with ``sh``."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from kong_slo.errors import KongSloError
from kong_slo.kong.conf import read_kong_conf, restore_chunks, undo_chunks
from kong_slo.kong.conf_patch import (
    APPLY_SCRIPT,
    READ_SCRIPT,
    RESTORE_SCRIPT,
    KongConfPatch,
    decode_conf,
    patched_payload,
    restore_arguments,
)
from kong_slo.kong.effective import effective_arguments
from kong_slo.kong.tracing import TracingSettings
from kong_slo.secrets import Secret
from kong_slo.settings import KongVersion, SshSettings
from tests.program.mocks import ProgramMocks, RecordingMonitor, RegisteredResource
from tests.providers.doctor_chain import closed_port_url

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nSENTINEL-KEY-7f3a\n-----END OPENSSH PRIVATE KEY-----\n"
SSH = SshSettings(host="10.0.1.10", user="ubuntu", port=22, private_key=Secret(KEY),
                  conf_path="/etc/kong/kong.conf", restart_command="sudo systemctl restart kong")
HOST_CONF = "database = postgres\r\npg_password = hunter2\r\n#tracing_sampling_rate = 0.01  # rate\r\n"
COMMAND = "command:remote:Command"


class HostMocks(ProgramMocks):
    """The read command prints ``HOST_CONF`` base64-encoded, as ``base64`` would (76-column lines)."""

    def __init__(self, *, preview: bool, conf: str) -> None:
        super().__init__(region="eu-west-1", preview=preview)
        self.conf = conf

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, outputs = super().new_resource(args)
        if args.typ == COMMAND and args.name.endswith("-read") and not self.preview:
            encoded = base64.b64encode(self.conf.encode()).decode()
            outputs["stdout"] = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
        return resource_id, outputs


class SecretPathMonitor(RecordingMonitor):
    """Also records which nested input paths were secret (``connection.privateKey``)."""

    def __init__(self, mocks: ProgramMocks) -> None:
        super().__init__(mocks)
        self.secret_paths: dict[str, set[str]] = {}
        self.secret_outputs: dict[str, set[str]] = {}

    def RegisterResource(self, request: Any) -> Any:
        document = json_format.MessageToDict(request.object)
        self.secret_paths[request.name] = set(_secret_paths(document, ""))
        self.secret_outputs[request.name] = set(request.additionalSecretOutputs)
        return super().RegisterResource(request)


def _secret_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return [path.lstrip(".")]
        return [found for key, item in value.items() for found in _secret_paths(item, f"{path}.{key}")]
    return []


def declare(build: Callable[[], Any], *, preview: bool = False,
            conf: str = HOST_CONF) -> tuple[list[RegisteredResource], SecretPathMonitor]:
    mocks = HostMocks(preview=preview, conf=conf)
    monitor = SecretPathMonitor(mocks)
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="kong-slo", stack="test", preview=preview, monitor=monitor)
    runtime_settings.SETTINGS.rpc_manager.clear()
    _sync_await(run_pulumi_func(build))
    return monitor.registered, monitor


def by_name(resources: list[RegisteredResource], name: str) -> RegisteredResource:
    return next(resource for resource in resources if resource.name == name)


def test_resources_order_and_secrets() -> None:
    resources, monitor = declare(lambda: KongConfPatch("kong-conf", SSH, TracingSettings()))
    secret_paths = monitor.secret_paths
    component = by_name(resources, "kong-conf")
    read, write = by_name(resources, "kong-conf-read"), by_name(resources, "kong-conf-write")
    assert component.type == "kongslo:kong:KongConfPatch"
    assert (read.type, write.type) == (COMMAND, COMMAND)
    assert read.parent == write.parent == component.urn
    assert read.urn in write.dependencies, "the write waits for the read"
    for command in (read, write):
        # the SDK marks the whole connection secret because the key inside it is
        assert secret_paths[command.name] & {"connection", "connection.privateKey"}
        assert "connection" in command.secret_inputs
        assert command.inputs["connection"]["host"] == "10.0.1.10"
        assert KEY not in str({key: item for key, item in command.inputs.items() if key != "connection"})
    assert "stdin" in write.secret_inputs, "the patched kong.conf may hold passwords"
    assert "stdout" in monitor.secret_outputs["kong-conf-read"], "so does the file as read"
    assert read.inputs["logging"] == "stderr", "the file's content never reaches the update log"
    patched = decode_conf(write.inputs["stdin"])
    assert read_kong_conf(patched)["tracing_sampling_rate"] == "1.0"
    assert "tracing_instrumentations = all\r\n" in patched
    assert write.inputs["create"] == write.inputs["update"], "a settings change re-applies, never deletes first"
    assert "kong-slo.orig" in write.inputs["delete"]
    assert "delete" in write.secret_inputs, "the restore carries kong.conf lines"
    assert "/etc/kong/kong.conf" in write.inputs["create"] and "'sudo systemctl restart kong'" in write.inputs["create"]
    assert read.inputs["triggers"] == ["10.0.1.10", "ubuntu", "22", "/etc/kong/kong.conf",
                                       "sudo systemctl restart kong", "tracing_instrumentations=all",
                                       "tracing_sampling_rate=1.0"]
    assert "hunter2" not in str(read.inputs) + write.inputs["create"] + write.inputs["delete"]


def test_preview_declares_both_commands_with_the_content_unknown() -> None:
    resources, _ = declare(lambda: KongConfPatch("kong-conf", SSH, TracingSettings()), preview=True)
    write = by_name(resources, "kong-conf-write")
    assert not isinstance(write.inputs.get("stdin"), str), "nothing is known about the host file in preview"
    assert {resource.name for resource in resources} == {"kong-conf", "kong-conf-read", "kong-conf-write"}


def test_triggers_follow_the_wanted_settings() -> None:
    tracing = TracingSettings(sampling_rate=0.5, kong_version=KongVersion(3, 1))
    resources, _ = declare(lambda: KongConfPatch("kong-conf", SSH, tracing))
    read = by_name(resources, "kong-conf-read")
    assert "opentelemetry_tracing_sampling_rate=0.5" in read.inputs["triggers"]


def test_anything_the_write_uses_re_reads_the_file_first() -> None:
    # The write carries a whole file read earlier: when its command changes, that file must be read again, or
    # the write would put an old copy over edits made on the host since.
    _, before = declare(lambda: KongConfPatch("kong-conf", SSH, TracingSettings()))
    for change in ({"restart_command": "kong reload"}, {"user": "kong"}, {"port": 2222}):
        changed = SshSettings(**{**SSH.__dict__, **change})
        resources, _ = declare(lambda ssh=changed: KongConfPatch("kong-conf", ssh, TracingSettings()))
        read = by_name(resources, "kong-conf-read")
        assert read.inputs["triggers"] != by_name(before.registered, "kong-conf-read").inputs["triggers"], change


def test_a_new_host_or_path_restores_the_old_file_before_patching_the_new_one() -> None:
    # pulumi-command replaces a Command only when `triggers` change; delete-before-replace runs the old
    # write's restore on the old host first.
    resources, _ = declare(lambda: KongConfPatch("kong-conf", SSH, TracingSettings()))
    write, read = by_name(resources, "kong-conf-write"), by_name(resources, "kong-conf-read")
    assert write.inputs["triggers"] == ["10.0.1.10", "22", "/etc/kong/kong.conf"]
    assert write.delete_before_replace is True
    for command in (read, write):
        assert command.inputs["addPreviousOutputInEnv"] is False, "the file's base64 would overflow sshd's env"


def test_a_pinned_host_key_reaches_both_connections() -> None:
    pinned = SshSettings(**{**SSH.__dict__, "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISENTINEL"})
    resources, _ = declare(lambda: KongConfPatch("kong-conf", pinned, TracingSettings()))
    for name in ("kong-conf-read", "kong-conf-write"):
        assert by_name(resources, name).inputs["connection"]["hostKey"] == pinned.host_key


def test_an_encrypted_key_is_refused_before_any_command() -> None:
    ssh = SshSettings(**{**SSH.__dict__, "private_key": Secret(None)})
    with pytest.raises(KongSloError, match="privateKey"):
        KongConfPatch.__init__(object.__new__(KongConfPatch), "kong-conf", ssh, TracingSettings())


def test_an_unreadable_host_file_names_host_path_and_line() -> None:
    stdout = base64.b64encode(b"a = 1\n[http]\n").decode()
    with pytest.raises(KongSloError, match=r"10\.0\.1\.10:/etc/kong/kong\.conf:2: .*section"):
        patched_payload(stdout, TracingSettings(), "10.0.1.10:/etc/kong/kong.conf")


# --- the host scripts, run with the local sh against a temporary "host" --------------------------------------

SH = shutil.which("sh")


@pytest.fixture
def host(tmp_path: Path) -> dict[str, Path]:
    etc = tmp_path / "etc"
    etc.mkdir()
    conf = etc / "kong.conf"
    conf.write_bytes(HOST_CONF.encode())
    conf.chmod(0o640)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    return {"conf": conf, "log": tmp_path / "restarts.log", "bin": bin_dir}


def run_script(script: str, host: dict[str, Path], stdin: str = "", kong_check_exit: int | None = None,
               conf: Path | None = None, restart_fails: bool = False,
               args: list[str] | tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    path = os.environ.get("PATH", "")
    if kong_check_exit is not None:
        fake_kong = host["bin"] / "kong"
        fake_kong.write_text(f"#!/bin/sh\nexit {kong_check_exit}\n")
        fake_kong.chmod(0o755)
        path = f"{host['bin']}:{path}"
    restart = "echo restart failed >&2; exit 3" if restart_fails else f"echo restarted >> {host['log']}"
    if script == APPLY_SCRIPT and not args:  # no Admin API answers here: the read-back warns and lets it pass
        args = ["node-1", closed_port_url(), "0", *effective_arguments(TracingSettings())]
    return subprocess.run([SH, "-c", script, "kong-slo", str(conf or host["conf"]), restart, *args], input=stdin,
                          text=True,
                          capture_output=True, env={**os.environ, "PATH": path}, timeout=60, check=False)


def restarts(host: dict[str, Path]) -> int:
    return host["log"].read_text().count("restarted") if host["log"].exists() else 0


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_apply_writes_once_keeps_backups_and_restarts_only_on_change(host: dict[str, Path]) -> None:
    payload = patched_payload(base64.b64encode(HOST_CONF.encode()).decode(), TracingSettings())
    first = run_script(APPLY_SCRIPT, host, payload)
    assert first.returncode == 0, first.stderr
    conf = host["conf"]
    assert conf.read_bytes() == base64.b64decode(payload)
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert Path(f"{conf}.bak").read_bytes() == HOST_CONF.encode()
    assert Path(f"{conf}.kong-slo.orig").read_bytes() == HOST_CONF.encode()
    assert restarts(host) == 1
    second = run_script(APPLY_SCRIPT, host, payload)
    assert second.returncode == 0 and "already has" in second.stdout
    assert restarts(host) == 1, "an unchanged file is not rewritten and Kong not restarted"
    assert sorted(path.name for path in conf.parent.iterdir()) == [
        "kong.conf", "kong.conf.bak", "kong.conf.kong-slo.applied", "kong.conf.kong-slo.orig"]


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_a_file_kong_check_refuses_is_rolled_back(host: dict[str, Path]) -> None:
    payload = patched_payload(base64.b64encode(HOST_CONF.encode()).decode(), TracingSettings())
    result = run_script(APPLY_SCRIPT, host, payload, kong_check_exit=1)
    assert result.returncode == 1 and "kong check refused" in result.stderr
    assert host["conf"].read_bytes() == HOST_CONF.encode()
    assert restarts(host) == 0


def restore(host: dict[str, Path], tracing: TracingSettings, conf: Path | None = None,
            restart_fails: bool = False) -> subprocess.CompletedProcess[str]:
    """Destroy: the restore script with the arguments the program computes from the last read."""
    read = run_script(READ_SCRIPT, host, conf=conf)
    assert read.returncode == 0, read.stderr
    return run_script(RESTORE_SCRIPT, host, conf=conf, restart_fails=restart_fails,
                      args=restore_arguments(read.stdout, tracing))


def apply(host: dict[str, Path], tracing: TracingSettings, conf: Path | None = None) -> None:
    """Up: read, patch in the program, write."""
    read = run_script(READ_SCRIPT, host, conf=conf)
    assert run_script(APPLY_SCRIPT, host, patched_payload(read.stdout, tracing), conf=conf).returncode == 0


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_restore_puts_the_original_back_after_settings_changed_twice(host: dict[str, Path]) -> None:
    apply(host, TracingSettings())
    apply(host, TracingSettings(sampling_rate=0.5))
    assert read_kong_conf(host["conf"].read_text())["tracing_sampling_rate"] == "0.5"
    restored = restore(host, TracingSettings(sampling_rate=0.5))
    assert restored.returncode == 0, restored.stderr
    assert host["conf"].read_bytes() == HOST_CONF.encode()
    assert restarts(host) == 3
    assert sorted(path.name for path in host["conf"].parent.iterdir()) == ["kong.conf", "kong.conf.bak"]
    assert restore(host, TracingSettings()).returncode == 0, "a second destroy finds nothing to do"
    assert restarts(host) == 3


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_restore_gives_back_only_the_tracing_settings_and_keeps_edits_made_since(host: dict[str, Path]) -> None:
    apply(host, TracingSettings())
    patched = host["conf"].read_bytes()
    edited = (b"admin_listen = 127.0.0.1:8001\r\n" + patched.replace(b"hunter2", b"correct-horse")
              + b"log_level = info\r\n")
    host["conf"].write_bytes(edited)
    result = restore(host, TracingSettings())
    assert result.returncode == 0, result.stderr
    expected = b"admin_listen = 127.0.0.1:8001\r\n" + HOST_CONF.encode().replace(b"hunter2", b"correct-horse") + \
        b"log_level = info\r\n"
    assert host["conf"].read_bytes() == expected
    assert restarts(host) == 2


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_a_tracing_line_changed_by_hand_since_stays(host: dict[str, Path]) -> None:
    original = b"database = off\ntracing_sampling_rate = 0.01\nlog_level = notice"
    host["conf"].write_bytes(original)
    apply(host, TracingSettings())
    text = host["conf"].read_text()
    host["conf"].write_text(text.replace("tracing_sampling_rate = 1.0", "tracing_sampling_rate = 0.3"))
    result = restore(host, TracingSettings())
    assert result.returncode == 0 and "1 of the tracing settings" in result.stderr
    assert host["conf"].read_bytes() == b"database = off\ntracing_sampling_rate = 0.3\nlog_level = notice", \
        "the appended block goes, the missing final newline comes back, the hand-set rate stays"


@pytest.mark.parametrize("original", [
    "", "x = 1", "x = 1\n#tracing_sampling_rate = 0.01  # rate\n", "tracing_sampling_rate = \\\n  0.2\ny = 2\n",
    "\ufeffopentelemetry_tracing_sampling_rate = 0.3\r\ntracing_instrumentations = request\r\n",
])
@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_the_host_restore_and_the_python_rule_agree(host: dict[str, Path], original: str) -> None:
    host["conf"].write_bytes(original.encode())
    apply(host, TracingSettings())
    patched = host["conf"].read_bytes().decode()
    chunks = restore_chunks(original, TracingSettings())
    assert undo_chunks(patched, chunks) == original
    assert restore(host, TracingSettings()).returncode == 0
    assert host["conf"].read_bytes() == original.encode()


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_a_failed_restart_is_retried_by_the_next_run_though_the_file_is_done(host: dict[str, Path]) -> None:
    payload = patched_payload(base64.b64encode(HOST_CONF.encode()).decode(), TracingSettings())
    failed = run_script(APPLY_SCRIPT, host, payload, restart_fails=True)
    assert failed.returncode != 0 and "restart failed" in failed.stderr
    assert host["conf"].read_bytes() == base64.b64decode(payload)
    retried = run_script(APPLY_SCRIPT, host, payload)
    assert retried.returncode == 0, retried.stderr
    assert restarts(host) == 1, "Kong must not keep running without the tracing settings it was given"
    assert not Path(f"{host['conf']}.kong-slo.restart-pending").exists()
    assert run_script(APPLY_SCRIPT, host, payload).returncode == 0
    assert restarts(host) == 1, "and once it has restarted, an unchanged run restarts nothing"


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_a_failed_restart_on_destroy_is_retried_by_the_next_destroy(host: dict[str, Path]) -> None:
    apply(host, TracingSettings())
    assert restore(host, TracingSettings(), restart_fails=True).returncode != 0
    assert host["conf"].read_bytes() == HOST_CONF.encode()
    retried = restore(host, TracingSettings())
    assert retried.returncode == 0, retried.stderr
    assert restarts(host) == 2


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_a_symlinked_conf_keeps_its_link_and_its_target_is_patched(host: dict[str, Path]) -> None:
    link = host["conf"].parent / "kong-link.conf"
    link.symlink_to(host["conf"])
    payload = patched_payload(base64.b64encode(HOST_CONF.encode()).decode(), TracingSettings())
    assert run_script(APPLY_SCRIPT, host, payload, conf=link).returncode == 0
    assert link.is_symlink() and host["conf"].read_bytes() == base64.b64decode(payload)
    assert restore(host, TracingSettings(), conf=link).returncode == 0
    assert link.is_symlink() and host["conf"].read_bytes() == HOST_CONF.encode()


@pytest.mark.skipif(SH is None, reason="needs a POSIX sh")
def test_reading_a_missing_file_fails_instead_of_patching_an_empty_one(host: dict[str, Path]) -> None:
    missing = host["conf"].parent / "absent.conf"
    result = run_script(READ_SCRIPT, host, conf=missing)
    assert result.returncode != 0 and result.stdout == ""
    assert "cannot read" in result.stderr and str(missing) in result.stderr
    shown = run_script(READ_SCRIPT, host)
    assert shown.returncode == 0 and decode_conf(shown.stdout) == HOST_CONF
