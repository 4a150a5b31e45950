"""One Kong node's effective configuration, as Kong builds it when it starts or reloads, written from Kong's source
independently of kong-slo's code; the Admin API emulator reports it in ``GET /`` (``FakeKong(node=…)``).

Sources, Kong/kong:
- ``kong/conf_loader/parse.lua`` ``overrides`` (3.9.1): a key's default, then kong.conf, then the environment
  variable ``KONG_<KEY upper-cased>``, each beating the one before.
- ``kong/conf_loader/init.lua`` ``aliased_properties`` and ``kong/conf_loader/constants.lua`` (3.9.1): from 3.2
  ``opentelemetry_tracing`` / ``opentelemetry_tracing_sampling_rate`` are aliases, copied to
  ``tracing_instrumentations`` / ``tracing_sampling_rate`` only when the new key is set nowhere; types ``array``
  (comma-separated, items trimmed) and ``number``.
- ``kong/cmd/reload.lua`` (3.9.1): ``kong reload -c FILE`` loads FILE in the environment of the process that runs
  it; the systemd unit's reload runs ``kong prepare`` in the unit's environment. Either way the variables that
  count are those of the process that (re)loads Kong, which the stand-in CLI (``KONG_CLI``) records.
- kong.conf.default (3.0.0, 3.4.2, 3.9.3): ``tracing_instrumentations = off``; ``tracing_sampling_rate`` 1.0
  up to 3.2 and 0.01 from 3.3 (3.0 and 3.1: ``opentelemetry_tracing`` off, rate 1.0).
- kong.conf syntax (Penlight's ``pl.config`` as Kong calls it): ``#`` starts a comment unless escaped, the line
  splits at the first ``=``, both sides trimmed, and the last setting of a key wins.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KONG_CLI = """#!/bin/sh
# A stand-in for Kong's CLI: every call is recorded; `kong check FILE` accepts; `kong reload|restart|start|prepare
# -c FILE` loads FILE the way Kong does, in this process's environment (what the node's Admin API then reports).
here=$(dirname "$0")
echo "$*" >> "$here/kong-calls.log"
command=$1; shift
case $command in reload|restart|start|prepare) ;; *) exit 0 ;; esac
conf=/etc/kong/kong.conf
while [ $# -gt 0 ]; do if [ "$1" = "-c" ]; then conf=$2; shift; fi; shift; done
cp -- "$conf" "$here/running.conf.new" && mv -f -- "$here/running.conf.new" "$here/running.conf"
env | grep '^KONG_' > "$here/running.env" || true
"""
"""The CLI stand-in, placed as ``kong`` in ``NodeRuntime.folder`` (on the node's PATH)."""

COMMENT = re.compile(r"(?<!\\)#.*")


def _release(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def tracing_keys(version: str) -> tuple[str, str]:
    return ("opentelemetry_tracing", "opentelemetry_tracing_sampling_rate") if _release(version) < (3, 2) \
        else ("tracing_instrumentations", "tracing_sampling_rate")


def defaults(version: str) -> dict[str, str]:
    instrumentations, rate = tracing_keys(version)
    return {instrumentations: "off", rate: "0.01" if _release(version) >= (3, 3) else "1.0"}


def read_conf(text: str) -> dict[str, str]:
    """kong.conf's settings: comments stripped (``\\#`` is a literal ``#``), the last setting of a key wins."""
    settings: dict[str, str] = {}
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip().startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        settings[key.strip()] = COMMENT.sub("", value).strip().replace("\\#", "#")
    return settings


def effective(version: str, conf_text: str, environment: dict[str, str]) -> dict[str, Any]:
    """The tracing part of ``GET /`` → ``configuration`` for a node of ``version`` loaded from ``conf_text`` in
    ``environment``: the instrumentations as a list, the rate as a number."""
    instrumentations, rate = tracing_keys(version)
    conf = read_conf(conf_text)
    chosen: dict[str, str] = {}
    for key in ("opentelemetry_tracing", "opentelemetry_tracing_sampling_rate", instrumentations, rate):
        value = environment.get(f"KONG_{key.upper()}", conf.get(key))
        if value is not None and value != "":
            chosen[key] = value
    if _release(version) >= (3, 2):
        for old, new in (("opentelemetry_tracing", instrumentations), ("opentelemetry_tracing_sampling_rate", rate)):
            if old in chosen and new not in chosen:
                chosen[new] = chosen[old]
    values = {**defaults(version), **{key: chosen[key] for key in (instrumentations, rate) if key in chosen}}
    return {instrumentations: [item.strip() for item in values[instrumentations].split(",") if item.strip()],
            rate: float(values[rate])}


@dataclass
class NodeRuntime:
    """What one node runs with: the kong.conf and ``KONG_*`` environment of its last (re)load through the stand-in
    CLI in ``folder``; Kong's defaults before its first one. ``install()`` puts the CLI there."""

    folder: Path
    environment_before: dict[str, str] = field(default_factory=dict)
    """The environment of the node's first start, before any reload the stand-in saw."""

    def install(self) -> Path:
        cli = self.folder / "kong"
        cli.write_text(KONG_CLI)
        cli.chmod(0o755)
        return cli

    def configuration(self, version: str) -> dict[str, Any]:
        conf = self.folder / "running.conf"
        if not conf.exists():
            return effective(version, "", self.environment_before)
        env_file = self.folder / "running.env"
        lines = env_file.read_text().splitlines() if env_file.exists() else []
        environment = dict(line.split("=", 1) for line in lines if "=" in line)
        return effective(version, conf.read_text(encoding="utf-8"), environment)

    def calls(self) -> list[str]:
        log = self.folder / "kong-calls.log"
        return log.read_text().splitlines() if log.exists() else []


def path_with(folder: Path) -> str:
    """``PATH`` with the stand-in CLI's folder first."""
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
