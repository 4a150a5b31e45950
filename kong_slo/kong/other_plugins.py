"""Other ``opentelemetry`` plugins that share an API's requests with kong-slo's plugin.

Kong runs only the most specific instance of a plugin for a request (``kong/runloop/plugins_iterator.lua``,
``lookup_cfg``: route+service+consumer, route+consumer, service+consumer, route+service, consumer, route,
service, global; Enterprise consumer groups rank just below the matching consumer levels). So around kong-slo's
plugin on a service (or route):

- a **narrower** plugin (on one of the API's routes, on a consumer or consumer group, or on a combination)
  takes those requests away: kong-slo never sees them, and the SLOs undercount;
- a **broader** plugin (global, or the service's own when kong-slo's sits on a route) loses the API's requests
  to kong-slo's plugin: an operator's export silently stops for them.

Neither may happen silently. ``find_others`` lists them (pure decisions in ``relation``); ``refusal`` turns the
ones the stack has not accepted (``kong.otherPlugins.broader`` / ``.narrower``) into one message.
Disabled plugins run for no request and are left out; so are this stack's own plugins, and plugins scoped to a
consumer (or consumer group) on an API where no plugin can identify one: Kong picks a consumer-scoped plugin only
once a plugin has authenticated the consumer (``kong.client.authenticate``), so there it never runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kong_slo.kong.admin import KongAdminError
from kong_slo.kong.listing import KongView
from kong_slo.kong.payload import OWNER_TAG, PLUGIN_NAME

SCOPE_FIELDS = ("route", "service", "consumer", "consumer_group")
NEVER_AUTHENTICATE = frozenset({
    "acl", "acme", "ai-prompt-decorator", "ai-prompt-guard", "ai-prompt-template", "ai-proxy",
    "ai-request-transformer", "ai-response-transformer", "aws-lambda", "azure-functions", "bot-detection",
    "correlation-id", "cors", "datadog", "file-log", "grpc-gateway", "grpc-web", "http-log", "ip-restriction",
    "loggly", "opentelemetry", "prometheus", "proxy-cache", "rate-limiting", "redirect", "request-size-limiting",
    "request-termination", "request-transformer", "response-ratelimiting", "response-transformer",
    "standard-webhooks", "statsd", "syslog", "tcp-log", "udp-log", "zipkin"})
"""Kong's bundled plugins (``kong/constants.lua`` @3.9.1) that never set a consumer: every other one (the auth
plugins, ``pre-function``/``post-function`` running any code, Enterprise and custom plugins) may identify one."""
BROADER = "broader"
NARROWER = "narrower"


@dataclass(frozen=True)
class OtherPlugin:
    """One ``opentelemetry`` plugin besides kong-slo's that can run for the API's requests."""

    id: str
    scope: str
    """How Kong scopes it, e.g. ``global``, ``route orders-v2``, ``consumer 5c1…``."""
    endpoint: str | None
    relation: str
    """``narrower`` (takes requests from kong-slo's plugin) or ``broader`` (loses them to it)."""


def _ref(plugin: dict[str, Any], field: str) -> str | None:
    value = plugin.get(field)
    return value.get("id") if isinstance(value, dict) else None


def relation(plugin_scope: frozenset[str], own_kind: str) -> str | None:
    """``narrower`` or ``broader`` than kong-slo's plugin on a ``service`` or ``route``, by ``lookup_cfg``'s order;
    None for the very same scope (the plugin kong-slo would adopt)."""
    own = frozenset({own_kind})
    if plugin_scope == own:
        return None
    if plugin_scope & {"consumer", "consumer_group"} or plugin_scope == {"route", "service"}:
        return NARROWER
    if plugin_scope == {"route"} and own_kind == "service":
        return NARROWER
    return BROADER


def classify(plugins: list[dict[str, Any]], *, own_kind: str, service_id: str, route_ids: dict[str, str],
             stack: str) -> list[OtherPlugin]:
    """The enabled ``opentelemetry`` plugins among ``plugins`` that can run for requests to the API: the service
    ``service_id``, reached through the routes ``route_ids`` (id → name; for a route API, that route only)."""
    consumers_known = any(_may_identify_consumer(plugin, service_id, route_ids) for plugin in plugins)
    found = []
    for plugin in plugins:
        if not _foreign(plugin, stack):
            continue
        service, route = _ref(plugin, "service"), _ref(plugin, "route")
        if (service is not None and service != service_id) or (route is not None and route not in route_ids):
            continue
        scope = frozenset(field for field in SCOPE_FIELDS if _ref(plugin, field) is not None)
        if scope & {"consumer", "consumer_group"} and not consumers_known:
            continue  # no consumer is ever identified on this API: Kong never picks it
        kind = relation(scope, own_kind)
        if kind is None:
            continue
        found.append(OtherPlugin(id=str(plugin.get("id")), scope=_describe(plugin, route_ids), relation=kind,
                                 endpoint=_endpoint(plugin)))
    return found


def _may_identify_consumer(plugin: dict[str, Any], service_id: str, route_ids: dict[str, str]) -> bool:
    """Whether ``plugin`` runs for the API's requests (global, its service, one of its routes) and may set the
    consumer."""
    if plugin.get("enabled") is False or plugin.get("name") in NEVER_AUTHENTICATE:
        return False
    if _ref(plugin, "consumer") is not None or _ref(plugin, "consumer_group") is not None:
        return False  # runs only once a consumer is known
    service, route = _ref(plugin, "service"), _ref(plugin, "route")
    return (service is None or service == service_id) and (route is None or route in route_ids)


def _describe(plugin: dict[str, Any], route_ids: dict[str, str]) -> str:
    parts = []
    for field in SCOPE_FIELDS:
        ref = _ref(plugin, field)
        if ref is not None:
            parts.append(f"{field.replace('_', ' ')} {route_ids.get(ref, ref) if field == 'route' else ref}")
    return " + ".join(parts) or "global"


def _endpoint(plugin: dict[str, Any]) -> str | None:
    config = plugin.get("config") or {}
    return config.get("traces_endpoint") or config.get("endpoint")


class KongLists(Protocol):
    """What ``find_others`` reads: Kong's lists (``listing.KongView`` lists each kind once and shares it)."""

    def plugins(self) -> list[dict[str, Any]]: ...
    def service(self, name_or_id: str) -> dict[str, Any] | None: ...
    def route(self, name_or_id: str) -> dict[str, Any] | None: ...
    def service_routes(self, service_id: str) -> list[dict[str, Any]]: ...


def _foreign(plugin: dict[str, Any], stack: str) -> bool:
    """An enabled ``opentelemetry`` plugin that is not this stack's."""
    return plugin.get("name") == PLUGIN_NAME and plugin.get("enabled") is not False \
        and f"{OWNER_TAG}-stack:{stack}" not in (plugin.get("tags") or ())


def _candidates(plugins: list[dict[str, Any]], stack: str) -> bool:
    """Whether any enabled ``opentelemetry`` plugin of another owner exists at all (else nothing can stop us)."""
    return any(_foreign(plugin, stack) for plugin in plugins)


def find_others(kong: KongLists, kind: str, scope: str, stack: str) -> list[OtherPlugin] | None:
    """The other plugins around kong-slo's plugin on ``kind`` ``scope``; None when the service or route does not
    exist yet (creating the plugin then fails with its own message). The services and routes are read only when
    some other ``opentelemetry`` plugin exists."""
    plugins = kong.plugins()
    if not _candidates(plugins, stack):
        return []
    try:
        if kind == "route":
            route = kong.route(scope)
            if route is None:
                return None
            service_id = _ref(route, "service") or ""
            route_ids = {route["id"]: route.get("name") or route["id"]}
        else:
            service = kong.service(scope)
            if service is None:
                return None
            service_id = service["id"]
            route_ids = {r["id"]: r.get("name") or r["id"] for r in kong.service_routes(service_id)}
    except KongAdminError as error:
        if error.status == 404:
            return None
        raise
    return classify(plugins, own_kind=kind, service_id=service_id, route_ids=route_ids, stack=stack)


def refusal(api: str, kind: str, scope: str, others: list[OtherPlugin], *, broader: str, narrower: str) -> str | None:
    """The message that stops the stack, naming every plugin it has not accepted and the choices; None if none."""
    lines = []
    for other in others:
        if other.relation == NARROWER and narrower != "keep":
            lines.append(f"  - {other.id} ({other.scope}, endpoint {other.endpoint}): Kong runs it instead of "
                         f"kong-slo's plugin for its requests, so they would not be counted")
        elif other.relation == BROADER and broader != "replace":
            lines.append(f"  - {other.id} ({other.scope}, endpoint {other.endpoint}): kong-slo's plugin on {kind} "
                         f"{scope!r} would replace it for the API's requests, so they would stop going there")
    if not lines:
        return None
    return (f"API {api!r}: other opentelemetry plugins can run for its requests (Kong runs only the most specific "
            f"one per request):\n" + "\n".join(lines) + "\nChoose: remove or rescope those plugins, or set "
            "kong-slo:kong.otherPlugins.narrower: keep (their requests go uncounted) and/or "
            "kong-slo:kong.otherPlugins.broader: replace (kong-slo's plugin takes the API's requests from them)")


def refusal_for(kong: KongLists, *, api: str, kind: str, scope: str, stack: str, broader: str,
                narrower: str) -> str | None:
    """``refusal`` over what ``find_others`` finds around ``api``'s plugin; None when nothing stops it."""
    others = find_others(kong, kind, scope, stack)
    return None if not others else refusal(api, kind, scope, others, broader=broader, narrower=narrower)


def confirmed_refusal(view: KongView, api: str, kind: str, scope: str, stack: str, *, broader: str,
                      narrower: str) -> str | None:
    """``refusal_for`` from the shared lists; a refusal read from lists older than this call is asked again
    from fresh lists, so a plugin removed since they were taken stops nothing."""
    started = view.clock()

    def ask() -> str | None:
        return refusal_for(view, api=api, kind=kind, scope=scope, stack=stack, broader=broader, narrower=narrower)

    message = ask()
    loaded = view.snapshot.loaded_at("plugins")
    if message is None or (loaded is not None and loaded >= started):
        return message
    view.snapshot.forget_lists()
    return ask()
