"""The Grail DQL query API (``/platform/storage/query/v1``) for the emulator: ``POST /query:execute`` then
``GET /query:poll?request-token=…``, answering in the documented envelope.

As documented (https://docs.dynatrace.com/docs/dynatrace-api/platform-api/platform-storage-query-v1,
``query-execute-post`` and ``query-poll-get``), and refused here when not so:
- ``Authorization: Bearer`` (platform token or OAuth access token), 401 otherwise; reading a table takes the bucket
  permission ``storage:buckets:read`` and the table's own (``storage:metrics:read`` for ``timeseries``,
  ``storage:events:read`` for ``dt.davis.events``; "Permissions in Grail": "All bucket permissions need to start
  with storage:buckets:read"), 403 otherwise;
- the execute body is a JSON object whose ``query`` is a non-empty string, with only the documented optional keys
  (``EXECUTE_KEYS``) of their types; ``defaultTimeframeStart``/``End`` are ISO-8601 timestamps;
- execute waits up to the body's ``requestTimeoutMilliseconds`` for the result (the long poll the parameter asks
  for): each query here takes ``query_milliseconds``; within the wait execute answers 200 with the final result,
  else 202 with ``{state: RUNNING, requestToken, ttlSeconds}`` and the result comes from polling; poll needs
  ``request-token`` (400 without), answers 200 with ``{state: SUCCEEDED, progress: 100, result: {records, types,
  metadata}}``, and 410 for a token whose result was already consumed or never existed ("The final result is
  guaranteed to be available for one minute after the query has finished");
- ``types`` lists buckets with an ``indexRange`` and per-field ``mappings``; a timeseries record carries
  ``timeframe`` ``{start, end}`` as timestamps and ``interval`` as a duration in nanoseconds (a string).

Queries: ``timeseries`` as ``dynatrace_dql`` evaluates it, and ``fetch dt.davis.events`` followed by ``| filter``
stages joining ``field == "text"`` and ``startsWith(field, "text")`` with ``and``, then optionally ``| fields``:
the events the Davis anomaly detectors raise (``dynatrace_detectors.detector_events``), one record per update as
Grail keeps them ("Every Davis event update is exported to Grail": an ACTIVE record when an event opens and a
CLOSED one when it closes). Anything else is a 400 ``DqlError``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.dynatrace_detectors import detector_events
from tests.fakes.dynatrace_dql import DqlError, evaluate

BASE = "/platform/storage/query/v1"
EXECUTE = f"{BASE}/query:execute"
BUCKETS, METRICS, EVENTS = "storage:buckets:read", "storage:metrics:read", "storage:events:read"
EXECUTE_KEYS = {"query": str, "defaultTimeframeStart": str, "defaultTimeframeEnd": str, "timezone": str,
                "locale": str, "maxResultRecords": int, "maxResultBytes": int, "fetchTimeoutSeconds": int,
                "requestTimeoutMilliseconds": int, "enablePreview": bool, "defaultSamplingRatio": float,
                "defaultScanLimitGbytes": int, "queryOptions": dict, "filterSegments": list}
FETCH_EVENTS = re.compile(r"^fetch\s+dt\.davis\.events\s*$")
TEXT = r'"((?:[^"\\]|\\.)*)"'
CONDITION = re.compile(rf"^(?:([\w.]+)\s*==\s*{TEXT}|startsWith\(\s*([\w.]+)\s*,\s*{TEXT}\s*\))$")
Reply = tuple[int, Any, dict[str, str]]


def _error(code: int, message: str) -> Reply:
    return code, {"error": {"code": code, "message": message, "details": {}}}, {}


def iso(ms: int) -> str:
    """A Grail timestamp: ISO-8601 in UTC with nanoseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}000000Z"


def parse_iso(text: str) -> int:
    """Milliseconds of an ISO-8601 timestamp; ``ValueError`` otherwise."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if match is None:
        raise ValueError(f"{text!r} is not an ISO-8601 timestamp")
    base = datetime.fromisoformat(match.group(1) + (match.group(3).replace("Z", "+00:00")))
    return int(base.timestamp() * 1000) + int((match.group(2) or "0")[:3].ljust(3, "0"))


def _typed(value: Any, kind: type) -> bool:
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    return isinstance(value, int | float) if kind is float else isinstance(value, kind)


def body_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    problems = [f"{key}: not a field of ExecuteRequest" for key in body if key not in EXECUTE_KEYS]
    problems += [f"{key}: must be of type {kind.__name__}" for key, kind in EXECUTE_KEYS.items()
                 if key in body and not _typed(body[key], kind)]
    if not isinstance(body.get("query"), str) or not body["query"].strip():
        problems.append("query: is required")
    for key in ("defaultTimeframeStart", "defaultTimeframeEnd"):
        try:
            if isinstance(body.get(key), str):
                parse_iso(body[key])
        except ValueError as error:
            problems.append(f"{key}: {error}")
    return problems


def _type_of(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "long"}
    if isinstance(value, float):
        return {"type": "double"}
    if isinstance(value, list):
        return {"type": "array", "types": [{"indexRange": [0, max(0, len(value) - 1)],
                                            "mappings": {"element": {"type": "double"}}}]}
    return {"type": "string"}


def _types(records: list[dict[str, Any]], timestamps: set[str]) -> list[dict[str, Any]]:
    if not records:
        return []
    mappings = {name: ({"type": "timestamp"} if name in timestamps else {"type": "timeframe"} if name == "timeframe"
                       else {"type": "duration"} if name == "interval" else _type_of(value))
                for name, value in records[0].items()}
    return [{"indexRange": [0, len(records) - 1], "mappings": mappings}]


def _timeseries(text: str, fake: Any, start: int, end: int) -> list[dict[str, Any]]:
    records = evaluate(text, fake.metrics, now_ms=end, from_ms=start)
    for record in records:
        if isinstance(record.get("timeframe"), dict):
            record["timeframe"] = {"start": iso(record["timeframe"]["start"]), "end": iso(record["timeframe"]["end"])}
        if isinstance(record.get("interval"), int):
            record["interval"] = str(record["interval"] * 1_000_000)
    return records


def _davis_events(stages: list[str], fake: Any, start: int, end: int) -> list[dict[str, Any]]:
    conditions, kept = [], None
    for stage in stages:
        if stage.startswith("filter "):
            for part in re.split(r"\s+and\s+", stage.removeprefix("filter ").strip()):
                match = CONDITION.match(part.strip())
                if match is None:
                    raise DqlError(f"filter condition {part!r} is not emulated")
                field, value = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
                conditions.append((field, json.loads(f'"{value}"'), match.group(1) is None))
        elif stage.startswith("fields ") and kept is None:
            kept = [name.strip() for name in stage.removeprefix("fields ").split(",")]
        else:
            raise DqlError(f"the stage {stage!r} is not emulated after fetch dt.davis.events")
    records = []
    for number, event in enumerate(detector_events(fake, start, end)):
        updates = [("ACTIVE", event.opened_ms)] + ([("CLOSED", event.closed_ms)] if event.closed_ms else [])
        for status, stamp in updates:
            record = {"timestamp": iso(stamp), "event.id": f"{-(number + 1) * 7919}_{event.opened_ms}",
                      "event.kind": "DAVIS_EVENT", "event.type": event.event_type, "event.name": event.title,
                      "event.status": status, "event.start": iso(event.opened_ms),
                      **({"event.end": iso(event.closed_ms)} if status == "CLOSED" and event.closed_ms else {})}
            if all(str(record.get(field, "")).startswith(value) if prefix else record.get(field) == value
                   for field, value, prefix in conditions):
                records.append(record if kept is None else {name: record[name] for name in kept if name in record})
    return records


class GrailQueries:
    """Started queries by request token; ``FakeDynatrace`` hands it every call under ``BASE``."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.executed: list[tuple[str, int, int]] = []
        """Every query run, with its timeframe's start and end (ms), in order: what a test checks against."""
        self.query_milliseconds = 10_000
        """How long every query runs: longer than a client's ``requestTimeoutMilliseconds`` means a 202 to poll."""

    @staticmethod
    def owns(path: str) -> bool:
        return path.startswith(BASE)

    def handle(self, fake: Any, method: str, path: str, query_text: str, raw: bytes,
               scopes: set[str] | None) -> Reply:
        if scopes is None:
            return _error(401, "Authentication required")
        if path == f"{BASE}/query:execute" and method == "POST":
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return _error(400, "the body is not JSON")
            return self.execute(fake, body, scopes)
        if path == f"{BASE}/query:poll" and method == "GET":
            query = {key: values[0] for key, values in parse_qs(query_text).items()}
            if not query.get("request-token"):
                return _error(400, "request-token is required")
            result = self.results.pop(query["request-token"], None)
            if result is None:
                return _error(410, "The query result is gone: it was consumed, expired or never started")
            return 200, {"state": "SUCCEEDED", "progress": 100, "ttlSeconds": 60, "result": result}, {}
        return _error(404, f"{method} {path} not found")

    def execute(self, fake: Any, body: Any, scopes: set[str]) -> Reply:
        problems = body_problems(body)
        if problems:
            return _error(400, "; ".join(problems))
        text = body["query"]
        stages = [stage.strip() for stage in text.split("\n|")]
        table = METRICS if text.lstrip().startswith("timeseries") else EVENTS
        missing = sorted({BUCKETS, table} - scopes)
        if missing:
            return _error(403, f"Missing permission {' '.join(missing)}")
        end = parse_iso(body["defaultTimeframeEnd"]) if "defaultTimeframeEnd" in body else int(time.time() * 1000)
        start = parse_iso(body["defaultTimeframeStart"]) if "defaultTimeframeStart" in body else end - 7_200_000
        try:
            if table == METRICS:
                records, stamps = _timeseries(text, fake, start, end), set()
            elif FETCH_EVENTS.match(stages[0]):
                records, stamps = _davis_events(stages[1:], fake, start, end), {"timestamp", "event.start",
                                                                                "event.end"}
            else:
                raise DqlError(f"only timeseries and fetch dt.davis.events are emulated, not {stages[0]!r}")
        except DqlError as error:
            return _error(400, f"The query is invalid: {error}")
        self.executed.append((text, start, end))
        result = {"records": records, "types": _types(records, stamps),
                  "metadata": {"grail": {"query": text, "analysisTimeframe": {"start": iso(start), "end": iso(end)}}}}
        if body.get("requestTimeoutMilliseconds", 0) >= self.query_milliseconds:
            return 200, {"state": "SUCCEEDED", "progress": 100, "ttlSeconds": 60, "result": result}, {}
        token = uuid.uuid4().hex
        self.results[token] = result
        return 202, {"state": "RUNNING", "requestToken": token, "ttlSeconds": 60}, {}
