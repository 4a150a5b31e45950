"""Grail's DQL query API (``<apps URL>/platform/storage/query/v1``), Bearer-authenticated: a query is started with
``POST /query:execute`` and, while its state is ``RUNNING``, polled with ``GET /query:poll?request-token=…``
until it ``SUCCEEDED``; the records are ``result.records`` (field types in ``result.types``, unused here).

Documented at https://docs.dynatrace.com/docs/dynatrace-api/platform-api/platform-storage-query-v1
(``query-execute-post``, ``query-poll-get``): the timeframe goes in the body as ``defaultTimeframeStart`` and
``defaultTimeframeEnd`` (ISO-8601), long polling through ``requestTimeoutMilliseconds`` and
``request-timeout-milliseconds``; a result is kept for a minute after the query finished, and a poll for one
that is gone answers 410. Reading takes the bucket permission ``storage:buckets:read`` and the table's
(``storage:metrics:read`` for ``timeseries``, ``storage:events:read`` for ``dt.davis.events``; "Permissions in
Grail"). A query is a read: retried as any read, never through the once-only POST.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.platform.client import PlatformClient
from kong_slo.http import RetryPolicy

QUERY_API_PATH = "/platform/storage/query/v1"
QUERY_SCOPES = ("storage:buckets:read", "storage:metrics:read", "storage:events:read")
"""What ``kong-slo report`` reads Grail with: the counter (metrics) and the detectors' Davis events (events)."""
POLLS = 20
POLL_MS = 3000
FINISHED_BADLY = ("FAILED", "CANCELLED", "RESULT_GONE")
ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def iso_timestamp(ms: int) -> str:
    """``ms`` as the ISO-8601 UTC timestamp the query API takes."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def timestamp_ms(value: Any) -> int | None:
    """Milliseconds of a Grail timestamp (ISO-8601, up to nanoseconds) or of a number of ms; None otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    match = ISO.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    whole = datetime.fromisoformat(match.group(1) + match.group(3).replace("Z", "+00:00"))
    return int(whole.timestamp()) * 1000 + int((match.group(2) or "0")[:3].ljust(3, "0"))


def duration_ms(value: Any) -> int | None:
    """Milliseconds of a Grail duration (nanoseconds, as a number or a string of digits)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return int(value) // 1_000_000 if isinstance(value, int) and not isinstance(value, bool) else None


class GrailClient(PlatformClient):
    """The query API of one Latest Dynatrace environment. Create one per operation."""

    def __init__(self, platform_url: str, bearer_token: str, *, policy: RetryPolicy | None = None) -> None:
        super().__init__(platform_url, bearer_token, policy=policy, api_path=QUERY_API_PATH)

    def query(self, dql: str, start_ms: int, end_ms: int, *, what: str = "run a DQL query") -> list[dict[str, Any]]:
        """The records of ``dql`` over ``[start_ms, end_ms)``; raises ``DynatraceError`` when it fails or does
        not finish within ``POLLS`` long polls."""
        body = {"query": dql, "defaultTimeframeStart": iso_timestamp(start_ms),
                "defaultTimeframeEnd": iso_timestamp(end_ms), "requestTimeoutMilliseconds": POLL_MS}
        answer = self.expect(self.request("POST", "/query:execute", json=body, what=what), what, 200, 202).json()
        token = answer.get("requestToken")  # polls answer without it
        for _ in range(POLLS):
            state = answer.get("state")
            if state == "SUCCEEDED":
                records = (answer.get("result") or {}).get("records")
                if not isinstance(records, list):
                    raise DynatraceError(f"{what}: the query succeeded without result.records")
                return [record for record in records if isinstance(record, dict)]
            if state in FINISHED_BADLY or not token:
                raise DynatraceError(f"{what}: the query ended {state or 'without a state'}")
            params = {"request-token": token, "request-timeout-milliseconds": POLL_MS}
            answer = self.expect(self.request("GET", "/query:poll", params=params, what=what), what, 200).json()
        raise DynatraceError(f"{what}: the query did not finish after {POLLS} polls")
