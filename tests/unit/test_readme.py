"""The README's stack file reference lists exactly the keys the settings code accepts."""

from __future__ import annotations

import re
from pathlib import Path

from kong_slo.settings.keys import all_key_paths

ROW = re.compile(r"^\| `([^`]+)` \|")


def documented_keys(readme: str) -> list[str]:
    section = readme.split("## Stack file reference", 1)[1].split("\n## ", 1)[0]
    return [match.group(1) for line in section.splitlines() if (match := ROW.match(line))]


def test_reference_documents_every_key_and_nothing_else(root: Path) -> None:
    documented = documented_keys((root / "README.md").read_text(encoding="utf-8"))
    assert len(documented) == len(set(documented)), "a key is documented twice"
    assert set(documented) == set(all_key_paths())


def test_readme_names_the_two_commands(root: Path) -> None:
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "make up" in readme and "make test" in readme


def test_every_pulumi_command_shown_runs_on_the_projects_backend(root: Path) -> None:
    """A bare `pulumi stack …` would run against the user's own login and passphrase, not the make targets' ones."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.DOTALL)
    commands = [line.strip() for block in blocks for line in block.splitlines()]
    commands += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", readme, flags=re.DOTALL))
    runnable = r"(^|\$\(|&& )pulumi ((config|stack) |(preview|up|destroy|refresh) -)"
    bare = [command for command in commands if re.search(runnable, command)]
    assert bare == []
    assert 'make pulumi STACK=dev ARGS="config set --secret --path kong-slo:dynatrace.apiToken' in readme


def test_readme_names_the_supported_pythons_and_the_installed_command(root: Path) -> None:
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11, 3.12 or 3.13" in readme
    assert "3.11+" not in readme and "needs only Python 3.11\n" not in readme
    assert ".venv/bin/kong-slo" in readme and 'export PATH="$PWD/.venv/bin:$PATH"' in readme
