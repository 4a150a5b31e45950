"""Link 2, the plugins: for each API, its service (and route) exist, and kong-slo's ``opentelemetry`` plugin is
there, enabled, sends to the collector under the API's name, and is the one Kong runs for the API's requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kong_slo.doctor.precedence import scope_words, shadowing_plugins
from kong_slo.doctor.report import Check, ok, problem
from kong_slo.http import ApiError
from kong_slo.kong.admin import KongAdmin
from kong_slo.kong.payload import OWNER_TAG, PLUGIN_NAME, managed_view, scope_of
from kong_slo.settings import Api, StackSettings

LINK = "plugins"
UP_FIX = "run `pulumi up` for this stack: it writes the API's plugin again"


@dataclass(frozen=True)
class PluginFindings:
    checks: list[Check]
    traces_endpoints: dict[str, str] = field(default_factory=dict)
    """Where each API's plugin sends traces, for finding the collector when the stack does not say."""


def check_plugins(kong: KongAdmin, settings: StackSettings, expected_traces: str | None) -> PluginFindings:
    """``expected_traces`` is the collector's traces URL as Kong should reach it; None when the stack does not
    say (then where the plugins send is reported, not judged)."""
    try:
        plugins = [plugin for plugin in kong.plugins() if plugin.get("name") == PLUGIN_NAME]
    except ApiError as error:
        return PluginFindings([problem(LINK, "plugins.list", f"Kong did not list its plugins: {error}",
                                       "check kong.workspace and the admin token's read permissions")])
    checks: list[Check] = []
    endpoints: dict[str, str] = {}
    for index, api in enumerate(settings.apis):
        try:
            api_checks, endpoint = _check_api(kong, settings.stack, index, api, plugins, expected_traces)
        except ApiError as error:
            api_checks, endpoint = [problem(LINK, f"plugins.{api.name}", f"{api.name}: Kong did not answer: {error}",
                                            "run doctor again; if it persists, check Kong's error log")], None
        checks += api_checks
        if endpoint:
            endpoints[api.name] = endpoint
    return PluginFindings(checks, endpoints)


def _check_api(kong: KongAdmin, stack: str, index: int, api: Api, plugins: list[dict[str, Any]],
               expected_traces: str | None) -> tuple[list[Check], str | None]:
    name = f"plugins.{api.name}"
    service = kong.get_service(api.name)
    if service is None:
        return [problem(LINK, f"{name}.scope", f"{api.name}: Kong has no service named {api.name!r}",
                        f"create the service in Kong, or correct kong-slo:apis[{index}].name")], None
    if api.route:
        route = kong.get_route(api.route)
        if route is None or (route.get("service") or {}).get("id") != service.get("id"):
            where = "has no route" if route is None else "has a route of another service"
            return [problem(LINK, f"{name}.scope", f"{api.name}: Kong {where} named {api.route!r}",
                            f"create the route on service {api.name!r}, or correct kong-slo:apis[{index}].route")], \
                None
        routes = [route]
    else:
        routes = kong.service_routes(api.name)
    kind, scope = scope_of(api)
    scope_id = (routes[0] if api.route else service).get("id")
    checks = [ok(LINK, f"{name}.scope", f"{api.name}: {kind} {scope} exists" +
                 ("" if api.route else f" ({len(routes)} route(s))"))]
    ours = next((plugin for plugin in plugins if _sits_exactly_on(plugin, kind, scope_id)), None)
    if ours is None:
        checks.append(problem(LINK, f"{name}.plugin", f"{api.name}: no opentelemetry plugin on {kind} {scope}",
                              UP_FIX))
        return checks, None
    checks.append(_plugin_check(name, api, kind, scope, stack, ours, expected_traces))
    route_names = {route.get("id"): route.get("name") or route.get("id") for route in routes}
    shadows = shadowing_plugins(ours, plugins, service_id=str(service.get("id")), route_ids=list(route_names))
    if shadows:
        where = ", ".join(f"{scope_words(plugin, route_names)} (plugin {plugin.get('id')})" for plugin in shadows)
        checks.append(problem(
            LINK, f"{name}.effective", f"{api.name}: a more specific opentelemetry plugin takes some of its "
            f"requests, so kong-slo does not count them: {where}",
            "remove that plugin (or move its settings onto the API's plugin); Kong runs only the most specific "
            "opentelemetry plugin per request"))
    else:
        checks.append(ok(LINK, f"{name}.effective", f"{api.name}: no more specific opentelemetry plugin takes its "
                         "requests"))
    return checks, managed_view(ours)["traces_endpoint"]


def _sits_exactly_on(plugin: dict[str, Any], kind: str, scope_id: Any) -> bool:
    others = ("route", "consumer", "consumer_group") if kind == "service" else ("service", "consumer",
                                                                                 "consumer_group")
    return (plugin.get(kind) or {}).get("id") == scope_id and all(plugin.get(other) is None for other in others)


def _plugin_check(name: str, api: Api, kind: str, scope: str, stack: str, plugin: dict[str, Any],
                  expected_traces: str | None) -> Check:
    view = managed_view(plugin)
    label = f"{api.name}: plugin {plugin.get('id')} on {kind} {scope}"
    owners = [str(tag).split(":", 1)[1] for tag in view["tags"] if str(tag).startswith(f"{OWNER_TAG}-stack:")]
    if owners and stack not in owners:
        return problem(LINK, f"{name}.plugin", f"{label} belongs to kong-slo stack {owners[0]!r}",
                       "point this stack at another Kong or workspace, or destroy the other stack")
    if not view["enabled"]:
        return problem(LINK, f"{name}.plugin", f"{label} is disabled, so no request of {api.name} is traced",
                       f"{UP_FIX} (with enabled: true)")
    traces = view["traces_endpoint"]
    if expected_traces is not None and traces != expected_traces:
        return problem(LINK, f"{name}.plugin", f"{label} sends traces to {traces}, not to the collector at "
                       f"{expected_traces}", f"{UP_FIX}, or set kong.collectorUrl if Kong reaches the collector "
                       "at another address")
    service_name = view["resource_attributes"].get("service.name")
    if service_name != api.name:
        return problem(LINK, f"{name}.plugin", f"{label} names its traces service.name={service_name!r}, so they "
                       f"are not counted for {api.name}", UP_FIX)
    rate = view["sampling_rate"]
    if rate is not None and api.sampling_rate is None and rate < 1.0:
        return problem(LINK, f"{name}.plugin", f"{label} traces only {rate * 100:g} % of requests (sampling_rate)",
                       UP_FIX)
    if not owners:
        return problem(LINK, f"{name}.plugin", f"{label} is not tagged as managed by kong-slo stack {stack!r}",
                       "run `pulumi up`: it adopts the plugin and tags it")
    where = traces if expected_traces is not None else f"{traces} (not compared: the stack does not say where " \
        "the collector is)"
    return ok(LINK, f"{name}.plugin", f"{label}: enabled, traces to {where}")
