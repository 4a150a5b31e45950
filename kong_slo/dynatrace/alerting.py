"""A stack's alerting through Dynatrace Settings 2.0: one alerting profile and one e-mail notification per stack
(both flavours), and on classic stacks the burn-rate metric events of every SLO.

Each object is a ``SettingsObject`` whose ``externalId`` derives from the stack, so a re-run never duplicates it.
The value builders are pure; ``SloAlerting`` wires the kinds together.

The burn-rate alerts are metric events (``classic.metric_events``), one per rule of
``kong_slo.objectives.burn_rate.alert_rules``, whose titles start with ``kong-slo <stack>:`` (platform stacks
raise the same titles from Davis anomaly detectors). The alerting profile passes on exactly those titles at both
severities, and the e-mail notification is attached to that profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from kong_slo.dynatrace.classic.metric_events import METRIC_EVENT_SCHEMA, metric_event_value
from kong_slo.dynatrace.settings_objects import SettingsObject, external_id
from kong_slo.objectives.burn_rate import BurnRateRule, alert_rules
from kong_slo.objectives.sli import SloDefinition, slo_name_prefix
from kong_slo.settings.model import BurnRatePolicy

ALERTING_PROFILE_SCHEMA = "builtin:alerting.profile"
NOTIFICATION_SCHEMA = "builtin:problem.notifications"


def profile_external_id(project: str, stack: str) -> str:
    """The stack's alerting profile."""
    return external_id(project, stack, "alerting-profile")


def notification_external_id(project: str, stack: str) -> str:
    """The stack's e-mail notification."""
    return external_id(project, stack, "email-notification")


def burn_rate_alerts(project: str, stack: str, definition: SloDefinition,
                     policy: BurnRatePolicy) -> list[tuple[BurnRateRule, str, dict[str, Any]]]:
    """Every burn-rate metric event of one SLO as ``SloAlerting`` declares it: its rule, ``externalId`` and value."""
    return [(rule, external_id(project, stack, f"burn-rate-{rule.key}", definition.metric_name),
             metric_event_value(definition, stack, rule, policy.min_requests))
            for rule in alert_rules(definition.window, policy)]


def alerting_profile_value(stack: str) -> dict[str, Any]:
    """A profile that passes on, without delay, only the problems this stack's burn-rate events raise: pages
    (Error) and tickets (custom alerts)."""
    return {
        "name": f"kong-slo {stack} SLO burn rate"[:100],
        "managementZone": None,
        "severityRules": [{"severityLevel": level, "delayInMinutes": 0, "tagFilterIncludeMode": "NONE"}
                          for level in ("ERRORS", "CUSTOM_ALERT")],
        "eventFilters": [{
            "type": "CUSTOM",
            "customFilter": {"titleFilter": {"enabled": True, "operator": "BEGINS_WITH",
                                             "value": slo_name_prefix(stack), "negate": False,
                                             "caseSensitive": True}},
        }],
    }


def email_notification_value(stack: str, emails: Sequence[str], profile_id: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "displayName": f"kong-slo {stack} SLO alerts"[:100],
        "type": "EMAIL",
        "alertingProfile": profile_id,
        "emailNotification": {
            "recipients": list(emails),
            "ccRecipients": [],
            "bccRecipients": [],
            "subject": "{State} SLO alert {ProblemID}: {ProblemTitle}",
            "body": "{ProblemDetailsHTML}",
            "notifyClosedProblems": True,
        },
    }


class SloAlerting(pulumi.ComponentResource):
    """The alerting profile, the e-mail notification on it, and the burn-rate alerts of every SLO of one stack.

    ``slos`` pairs each definition with its ``ServiceLevelObjective`` so every alert is created after (and
    removed before) the SLO it watches (platform stacks pass none: their detectors alert instead).
    """

    def __init__(self, name: str, *, project: str, stack: str, emails: Sequence[str],
                 slos: Sequence[tuple[SloDefinition, pulumi.Resource]], environment_url: pulumi.Input[str],
                 policy: BurnRatePolicy | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kongslo:dynatrace:SloAlerting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.profile = SettingsObject(
            f"{name}-profile", schema_id=ALERTING_PROFILE_SCHEMA,
            external_id=profile_external_id(project, stack),
            value=alerting_profile_value(stack), environment_url=environment_url, opts=child)
        self.notification = SettingsObject(
            f"{name}-email", schema_id=NOTIFICATION_SCHEMA,
            external_id=notification_external_id(project, stack),
            # The id, not the ``object_id`` output: an update of the profile leaves it known in ``pulumi preview``.
            value=self.profile.id.apply(lambda profile_id: email_notification_value(stack, emails, profile_id)),
            environment_url=environment_url, opts=child)
        policy = policy or BurnRatePolicy()
        self.alerts: list[SettingsObject] = []
        for definition, slo in slos:
            self.alerts += [
                SettingsObject(
                    f"{name}-{definition.metric_name}-{rule.key}", schema_id=METRIC_EVENT_SCHEMA, external_id=ext_id,
                    value=value, environment_url=environment_url,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[slo]))
                for rule, ext_id, value in burn_rate_alerts(project, stack, definition, policy)]
        self.register_outputs({
            "profile_id": self.profile.object_id,
            "notification_id": self.notification.object_id,
            "alert_ids": [alert.object_id for alert in self.alerts],
        })
