"""decK's file schema, the rules a ``deck gateway sync`` or ``deck file validate`` applies to a state file before
anything else, written from decK's JSON schema: Kong/go-database-reconciler ``pkg/file/kong_json_schema.json`` at
v1.40.3 (the module decK v1.65 builds with). Only the parts a plugins file can meet are written out; everything
else at the top level is refused, which is at least as strict.

- The document: ``additionalProperties: false``; ``_format_version`` a string, ``_transform`` a boolean,
  ``_workspace`` a string, ``_info`` an ``Info``, ``plugins`` an array of ``FPlugin``.
- ``Info``: ``additionalProperties: false``; ``select_tags`` an array of strings, ``default_lookup_tags`` an
  object, ``defaults`` an object, ``consumer_group_policy_overrides``, ``include_plugin_definitions`` and
  ``skip_hash_for_basic_auth`` booleans.
- ``FPlugin``: ``required: [name]``, ``additionalProperties: false``; ``id``, ``name``, ``instance_name``,
  ``service``, ``route``, ``consumer``, ``consumer_group``, ``condition``, ``run_on``, ``_config`` strings;
  ``config`` an object; ``enabled`` a boolean; ``protocols`` and ``tags`` arrays of strings; ``created_at`` an
  integer; ``ordering`` an object; ``partials`` an array of objects.
"""

from __future__ import annotations

from typing import Any

TOP_LEVEL = {"_format_version": str, "_transform": bool, "_workspace": str, "_info": dict, "plugins": list}
INFO = {"select_tags": "strings", "default_lookup_tags": dict, "defaults": dict,
        "consumer_group_policy_overrides": bool, "include_plugin_definitions": bool, "skip_hash_for_basic_auth": bool}
PLUGIN = {"id": str, "name": str, "instance_name": str, "service": str, "route": str, "consumer": str,
          "consumer_group": str, "condition": str, "run_on": str, "_config": str, "config": dict, "enabled": bool,
          "protocols": "strings", "tags": "strings", "created_at": int, "ordering": dict, "partials": "objects"}


def problems(document: Any) -> list[str]:
    """Why decK would refuse ``document`` as a state file, one line each; [] when it passes."""
    if not isinstance(document, dict):
        return ["(root): Invalid type. Expected: object"]
    found = _record("(root)", document, TOP_LEVEL)
    if isinstance(document.get("_info"), dict):
        found += _record("_info", document["_info"], INFO)
    for index, plugin in enumerate(document.get("plugins") or [] if isinstance(document.get("plugins"), list)
                                   else []):
        where = f"plugins.{index}"
        if not isinstance(plugin, dict):
            found.append(f"{where}: Invalid type. Expected: object")
            continue
        if "name" not in plugin:
            found.append(f"{where}: name is required")
        found += _record(where, plugin, PLUGIN)
    return found


def _record(where: str, record: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    found = []
    for key, value in record.items():
        kind = fields.get(key)
        if kind is None:
            found.append(f"{where}: Additional property {key} is not allowed")
        elif not _fits(kind, value):
            found.append(f"{where}.{key}: Invalid type")
    return found


def _fits(kind: Any, value: Any) -> bool:
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind == "objects":
        return isinstance(value, list) and all(isinstance(item, dict) for item in value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
