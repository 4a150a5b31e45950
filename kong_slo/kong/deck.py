"""The stack's ``opentelemetry`` plugins as a decK file, for Kong without a database and for Konnect (pure).

DB-less Kong (and Konnect's control planes) take their configuration declaratively, not through Admin API
writes. The file has decK's shape (``_format_version`` 3.0, top-level ``plugins`` naming their service or route,
``_workspace`` on Enterprise): ``deck gateway sync`` applies it to the entities tagged
``kong-slo-stack:<stack>`` only (``_info.select_tags``), and ``deck file merge`` adds it to the file that defines
the services. The plugins carry the same ids, bodies and tags as ``pulumi up`` writes.
"""

from __future__ import annotations

from typing import Any

from kong_slo.kong.payload import OWNER_TAG

FORMAT_VERSION = "3.0"


def deck_file(stack: str, workspace: str | None, plugins: list[tuple[str, str, str, dict[str, Any]]]) -> dict[str, Any]:
    """The decK document for ``plugins``: (scope kind ``service``/``route``, scope name, plugin id, Admin API
    body) each."""
    document: dict[str, Any] = {"_format_version": FORMAT_VERSION,
                                "_info": {"select_tags": [f"{OWNER_TAG}-stack:{stack}"]}}
    if workspace and workspace != "default":
        document["_workspace"] = workspace
    document["plugins"] = [{"id": plugin_id, "name": body["name"], kind: scope, "enabled": body["enabled"],
                            "config": body["config"], "tags": body["tags"]}
                           for kind, scope, plugin_id, body in plugins]
    return document
