"""The real Pulumi CLI (from .tools/bin) running the project's program in a throwaway project folder.

The folder holds a copy of ``__main__.py`` (or of another program file) and a ``Pulumi.yaml`` like the project's
(the stack virtualenv is the project's ``.venv``, where ``kong_slo`` is installed), a local file backend, the
passphrase secrets provider and its own ``PULUMI_HOME``. Nothing is downloaded: the language host and the
dynamic-provider shim come from .tools/bin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.tools import ROOT, tool, tools_bin

PASSPHRASE = "e2e-passphrase-not-a-secret"
COMMAND_TIMEOUT = 300


class PulumiProject:
    def __init__(self, workdir: Path, stack: str = "e2e", program: Path = ROOT / "__main__.py") -> None:
        self.dir = workdir / "project"
        self.dir.mkdir(parents=True)
        shutil.copy(program, self.dir / "__main__.py")
        project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
        project["runtime"]["options"] = {"virtualenv": str(ROOT / ".venv")}
        (self.dir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
        (self.dir / "stacks").mkdir()
        self.state = workdir / "state"
        self.state.mkdir()
        self.stack = stack
        tool("pulumi")
        tool("pulumi-language-python")
        self.env = {
            **os.environ,
            # The language host runs the first `python3` on PATH: the project's virtualenv.
            "PATH": os.pathsep.join([str(ROOT / ".venv" / "bin"), str(tools_bin()), os.environ.get("PATH", "")]),
            "PULUMI_BACKEND_URL": f"file://{self.state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_HOME": str(workdir / "pulumi-home"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        self.run("stack", "init", stack)

    @property
    def stack_file(self) -> Path:
        return self.dir / "stacks" / f"Pulumi.{self.stack}.yaml"

    def run(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """``pulumi ARGS`` in the project; fails the test with the CLI's output when ``check`` and it fails."""
        result = subprocess.run([str(tool("pulumi")), *args, "--non-interactive"], cwd=self.dir, env=self.env,
                                capture_output=True, text=True, timeout=COMMAND_TIMEOUT, input=stdin)
        if check and result.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    def configure(self, config: dict[str, Any]) -> None:
        """Replace the stack file's plain ``kong-slo:`` keys (as a user edits the file); secrets already set stay."""
        document = yaml.safe_load(self.stack_file.read_text()) or {}
        wanted = {f"kong-slo:{key}": value for key, value in config.items()}
        document["config"] = _keep_secrets(document.get("config") or {}, wanted)
        self.stack_file.write_text(yaml.safe_dump(document, sort_keys=False))

    def set_secret(self, key: str, value: str) -> None:
        """``pulumi config set --secret --path kong-slo:KEY``, the value on standard input as a user pipes it."""
        self.run("config", "set", "--secret", "--path", f"kong-slo:{key}", stdin=value)

    def up(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--skip-preview", *args, check=check)

    def state_text(self) -> str:
        """Everything the backend stores for the stack, as it lies on disk."""
        return "\n".join(path.read_text(errors="replace") for path in self.state.rglob("*") if path.is_file())

    def export(self) -> dict[str, Any]:
        """``pulumi stack export``: the checkpoint as the CLI hands it out (secrets stay ciphertext)."""
        return json.loads(self.run("stack", "export").stdout)


def _keep_secrets(old: Any, new: Any) -> Any:
    """``new``, plus every encrypted value of ``old`` at a place ``new`` leaves unset."""
    if not (isinstance(old, dict) and isinstance(new, dict)) or set(old) == {"secure"}:
        return new
    merged = dict(new)
    for key, value in old.items():
        if key in new:
            merged[key] = _keep_secrets(value, new[key])
        elif '"secure"' in json.dumps(value):
            merged[key] = value
    return merged
