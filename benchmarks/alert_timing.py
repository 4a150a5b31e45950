"""Alert timing: the replay harness (tests/providers/alert_replay.py) over every objective and traffic history,
printed as the README's table. ``--readme`` writes it into README.md between its markers.

    .venv/bin/python benchmarks/alert_timing.py [--readme]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.providers.alert_replay import TABLE_END, TABLE_START, markdown_table, replay_all  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    table = markdown_table(replay_all())
    if not parser.parse_args().readme:
        print(table)
        return 0
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    if not rest:
        print(f"README.md has no {TABLE_START} marker", file=sys.stderr)
        return 2
    readme.write_text(f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}", encoding="utf-8")
    print("README.md: alert timing table written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
