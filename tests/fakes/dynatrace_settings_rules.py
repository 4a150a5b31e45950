"""The typed properties of the Settings 2.0 schemas kong-slo writes, checked as Dynatrace's schema validation does.

From the published schemas (``GET /api/v2/settings/schemas/<schemaId>``; the same JSON ships with Dynatrace's
Terraform provider): ``builtin:alerting.profile`` 8.6.3, ``builtin:anomaly-detection.metric-events`` 1.0.19 and
``builtin:davis.anomaly-detectors`` 1.0.16 type these properties ``integer`` with a ``RANGE`` constraint. An
integer property takes a JSON integer: ``3``, not ``3.0`` (the schema's type is integer, not float; a strict
reader refuses the decimal form). Enumerations are checked where kong-slo sends them.
"""

from __future__ import annotations

from typing import Any

INTEGERS: dict[str, dict[str, tuple[int, int]]] = {
    "builtin:alerting.profile": {"severityRules[].delayInMinutes": (0, 10_000)},
    "builtin:anomaly-detection.metric-events": {
        "modelProperties.samples": (3, 60), "modelProperties.violatingSamples": (1, 60),
        "modelProperties.dealertingSamples": (3, 60), "queryDefinition.queryOffset": (1, 60)},
    "builtin:davis.anomaly-detectors": {"executionSettings.delay": (60, 3600),
                                        "executionSettings.queryOffset": (1, 60)},
}
"""Per schema, each integer property (``[]`` walks a list) and its range."""
ENUMS: dict[str, dict[str, frozenset[str]]] = {
    "builtin:anomaly-detection.metric-events": {
        "modelProperties.type": frozenset({"STATIC_THRESHOLD", "AUTO_ADAPTIVE_THRESHOLD", "SEASONAL_BASELINE"}),
        "modelProperties.alertCondition": frozenset({"ABOVE", "BELOW", "OUTSIDE"}),
        "queryDefinition.type": frozenset({"METRIC_KEY", "METRIC_SELECTOR"}),
        "eventTemplate.eventType": frozenset({"INFO", "ERROR", "AVAILABILITY", "SLOWDOWN", "RESOURCE",
                                              "CUSTOM_ALERT", "CUSTOM_ANNOTATION", "CUSTOM_CONFIGURATION",
                                              "CUSTOM_DEPLOYMENT", "MARKED_FOR_TERMINATION"})},
    "builtin:alerting.profile": {
        "severityRules[].severityLevel": frozenset({"AVAILABILITY", "CUSTOM_ALERT", "ERRORS",
                                                    "MONITORING_UNAVAILABLE", "PERFORMANCE",
                                                    "RESOURCE_CONTENTION"}),
        "severityRules[].tagFilterIncludeMode": frozenset({"NONE", "INCLUDE_ANY", "INCLUDE_ALL"})},
}


def _values(value: Any, path: list[str]) -> list[tuple[str, Any]]:
    """(concrete path, value) for every place ``path`` reaches in ``value``; absent places are left out."""
    if not path:
        return [("", value)]
    head, rest = path[0], path[1:]
    many = head.endswith("[]")
    key = head.removesuffix("[]")
    if not isinstance(value, dict) or key not in value or value[key] is None:
        return []
    found = []
    items = list(enumerate(value[key])) if many and isinstance(value[key], list) else [(None, value[key])]
    for index, item in items:
        here = key if index is None else f"{key}[{index}]"
        found += [(f"{here}.{tail}" if tail else here, leaf) for tail, leaf in _values(item, rest)]
    return found


def value_problems(schema: str, value: dict[str, Any]) -> list[str]:
    """``path: message`` for each property of ``value`` the schema refuses (empty when it takes it)."""
    problems = []
    for path, (low, high) in INTEGERS.get(schema, {}).items():
        for where, number in _values(value, path.split(".")):
            if isinstance(number, bool) or not isinstance(number, int):
                problems.append(f"{where}: {number!r} is not an integer")
            elif not low <= number <= high:
                problems.append(f"{where}: {number} is not between {low} and {high}")
    for path, allowed in ENUMS.get(schema, {}).items():
        for where, text in _values(value, path.split(".")):
            if text not in allowed:
                problems.append(f"{where}: {text!r} is not one of {sorted(allowed)}")
    return problems
