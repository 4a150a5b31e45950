"""``GET /api/v2/problems`` for the Dynatrace emulator: the problems the metric events (classic) and the Davis
anomaly detectors (platform) open over the metric store, as the Problems API v2 lists them.

As documented (https://docs.dynatrace.com/docs/dynatrace-api/environment-api/problems-v2/problems/get-problems-list):
scope ``problems.read``; ``from`` (default ``now-2h``) and ``to``; ``problemSelector`` (here only ``text("…")``,
a case-insensitive match on the title; anything else is refused so a client relying on more fails loudly);
``pageSize`` up to 500, ``nextPageKey`` alone. Each problem has ``problemId``, ``displayId``, ``title``,
``status`` (``OPEN``/``CLOSED``), ``severityLevel``, ``startTime`` and ``endTime`` (ms; -1 while open).
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes import dynatrace_ingest
from tests.fakes.dynatrace_detectors import detector_events
from tests.fakes.dynatrace_metric_events import SEVERITY_OF_EVENT, problems

TEXT = re.compile(r'^text\("((?:[^"~]|~.)*)"\)$')


def route(fake: Any, method: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    if method != "GET":
        return 405, {"error": {"code": 405, "message": "Method not allowed"}}, {}
    if "nextPageKey" in query:
        return 400, {"error": {"code": 400, "message": "no further page"}}, {}
    selector = query.get("problemSelector", "")
    match = TEXT.match(selector) if selector else None
    if selector and match is None:
        return 400, {"error": {"code": 400, "message": f"problemSelector {selector!r} is not emulated"}}, {}
    wanted = re.sub(r"~(.)", r"\1", match.group(1)).lower() if match else ""
    end = dynatrace_ingest._time(fake, query.get("to", "now"))
    start = dynatrace_ingest._time(fake, query.get("from", "now-2h"))
    raised = sorted([*problems(fake, start, end), *detector_events(fake, start, end)], key=lambda p: p.opened_ms)
    found = [{"problemId": f"{index}_{problem.opened_ms}V2", "displayId": f"P-{index + 1}", "title": problem.title,
              "status": "OPEN" if problem.closed_ms is None else "CLOSED",
              "severityLevel": SEVERITY_OF_EVENT.get(problem.event_type, "CUSTOM_ALERT"),
              "startTime": problem.opened_ms, "endTime": -1 if problem.closed_ms is None else problem.closed_ms}
             for index, problem in enumerate(raised) if wanted in problem.title.lower()]
    size = min(int(query.get("pageSize", 50)), 500)
    return 200, {"totalCount": len(found), "pageSize": size, "nextPageKey": None, "problems": found[:size]}, {}
