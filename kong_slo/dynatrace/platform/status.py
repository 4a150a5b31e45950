"""``kong-slo status`` for a platform stack: each SLO found by its ``externalId`` and evaluated on demand.

Credentials: ``DT_PLATFORM_TOKEN``, or the stack's ``dynatrace.oauth`` client with its secret in
``DT_CLIENT_SECRET`` (or ``DT_CLIENT_ID``/``DT_CLIENT_SECRET``/``DT_ACCOUNT_URN`` alone).
"""

from __future__ import annotations

from typing import Any

from kong_slo.dynatrace.platform.client import PlatformClient
from kong_slo.dynatrace.platform.credentials import credentials_from_environment
from kong_slo.dynatrace.platform.definitions import platform_external_id
from kong_slo.http import RetryPolicy
from kong_slo.objectives.sli import SloDefinition
from kong_slo.objectives.status import STATES, ObjectiveStatus, without_value
from kong_slo.settings import StackSettings

POLICY = RetryPolicy(attempts=4, initial_delay=1.0, max_delay=10.0, timeout=30.0)


def burn_kind(burn_rate: float, fast_threshold: float) -> str:
    return "FAST" if burn_rate >= fast_threshold else "SLOW" if burn_rate >= 1 else "NONE"


def platform_status(definition: SloDefinition, results: list[dict[str, Any]] | None) -> ObjectiveStatus:
    """One row from an evaluation's first criterion (None: no SLO with the definition's ``externalId``).

    The burn rate is the window's: ``(100 - value) / (100 - target)``, 1 meaning the budget lasts exactly the window.
    """
    if results is None:
        return without_value(definition, "missing")
    first = results[0] if results else {}
    value = first.get("value")
    if not isinstance(value, int | float) or first.get("status") not in STATES:
        return without_value(definition, "no data")
    budget = 100.0 - definition.target
    burn = (100.0 - value) / budget
    return ObjectiveStatus(
        api=definition.api, objective=definition.objective, slo=definition.name, state=STATES[first["status"]],
        current=round(float(value), 4), target=definition.target, warning=definition.warning,
        budget_left=round(100.0 * (value - definition.target) / budget, 2), burn_rate=round(burn, 4),
        burn=burn_kind(burn, definition.fast_burn_threshold))


def platform_rows(settings: StackSettings, url: str | None, definitions: list[SloDefinition]) -> list[ObjectiveStatus]:
    platform = settings.dynatrace.platform if settings.dynatrace else None
    credentials = credentials_from_environment(settings)
    with PlatformClient(url or (platform.url if platform else ""), credentials.bearer(POLICY), policy=POLICY) as client:
        found = {slo.get("externalId"): slo for slo in client.list_platform_slos()}
        rows = []
        for definition in definitions:
            slo = found.get(platform_external_id(definition))
            results = None if slo is None else client.evaluate_platform_slo(str(slo["id"]))
            rows.append(platform_status(definition, results))
    return rows
