"""``kong-slo report`` for a classic stack: each SLO evaluated by Dynatrace (as ``status`` reads it), its budget and
burn over the objective's window from the counter, and the problems the burn-rate alerts opened."""

from __future__ import annotations

import time

from kong_slo.dynatrace.classic.status import classic_rows
from kong_slo.dynatrace.client import DynatraceClient, DynatraceError
from kong_slo.dynatrace.report_reads import counts, fired_alerts
from kong_slo.http import RetryPolicy
from kong_slo.objectives.report_model import (
    ObjectiveReport,
    Report,
    deployment_notes,
    interval_minutes,
    longest_window_minutes,
    series_from_counts,
)
from kong_slo.objectives.sli import SloDefinition


def objective_series(client: DynatraceClient, definition: SloDefinition, status: object) -> ObjectiveReport:
    if definition.sli_source != "collector":
        return ObjectiveReport(status, definition.window, 0.0)  # type: ignore[arg-type]
    step = interval_minutes(definition.window)
    ends, good, total = counts(client, definition, f"now-{definition.window}", f"{step}m")
    starts = [end - step * 60_000 for end in ends]
    budget, burn, calls = series_from_counts(starts, step * 60_000, good, total, definition.target)
    return ObjectiveReport(status, definition.window, calls, budget, burn)  # type: ignore[arg-type]


def classic_report(url: str, token: str, stack: str, definitions: list[SloDefinition],
                   policy: RetryPolicy) -> Report:
    """The report; raises ``Unreachable`` when Dynatrace cannot be reached."""
    rows = classic_rows(url, token, stack, definitions, policy)
    notes: list[str] = []
    with DynatraceClient(url, token, policy=policy) as client:
        objectives = [objective_series(client, definition, row) for definition, row in zip(definitions, rows,
                                                                                             strict=True)]
        longest = longest_window_minutes(definition.window for definition in definitions)
        try:
            alerts = fired_alerts(client, stack, f"now-{longest}m")
        except DynatraceError as error:
            alerts = []
            notes.append(f"The alerts could not be read ({error}); the token needs problems.read.")
    notes += deployment_notes(rows)
    return Report(stack, "classic", url, int(time.time() * 1000), objectives, alerts, notes)
