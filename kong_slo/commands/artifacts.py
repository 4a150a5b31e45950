"""Everything a stack would deploy, as files for review (``kong-slo render``) or for manual use (pure).

Secrets appear only as references (``${env:DT_API_TOKEN}``, the SSM parameter name), never as values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from kong_slo.collector.model import OTLP_HTTP_PORT
from kong_slo.collector.render import render_cloud_init, render_collector_config, render_compose
from kong_slo.commands.alert_files import alert_definitions
from kong_slo.commands.dashboard_file import dashboard_json
from kong_slo.dynatrace.platform.definitions import platform_slo_payload
from kong_slo.infra.aws_plan import token_parameter_name
from kong_slo.infra.local_endpoints import LocalEndpoints
from kong_slo.kong import deck, declarative
from kong_slo.kong.admin import SCOPE_PATHS, workspace_prefix
from kong_slo.kong.payload import plugin_body, plugin_id, scope_of
from kong_slo.kong.tracing import tracing_env, tracing_for_stack
from kong_slo.objectives.sli import slo_definitions, slo_payload
from kong_slo.settings import Api, KongVersion, StackSettings

ASSUMED_KONG_VERSION = KongVersion(3, 9)
"""The plugin shape rendered when ``kong.version`` is not set (``pulumi up`` asks Kong itself)."""
COLLECTOR_PLACEHOLDER = f"http://COLLECTOR_PRIVATE_IP:{OTLP_HTTP_PORT}"
"""Stands for the AWS host's address until it exists: `pulumi stack output otlp_http_url` gives it."""
DECK_HEADER = ("# kong-slo's opentelemetry plugins for decK (Kong with a database, Konnect):\n"
               "# `deck gateway sync kong-slo-deck.yaml`, or `deck file merge kong.yaml kong-slo-deck.yaml`.\n")
DB_LESS_HEADER = ("# kong-slo's opentelemetry plugins for a DB-less Kong (database = off), in Kong's own format:\n"
                  "# add the entries of `plugins` to the declarative configuration that defines the services\n"
                  "# (declarative_config in kong.conf, or the body of POST /config), check it with\n"
                  "# `kong config parse FILE`, and load it.\n")
TIER_PLACEHOLDER = f"http://COLLECTOR_LOAD_BALANCER_DNS:{OTLP_HTTP_PORT}"
"""Stands for a collector tier's load balancer name until it exists."""


def collector_url_for_kong(settings: StackSettings) -> str:
    """How Kong reaches the collector, as far as the stack file tells."""
    if settings.kong.collector_url:
        return settings.kong.collector_url
    if settings.target == "local":
        return LocalEndpoints().collector_internal
    return TIER_PLACEHOLDER if settings.collector.is_tier else COLLECTOR_PLACEHOLDER


def _plugins(settings: StackSettings) -> list[tuple[Api, str, str, str, dict[str, Any]]]:
    """Per API: the plugin's scope kind and name, its id and its body, for ``kong.version`` (or the assumed one)."""
    version = settings.kong.version or ASSUMED_KONG_VERSION
    collector = collector_url_for_kong(settings)
    plugins = []
    for api in settings.apis:
        kind, scope = scope_of(api)
        body = plugin_body(api, stack=settings.stack, collector_url=collector,
                           export_logs=settings.kong.export_logs, version=version,
                           incoming_context=settings.kong.incoming_trace_context)
        plugins.append((api, kind, scope, plugin_id(settings.stack, kind, scope, settings.kong.workspace), body))
    return plugins


def kong_plugin_requests(settings: StackSettings) -> dict[str, Any]:
    """The Admin API requests that register one ``opentelemetry`` plugin per API."""
    prefix = workspace_prefix(settings.kong.workspace)
    requests = [{"api": api.name, "method": "PUT", "path": f"{prefix}/{SCOPE_PATHS[kind]}/{scope}/plugins/{identifier}",
                 "body": body} for api, kind, scope, identifier, body in _plugins(settings)]
    return {
        "adminUrl": settings.kong.admin_url,
        "kongVersion": str(settings.kong.version or ASSUMED_KONG_VERSION),
        "kongVersionAssumed": settings.kong.version is None,
        "collectorUrl": collector_url_for_kong(settings),
        "requests": requests,
    }


def kong_deck_file(settings: StackSettings) -> str:
    """The same plugins as a decK file (Kong with a database, Konnect): ``deck gateway sync`` or
    ``deck file merge``."""
    document = deck.deck_file(settings.stack, settings.kong.workspace, _plugin_specs(settings))
    return DECK_HEADER + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def _plugin_specs(settings: StackSettings) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(kind, scope, identifier, body) for _, kind, scope, identifier, body in _plugins(settings)]


def kong_db_less_file(settings: StackSettings) -> str:
    """The same plugins in Kong's own declarative format, for a DB-less Kong (which decK does not manage)."""
    return DB_LESS_HEADER + yaml.safe_dump(declarative.declarative_config(_plugin_specs(settings)), sort_keys=False,
                                           default_flow_style=False)


def _platform(settings: StackSettings) -> bool:
    return settings.dynatrace is not None and settings.dynatrace.flavour == "platform"


def slo_requests(settings: StackSettings) -> list[dict[str, Any]] | None:
    """The classic SLO API bodies, one per enabled objective; None for a platform stack, and for a stack
    without Dynatrace (a local stack whose telemetry goes to the collector's debug exporter)."""
    if _platform(settings) or settings.dynatrace is None:
        return None
    return [{"api": definition.api, "objective": definition.objective, "method": "POST", "path": "/api/v2/slo",
             "body": slo_payload(definition)} for definition in slo_definitions(settings)]


def platform_slo_requests(settings: StackSettings) -> list[dict[str, Any]] | None:
    """The platform SLO API bodies (``POST /platform/slo/v1/slos`` on the apps host); None for a classic stack."""
    if not _platform(settings):
        return None
    return [{"api": definition.api, "objective": definition.objective, "method": "POST",
             "path": "/platform/slo/v1/slos", "body": platform_slo_payload(definition, settings.stack)}
            for definition in slo_definitions(settings)]


def _json_or_none(document: Any) -> str | None:
    return None if document is None else _json(document)


def kong_env(settings: StackSettings) -> str:
    """Kong's tracing settings as ``KONG_*`` variables, for Kong in a container (an env file)."""
    lines = ["# Kong tracing for SLO-grade span metrics; add to Kong's container environment."]
    lines += [f"{key}={value}" for key, value in tracing_env(tracing_for_stack(settings)).items()]
    return "\n".join(lines) + "\n"


def _json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def _cloud_init(settings: StackSettings) -> str | None:
    if settings.target != "aws":
        return None
    return render_cloud_init(settings, token_parameter=token_parameter_name(settings), region=settings.aws_region or "")


ARTIFACTS: dict[str, Callable[[StackSettings], str | None]] = {
    "docker-compose.yml": render_compose,
    "otel-collector-config.yaml": render_collector_config,
    "cloud-init.yaml": _cloud_init,
    "kong-plugins.json": lambda settings: _json(kong_plugin_requests(settings)),
    deck.FILE_NAME: kong_deck_file,
    declarative.FILE_NAME: kong_db_less_file,
    "slos.json": lambda settings: _json_or_none(slo_requests(settings)),
    "platform-slos.json": lambda settings: _json_or_none(platform_slo_requests(settings)),
    "kong.env": kong_env,
    "dashboard.json": dashboard_json,
    "alerts.json": lambda settings: _json_or_none(alert_definitions(settings)),
}
"""File name → how a stack renders it; ``None`` when that stack has no such file (cloud-init off AWS)."""


def render_all(settings: StackSettings) -> dict[str, str]:
    """Every artifact the stack produces, by file name."""
    files = {name: render(settings) for name, render in ARTIFACTS.items()}
    return {name: text for name, text in files.items() if text is not None}
