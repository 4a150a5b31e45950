"""Who sits in a plugin's scope, and whether kong-slo may take it over.

Kong keeps one ``opentelemetry`` plugin per (service, route, consumer) tuple. When a stack creates its plugin
and one is already there, kong-slo adopts it if a person made it, and refuses if another kong-slo stack owns
it: that stack would lose its plugin, and destroying this stack would delete it.
"""

from __future__ import annotations

from typing import Any

from kong_slo.kong.admin import KongAdmin, KongAdminError
from kong_slo.kong.listing import KongView
from kong_slo.kong.ownership import restore_body, write_body
from kong_slo.kong.payload import OWNER_TAG, PLUGIN_NAME


def scope_of_inputs(props: dict[str, Any]) -> tuple[str, str]:
    """``("route", route)`` when the resource names a route, else ``("service", service)``."""
    return ("route", props["route"]) if props.get("route") else ("service", props["service"])


def adoptable_occupant(kong: KongAdmin, kind: str, scope: str, stack: str,
                       view: KongView | None = None) -> dict[str, Any] | None:
    """The plugin already in the scope, which ``stack`` may take over; None when the scope is free. With a
    ``view``, the scope is looked up in the shared lists and an occupant found there is read afresh.

    Raises ``KongAdminError`` when another kong-slo stack owns it.
    """
    occupant = occupant_of(kong, kind, scope) if view is None else listed_occupant(kong, view, kind, scope)
    if occupant is None:
        return None
    prefix = f"{OWNER_TAG}-stack:"
    owners = {tag[len(prefix):] for tag in occupant.get("tags") or () if str(tag).startswith(prefix)}
    if owners and stack not in owners:
        raise KongAdminError(
            f"the opentelemetry plugin on {kind} {scope!r} belongs to kong-slo stack {sorted(owners)[0]!r}; "
            f"stack {stack!r} will not take it over (point this stack at another Kong or workspace, or destroy "
            "the other stack first)", status=409)
    return occupant


def _sits_in(plugin: dict[str, Any], kind: str, scope_id: str | None) -> bool:
    """True for an ``opentelemetry`` plugin scoped to exactly this service or route (no other scope field set);
    ``scope_id`` None: any service or route of that kind (the plugin was listed under the scope itself)."""
    others = ("route", "consumer") if kind == "service" else ("service", "consumer")
    own = plugin.get(kind)
    return plugin.get("name") == PLUGIN_NAME and all(plugin.get(other) is None for other in others) \
        and plugin.get("consumer_group") is None \
        and (scope_id is None or (isinstance(own, dict) and own.get("id") == scope_id))


def listed_occupant(kong: KongAdmin, view: KongView, kind: str, scope: str) -> dict[str, Any] | None:
    """``occupant_of`` answered from the shared lists; a plugin found there is read afresh (the list only says
    where to look). Raises ``KongAdminError`` (404) when Kong has no such service or route."""
    entity = view.service(scope) if kind == "service" else view.route(scope)
    if entity is None:  # the list may predate it: ask Kong before saying so
        entity = kong.get_service(scope) if kind == "service" else kong.get_route(scope)
        if entity is None:
            raise kong.missing_scope(kind, scope)
    plugins = view.plugins()
    listed = next((plugin for plugin in plugins if _sits_in(plugin, kind, entity["id"])), None)
    if listed is None:
        return None
    current = kong.get_plugin(str(listed["id"]))
    return current if current is not None and _sits_in(current, kind, entity["id"]) else None


def owned_by_kong_slo(plugin: dict[str, Any]) -> bool:
    """Whether a plugin carries a kong-slo stack tag (it was written by kong-slo, not found)."""
    return any(str(tag).startswith(f"{OWNER_TAG}-stack:") for tag in plugin.get("tags") or ())


def occupant_of(kong: KongAdmin, kind: str, scope: str) -> dict[str, Any] | None:
    """The ``opentelemetry`` plugin sitting exactly in this scope (the tuple Kong keeps unique), if any."""
    return next((plugin for plugin in kong.scope_plugins(kind, scope) if _sits_in(plugin, kind, None)), None)


def adopt_or_create(kong: KongAdmin, kind: str, scope: str, own_id: str, occupant: dict[str, Any] | None,
                    desired: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Write ``desired`` into the occupant (keeping what kong-slo does not own) or as a new plugin ``own_id``.
    Also returns the occupant as found, when someone else made it, for ``delete`` to give back."""
    found = None if occupant is None or owned_by_kong_slo(occupant) else restore_body(occupant)
    target = occupant["id"] if occupant else own_id
    return kong.put_plugin(kind, scope, target, write_body(desired, occupant, found)), found
