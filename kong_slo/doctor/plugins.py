"""Link 2, the plugins: for each API, its service (and route) exist, and kong-slo's ``opentelemetry`` plugin is
there, enabled, sends to the collector under the API's name, and is the one Kong runs for the API's requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kong_slo.doctor.precedence import scope_words, shadowing_plugins
from kong_slo.doctor.report import Check, ok, problem
from kong_slo.http import ApiError
from kong_slo.kong.admin import KongAdmin
from kong_slo.kong.declarative import FILE_NAME as DB_LESS_FILE
from kong_slo.kong.payload import (
    OTLP_LOGS_PATH,
    OTLP_TRACES_PATH,
    OWNER_TAG,
    PLUGIN_NAME,
    managed_view,
    scope_of,
    wants_logs,
)
from kong_slo.settings import Api, KongVersion, StackSettings
from kong_slo.settings.rules import LOGS_ENDPOINT_SINCE

LINK = "plugins"
UP_FIX = "run `pulumi up` for this stack: it writes the API's plugin again"
DB_LESS_FIX = (f"this Kong is DB-less, so `pulumi up` cannot write the plugin: add the plugins of {DB_LESS_FILE} "
               "(`kong-slo render` writes it, in Kong's declarative format) to the declarative configuration that "
               "defines the services, and load it (declarative_config, or POST /config); decK does not manage a "
               "DB-less Kong")


@dataclass(frozen=True)
class Wanted:
    """What each API's plugin should say, and how to put it right."""

    stack: str
    traces: str | None
    """The collector's traces URL as Kong reaches it; None when the stack does not say."""
    logs: str | None
    """The collector's logs URL when logs are exported; None when not wanted or not known."""
    fix: str = UP_FIX


def wanted_for(settings: StackSettings, traces_url: str | None, version: KongVersion, *, db_less: bool) -> Wanted:
    """What the plugins should say on a Kong of ``version`` (the stack's ``kong.version`` wins, as for writes)."""
    version = settings.kong.version or version
    logs = None
    if traces_url is not None and version >= LOGS_ENDPOINT_SINCE and wants_logs(settings.kong.export_logs, version):
        logs = traces_url.removesuffix(OTLP_TRACES_PATH) + OTLP_LOGS_PATH
    return Wanted(settings.stack, traces_url, logs, DB_LESS_FIX if db_less else UP_FIX)


@dataclass(frozen=True)
class PluginFindings:
    checks: list[Check]
    traces_endpoints: dict[str, str] = field(default_factory=dict)
    """Where each API's plugin sends traces, for finding the collector when the stack does not say."""


@dataclass(frozen=True)
class Workspace:
    """The workspace's services, routes and ``opentelemetry`` plugins, read once for every API."""

    services: dict[str, dict[str, Any]]
    """By name."""
    routes: list[dict[str, Any]]
    plugins: list[dict[str, Any]]

    @classmethod
    def read(cls, kong: KongAdmin) -> Workspace:
        return cls({str(service.get("name")): service for service in kong.services()}, kong.routes(),
                   [plugin for plugin in kong.plugins() if plugin.get("name") == PLUGIN_NAME])

    def routes_of(self, service: dict[str, Any]) -> list[dict[str, Any]]:
        return [route for route in self.routes if (route.get("service") or {}).get("id") == service.get("id")]


def check_plugins(kong: KongAdmin, settings: StackSettings, wanted: Wanted) -> PluginFindings:
    """Where ``wanted`` does not know the collector's address, where the plugins send is reported, not judged."""
    try:
        workspace = Workspace.read(kong)
    except ApiError as error:
        return PluginFindings([problem(LINK, "plugins.list", f"Kong did not list its services, routes and plugins: "
                                       f"{error}", "check kong.workspace and the admin token's read permissions")])
    checks: list[Check] = []
    endpoints: dict[str, str] = {}
    for index, api in enumerate(settings.apis):
        api_checks, endpoint = _check_api(workspace, wanted, index, api)
        checks += api_checks
        if endpoint:
            endpoints[api.name] = endpoint
    return PluginFindings(checks, endpoints)


def _check_api(workspace: Workspace, wanted: Wanted, index: int, api: Api) -> tuple[list[Check], str | None]:
    name = f"plugins.{api.name}"
    service = workspace.services.get(api.name)
    if service is None:
        return [problem(LINK, f"{name}.scope", f"{api.name}: Kong has no service named {api.name!r}",
                        f"create the service in Kong, or correct kong-slo:apis[{index}].name")], None
    routes = workspace.routes_of(service)
    if api.route:
        routes = [route for route in routes if api.route in (route.get("name"), route.get("id"))]
        if not routes:
            return [problem(LINK, f"{name}.scope", f"{api.name}: service {api.name!r} has no route named "
                            f"{api.route!r}", f"create the route on service {api.name!r}, or correct "
                            f"kong-slo:apis[{index}].route")], None
    kind, scope = scope_of(api)
    scope_id = (routes[0] if api.route else service).get("id")
    checks = [ok(LINK, f"{name}.scope", f"{api.name}: {kind} {scope} exists" +
                 ("" if api.route else f" ({len(routes)} route(s))"))]
    ours = next((plugin for plugin in workspace.plugins if _sits_exactly_on(plugin, kind, scope_id)), None)
    if ours is None:
        checks.append(problem(LINK, f"{name}.plugin", f"{api.name}: no opentelemetry plugin on {kind} {scope}",
                              wanted.fix))
        return checks, None
    checks.append(_plugin_check(name, api, kind, scope, ours, wanted))
    route_names = {route.get("id"): route.get("name") or route.get("id") for route in routes}
    shadows = shadowing_plugins(ours, workspace.plugins, service_id=str(service.get("id")),
                                route_ids=list(route_names))
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


def _plugin_check(name: str, api: Api, kind: str, scope: str, plugin: dict[str, Any], wanted: Wanted) -> Check:
    view, stack, fix = managed_view(plugin), wanted.stack, wanted.fix
    label = f"{api.name}: plugin {plugin.get('id')} on {kind} {scope}"
    owners = [str(tag).split(":", 1)[1] for tag in view["tags"] if str(tag).startswith(f"{OWNER_TAG}-stack:")]
    if owners and stack not in owners:
        return problem(LINK, f"{name}.plugin", f"{label} belongs to kong-slo stack {owners[0]!r}",
                       "point this stack at another Kong or workspace, or destroy the other stack")
    if not view["enabled"]:
        return problem(LINK, f"{name}.plugin", f"{label} is disabled, so no request of {api.name} is traced",
                       f"{fix} (with enabled: true)")
    traces = view["traces_endpoint"]
    if wanted.traces is not None and traces != wanted.traces:
        return problem(LINK, f"{name}.plugin", f"{label} sends traces to {traces}, not to the collector at "
                       f"{wanted.traces}", f"{fix}, or set kong.collectorUrl if Kong reaches the collector "
                       "at another address")
    if wanted.logs is not None and view["logs_endpoint"] != wanted.logs:
        return problem(LINK, f"{name}.plugin", f"{label} sends logs to {view['logs_endpoint']}, not to "
                       f"{wanted.logs}", f"{fix}, or set kong.exportLogs: false to send none")
    service_name = view["resource_attributes"].get("service.name")
    if service_name != api.name:
        return problem(LINK, f"{name}.plugin", f"{label} names its traces service.name={service_name!r}, so they "
                       f"are not counted for {api.name}", fix)
    rate = view["sampling_rate"]
    if rate is not None and api.sampling_rate is None and rate < 1.0:
        return problem(LINK, f"{name}.plugin", f"{label} traces only {rate * 100:g} % of requests (sampling_rate)",
                       fix)
    if not owners:
        return problem(LINK, f"{name}.plugin", f"{label} is not tagged as managed by kong-slo stack {stack!r}",
                       "run `pulumi up`: it adopts the plugin and tags it")
    where = traces if wanted.traces is not None else f"{traces} (not compared: the stack does not say where " \
        "the collector is)"
    return ok(LINK, f"{name}.plugin", f"{label}: enabled, traces to {where}")
