"""The kong-slo Pulumi program: stack settings → components → stack outputs. Wiring only."""

import pulumi

from kong_slo.errors import KongSloError
from kong_slo.settings import load_from_engine

try:
    settings = load_from_engine()
except KongSloError as error:
    # RunError ends the program with the message alone; every problem is named by its config key.
    raise pulumi.RunError(str(error)) from None

pulumi.export("target", settings.target)
pulumi.export("apis", [api.name for api in settings.apis])

if settings.target == "aws":
    from kong_slo.infra.aws import CollectorHost

    try:
        collector = CollectorHost("collector", settings)
    except KongSloError as error:
        raise pulumi.RunError(str(error)) from None
    pulumi.export("collector_instance_id", collector.instance_id)
    pulumi.export("collector_private_ip", collector.private_ip)
    if collector.public_ip is not None:
        pulumi.export("collector_public_ip", collector.public_ip)
    pulumi.export("collector_security_group_id", collector.security_group_id)
    pulumi.export("collector_token_parameter", collector.token_parameter)
    traces_url, logs_url = collector.traces_url, collector.logs_url
    pulumi.export("otlp_http_url", collector.otlp_http_url)
    pulumi.export("traces_url", traces_url)
    pulumi.export("logs_url", logs_url)
else:
    # Local target: the LocalGateway component (kong_slo.infra.local) goes here and provides
    # traces_url / logs_url for the Kong wiring below.
    traces_url = logs_url = None

# Kong: the kong.conf patch (kong.ssh) and one OpenTelemetry plugin per API, pointed at traces_url / logs_url.
# Dynatrace: one SLO per objective, burn-rate alerts and e-mail notification (when settings.dynatrace).
