"""Ownership tags: the same three on every taggable cloud resource a stack creates."""

from __future__ import annotations

from kong_slo.settings import StackSettings

MANAGED_BY = "pulumi"


def ownership_tags(settings: StackSettings, **extra: str) -> dict[str, str]:
    """``project``, ``stack`` and ``managed-by``, plus any ``extra`` tags (such as ``Name``)."""
    return {"project": settings.project, "stack": settings.stack, "managed-by": MANAGED_BY, **extra}
