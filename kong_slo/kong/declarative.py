"""The stack's ``opentelemetry`` plugins as Kong's own declarative configuration, for a DB-less Kong (pure).

A DB-less Kong (``database = off``) takes its whole configuration at once: the file ``declarative_config`` names
when Kong starts, or the body of ``POST /config``, which replaces everything the node holds. decK does not manage
such a node, so its file is not the one to load there. This document follows Kong's declarative schema
(``kong/db/schema/others/declarative_config.lua`` at 3.9.1): ``_format_version`` ``"3.0"`` and entity collections,
nothing else at the top (Kong refuses ``_info`` and ``_workspace`` as unknown fields). Its plugins name their
service or route, and Kong refuses a reference to an entity the same configuration does not define, so its
``plugins`` entries are added to those of the configuration that defines the services.
"""

from __future__ import annotations

from typing import Any

FORMAT_VERSION = "3.0"
"""The declarative format of Kong 3.x (Kong also reads ``1.1`` and ``2.1``, migrating their route paths)."""

FILE_NAME = "kong-slo-dbless.yaml"
"""What ``kong-slo render`` calls it; doctor's advice for a DB-less node names it."""

PluginSpec = tuple[str, str, str, dict[str, Any]]
"""(scope kind ``service``/``route``, scope name, plugin id, Admin API body)."""


def plugin_entries(plugins: list[PluginSpec]) -> list[dict[str, Any]]:
    """Top-level ``plugins`` entries naming their service or route, with the same ids, bodies and tags as
    ``pulumi up`` writes through the Admin API. decK's file takes the same entries."""
    return [{"id": plugin_id, "name": body["name"], kind: scope, "enabled": body["enabled"],
             "config": body["config"], "tags": body["tags"]}
            for kind, scope, plugin_id, body in plugins]


def declarative_config(plugins: list[PluginSpec]) -> dict[str, Any]:
    """The declarative document carrying ``plugins``, to merge into a DB-less Kong's configuration."""
    return {"_format_version": FORMAT_VERSION, "plugins": plugin_entries(plugins)}
