"""API objectives → SLI definitions → classic Dynatrace SLO payloads (``/api/v2/slo``). Pure: no network.

Two SLI sources:

- ``collector`` (default): ratios over the spanmetrics counter the collector config produces from every
  Kong request (names shared through ``kong_slo.telemetry``), filtered to the API's ``service.name``.
  Request-based and unaffected by trace sampling.
- ``service``: Dynatrace's unified-service metrics for the service the traces create. Availability is
  request-based (Dynatrace's failure detection decides what fails); latency is time-slice based (the
  share of minutes whose average response time stayed under the threshold).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from kong_slo import telemetry
from kong_slo.settings.model import Api, AvailabilityObjective, LatencyObjective, StackSettings

LATENCY = "latency"
AVAILABILITY = "availability"
GOOD_CALLS = {
    LATENCY: (telemetry.LATENCY_DIMENSION, telemetry.LATENCY_GOOD),
    AVAILABILITY: (telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_SUCCESS),
}
"""Per objective, the dimension and value that mark a call as good (set by the collector's transform)."""
BAD_CALLS = {
    LATENCY: (telemetry.LATENCY_DIMENSION, telemetry.LATENCY_BAD),
    AVAILABILITY: (telemetry.OUTCOME_DIMENSION, telemetry.OUTCOME_FAILURE),
}
"""Per objective, the dimension and value that mark a call as bad (an availability ``unknown`` is neither)."""

DEFAULT_SLI_SOURCE = "collector"
DEFAULT_FAST_BURN_THRESHOLD = 10.0

METRIC_NAME_MAX = 220
SLO_NAME_MAX = 200
DESCRIPTION_MAX = 250
METRIC_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

SERVICE_REQUESTS = "builtin:service.request.count"
SERVICE_FAILURES = "builtin:service.request.failure_count"
SERVICE_RESPONSE_TIME = "builtin:service.request.response_time"
"""Unified-service metrics (services created from OTLP spans); the response time is in microseconds."""


@dataclass(frozen=True)
class SloDefinition:
    """One objective of one API, ready to become a Dynatrace SLO."""

    api: str
    objective: str
    """``latency`` or ``availability``."""
    name: str
    """The SLO's display name; unique per stack, and how ``kong-slo status`` finds it."""
    metric_name: str
    description: str
    metric_expression: str
    entity_filter: str | None
    target: float
    warning: float
    window: str
    fast_burn_threshold: float
    sli_source: str

    @property
    def timeframe(self) -> str:
        """The window in Dynatrace's timeframe syntax: ``1h`` → ``-1h``."""
        return f"-{self.window}"


def selector_string(text: str) -> str:
    """``text`` as a quoted metric-selector / entity-selector string (``~`` and ``"`` escaped with ``~``)."""
    return '"' + text.replace("~", "~~").replace('"', '~"') + '"'


def slo_name_prefix(stack: str) -> str:
    """How the names of a stack's SLOs begin; ``kong-slo status`` searches for it."""
    return f"kong-slo {stack}:"


def slo_name(stack: str, api: str, objective: str) -> str:
    """``kong-slo <stack>: <api> <objective>``, the API name shortened if it would exceed 200 characters."""
    prefix, suffix = f"{slo_name_prefix(stack)} ", f" {objective}"
    room = SLO_NAME_MAX - len(prefix) - len(suffix)
    if len(api) > room:
        api = api[: room - 1] + "…"
    return f"{prefix}{api}{suffix}"


def metric_name(project: str, stack: str, api: str, objective: str) -> str:
    """A ``metricName`` unique per project, stack, API and objective, in ``[a-z][a-z0-9_]*``, ≤ 220 chars.

    Readable parts are lowercased and reduced to letters, digits and underscores; a short hash of the
    exact names keeps two APIs apart whose names differ only in case or punctuation.
    """
    digest = hashlib.sha256("\0".join((project, stack, api, objective)).encode()).hexdigest()[:8]
    readable = "_".join(_slug(part) for part in (project, stack, api, objective) if _slug(part))
    room = METRIC_NAME_MAX - len(digest) - 1
    readable = readable[:room].rstrip("_")
    if not readable or not readable[0].isalpha():
        readable = f"slo_{readable}"[:room].rstrip("_")
    return f"{readable}_{digest}"


def _slug(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", text.lower())).strip("_")


def _percent(value: float) -> str:
    return f"{value:g} %"


def _failure_words(fail_on: tuple[str, ...]) -> str:
    codes = [code.upper() if code.endswith("xx") else code for code in fail_on]
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " or " + codes[-1]


def dimension_is(dimension: str, value: str) -> str:
    """The metric-selector condition ``dimension`` equals ``value``."""
    return f"eq({selector_string(dimension)},{selector_string(value)})"


def api_calls(api: str) -> str:
    """The metric-selector condition that keeps one API's calls of the counter."""
    return dimension_is(telemetry.SERVICE_DIMENSION, api)


def calls_selector(api: str, condition: str | None = None) -> str:
    """The counter's calls of one API, summed over the API; only those meeting ``condition`` (then 0, not no
    data, when none did)."""
    metric = telemetry.CALLS_METRIC_KEY
    if condition is None:
        return f"{metric}:filter({api_calls(api)}):splitBy():sum"
    return f"{metric}:filter(and({api_calls(api)},{condition})):splitBy():sum:default(0)"


def share_selector(api: str, condition: str) -> str:
    """The percentage of one API's calls that meet ``condition``."""
    return f"(100)*({calls_selector(api, condition)})/({calls_selector(api)})"


def _collector_ratio(api: str, objective: str) -> str:
    return share_selector(api, dimension_is(*GOOD_CALLS[objective]))


def _service_filter(api: str) -> str:
    return f'type("SERVICE"),entityName.equals({selector_string(api)})'


def latency_definition(settings: StackSettings, api: Api, objective: LatencyObjective) -> SloDefinition:
    threshold = objective.threshold_ms
    if _sli_source(settings) == "service":
        micros = threshold * 1000
        expression = (f'(({SERVICE_RESPONSE_TIME}:avg:partition("latency",value("good",lt({micros}))):splitBy()'
                      f":count:default(0))/({SERVICE_RESPONSE_TIME}:avg:splitBy():count)*(100)):default(100,always)")
        description = (f"share of minutes in which {api.name}'s average response time stayed under "
                       f"{threshold} ms, over {objective.window}")
    else:
        expression = _collector_ratio(api.name, LATENCY)
        description = f"share of {api.name} requests answered within {threshold} ms, over {objective.window}"
    return _definition(settings, api, LATENCY, objective, expression, description)


def availability_definition(settings: StackSettings, api: Api,
                            objective: AvailabilityObjective) -> SloDefinition:
    if _sli_source(settings) == "service":
        expression = (f"(100)*(({SERVICE_REQUESTS}:splitBy())-({SERVICE_FAILURES}:splitBy():default(0)))"
                      f"/({SERVICE_REQUESTS}:splitBy())")
        description = (f"share of {api.name} requests that Dynatrace's failure detection did not mark as "
                       f"failed, over {objective.window}")
    else:
        expression = _collector_ratio(api.name, AVAILABILITY)
        description = (f"share of {api.name} requests not answered with {_failure_words(objective.fail_on)}, "
                       f"over {objective.window}")
    return _definition(settings, api, AVAILABILITY, objective, expression, description)


def _sli_source(settings: StackSettings) -> str:
    return settings.dynatrace.sli_source if settings.dynatrace is not None else DEFAULT_SLI_SOURCE


def _definition(settings: StackSettings, api: Api, objective_name: str,
                objective: LatencyObjective | AvailabilityObjective, expression: str,
                description: str) -> SloDefinition:
    if len(description) > DESCRIPTION_MAX:
        description = description[: DESCRIPTION_MAX - 1] + "…"
    dynatrace, source = settings.dynatrace, _sli_source(settings)
    return SloDefinition(
        api=api.name,
        objective=objective_name,
        name=slo_name(settings.stack, api.name, objective_name),
        metric_name=metric_name(settings.project, settings.stack, api.name, objective_name),
        description=description,
        metric_expression=expression,
        entity_filter=_service_filter(api.name) if source == "service" else None,
        target=float(objective.target),
        warning=float(objective.warning),
        window=objective.window,
        fast_burn_threshold=dynatrace.fast_burn_threshold if dynatrace else DEFAULT_FAST_BURN_THRESHOLD,
        sli_source=source,
    )


def slo_definitions(settings: StackSettings) -> list[SloDefinition]:
    """One definition per enabled objective per API, in stack-file order (latency before availability).

    Works without a ``dynatrace`` block too (collector SLIs, default burn threshold), so the payloads can
    be rendered for review before any environment is configured.
    """
    definitions: list[SloDefinition] = []
    for api in settings.apis:
        if api.latency is not None:
            definitions.append(latency_definition(settings, api, api.latency))
        if api.availability is not None:
            definitions.append(availability_definition(settings, api, api.availability))
    return definitions


def slo_payload(definition: SloDefinition) -> dict[str, Any]:
    """The classic ``POST/PUT /api/v2/slo`` body. ``enabled`` is always sent: Dynatrace defaults it to false."""
    payload: dict[str, Any] = {
        "name": definition.name,
        "description": definition.description,
        "enabled": True,
        "evaluationType": "AGGREGATE",
        "metricName": definition.metric_name,
        "metricExpression": definition.metric_expression,
        "target": definition.target,
        "warning": definition.warning,
        "timeframe": definition.timeframe,
        "errorBudgetBurnRate": {
            "burnRateVisualizationEnabled": True,
            "fastBurnThreshold": definition.fast_burn_threshold,
        },
    }
    if definition.entity_filter is not None:
        payload["filter"] = definition.entity_filter
    return payload


def _line_string(text: str) -> str:
    """``text`` as a quoted dimension value of the metric ingestion protocol (``\\`` and ``"`` escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def metric_declaration_lines(definitions: list[SloDefinition]) -> list[str]:
    """Line-protocol lines that make the SLO counter known to Dynatrace before any request was counted.

    A metadata line creates ``kong.slo.calls.count`` (a ``count`` metadata line creates ``<key>.count``),
    and one zero-valued point per API makes the key and its dimensions queryable at once; a zero adds
    nothing to any count. Empty when no definition reads the collector's counter.
    """
    apis = list(dict.fromkeys(d.api for d in definitions if d.sli_source == "collector"))
    if not apis:
        return []
    metric = telemetry.CALLS_METRIC
    lines = [f'#{metric} count dt.meta.displayName="Kong SLO calls",'
             f'dt.meta.description="Kong requests per API, marked good or bad by the kong-slo collector",'
             f'dt.meta.unit="Count"']
    good = (f'{telemetry.LATENCY_DIMENSION}={_line_string(telemetry.LATENCY_GOOD)},'
            f'{telemetry.OUTCOME_DIMENSION}={_line_string(telemetry.OUTCOME_SUCCESS)}')
    lines += [f"{metric},{telemetry.SERVICE_DIMENSION}={_line_string(api)},{good} count,delta=0" for api in apis]
    return lines
