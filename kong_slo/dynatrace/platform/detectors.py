"""Burn-rate alerting for platform SLOs: Davis anomaly detectors written through the platform's Settings 2.0
API (Bearer auth, ``<apps URL>/platform/classic/environment-api/v2``).

``PlatformSettingsObject`` is the classic ``SettingsObject`` lifecycle (identity by ``externalId``, adoption,
never a duplicate on retry) with the platform's URL and credentials; ``BurnRateDetectors`` declares a detector
per objective and burn-rate alert (``kong_slo.dynatrace.platform.alerting``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure

from kong_slo.dynamic_resource import DynamicResource
from kong_slo.dynatrace.platform.alerting import DETECTOR_SCHEMA, detectors
from kong_slo.dynatrace.platform.client import SETTINGS_API_PATH
from kong_slo.dynatrace.platform.provider import PlatformProvider
from kong_slo.dynatrace.settings_objects import SettingsObjectProvider, external_id
from kong_slo.objectives.burn_rate import BurnRateRule
from kong_slo.objectives.sli import SloDefinition
from kong_slo.settings.model import BurnRatePolicy

SETTINGS_SCOPES = ("settings:objects:read", "settings:objects:write", "storage:metrics:read",
                   "davis:analyzers:execute")
"""Writing detectors, and letting them run their DQL without a service-user actor."""


class PlatformSettingsObjectProvider(PlatformProvider, SettingsObjectProvider):
    """CRUD for one Settings 2.0 object through the platform; ``environment_url`` is the ``apps`` URL."""

    api_path: ClassVar[str] = SETTINGS_API_PATH
    scopes: ClassVar[tuple[str, ...]] = SETTINGS_SCOPES

    @staticmethod
    def environment_url_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
        return PlatformProvider.platform_url_failures(news, "environment_url")


class PlatformSettingsObject(DynamicResource, module="dynatrace", name="PlatformSettingsObject"):
    """One Settings 2.0 object written with the platform token or OAuth client, found again by ``external_id``."""

    object_id: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(self, name: str, *, schema_id: str, external_id: str, value: pulumi.Input[dict[str, Any]],
                 platform_url: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PlatformSettingsObjectProvider(), name,
                         {"schema_id": schema_id, "external_id": external_id, "value": value,
                          "environment_url": platform_url, "object_id": None, "adopted": None}, opts)


def burn_rate_detectors(project: str, stack: str, definition: SloDefinition, policy: BurnRatePolicy | None = None,
                       actor: str | None = None) -> list[tuple[BurnRateRule, str, dict[str, Any]]]:
    """Every burn-rate detector of one SLO as ``BurnRateDetectors`` declares it: its rule, ``externalId`` and value."""
    return [(rule, external_id(project, stack, "burn-rate", f"{definition.metric_name}:{rule.key}"), value)
            for rule, value in detectors(definition, stack, policy, actor)]


class BurnRateDetectors(pulumi.ComponentResource):
    """Per SLO, one Davis anomaly detector per burn-rate alert (platform credentials, ``apps`` host), each created
    after its SLO. The events reach the stack's e-mails through the alerting profile and notification of
    ``SloAlerting``, which platform stacks declare exactly as classic ones (same resources, so switching a
    stack's flavour keeps them)."""

    def __init__(self, name: str, *, project: str, stack: str, slos: Sequence[tuple[SloDefinition, pulumi.Resource]],
                 platform_url: pulumi.Input[str], actor: str | None = None, policy: BurnRatePolicy | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kongslo:dynatrace:BurnRateDetectors", name, None, opts)
        self.detectors = [
            PlatformSettingsObject(
                f"{name}-{definition.metric_name}-{rule.key}", schema_id=DETECTOR_SCHEMA, external_id=ext_id,
                value=value, platform_url=platform_url, opts=pulumi.ResourceOptions(parent=self, depends_on=[slo]))
            for definition, slo in slos
            for rule, ext_id, value in burn_rate_detectors(project, stack, definition, policy, actor)
        ]
        self.register_outputs({"detector_ids": [detector.object_id for detector in self.detectors]})
