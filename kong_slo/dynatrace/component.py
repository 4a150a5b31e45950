"""``DynatraceSlos``: every SLO a stack asks for, and its burn-rate alerting, as one component."""

from __future__ import annotations

import pulumi

from kong_slo import telemetry
from kong_slo.dynatrace.metric import MetricDeclaration
from kong_slo.dynatrace.settings import SloAlerting
from kong_slo.dynatrace.slo import ServiceLevelObjective
from kong_slo.settings.model import DynatraceSettings
from kong_slo.slo import SloDefinition, metric_declaration_lines, slo_payload


class DynatraceSlos(pulumi.ComponentResource):
    """A ``MetricDeclaration`` of the SLO counter first (collector SLIs, so a new environment accepts the
    SLOs), one ``ServiceLevelObjective`` per definition and, when ``dynatrace.alerting`` is set, one
    ``SloAlerting`` (alerting profile, e-mail notification, a burn-rate alert per SLO).

    ``slo_ids`` maps each SLO name to its Dynatrace id. The token is not an input: providers read it
    from the ``kong-slo:dynatrace`` stack config.
    """

    def __init__(self, name: str, *, project: str, stack: str, dynatrace: DynatraceSettings,
                 definitions: list[SloDefinition], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kongslo:dynatrace:Slos", name, None, opts)
        lines = metric_declaration_lines(definitions)
        self.metric: MetricDeclaration | None = None
        if lines:
            self.metric = MetricDeclaration(
                f"{name}-metric", metric_key=telemetry.CALLS_METRIC_KEY, lines=lines,
                environment_url=dynatrace.environment_url, opts=pulumi.ResourceOptions(parent=self))
        slo_opts = pulumi.ResourceOptions(parent=self, depends_on=[self.metric] if self.metric else [])
        self.slos = [
            (definition, ServiceLevelObjective(
                f"{name}-{definition.metric_name}", payload=slo_payload(definition),
                environment_url=dynatrace.environment_url, opts=slo_opts))
            for definition in definitions
        ]
        self.alerting: SloAlerting | None = None
        if dynatrace.alerting is not None and self.slos:
            self.alerting = SloAlerting(
                f"{name}-alerting", project=project, stack=stack, emails=dynatrace.alerting.emails,
                slos=self.slos, environment_url=dynatrace.environment_url, policy=dynatrace.alerting.burn_rate,
                opts=pulumi.ResourceOptions(parent=self))
        self.slo_ids: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            *[slo.slo_id for _, slo in self.slos]).apply(
            lambda ids: {definition.name: slo_id for (definition, _), slo_id in zip(self.slos, ids, strict=True)})
        self.register_outputs({"slo_ids": self.slo_ids})
