"""What doctor found: one ``Check`` per question asked, grouped by link, printed as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

OK = "ok"
PROBLEM = "problem"
SKIPPED = "skipped"

LINKS = ("kong", "plugins", "collector", "dynatrace")
LINK_TITLES = {"kong": "Kong", "plugins": "Plugins", "collector": "Collector", "dynatrace": "Dynatrace"}


@dataclass(frozen=True)
class Check:
    """One answer. ``detail`` says what was found (for ``skipped``: why it was not checked); ``fix`` is the one
    thing to do, set for every problem."""

    link: str
    name: str
    """A stable id for scripts, e.g. ``kong.tracing`` or ``plugins.Orders.effective``."""
    state: str
    detail: str
    fix: str | None = None


def ok(link: str, name: str, detail: str) -> Check:
    return Check(link, name, OK, detail)


def problem(link: str, name: str, detail: str, fix: str) -> Check:
    return Check(link, name, PROBLEM, detail, fix)


def skipped(link: str, name: str, reason: str) -> Check:
    return Check(link, name, SKIPPED, reason)


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @classmethod
    def of(cls, checks: Iterable[Check]) -> Report:
        return cls(tuple(checks))

    @property
    def problems(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.state == PROBLEM)

    def counts(self) -> dict[str, int]:
        return {state: sum(1 for check in self.checks if check.state == state) for state in (OK, PROBLEM, SKIPPED)}


def render_text(report: Report) -> str:
    """One line per check, grouped by link; the fix indented under each problem; a summary line last."""
    width = max(len(state) for state in (OK, PROBLEM, SKIPPED))
    lines: list[str] = []
    for link in LINKS:
        checks = [check for check in report.checks if check.link == link]
        if not checks:
            continue
        lines.append(LINK_TITLES[link])
        for check in checks:
            lines.append(f"  {check.state.ljust(width)}  {check.detail}")
            if check.fix:
                lines.append(f"  {'':{width}}  fix: {check.fix}")
    counts = report.counts()
    lines.append(f"{counts[PROBLEM]} problem(s), {counts[OK]} ok, {counts[SKIPPED]} skipped")
    return "\n".join(lines)


def render_json(report: Report) -> str:
    """``{"ok": bool, "counts": {...}, "checks": [{link, name, state, detail, fix}, ...]}``."""
    return json.dumps({"ok": not report.problems, "counts": report.counts(),
                       "checks": [asdict(check) for check in report.checks]}, indent=2)
