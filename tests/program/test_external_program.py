"""Target external under Pulumi mocks: no host and no container, plugins and SLOs exactly as elsewhere."""

from __future__ import annotations

from tests.program.mocks import run_program, stack_config

PLUGIN = "pulumi-python:dynamic/kong:OpenTelemetryPlugin"
SLO = "pulumi-python:dynamic/dynatrace:ServiceLevelObjective"


def test_external_declares_no_infrastructure_and_points_kong_at_the_teams_collector() -> None:
    run = run_program(stack_config("external"), stack="external")
    types = {resource.type for resource in run.resources}
    assert not any(kind.startswith(("aws:", "docker:")) for kind in types), types
    plugins = {resource.inputs["api_name"]: resource.inputs for resource in run.of_type(PLUGIN)}
    assert set(plugins) == {"HealthService", "Orders"}
    assert {inputs["collector_url"] for inputs in plugins.values()} == {"http://otel-collector.observability.svc:4318"}
    assert len(run.of_type(SLO)) == 4
    assert run.output("otlp_http_url") == "http://otel-collector.observability.svc:4318"
    assert run.output("target") == "external"
