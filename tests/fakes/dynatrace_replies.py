"""The shapes of the Dynatrace emulator's replies and errors, shared by its API modules."""

from __future__ import annotations

from typing import Any

Reply = tuple[int, Any, dict[str, str]]
"""Status, JSON payload (or None) and headers."""


def violation(path: str, message: str) -> dict[str, str]:
    """One ``constraintViolations`` entry, as Dynatrace words it."""
    return {"path": path, "message": message, "parameterLocation": "PAYLOAD_BODY", "location": None}


def item_error(code: int, message: str, path: str | None = None) -> dict[str, Any]:
    """One Settings 2.0 item's error, with a violation at ``path`` when given."""
    violations = [violation(path, message)] if path else []
    return {"code": code, "error": {"code": code, "message": message, "constraintViolations": violations}}
