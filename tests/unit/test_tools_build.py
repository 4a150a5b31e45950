"""``tools/build.sh`` (`make tools`): the replace directives it repeats are read by the project's own Python, and
a step that fails stops the build, under a stand-in ``go`` that records what it is asked."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BUILD = ROOT / "tools" / "build.sh"
GO_MOD = {"Module": {"Path": "github.com/pulumi/pulumi/pkg/v3"},
          "Replace": [{"Old": {"Path": "github.com/a/b", "Version": "v1.0.0"},
                       "New": {"Path": "github.com/a/b", "Version": "v1.0.1"}},
                      {"Old": {"Path": "github.com/c/d"}, "New": {"Path": "github.com/e/d", "Version": "v2.0.0"}},
                      {"Old": {"Path": "github.com/pulumi/pulumi/sdk/v3"}, "New": {"Path": "../sdk"}}]}
FLAGS = ["-replace=github.com/a/b@v1.0.0=github.com/a/b@v1.0.1", "-replace=github.com/c/d=github.com/e/d@v2.0.0"]


def replaces_script() -> str:
    match = re.search(r"^REPLACES_PY='(.*?)^'$", BUILD.read_text(), re.MULTILINE | re.DOTALL)
    assert match, "tools/build.sh should define REPLACES_PY"
    return match.group(1)


def test_the_replace_reader_runs_on_this_python_and_keeps_only_module_replaces() -> None:
    compile(replaces_script(), "REPLACES_PY", "exec")  # a SyntaxError here is what 3.11 printed before
    result = subprocess.run([sys.executable, "-c", replaces_script()], input=json.dumps(GO_MOD),
                            capture_output=True, text=True, check=True)
    assert result.stdout.split() == FLAGS


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of tools/ with a pinned collector already built, and a stand-in ``go`` whose ``go get`` fails."""
    if shutil.which("bash") is None:
        pytest.fail("bash is needed to run tools/build.sh")
    shutil.copytree(ROOT / "tools", tmp_path / "tools")
    pin = subprocess.run(["bash", "-c", 'source tools/versions.env; printf "%s/%s/%s" "$OTELCOL_RELEASE" '
                          '"$OTELCOL_STABLE_RELEASE" "$(sha256sum tools/otelcol/manifest.yaml | cut -c1-12)"'],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    bin_folder = tmp_path / ".tools" / "bin"
    bin_folder.mkdir(parents=True)
    (bin_folder / "otelcol").write_text("#!/bin/sh\necho otelcol test\n")
    (bin_folder / "otelcol").chmod(0o755)
    (bin_folder / ".otelcol.pin").write_text(pin)
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    python = Path(sys.executable)
    (fake / "python3").symlink_to(python)
    (fake / "go").write_text(f"""#!/bin/sh
printf '%s\\n' "$*" >> {tmp_path / "go-calls"}
case "$1 $2" in
  "mod download") echo '{{"Dir": "{upstream}"}}' ;;
  "mod edit") if [ "$3" = "-json" ]; then
                [ -e {tmp_path / "fail-mod-edit"} ] && {{ echo "go: go.mod: unreadable" >&2; exit 1; }}
                echo '{json.dumps(GO_MOD)}'
              fi ;;
  "get "*) echo "go: module lookup disabled" >&2; exit 1 ;;
esac
exit 0
""")
    (fake / "go").chmod(0o755)
    return tmp_path


def build(checkout: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{checkout / 'fake-bin'}:/usr/bin:/bin"}
    return subprocess.run(["bash", str(checkout / "tools" / "build.sh")], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=60)


def test_replace_directives_that_cannot_be_read_stop_the_build_before_go_get(checkout: Path) -> None:
    (checkout / "fail-mod-edit").touch()
    result = build(checkout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "its replace directives could not be read" in result.stderr
    calls = (checkout / "go-calls").read_text().splitlines()
    assert not any(call.startswith(("get ", "mod init", "mod tidy", "build")) for call in calls), calls


def test_a_failing_go_get_stops_the_build(checkout: Path) -> None:
    result = build(checkout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "make tools: could not build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" in result.stderr
    assert "SyntaxError" not in result.stderr
    calls = (checkout / "go-calls").read_text().splitlines()
    assert f"mod edit {' '.join(FLAGS)}" in calls, calls
    assert calls[-1].startswith("get github.com/pulumi/pulumi/pkg/v3@v"), calls
    assert not any(call.startswith(("mod tidy", "build")) for call in calls)
    assert not (checkout / ".tools" / "bin" / ".pulumi.pin").exists()
