"""The real collector running a config `kong-slo render` produced, on loopback ports of its own.

Only what must differ on a test machine is moved: listening addresses and ports, the queue directory, the token
file, the collector's own telemetry, and the exporter's address (the Dynatrace emulator). Receivers, processors,
connectors and pipelines run exactly as rendered.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.e2e.tools import free_port, tool

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
TOKEN_FILE_REFERENCE = re.compile(r"\$\{file:[^}]+\}")


def localise(config_text: str, *, ports: dict[str, int], storage: Path, dynatrace_url: str | None,
             token_file: Path, telemetry_port: int | None = None) -> str:
    """``config_text`` with addresses, directories and the exporter moved for this machine."""
    document: dict[str, Any] = yaml.safe_load(config_text)
    protocols = document["receivers"]["otlp"]["protocols"]
    protocols["http"]["endpoint"] = f"127.0.0.1:{ports['http']}"
    if "grpc" in protocols:
        protocols["grpc"]["endpoint"] = f"127.0.0.1:{ports['grpc']}"
    extensions = document.get("extensions", {})
    extensions["health_check"]["endpoint"] = f"127.0.0.1:{ports['health']}"
    if "file_storage" in extensions:
        extensions["file_storage"]["directory"] = str(storage)
        if "compaction" in extensions["file_storage"]:
            extensions["file_storage"]["compaction"]["directory"] = str(storage)
    for name, exporter in document.get("exporters", {}).items():
        if name.split("/")[0] in ("otlphttp", "otlp_http") and dynatrace_url is not None:
            exporter["endpoint"] = f"{dynatrace_url}/api/v2/otlp"
    # The collector's own metrics would listen on :8888; a test runs several collectors at once.
    telemetry = document["service"].get("telemetry", {}).get("metrics", {})
    if telemetry_port is not None and telemetry.get("readers"):
        telemetry["readers"][0]["pull"]["exporter"]["prometheus"].update(host="127.0.0.1", port=telemetry_port)
    else:
        document["service"]["telemetry"] = {"metrics": {"level": "none"}}
    return TOKEN_FILE_REFERENCE.sub(f"${{file:{token_file}}}", yaml.safe_dump(document, sort_keys=False))


class Collector:
    """A collector process; a context manager that always stops it."""

    def __init__(self, config_text: str, workdir: Path, *, dynatrace_url: str | None = None,
                 token: str = "dt0c01.E2E.TOKEN", env: dict[str, str] | None = None, telemetry: bool = False,
                 storage: Path | None = None) -> None:
        """``storage``: the queue directory (default ``workdir/queue``); another collector's, to stand for a
        queue volume moved to a new host."""
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.ports = {"http": free_port(), "grpc": free_port(), "health": free_port(), "telemetry": free_port()}
        self.storage = storage or workdir / "queue"
        self.storage.mkdir(exist_ok=True)
        token_file = workdir / "token"
        token_file.write_text(token)
        self.config_path = workdir / "config.yaml"
        self.config_path.write_text(localise(config_text, ports=self.ports, storage=self.storage,
                                             dynatrace_url=dynatrace_url, token_file=token_file,
                                             telemetry_port=self.ports["telemetry"] if telemetry else None))
        self.env = {**os.environ, "DT_API_TOKEN": token, "GOMAXPROCS": "1", **(env or {})}
        self.log_path = workdir / "collector.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def traces_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}/v1/traces"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['health']}/"

    @property
    def telemetry_url(self) -> str:
        """The collector's own metrics (only with ``telemetry=True``)."""
        return f"http://127.0.0.1:{self.ports['telemetry']}/metrics"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> Collector:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([str(tool("otelcol")), "--config", str(self.config_path)],
                                            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the collector exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.health_url, timeout=1).status_code == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"the collector was not healthy within {START_TIMEOUT:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        """Graceful shutdown (SIGTERM), as `docker stop` does; killed if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """A hard kill (SIGKILL): the process gets no chance to shut down."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def validate(config_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``otelcol validate`` on a config file."""
    return subprocess.run([str(tool("otelcol")), "validate", "--config", str(config_path)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "DT_API_TOKEN": "dt0c01.E2E.TOKEN", **(env or {})})


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
