"""SLO definitions → platform SLO payloads (Latest Dynatrace, ``/platform/slo/v1/slos``). Pure: no network.

The SLI is a DQL ``customSli`` over the collector's spanmetrics counter as Grail stores it. Grail keeps an OTLP
counter under the name it was sent with: the ``.count`` suffix Metrics Classic appends is not applied in Grail
(https://docs.dynatrace.com/docs/observe-and-explore/metrics/troubleshooting, "Renaming count metrics"), so
``kong.slo.calls`` here where the classic selector reads ``kong.slo.calls.count``. Dimension keys keep their
dots (``service.name``, ``slo.outcome``); for metrics in Grail "all attributes (resource, scope and metric) are
accepted by default" (https://docs.dynatrace.com/docs/dynatrace-api/environment-api/settings/schemas/
builtin-opentelemetry-metrics), so ``service.name`` is a dimension whether it arrives on the resource or the point.

The indicator is request-based: per interval, good calls / all calls * 100, as the field ``sli`` the SLO app
requires. Each SLO carries an ``externalId`` (the definition's ``metric_name``: unique per project, stack,
API and objective) by which a later run finds it, and tags naming the stack, API and objective.
"""

from __future__ import annotations

from typing import Any

from kong_slo import telemetry
from kong_slo.objectives.sli import GOOD_CALLS, SloDefinition
from kong_slo.settings.objectives import WINDOW_PATTERN

GRAIL_CALLS_METRIC = telemetry.CALLS_METRIC
"""``kong.slo.calls``: the counter's key in Grail (no ``.count`` suffix, unlike ``CALLS_METRIC_KEY``)."""
SLI_FIELD = "sli"
TAG_STACK = "kong-slo-stack"
TAG_API = "kong-slo-api"
TAG_OBJECTIVE = "kong-slo-objective"
EXTERNAL_ID_MAX = 500


def dql_string(text: str) -> str:
    """``text`` as a DQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def timeframe_from(window: str) -> str:
    """The objective's window as a DQL relative time: ``1h`` → ``now-1h``; weeks become days (``2w`` →
    ``now-14d``), the largest unit DQL durations take."""
    match = WINDOW_PATTERN.match(window)
    if match is None:
        raise ValueError(f"{window!r} is not a window such as 1h, 30m, 7d or 4w")
    amount, unit = int(match.group(1)), match.group(2)
    if unit == "w":
        amount, unit = amount * 7, "d"
    return f"now-{amount}{unit}"


def calls_timeseries(api: str, objective: str, *, total_default: bool = False, options: str = "") -> str:
    """``timeseries`` of one API's calls per interval: ``total`` and ``good`` (the objective's good mark)."""
    dimension, good_value = GOOD_CALLS[objective]
    metric = GRAIL_CALLS_METRIC
    total = f"sum({metric}, default: 0)" if total_default else f"sum({metric})"
    return (f"timeseries {{ total = {total}, good = sum({metric}, default: 0, "
            f"filter: {dimension} == {dql_string(good_value)}) }}, "
            f"filter: {telemetry.SERVICE_DIMENSION} == {dql_string(api)}{options}")


def sli_query(api: str, objective: str) -> str:
    """The DQL that yields the ``sli`` series (0 to 100) of one API's objective."""
    return f"{calls_timeseries(api, objective)}\n| fieldsAdd {SLI_FIELD} = 100 * good[] / total[]"


def platform_tags(stack: str, definition: SloDefinition) -> list[str]:
    return [f"{TAG_STACK}:{stack}", f"{TAG_API}:{definition.api}", f"{TAG_OBJECTIVE}:{definition.objective}"]


def platform_external_id(definition: SloDefinition) -> str:
    return definition.metric_name[:EXTERNAL_ID_MAX]


def platform_slo_payload(definition: SloDefinition, stack: str) -> dict[str, Any]:
    """The ``POST``/``PUT /platform/slo/v1/slos`` body: exactly one SLI (``customSli``), one criterion."""
    return {
        "name": definition.name,
        "description": definition.description,
        "customSli": {"indicator": sli_query(definition.api, definition.objective)},
        "criteria": [{"timeframeFrom": timeframe_from(definition.window), "timeframeTo": "now",
                      "target": definition.target, "warning": definition.warning}],
        "tags": platform_tags(stack, definition),
        "externalId": platform_external_id(definition),
    }
