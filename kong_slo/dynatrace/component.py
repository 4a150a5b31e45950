"""``DynatraceSlos``: every SLO a stack asks for, and its burn-rate alerting, as one component."""

from __future__ import annotations

import pulumi

from kong_slo import telemetry
from kong_slo.dynatrace.alerting import SloAlerting
from kong_slo.dynatrace.classic.metric import MetricDeclaration
from kong_slo.dynatrace.classic.slo import ServiceLevelObjective
from kong_slo.dynatrace.platform.definitions import platform_slo_payload
from kong_slo.dynatrace.platform.detectors import BurnRateDetectors
from kong_slo.dynatrace.platform.slo import PlatformServiceLevelObjective
from kong_slo.objectives.sli import SloDefinition, metric_declaration_lines, slo_payload
from kong_slo.settings.model import DynatraceSettings


def declare_slo(name: str, definition: SloDefinition, *, stack: str, dynatrace: DynatraceSettings,
                opts: pulumi.ResourceOptions) -> ServiceLevelObjective | PlatformServiceLevelObjective:
    """The SLO resource of the stack's flavour. Both flavours use the same resource name, so switching a stack
    from classic to platform declares new resources (their type differs) and Pulumi deletes the classic ones
    only after every create has succeeded."""
    if dynatrace.platform is not None:
        return PlatformServiceLevelObjective(name, payload=platform_slo_payload(definition, stack),
                                             platform_url=dynatrace.platform.url, opts=opts)
    return ServiceLevelObjective(name, payload=slo_payload(definition), environment_url=dynatrace.environment_url,
                                 opts=opts)


class DynatraceSlos(pulumi.ComponentResource):
    """A ``MetricDeclaration`` of the SLO counter first (classic collector SLIs, so a new environment accepts the
    SLOs), one SLO per definition in the stack's flavour (``declare_slo``) and, when ``dynatrace.alerting`` is set,
    one ``SloAlerting`` (alerting profile, e-mail notification and, for classic SLOs, the burn-rate alerts of every
    SLO); for platform SLOs, ``BurnRateDetectors`` (Davis anomaly detectors) alert instead.

    ``slo_ids`` maps each SLO name to its Dynatrace id (the resources' ids: an updated SLO's stays known in
    ``pulumi preview``, where its outputs do not). The token is not an input: providers read it
    from the ``kong-slo:dynatrace`` stack config.
    """

    def __init__(self, name: str, *, project: str, stack: str, dynatrace: DynatraceSettings,
                 definitions: list[SloDefinition], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kongslo:dynatrace:Slos", name, None, opts)
        # Platform SLIs query Grail, where the counter needs no declaration (and the API token no metrics scopes).
        lines = metric_declaration_lines(definitions) if dynatrace.platform is None else []
        self.metric: MetricDeclaration | None = None
        if lines:
            self.metric = MetricDeclaration(
                f"{name}-metric", metric_key=telemetry.CALLS_METRIC_KEY, lines=lines,
                environment_url=dynatrace.environment_url, opts=pulumi.ResourceOptions(parent=self))
        slo_opts = pulumi.ResourceOptions(parent=self, depends_on=[self.metric] if self.metric else [])
        self.slos = [
            (definition, declare_slo(f"{name}-{definition.metric_name}", definition, stack=stack, dynatrace=dynatrace,
                                     opts=slo_opts))
            for definition in definitions
        ]
        self.alerting: SloAlerting | None = None
        self.detectors: BurnRateDetectors | None = None
        if dynatrace.alerting is not None and self.slos:
            # Platform stacks keep the profile and notification (same resources) and alert through detectors.
            self.alerting = SloAlerting(
                f"{name}-alerting", project=project, stack=stack, emails=dynatrace.alerting.emails,
                slos=[] if dynatrace.platform else self.slos, environment_url=dynatrace.environment_url,
                policy=dynatrace.alerting.burn_rate,
                opts=pulumi.ResourceOptions(parent=self))
        if dynatrace.alerting is not None and self.slos and dynatrace.platform is not None:
            self.detectors = BurnRateDetectors(f"{name}-detectors", project=project, stack=stack, slos=self.slos,
                                               platform_url=dynatrace.platform.url,
                                               actor=dynatrace.platform.detector_actor,
                                               policy=dynatrace.alerting.burn_rate,
                                               opts=pulumi.ResourceOptions(parent=self))
        self.slo_ids: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            *[slo.id for _, slo in self.slos]).apply(
            lambda ids: {definition.name: slo_id for (definition, _), slo_id in zip(self.slos, ids, strict=True)})
        self.register_outputs({"slo_ids": self.slo_ids})
