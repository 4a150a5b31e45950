"""``kong-slo status`` for a classic stack: each SLO found by its name and evaluated by Dynatrace."""

from __future__ import annotations

from typing import Any

from kong_slo.dynatrace.client import DynatraceClient
from kong_slo.http import RetryPolicy
from kong_slo.objectives.sli import SloDefinition, selector_string, slo_name_prefix
from kong_slo.objectives.status import STATES, ObjectiveStatus, without_value


def objective_status(definition: SloDefinition, slo: dict[str, Any] | None) -> ObjectiveStatus:
    """One row, from the definition and the evaluated SLO (None when no SLO of that name exists)."""
    if slo is None:
        return without_value(definition, "missing")
    current = slo.get("evaluatedPercentage")
    if not (isinstance(current, int | float) and current >= 0 and slo.get("error", "NONE") == "NONE"):
        return without_value(definition, "no data")
    burn = slo.get("errorBudgetBurnRate") or {}
    budget = slo.get("errorBudget")
    return ObjectiveStatus(
        api=definition.api, objective=definition.objective, slo=definition.name,
        state=STATES.get(str(slo.get("status")), "no data"), current=round(float(current), 4),
        target=definition.target, warning=definition.warning,
        budget_left=round(100.0 * budget / (100.0 - definition.target), 2) if isinstance(budget, int | float) else None,
        burn_rate=burn.get("burnRateValue"), burn=burn.get("burnRateType"))


def classic_rows(url: str, token: str, stack: str, definitions: list[SloDefinition],
                 policy: RetryPolicy) -> list[ObjectiveStatus]:
    """One row per definition, from one evaluated listing of the stack's SLOs."""
    with DynatraceClient(url, token, policy=policy) as client:
        selector = f"text({selector_string(slo_name_prefix(stack))})"
        found = {slo.get("name"): slo for slo in client.list_slos(selector, evaluate=True)}
    return [objective_status(definition, found.get(definition.name)) for definition in definitions]
