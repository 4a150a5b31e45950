"""How one objective is doing right now, as both Dynatrace flavours report it: one row of ``kong-slo status``."""

from __future__ import annotations

from dataclasses import dataclass

from kong_slo.objectives.sli import SloDefinition

STATES = {"SUCCESS": "ok", "WARNING": "warning", "FAILURE": "failing"}
"""Dynatrace's SLO status (both flavours spell it alike) → the row's ``state``."""


@dataclass(frozen=True)
class ObjectiveStatus:
    api: str
    objective: str
    slo: str
    state: str
    """``ok``, ``warning``, ``failing``, ``no data`` or ``missing`` (not deployed)."""
    current: float | None
    target: float
    warning: float
    budget_left: float | None
    """Share of the error budget still unspent, in percent (negative when overspent)."""
    burn_rate: float | None
    burn: str | None
    """``FAST``, ``SLOW`` or ``NONE`` as Dynatrace classifies the burn rate."""


def without_value(definition: SloDefinition, state: str) -> ObjectiveStatus:
    """A row without a value: ``missing`` (not deployed) or ``no data``."""
    return ObjectiveStatus(definition.api, definition.objective, definition.name, state, None,
                           definition.target, definition.warning, None, None, None)
