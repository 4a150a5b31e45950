"""Which ``opentelemetry`` plugin Kong runs for a request (pure, no network).

Kong runs one instance of a plugin per request: the most specific configured one, looked up in this order
(``kong/runloop/plugins_iterator.lua``): route+service+consumer, route+consumer, service+consumer,
route+service, consumer, route, service, global. Consumer groups (3.4+) rank above route-only and service-only
plugins as well. Disabled plugins are not configured at all, so they never take a request. kong-slo's plugin is
service-only or route-only, so anything more specific that matches some of its requests takes those requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kong_slo.kong.payload import PLUGIN_NAME


def _ref(plugin: dict[str, Any], key: str) -> str | None:
    value = plugin.get(key)
    return value.get("id") if isinstance(value, dict) else None


def _narrows_to_callers(plugin: dict[str, Any]) -> bool:
    return _ref(plugin, "consumer") is not None or _ref(plugin, "consumer_group") is not None


def more_specific(candidate: dict[str, Any], ours: dict[str, Any]) -> bool:
    """Whether Kong prefers ``candidate`` to ``ours`` (a service-only or route-only plugin) where both match."""
    if _narrows_to_callers(candidate):
        return True
    if _ref(ours, "route") is not None:
        return _ref(candidate, "route") is not None and _ref(candidate, "service") is not None
    return _ref(candidate, "route") is not None


def shadowing_plugins(ours: dict[str, Any], plugins: Iterable[dict[str, Any]], *, service_id: str,
                      route_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The enabled ``opentelemetry`` plugins that take some of ``ours``'s requests instead of it.

    ``service_id`` is the API's service; ``route_ids`` are the routes whose requests ``ours`` covers: every
    route of the service for a service plugin, the one route for a route plugin.
    """
    routes = set(route_ids)
    found = []
    for plugin in plugins:
        if plugin.get("id") == ours.get("id") or plugin.get("name") != PLUGIN_NAME:
            continue
        if plugin.get("enabled") is False:
            continue
        route, service = _ref(plugin, "route"), _ref(plugin, "service")
        if route is not None and route not in routes:
            continue
        if service is not None and service != service_id:
            continue
        if more_specific(plugin, ours):
            found.append(plugin)
    return found


def scope_words(plugin: dict[str, Any], route_names: dict[str, str] | None = None) -> str:
    """``route orders-v2``, ``consumer 3f…``, ``route orders-v2 and consumer 3f…``: where a plugin sits."""
    names = route_names or {}
    parts = []
    if (route := _ref(plugin, "route")) is not None:
        parts.append(f"route {names.get(route, route)}")
    if (consumer := _ref(plugin, "consumer")) is not None:
        parts.append(f"consumer {consumer}")
    if (group := _ref(plugin, "consumer_group")) is not None:
        parts.append(f"consumer group {group}")
    if not parts and (service := _ref(plugin, "service")) is not None:
        parts.append(f"service {service}")
    return " and ".join(parts) or "global scope"
