"""Debian's sshd on 127.0.0.1, one instance per Kong node, reached with the real ``ssh`` client as pulumi-command's
remote ``Command`` reaches a node: the kong.conf scripts run there, over SSH, against a stand-in ``kong``."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.tools import free_port

SSHD = Path("/usr/sbin/sshd")
FAKE_KONG = """#!/bin/sh
# A stand-in for Kong's CLI: `kong check FILE` accepts, `kong reload -c FILE` / `kong restart` are recorded.
echo "$*" >> "$(dirname "$0")/kong-calls.log"
"""


def sshd_or_fail() -> Path:
    if not SSHD.exists() or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.fail("Debian's sshd and ssh are missing: apt-get install openssh-server openssh-client",
                    pytrace=False)
    return SSHD


class KongNode:
    """One node: its own sshd on a free port, its own kong.conf and ``kong`` on the session's PATH."""

    def __init__(self, root: Path, client_key: Path) -> None:
        self.root, self.port = root, free_port()
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        kong = self.bin / "kong"
        kong.write_text(FAKE_KONG)
        kong.chmod(0o755)
        self.conf = root / "kong.conf"
        host_key = root / "host_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
        self.host_key = (root / "host_ed25519.pub").read_text().split(" ")[:2]
        authorized = root / "authorized_keys"
        authorized.write_text(Path(f"{client_key}.pub").read_text())
        config = root / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}", f"PidFile {root / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized}", "StrictModes no", "UsePAM no", "PasswordAuthentication no",
            "PermitRootLogin prohibit-password", f"SetEnv PATH={self.bin}:/usr/bin:/bin", ""]))
        Path("/run/sshd").mkdir(exist_ok=True)
        with open(root / "sshd.log", "wb") as log:  # sshd keeps its own copy of the descriptor
            self.process = subprocess.Popen([str(sshd_or_fail()), "-D", "-e", "-f", str(config)],
                                            stdout=subprocess.DEVNULL, stderr=log)
        self.known_hosts = root / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {' '.join(self.host_key)}\n")
        self.client_key = client_key
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.run("true").returncode == 0:
                return
            time.sleep(0.2)
        pytest.fail(f"sshd on 127.0.0.1:{self.port} did not answer: {(self.root / 'sshd.log').read_text()}")

    def run(self, command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """``command`` on the node over SSH, the host key pinned as ``kong.ssh.hostKey`` pins it."""
        return subprocess.run(
            ["ssh", "-i", str(self.client_key), "-p", str(self.port), "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
             "-o", "ConnectTimeout=10", f"{os.environ.get('USER', 'root')}@127.0.0.1", command],
            input=stdin, capture_output=True, text=True, timeout=60)

    def calls(self) -> list[str]:
        log = self.bin / "kong-calls.log"
        return log.read_text().splitlines() if log.exists() else []

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
