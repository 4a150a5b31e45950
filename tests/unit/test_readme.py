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
