"""The kong-slo Pulumi program: stack settings → components → stack outputs. Wiring only."""

import pulumi

from kong_slo.errors import KongSloError
from kong_slo.settings import load_from_engine

try:
    settings = load_from_engine()
except KongSloError as error:
    # RunError ends the program with the message alone; every problem is named by its config key.
    raise pulumi.RunError(str(error)) from None

from kong_slo.infra.collector import deploy_collector
from kong_slo.kong.conf_patch import KongConfPatch, node_patches
from kong_slo.kong.plugin_resource import declare_plugins
from kong_slo.kong.tracing import tracing_for_stack
from kong_slo.objectives.sli import slo_definitions

try:
    collector = deploy_collector(settings)
except KongSloError as error:
    raise pulumi.RunError(str(error)) from None

kong_ready = list(collector.kong_ready)
# The plugins wait for every node's patched kong.conf: their Admin API calls come after Kong's reload.
kong_ready += [KongConfPatch(name, node, tracing_for_stack(settings), opts=opts)
               for name, node, opts in node_patches(settings.kong.ssh)]

plugins = declare_plugins(settings, collector.collector_url, opts=pulumi.ResourceOptions(depends_on=kong_ready))

pulumi.export("target", settings.target)
pulumi.export("apis", [api.name for api in settings.apis])
for key, value in collector.exports.items():
    pulumi.export(key, value)
pulumi.export("kong_plugins", {name: plugin.id for name, plugin in plugins.items()})
pulumi.export("kong_plugins_adopted", {name: plugin.taken_over for name, plugin in plugins.items()})

if settings.dynatrace is not None:
    from kong_slo.dynatrace.component import DynatraceSlos

    slos = DynatraceSlos("slos", project=settings.project, stack=settings.stack, dynatrace=settings.dynatrace,
                         definitions=slo_definitions(settings))
    pulumi.export("slo_ids", slos.slo_ids)
