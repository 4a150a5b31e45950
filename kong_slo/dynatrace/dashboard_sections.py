"""What a stack's dashboard shows, whatever the flavour: one section per API in stack-file order, each with its
objectives, and the names both flavours give the dashboard. Pure: no network, no Pulumi."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kong_slo.objectives.sli import SloDefinition

DASHBOARD_TAG = "kong-slo"
STACK_TAG_PREFIX = "kong-slo-stack:"
ID_NAMESPACE = uuid.UUID("6f1c1a9e-3d2b-5f0e-9a77-6b6f6e672d73")
"""Fixed namespace of kong-slo's client-chosen dashboard ids (uuid5 of project and stack)."""


@dataclass(frozen=True)
class Section:
    """One API of the stack and its objectives (latency before availability), as the dashboard lays them out."""

    api: str
    objectives: tuple[SloDefinition, ...]


def sections(definitions: list[SloDefinition]) -> list[Section]:
    """The APIs in the order their definitions come (``slo_definitions`` keeps the stack file's order)."""
    grouped: dict[str, list[SloDefinition]] = {}
    for definition in definitions:
        grouped.setdefault(definition.api, []).append(definition)
    return [Section(api, tuple(objectives)) for api, objectives in grouped.items()]


def dashboard_name(stack: str) -> str:
    return f"kong-slo {stack}: SLOs per API"


def dashboard_tags(stack: str) -> list[str]:
    return [DASHBOARD_TAG, f"{STACK_TAG_PREFIX}{stack}"]


def dashboard_id(project: str, stack: str) -> str:
    """A stable UUID per project and stack: the classic dashboard's client-chosen id, so a retried or repeated
    create lands on the same dashboard instead of adding a second one."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{project}\0{stack}\0dashboard"))


def dashboard_external_id(project: str, stack: str) -> str:
    """The platform document's ``externalId``, by which a later run finds the dashboard again."""
    return f"{project}:{stack}:dashboard"
