"""Builders for stack-config dictionaries used across the settings tests."""

from __future__ import annotations

import copy
from typing import Any

from kong_slo.secrets import Secret
from kong_slo.settings import StackSettings, parse_settings

TOKEN = "dt0c01.SENTINELPUBLICPART.SENTINELSECRETPARTNEVERSHOWN"


def aws_config(**overrides: Any) -> dict[str, Any]:
    """A valid ``aws`` namespace; keyword arguments replace top-level keys."""
    config: dict[str, Any] = {
        "target": "aws",
        "collector": {"allowedCidrs": ["10.0.0.0/16"]},
        "kong": {"adminUrl": "http://kong.internal:8001"},
        "dynatrace": {"environmentUrl": "https://abc12345.live.dynatrace.com", "apiToken": Secret(TOKEN)},
        "apis": [{"name": "HealthService"}, {"name": "Orders"}],
    }
    config.update(copy.deepcopy(overrides))
    return config


def parse(config: dict[str, Any], region: str | None = "eu-west-1") -> StackSettings:
    return parse_settings(config, project="kong-slo", stack="test", aws_region=region)
