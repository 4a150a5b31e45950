"""The collector's size: one host, or a tier of ``replicas`` to ``maxReplicas`` instances over ``subnetIds``.

Only what can be known offline is checked here: counts, limits, the CPU target, and that the subnet IDs are
well formed and distinct. Whether they lie in distinct availability zones of one VPC is checked when the
program looks the subnets up (``infra/aws_tier_plan.py``), before any resource is declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kong_slo.settings.reader import Node, describe

SCALING_KEYS = ("replicas", "maxReplicas", "subnetIds", "cpuTarget")
SUBNET_ID = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
MIN_TIER_SUBNETS = 2
DEFAULT_CPU_TARGET = 60.0
"""Average CPU the group is scaled to hold: room for a burst before the next instance is in service."""


@dataclass(frozen=True)
class Scaling:
    replicas: int
    max_replicas: int
    subnet_ids: tuple[str, ...]
    cpu_target: float


def read_scaling(node: Node) -> Scaling:
    """Read ``replicas``, ``maxReplicas``, ``subnetIds`` and ``cpuTarget`` of the ``collector`` section."""
    replicas = node.integer("replicas", 1)
    if replicas is None or replicas < 1:
        node.problem("replicas", f"{describe(node.raw('replicas'))} is not a whole number of instances, at least 1")
        replicas = 1
    max_replicas = node.integer("maxReplicas", replicas)
    if max_replicas is None or max_replicas < replicas:
        node.problem("maxReplicas", f"{describe(node.raw('maxReplicas'))} is below {node.key('replicas')} "
                                    f"({replicas}); the group never runs fewer than replicas")
        max_replicas = replicas
    tier = max_replicas > 1
    subnet_ids = _subnet_ids(node, tier)
    cpu_target = node.number("cpuTarget", DEFAULT_CPU_TARGET)
    if cpu_target is None or not 0 < cpu_target < 100:
        node.problem("cpuTarget", f"{describe(node.raw('cpuTarget'))} is not a CPU percentage between 0 and 100")
        cpu_target = DEFAULT_CPU_TARGET
    elif node.has("cpuTarget") and max_replicas == replicas:
        node.problem("cpuTarget", f"has no effect: {node.key('maxReplicas')} equals {node.key('replicas')} "
                                  f"({replicas}), so the group never scales; raise maxReplicas or drop cpuTarget")
    return Scaling(replicas, max_replicas, subnet_ids, cpu_target)


def _subnet_ids(node: Node, tier: bool) -> tuple[str, ...]:
    listed = node.string_list("subnetIds")
    if listed is None:
        if tier:
            node.problem("subnetIds", f"is required for more than one instance: {MIN_TIER_SUBNETS} or more subnets "
                                      "in different availability zones, e.g. [subnet-0a1b2c3d4e5f60718, "
                                      "subnet-0f9e8d7c6b5a40312]")
        return ()
    if not tier:
        node.problem("subnetIds", f"only a collector tier uses it ({node.key('maxReplicas')} above 1); "
                                  f"one host takes {node.key('subnetId')}")
        return ()
    seen: dict[str, int] = {}
    for index, subnet in enumerate(listed):
        key = f"{node.key('subnetIds')}[{index}]"
        if not SUBNET_ID.match(subnet):
            node.problems.add(key, f"{subnet!r} is not a subnet ID such as subnet-0a1b2c3d4e5f60718")
        elif subnet in seen:
            node.problems.add(key, f"{subnet!r} is already listed at {node.key('subnetIds')}[{seen[subnet]}]")
        else:
            seen[subnet] = index
    if len(seen) < MIN_TIER_SUBNETS:
        node.problem("subnetIds", f"names {len(seen)} distinct valid subnet(s); a tier needs {MIN_TIER_SUBNETS} "
                                  "or more, in different availability zones, to survive losing one")
    return tuple(seen)
