"""Names shared by the collector config (which produces the SLO counters) and the SLO definitions
(which read them). Both sides import them from here, so they cannot disagree."""

from __future__ import annotations

SPANMETRICS_NAMESPACE = "kong.slo"
"""The span metrics connector's namespace: it emits the delta counter ``<namespace>.calls`` (its histogram is off)."""

CALLS_METRIC = f"{SPANMETRICS_NAMESPACE}.calls"

SERVICE_DIMENSION = "service.name"
"""Set per API by the opentelemetry plugin's ``resource_attributes``; one Dynatrace service per API."""

LATENCY_DIMENSION = "slo.latency"
LATENCY_GOOD = "good"
LATENCY_BAD = "bad"

OUTCOME_DIMENSION = "slo.outcome"
OUTCOME_SUCCESS = "success"
OUTCOME_FAILURE = "failure"
OUTCOME_UNKNOWN = "unknown"
"""A root span without a status (Kong 3.0 and 3.1 set none): never a success, and visible as what it is."""

KONG_SCOPE = "kong-internal"
"""The instrumentation scope of every span Kong exports, on every release from 3.0. Kong's request span is the one
SERVER span in it; its name is no mark (``"<METHOD> <path>"`` up to 3.2, ``kong`` from 3.3)."""

STATUS_ATTRIBUTE = "http.status_code"

CALLS_METRIC_KEY = f"{CALLS_METRIC}.count"
"""``CALLS_METRIC`` as Dynatrace stores it. OTLP metric ingest maps a delta monotonic sum to a Dynatrace
counter and suffixes counter keys with ``.count``; SLO expressions must use the suffixed key. Dimension keys
keep their dots (``service.name``, ``slo.latency``) and are quoted in metric selectors."""

LATENCY_OBJECTIVE_ATTRIBUTE = "kong_slo.latency_ms"
"""Sent by each API's plugin as a resource attribute: its latency threshold in whole milliseconds, or ``off``."""
FAIL_ON_ATTRIBUTE = "kong_slo.fail_on"
"""Sent by each API's plugin as a resource attribute: its ``failOn`` list joined by commas (``5xx,404``), or
``off``. The collector reads both from each request, so its config names no API."""
OBJECTIVE_OFF = "off"
DEFAULT_LATENCY_MS = 600
DEFAULT_FAIL_ON = ("5xx",)
"""What the collector applies to a request whose plugin sends no objective (a plugin set up before kong-slo sent
them): kong-slo's own defaults."""
