"""The alerting a stack would create, as one reviewable document (``alerts.json`` of ``kong-slo render``).

Built by the same builders the components declare from, so a `make render` diff in review shows every alert
change: the alerting profile and e-mail notification of ``SloAlerting`` (both flavours), and per objective the
burn-rate metric events (classic, ``burn_rate_alerts``) or Davis anomaly detectors (platform, ``detectors``).
"""

from __future__ import annotations

from typing import Any

from kong_slo.dynatrace.alerting import (
    ALERTING_PROFILE_SCHEMA,
    METRIC_EVENT_SCHEMA,
    NOTIFICATION_SCHEMA,
    alerting_profile_value,
    burn_rate_alerts,
    email_notification_value,
    notification_external_id,
    profile_external_id,
)
from kong_slo.dynatrace.platform.alerting import DETECTOR_SCHEMA, detectors
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings import StackSettings

PROFILE_REFERENCE = "${alerting profile objectId}"
"""Stands for the profile's id in the notification until Dynatrace assigns it."""


def alert_definitions(settings: StackSettings) -> dict[str, Any] | None:
    """What the stack's alerting creates; None when it creates none (no ``dynatrace.alerting``, no objective)."""
    dynatrace = settings.dynatrace
    definitions = slo_definitions(settings) if dynatrace is not None else []
    if dynatrace is None or dynatrace.alerting is None or not definitions:
        return None
    project, stack, policy = settings.project, settings.stack, dynatrace.alerting.burn_rate
    document: dict[str, Any] = {
        "profile": {"schemaId": ALERTING_PROFILE_SCHEMA, "externalId": profile_external_id(project, stack),
                    "value": alerting_profile_value(stack)},
        "notification": {"schemaId": NOTIFICATION_SCHEMA, "externalId": notification_external_id(project, stack),
                         "value": email_notification_value(stack, dynatrace.alerting.emails, PROFILE_REFERENCE)},
    }
    if dynatrace.platform is not None:
        actor = dynatrace.platform.detector_actor
        document["detectors"] = [
            {"api": definition.api, "objective": definition.objective, "rule": rule.key,
             "schemaId": DETECTOR_SCHEMA, "value": value}
            for definition in definitions for rule, value in detectors(definition, stack, policy, actor)]
    else:
        document["metricEvents"] = [
            {"api": definition.api, "objective": definition.objective, "rule": rule.key,
             "schemaId": METRIC_EVENT_SCHEMA, "externalId": external_id, "value": value}
            for definition in definitions
            for rule, external_id, value in burn_rate_alerts(project, stack, definition, policy)]
    return document
