"""The classic SLO API of the Dynatrace emulator (``/api/v2/slo``): validation, storage, lagging reads, listing.

As Dynatrace does: POST answers 201 with an empty body and a ``Location`` header; reads lag behind writes;
``name`` and ``metricName`` are unique and ``metricName`` cannot change; ``enabled`` is false when omitted and a
disabled SLO cannot be read by id; ``warning`` must exceed ``target``; a clash on ``name``/``metricName`` is a 400
worded as Dynatrace words it; floats come back slightly off; errors carry ``constraintViolations``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakes import dynatrace_ingest
from tests.fakes.dynatrace_replies import Reply, violation

if TYPE_CHECKING:
    from tests.fakes.dynatrace import FakeDynatrace, Fault

METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
FLOAT_DRIFT = 0.0000015


@dataclass


class Evaluation:
    """What an evaluated read reports for one SLO."""

    percentage: float
    burn_rate: float


def route(fake: FakeDynatrace, method: str, path: str, query: dict[str, str], body: Any,
          fault: Fault | None) -> Reply | None:
    """The reply to a request under ``/slo``, or None for another path."""
    if path == "/slo" and method == "GET":
        return _list(fake, query)
    if path == "/slo" and method == "POST":
        return _create(fake, body, fault)
    match = re.fullmatch(r"/slo/([^/]+)", path)
    return _one(fake, method, match.group(1), body) if match else None


def _create(fake: FakeDynatrace, body: Any, fault: Fault | None) -> Reply:
    if fault and fault.kind == "invalid-selector":
        return 400, {"error": {"code": 400, "message": "Metric selector is invalid: the metric "
                               "kong.slo.calls.count does not exist", "constraintViolations": []}}, {}
    code, problems = violations(fake, body, None)
    if code:
        return code, {"error": {"code": code, "message": f"Validation failed for {len(problems)} Validators.",
                                "constraintViolations": problems}}, {}
    slo_id = str(uuid.uuid4())
    fake.slos[slo_id] = stored(body)
    fake.hidden_reads[slo_id] = fake.read_lag
    return 201, None, {"Location": f"{fake.url}/api/v2/slo/{slo_id}"}


def violations(fake: FakeDynatrace, body: dict[str, Any], own_id: str | None) -> tuple[int, list[dict[str, str]]]:
    problems: list[tuple[str, str]] = []
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        problems.append(("name", "size must be between 1 and 200"))
    if body.get("evaluationType") != "AGGREGATE":
        problems.append(("evaluationType", "must be AGGREGATE"))
    expression = body.get("metricExpression")
    if not isinstance(expression, str) or not expression or expression != expression.strip():
        problems.append(("metricExpression", "must not be empty or surrounded by whitespace"))
    metric = body.get("metricName")
    if not isinstance(metric, str) or not METRIC_NAME.match(metric) or len(metric) > 220:
        problems.append(("metricName", "is not a valid metric name"))
    target, warning = body.get("target"), body.get("warning")
    if not isinstance(target, int | float) or not isinstance(warning, int | float):
        problems.append(("target", "target and warning are required"))
    elif warning <= target:
        problems.append(("warning", "The warning threshold must be greater than the target"))
    if not isinstance(body.get("timeframe"), str) or not 3 <= len(body["timeframe"]) <= 60:
        problems.append(("timeframe", "size must be between 3 and 60"))
    if problems:
        return 400, [violation(path, message) for path, message in problems]
    conflicts = []
    for slo_id, slo in fake.slos.items():
        if slo_id == own_id:
            continue
        if slo["name"] == name:
            conflicts.append(violation("builtin:monitoring.slo/0/name", "There is another SLO with an identical "
                                        "name defined. Please make your SLO name unique to save your changes."))
        if slo["metricName"] == metric:
            conflicts.append(violation("builtin:monitoring.slo/0/metricName", "There is another SLO with an "
                                        "identical metric name defined. Please make your SLO metric name unique "
                                        "to save your changes."))
    if own_id is not None and fake.slos[own_id]["metricName"] != metric:
        return 400, [violation("metricName", "metricName cannot be changed after creation")]
    return (400, conflicts) if conflicts else (0, [])


def stored(body: dict[str, Any]) -> dict[str, Any]:
    slo = {key: value for key, value in body.items() if key not in ("id",)}
    slo.setdefault("enabled", False)
    for key in ("target", "warning"):
        slo[key] = float(slo[key]) + FLOAT_DRIFT
    return slo


def visible(fake: FakeDynatrace, slo_id: str) -> bool:
    """Reads lag behind writes: the first ``read_lag`` reads after a create do not see the SLO."""
    remaining = fake.hidden_reads.get(slo_id, 0)
    if remaining > 0:
        fake.hidden_reads[slo_id] = remaining - 1
        return False
    return slo_id in fake.slos


def rendered(fake: FakeDynatrace, slo_id: str, evaluate: bool) -> dict[str, Any]:
    slo = dict(fake.slos[slo_id], id=slo_id)
    metric = slo["metricName"]
    slo.update(metricKey=f"func:slo.{metric}", errorBudgetMetricKey=f"func:slo.errorBudget.{metric}",
               burnRateMetricKey=f"func:slo.errorBudgetBurnRate.{metric}",
               error=fake.evaluation_errors.get(slo["name"], "NONE"),
               relatedOpenProblems=0, relatedTotalProblems=0)
    evaluation = (fake.evaluations.get(slo["name"]) or evaluated(fake, slo)) if evaluate else None
    if evaluation is None or slo["error"] != "NONE":
        slo.update(status="SUCCESS" if slo["error"] == "NONE" else "FAILURE", evaluatedPercentage=-1.0,
                   errorBudget=-1.0)
        return slo
    target, warning = slo["target"], slo["warning"]
    status = "SUCCESS" if evaluation.percentage >= warning else "WARNING" if evaluation.percentage >= target \
        else "FAILURE"
    fast = (slo.get("errorBudgetBurnRate") or {}).get("fastBurnThreshold", 10)
    kind = "NONE" if evaluation.burn_rate < 1 else "FAST" if evaluation.burn_rate >= fast else "SLOW"
    slo.update(status=status, evaluatedPercentage=evaluation.percentage,
               errorBudget=evaluation.percentage - target,
               errorBudgetBurnRate={"burnRateVisualizationEnabled": True, "fastBurnThreshold": fast,
                                    "burnRateType": kind, "burnRateValue": evaluation.burn_rate,
                                    "estimatedTimeToConsumeErrorBudget": 1.0, "sloValue": evaluation.percentage})
    return slo


def evaluated(fake: FakeDynatrace, slo: dict[str, Any]) -> Evaluation | None:
    found = dynatrace_ingest.slo_evaluation(fake, slo)
    return Evaluation(*found) if found else None


def matches(slo_id: str, slo: dict[str, Any], selector: str | None) -> bool:
    if not selector:
        return True
    for kind, value in re.findall(r'(\w+)\("((?:[^"~]|~.)*)"\)', selector):
        value = re.sub(r"~(.)", r"\1", value)
        if kind == "id" and slo_id != value:
            return False
        if kind == "name" and slo["name"] != value:
            return False
        if kind == "text" and value.lower() not in slo["name"].lower():
            return False
    return True


def _list(fake: FakeDynatrace, query: dict[str, str]) -> Reply:
    if "nextPageKey" in query:
        if len(query) > 1:
            return 400, {"error": {"code": 400, "message": "nextPageKey must be the only parameter"}}, {}
        query = json.loads(query["nextPageKey"])
    enabled = query.get("enabledSlos", "true")
    evaluate = query.get("evaluate") == "true"
    page_size = min(int(query.get("pageSize", 10)), 25 if evaluate else fake.page_size_cap)
    found = [rendered(fake, slo_id, evaluate) for slo_id, slo in sorted(fake.slos.items(),
                                                                         key=lambda kv: kv[1]["name"])
             if matches(slo_id, slo, query.get("sloSelector")) and visible(fake, slo_id)
             and (enabled == "all" or str(slo["enabled"]).lower() == enabled)]
    start = int(query.get("start", 0))
    page = found[start:start + page_size]
    next_key = None
    if start + page_size < len(found):
        next_key = json.dumps({**query, "start": start + page_size})
    return 200, {"slo": page, "pageSize": page_size, "totalCount": len(found), "nextPageKey": next_key}, {}


def _one(fake: FakeDynatrace, method: str, slo_id: str, body: Any) -> Reply:
    if slo_id not in fake.slos:
        return 404, {"error": {"code": 404, "message": f"SLO {slo_id} not found"}}, {}
    if method == "DELETE":
        del fake.slos[slo_id]
        return 204, None, {}
    if method == "PUT":
        code, problems = violations(fake, body, slo_id)
        if code:
            return code, {"error": {"code": code, "message": "constraint violations",
                                    "constraintViolations": problems}}, {}
        fake.slos[slo_id] = stored(body)
        return 200, None, {}
    if not visible(fake, slo_id):
        return 404, {"error": {"code": 404, "message": f"SLO {slo_id} not found"}}, {}
    if not fake.slos[slo_id]["enabled"]:
        return 400, {"error": {"code": 400, "message": "Cannot access a disabled SLO."}}, {}
    return 200, rendered(fake, slo_id, True), {}

