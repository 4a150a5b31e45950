"""Kong's declarative configuration as a DB-less Kong loads it (``POST /config``, ``declarative_config``), written
from Kong's source independently of kong-slo's code. Sources, Kong/kong at 3.9.1:

- ``kong/db/schema/others/declarative_config.lua`` ``build_fields``: the top level holds ``_format_version``
  (a string, required, one of ``1.1``, ``2.1``, ``3.0``), ``_transform`` (boolean), ``_comment`` (string),
  ``_ignore`` (array) and one array per entity; anything else is an unknown field (``kong/db/schema/init.lua``
  refuses fields a record does not declare). ``add_top_level_entities`` lets every entry carry ``_comment`` and
  ``_ignore`` besides its entity's own fields; ``nest_foreign_relationships`` allows children inside their
  parent (``routes`` and ``plugins`` in a service, ``plugins`` in a route); ``reference_foreign_by_name`` turns a
  top-level entry's foreign key into a string: the parent's id or its endpoint key (name).
- ``validate_references``: a key no entry of the same configuration has is refused with
  ``invalid reference '<field>: <value>' (no such entry in '<entities>')``.
- ``kong/api/routes/config.lua``: ``POST /config`` answers 400 ``errors:declarative_config`` (code 14, ``invalid
  declarative configuration``) for a configuration Kong refuses, 201 otherwise; on a node with a database,
  400 ``this endpoint is only available when Kong is configured to not use a database``.

Entities beyond services, routes, consumers and plugins are not modelled: the stand-in refuses them rather than
take them unchecked. Entity fields are checked by the emulator's own entity rules (``kong_plugins.Store``).
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.fakes.kong_plugins import Store
from tests.fakes.kong_replies import KongReply

FORMAT_VERSIONS = ("1.1", "2.1", "3.0")
ENTITIES = ("services", "routes", "consumers", "plugins")
META_FIELDS = ("_comment", "_ignore")
CHILDREN = {"services": ("routes", "plugins"), "routes": ("plugins",), "consumers": ("plugins",), "plugins": ()}
FOREIGN = {"routes": ("service",), "plugins": ("service", "route", "consumer"), "services": (), "consumers": ()}
"""Per entity, its foreign keys: the entity each names is the plural of the key."""
CODE = 14
NAME = "invalid declarative configuration"


def problems(document: Any) -> list[str]:
    """Why Kong would refuse ``document`` as a declarative configuration, one line each; [] when it loads."""
    found: list[str] = []
    load(document, "3.9", found)
    return found


def load(document: Any, mode: str, found: list[str] | None = None) -> Store | None:
    """A fresh workspace holding ``document``'s entities, or None (with ``found`` filled) when Kong refuses it."""
    errors: list[str] = [] if found is None else found
    if not isinstance(document, dict):
        errors.append("expected an object")
        return None
    for key, value in document.items():
        errors += _top_level_problems(key, value)
    version = document.get("_format_version")
    if version is None:
        errors.append("_format_version: required field missing")
    elif not isinstance(version, str):
        errors.append("_format_version: expected a string")
    elif version not in FORMAT_VERSIONS:
        errors.append(f"_format_version: expected one of: {', '.join(FORMAT_VERSIONS)}")
    if errors:
        return None
    flat = _flatten(document, errors)
    store = Store(mode)
    if not errors:
        _insert(store, flat, errors)
    return None if errors else store


def _top_level_problems(key: str, value: Any) -> list[str]:
    if key == "_format_version":
        return []
    if key == "_transform":
        return [] if isinstance(value, bool) else ["_transform: expected a boolean"]
    if key == "_comment":
        return [] if isinstance(value, str) else ["_comment: expected a string"]
    if key == "_ignore":
        return [] if isinstance(value, list) else ["_ignore: expected an array"]
    if key in ENTITIES:
        return [] if isinstance(value, list) else [f"{key}: expected an array"]
    return [f"{key}: unknown field"]


def _flatten(document: dict[str, Any], errors: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every entry with its foreign keys as strings, children lifted out of their parents."""
    flat: dict[str, list[dict[str, Any]]] = {entity: [] for entity in ENTITIES}

    def take(entity: str, items: list[Any], where: str, parent: tuple[str, str] | None) -> None:
        for index, item in enumerate(items, start=1):
            at = f"{where}[{index}]"
            if not isinstance(item, dict):
                errors.append(f"{at}: expected a record")
                continue
            entry = {key: value for key, value in item.items() if key not in META_FIELDS}
            for child in CHILDREN[entity]:
                nested = entry.pop(child, None)
                if nested is None:
                    continue
                if not isinstance(nested, list):
                    errors.append(f"{at}.{child}: expected an array")
                    continue
                key = item.get("id") or item.get("name") or item.get("username")
                take(child, nested, f"{at}.{child}", (entity[:-1], str(key)))
            for fk in FOREIGN[entity]:
                value = entry.get(fk)
                if value is not None and not isinstance(value, str):
                    errors.append(f"{at}.{fk}: expected a string")
            if parent is not None:
                entry[parent[0]] = parent[1]
            entry["@at"] = at
            flat[entity].append(entry)

    for entity in ENTITIES:
        take(entity, document.get(entity) or [], entity, None)
    return flat


def _insert(store: Store, flat: dict[str, list[dict[str, Any]]], errors: list[str]) -> None:
    for entity in ENTITIES:
        for entry in flat[entity]:
            at = entry.pop("@at")
            body = dict(entry)
            for fk in FOREIGN[entity]:
                key = body.get(fk)
                if key is None:
                    continue
                found = store.find(f"{fk}s", key)
                if found is None:
                    errors.append(f"{at}: invalid reference '{fk}: {key}' (no such entry in '{fk}s')")
                    break
                body[fk] = {"id": found["id"]}
            else:
                reply = _write(store, entity, body)
                if reply.status >= 300:
                    errors.append(f"{at}: {reply.body.get('message')}")


def _write(store: Store, entity: str, body: dict[str, Any]) -> KongReply:
    if entity == "plugins":
        return store.plugin_write("PUT" if body.get("id") else "POST", body.get("id"), body, None)
    if entity == "consumers":
        store.put_consumer(str(body.get("username")))
        return KongReply(201, body)
    key = body.pop("id", None) or body.get("name")
    return store._entity_write(entity, key, body, None, created=True)


def post_config(body: Any, *, db_less: bool, mode: str) -> tuple[KongReply, Store | None]:
    """``POST /config``: the reply, and the workspace that replaces the node's configuration when it loads."""
    if not db_less:
        return KongReply(400, {"message": "this endpoint is only available when Kong is configured to not use a "
                                          "database"}), None
    if isinstance(body, dict) and "_format_version" not in body and isinstance(body.get("config"), str):
        try:
            body = yaml.safe_load(body["config"])
        except yaml.YAMLError as error:
            return _refused([f"failed parsing declarative configuration: {error}"]), None
    found: list[str] = []
    store = load(body, mode, found)
    if store is None:
        return _refused(found), None
    return KongReply(201, {"services": list(store.services.values()), "routes": list(store.routes.values()),
                           "plugins": list(store.plugins.values())}), store


def _refused(found: list[str]) -> KongReply:
    return KongReply(400, {"code": CODE, "name": NAME, "message": "declarative config is invalid: "
                                                                  + "; ".join(found), "fields": {"@entity": found}})
