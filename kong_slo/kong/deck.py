"""The stack's ``opentelemetry`` plugins as a decK file, for a database-backed Kong and for Konnect (pure).

decK manages a Kong with a database, or Konnect, through their APIs; a DB-less Kong loads Kong's own declarative
configuration instead (``declarative.py``). The file has decK's shape (``_format_version`` 3.0, top-level
``plugins`` naming their service or route, ``_workspace`` on Enterprise): ``deck gateway sync`` applies it to the
entities tagged
``kong-slo-stack:<stack>`` only (``_info.select_tags``), and ``deck file merge`` adds it to the file that defines
the services. The plugins carry the same ids, bodies and tags as ``pulumi up`` writes.
"""

from __future__ import annotations

from typing import Any

from kong_slo.kong.declarative import FORMAT_VERSION, PluginSpec, plugin_entries
from kong_slo.kong.payload import OWNER_TAG

FILE_NAME = "kong-slo-deck.yaml"
"""What ``kong-slo render`` calls it."""


def deck_file(stack: str, workspace: str | None, plugins: list[PluginSpec]) -> dict[str, Any]:
    """The decK document for ``plugins``: (scope kind ``service``/``route``, scope name, plugin id, Admin API
    body) each."""
    document: dict[str, Any] = {"_format_version": FORMAT_VERSION,
                                "_info": {"select_tags": [f"{OWNER_TAG}-stack:{stack}"]}}
    if workspace and workspace != "default":
        document["_workspace"] = workspace
    document["plugins"] = plugin_entries(plugins)
    return document
