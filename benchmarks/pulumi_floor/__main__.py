"""The engine's floor for ``benchmarks/pulumi_up.py``: ``kong-slo:resources`` dynamic resources whose provider does
nothing (no network, no state beyond its inputs), run by the real CLI exactly as the kong-slo program is."""

from typing import Any

import pulumi
from pulumi import dynamic

from kong_slo.dynamic_resource import DynamicResource


class NoOpProvider(dynamic.ResourceProvider):
    """Creates by echoing the inputs; the SDK's defaults do the rest (the engine diffs, delete does nothing)."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(props["index"], props)


class NoOp(DynamicResource, module="floor", name="NoOp"):
    # DynamicResource only keeps the SDK's provider pickling from nesting deeper with every resource, as the
    # kong-slo program does; the pickle is the SDK's own.
    def __init__(self, index: int) -> None:
        super().__init__(NoOpProvider(), f"noop-{index:04d}", {"index": f"{index:04d}"})


for number in range(pulumi.Config().require_int("resources")):
    NoOp(number)
