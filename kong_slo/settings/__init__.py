"""Stack settings: the ``kong-slo`` config namespace parsed into frozen dataclasses."""

from kong_slo.settings.model import (
    AlertingSettings,
    Api,
    AvailabilityObjective,
    CollectorSettings,
    DynatraceSettings,
    KongSettings,
    KongVersion,
    LatencyObjective,
    SshSettings,
    StackSettings,
)
from kong_slo.settings.parse import parse_settings
from kong_slo.settings.source import load_from_engine, load_stack_file

__all__ = [
    "AlertingSettings",
    "Api",
    "AvailabilityObjective",
    "CollectorSettings",
    "DynatraceSettings",
    "KongSettings",
    "KongVersion",
    "LatencyObjective",
    "SshSettings",
    "StackSettings",
    "load_from_engine",
    "load_stack_file",
    "parse_settings",
]
