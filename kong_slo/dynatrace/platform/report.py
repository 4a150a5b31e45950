"""``kong-slo report`` for a platform stack: each SLO as the platform SLO API evaluates it (as ``status`` reads it),
its budget and burn over the objective's window from the counter in Grail, and the burn-rate alerts that fired.

The series run the platform SLIs' own counter query (``calls_timeseries``: ``total`` and ``good`` per interval)
through Grail's query API, one interval per thirtieth of the window.

The alerts are the Davis events the burn-rate detectors raised, read with ``fetch dt.davis.events`` through the same
query API. Latest Dynatrace documents Davis events and problems as Grail tables (semantic dictionary, "Davis AI":
"Davis events can be queried using the following base query. fetch dt.davis.events"; "Every Davis event update
is exported to Grail"), reachable with the platform credentials the stack already has (``storage:events:read``);
the Problems API v2 would need a classic ``problems.read`` API token on the ``live`` host, which a platform stack's
report does not otherwise use. A detector's event is the alert itself (the problem Davis opens around it may merge
others), and its name begins with the stack's prefix, so events are filtered on ``event.name``. Grail holds one
record per update of an event, so the latest update of each ``event.id`` is the one shown.
"""

from __future__ import annotations

import time
from typing import Any

from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.platform.credentials import credentials_from_environment
from kong_slo.dynatrace.platform.definitions import calls_timeseries, dql_string
from kong_slo.dynatrace.platform.grail import QUERY_SCOPES, GrailClient, duration_ms, timestamp_ms
from kong_slo.dynatrace.platform.status import POLICY, platform_rows
from kong_slo.objectives.burn_rate import objective_minutes
from kong_slo.objectives.report_model import (
    FiredAlert,
    ObjectiveReport,
    Report,
    deployment_notes,
    interval_minutes,
    longest_window_minutes,
    series_from_counts,
)
from kong_slo.objectives.sli import SloDefinition, slo_name_prefix
from kong_slo.objectives.status import ObjectiveStatus
from kong_slo.settings import StackSettings

MINUTE_MS = 60_000


def events_query(stack: str) -> str:
    """The Davis events of the stack's burn-rate detectors, every update of each."""
    return (f'fetch dt.davis.events\n| filter event.kind == "DAVIS_EVENT" and '
            f"startsWith(event.name, {dql_string(slo_name_prefix(stack) + ' ')})\n"
            f"| fields timestamp, event.id, event.name, event.status, event.start, event.end")


def fired_alerts(records: list[dict[str, Any]]) -> list[FiredAlert]:
    """One alert per ``event.id``, from its latest update, in order of opening."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        key = str(record.get("event.id"))
        if key not in latest or (timestamp_ms(record.get("timestamp")) or 0) >= \
                (timestamp_ms(latest[key].get("timestamp")) or 0):
            latest[key] = record
    alerts = [FiredAlert(str(record.get("event.name")), "OPEN" if record.get("event.status") == "ACTIVE" else "CLOSED",
                         timestamp_ms(record.get("event.start")) or 0,
                         None if record.get("event.status") == "ACTIVE" else timestamp_ms(record.get("event.end")))
              for record in latest.values()]
    return sorted(alerts, key=lambda alert: alert.start_ms)


def objective_series(grail: GrailClient, definition: SloDefinition, status: ObjectiveStatus,
                     now_ms: int) -> ObjectiveReport:
    """Budget left and burn rate per interval of the window, from the counter in Grail."""
    window, step = objective_minutes(definition.window), interval_minutes(definition.window)
    query = calls_timeseries(definition.api, definition.objective, total_default=True, options=f", interval: {step}m")
    records = grail.query(query, now_ms - window * MINUTE_MS, now_ms, what=f"read {definition.api}'s calls")
    if not records:
        return ObjectiveReport(status, definition.window, 0.0)
    record = records[0]
    start = timestamp_ms((record.get("timeframe") or {}).get("start"))
    interval = duration_ms(record.get("interval")) or step * MINUTE_MS
    total, good = record.get("total") or [], record.get("good") or []
    if start is None or len(good) != len(total):
        raise DynatraceError(f"read {definition.api}'s calls: a timeseries record without timeframe or series")
    starts = [start + index * interval for index in range(len(total))]
    budget, burn, calls = series_from_counts(starts, interval, good, total, definition.target)
    return ObjectiveReport(status, definition.window, calls, budget, burn)


def platform_report(settings: StackSettings, url: str | None, definitions: list[SloDefinition]) -> Report:
    """The report; raises ``Unreachable``, ``MissingToken`` or ``DynatraceError`` when the SLOs cannot be read."""
    platform = settings.dynatrace.platform if settings.dynatrace else None
    platform_url = url or (platform.url if platform else "")
    rows = platform_rows(settings, platform_url, definitions)
    now = int(time.time() * 1000)
    try:
        bearer = credentials_from_environment(settings).bearer(POLICY, QUERY_SCOPES)
    except DynatraceError as error:
        objectives = [ObjectiveReport(row, d.window, 0.0) for d, row in zip(definitions, rows, strict=True)]
        note = f"Grail could not be read ({error}); the credentials need {', '.join(QUERY_SCOPES)}."
        return Report(settings.stack, "platform", platform_url, now, objectives, [], [note])
    notes: list[str] = []
    with GrailClient(platform_url, bearer, policy=POLICY) as grail:
        try:
            objectives = [objective_series(grail, definition, row, now)
                          for definition, row in zip(definitions, rows, strict=True)]
        except DynatraceError as error:
            objectives = [ObjectiveReport(row, d.window, 0.0) for d, row in zip(definitions, rows, strict=True)]
            notes.append(f"The counter could not be read from Grail ({error}); the credentials need "
                         "storage:buckets:read and storage:metrics:read.")
        longest = longest_window_minutes(definition.window for definition in definitions)
        try:
            alerts = fired_alerts(grail.query(events_query(settings.stack), now - longest * MINUTE_MS, now,
                                              what="read the burn-rate alerts"))
        except DynatraceError as error:
            alerts = []
            notes.append(f"The alerts could not be read ({error}); the credentials need storage:buckets:read and "
                         "storage:events:read.")
    notes += deployment_notes(rows)
    return Report(settings.stack, "platform", platform_url, now, objectives, alerts, notes)
