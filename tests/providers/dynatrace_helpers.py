"""Shared pieces of the Dynatrace provider tests: a fast, configured provider and sample payloads."""

from __future__ import annotations

import json
from typing import Any

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from kong_slo.dynatrace.provider import DynatraceProvider
from kong_slo.http import RetryPolicy
from kong_slo.objectives.sli import slo_definitions, slo_payload
from kong_slo.settings import StackSettings, parse_settings
from tests.unit.settings_helpers import aws_config

TOKEN = "dt0c01.SENTINELPUBLIC.SENTINELSECRETNEVERSHOWN"
FAST_POLICY = RetryPolicy(attempts=4, initial_delay=0.01, multiplier=2.0, max_delay=0.05, timeout=0.5)


def configured(provider: DynatraceProvider, token: str = TOKEN) -> list[float]:
    """Configure ``provider`` as the engine would and make it wait for nothing; returns its recorded waits."""
    waits: list[float] = []
    provider.configure(ConfigureRequest(Config({"kong-slo:dynatrace": json.dumps({"apiToken": token})},
                                               "kong-slo")))
    provider.sleep = waits.append  # type: ignore[method-assign]
    provider.retry_policy = FAST_POLICY  # type: ignore[misc]
    return waits


def checked(provider: DynatraceProvider, news: dict[str, Any]) -> dict[str, Any]:
    """``news`` as the provider's ``check`` returns it, asserting that ``check`` found nothing wrong."""
    result = provider.check({}, news)
    assert result.failures == []
    return result.inputs


def stack_settings(stack: str = "test", apis: list[dict[str, Any]] | None = None, **dynatrace: Any) -> StackSettings:
    """A valid aws stack with these APIs (default: HealthService, Orders) and extra ``dynatrace`` keys."""
    config = aws_config(**({"apis": apis} if apis else {}))
    config["dynatrace"].update(dynatrace)
    return parse_settings(config, project="kong-slo", stack=stack, aws_region="eu-west-1")


def payloads(stack: str = "test", apis: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [slo_payload(definition) for definition in slo_definitions(stack_settings(stack, apis))]


PLATFORM_TOKEN = "dt0s16.SENTINELPUBLIC.SENTINELPLATFORMNEVERSHOWN"


def configured_platform(provider: DynatraceProvider, section: dict[str, Any] | None = None) -> list[float]:
    """Configure a platform provider with ``section`` as ``kong-slo:dynatrace`` (default: a platform token)."""
    waits: list[float] = []
    config = section if section is not None else {"platformToken": PLATFORM_TOKEN}
    provider.configure(ConfigureRequest(Config({"kong-slo:dynatrace": json.dumps(config)}, "kong-slo")))
    provider.sleep = waits.append  # type: ignore[method-assign]
    provider.retry_policy = FAST_POLICY  # type: ignore[misc]
    return waits


def platform_payloads(stack: str = "test", apis: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    from kong_slo.dynatrace.platform.definitions import platform_slo_payload

    return [platform_slo_payload(definition, stack) for definition in slo_definitions(stack_settings(stack, apis))]
