"""collector.replicas, maxReplicas, subnetIds and cpuTarget: one host by default, a tier when asked, every
impossible combination refused naming its key."""

from __future__ import annotations

from typing import Any

import pytest

from kong_slo.errors import SettingsError
from tests.unit.settings_helpers import aws_config, parse

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0f9e8d7c6b5a40312"]


def collector(**keys: Any) -> dict[str, Any]:
    return {"allowedCidrs": ["10.0.0.0/16"], **keys}


def problems_of(config: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        parse(config)
    return str(raised.value).splitlines()[1:]


def test_a_stack_without_replicas_is_one_host() -> None:
    settings = parse(aws_config())
    assert (settings.collector.replicas, settings.collector.max_replicas) == (1, 1)
    assert settings.collector.subnet_ids == ()
    assert not settings.collector.is_tier


def test_replicas_alone_is_a_fixed_size_tier() -> None:
    settings = parse(aws_config(collector=collector(replicas=3, subnetIds=SUBNETS)))
    assert (settings.collector.replicas, settings.collector.max_replicas) == (3, 3)
    assert settings.collector.subnet_ids == tuple(SUBNETS)
    assert settings.collector.is_tier


def test_max_replicas_above_one_is_a_tier_that_scales_on_cpu() -> None:
    settings = parse(aws_config(collector=collector(maxReplicas="4", cpuTarget=45, subnetIds=SUBNETS)))
    assert (settings.collector.replicas, settings.collector.max_replicas) == (1, 4)
    assert settings.collector.cpu_target == 45.0
    assert settings.collector.is_tier


@pytest.mark.parametrize(("keys", "expected"), [
    ({"replicas": 0}, "kong-slo:collector.replicas: 0 is not a whole number of instances, at least 1"),
    ({"replicas": 2.5, "subnetIds": SUBNETS}, "kong-slo:collector.replicas: 2.5 is not a whole number"),
    ({"replicas": True}, "kong-slo:collector.replicas: true is not a number"),
    ({"replicas": 3, "maxReplicas": 2, "subnetIds": SUBNETS},
     "kong-slo:collector.maxReplicas: 2 is below kong-slo:collector.replicas (3)"),
    ({"replicas": 2}, "kong-slo:collector.subnetIds: is required for more than one instance: 2 or more subnets"),
    ({"replicas": 2, "subnetIds": SUBNETS[:1]},
     "kong-slo:collector.subnetIds: names 1 distinct valid subnet(s); a tier needs 2 or more"),
    ({"replicas": 2, "subnetIds": [SUBNETS[0], SUBNETS[0]]},
     f"kong-slo:collector.subnetIds[1]: '{SUBNETS[0]}' is already listed at kong-slo:collector.subnetIds[0]"),
    ({"replicas": 2, "subnetIds": [*SUBNETS, "sn-123"]},
     "kong-slo:collector.subnetIds[2]: 'sn-123' is not a subnet ID"),
    ({"subnetIds": SUBNETS}, "kong-slo:collector.subnetIds: only a collector tier uses it"),
    ({"replicas": 2, "subnetIds": SUBNETS, "cpuTarget": 100},
     "kong-slo:collector.cpuTarget: 100 is not a CPU percentage between 0 and 100"),
    ({"replicas": 2, "subnetIds": SUBNETS, "cpuTarget": 50},
     "kong-slo:collector.cpuTarget: has no effect: kong-slo:collector.maxReplicas equals"),
    ({"replicas": 2, "subnetIds": SUBNETS, "subnetId": SUBNETS[0]},
     "kong-slo:collector.subnetId: places a single host; a tier spreads over kong-slo:collector.subnetIds"),
    ({"maxReplicas": 3, "subnetIds": SUBNETS, "publicIp": True},
     "kong-slo:collector.publicIp: gives a single host an Elastic IP"),
    ({"replicas": 2, "subnetIds": SUBNETS, "sizes": 2}, "kong-slo:collector.sizes: unknown key"),
])
def test_each_impossible_combination_names_its_key(keys: dict[str, Any], expected: str) -> None:
    problems = problems_of(aws_config(collector=collector(**keys)))
    assert any(line.strip().startswith(expected) for line in problems), problems


@pytest.mark.parametrize(("keys", "key"), [({"replicas": 2}, "replicas"), ({"maxReplicas": 2}, "maxReplicas")])
def test_only_target_aws_runs_several_instances(keys: dict[str, Any], key: str) -> None:
    config = {"target": "local", "collector": {**keys, "subnetIds": SUBNETS}, "apis": [{"name": "Orders"}]}
    assert problems_of(config) == [f"  kong-slo:collector.{key}: several collector instances need target aws; "
                                   "target local runs one collector"]


def test_every_problem_is_reported_at_once() -> None:
    keys = {"replicas": 3, "maxReplicas": 2, "subnetIds": [SUBNETS[0], "nonsense"], "publicIp": True,
            "subnetId": SUBNETS[1], "cpuTarget": -5}
    found = {line.split(":", 2)[1].strip() for line in problems_of(aws_config(collector=collector(**keys)))}
    assert found == {f"collector.{key}" for key in ("maxReplicas", "subnetIds[1]", "subnetIds", "cpuTarget",
                                                    "subnetId", "publicIp")}
