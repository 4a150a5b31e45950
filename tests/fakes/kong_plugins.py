"""One workspace of the Kong emulator: services, routes and plugins, with Kong's status codes and bodies."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.kong_replies import NAME, NOT_ALLOWED, NOT_FOUND, KongReply, is_uuid, lua, page, schema_violation
from tests.fakes.kong_schema import ENTERPRISE_MODES, PROTOCOLS, expand_config, has_instance_name, scoped_plugins


class Store:
    """Entities of one workspace. Not thread-safe by itself; the emulator holds its lock around calls."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.services: dict[str, dict[str, Any]] = {}
        self.routes: dict[str, dict[str, Any]] = {}
        self.plugins: dict[str, dict[str, Any]] = {}
        self.consumers: dict[str, dict[str, Any]] = {}

    # -- dispatch ----------------------------------------------------------------------------------------------

    def route(self, method: str, seg: list[str], query: dict[str, str], body: Any, path: str) -> KongReply:
        kind, rest = seg[0], seg[1:]
        if kind == "plugins":
            return self._plugins(method, rest[0] if rest else None, query, body, None, path, len(rest) <= 1)
        table = self.services if kind == "services" else self.routes
        if not rest:
            if method == "GET":
                return page(list(table.values()), query, path, tags=True)
            if method == "POST":
                return self._entity_write(kind, None, body, None, created=True)
            return NOT_ALLOWED
        key, rest = rest[0], rest[1:]
        if not rest:
            if method == "GET":
                found = self._find(table, key)
                return KongReply(200, found) if found else NOT_FOUND
            if method in ("PUT", "PATCH"):
                return self._entity_write(kind, key, body, None, created=False, patch=method == "PATCH")
            if method == "DELETE":
                return self._delete_entity(kind, key)
            return NOT_ALLOWED
        parent = self._find(table, key)
        if rest[0] == "plugins" and len(rest) <= 2:
            if parent is None:
                return NOT_FOUND
            return self._plugins(method, rest[1] if len(rest) == 2 else None, query, body, (kind, parent), path,
                                 True)
        if kind == "services" and rest[0] == "routes" and len(rest) <= 2:
            if parent is None:
                return NOT_FOUND
            if len(rest) == 1:
                if method == "GET":
                    mine = [r for r in self.routes.values() if (r["service"] or {}).get("id") == parent["id"]]
                    return page(mine, query, path, tags=False)
                if method == "POST":
                    return self._entity_write("routes", None, body, parent, created=True)
                return NOT_ALLOWED
            if method in ("PUT", "PATCH"):
                return self._entity_write("routes", rest[1], body, parent, created=False, patch=method == "PATCH")
            if method == "GET":
                found = self._find(self.routes, rest[1])
                return KongReply(200, found) if found and found["service"] == {"id": parent["id"]} else NOT_FOUND
            if method == "DELETE":
                return self._delete_entity("routes", rest[1])
        return NOT_FOUND

    # -- services and routes -----------------------------------------------------------------------------------

    def put_service(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = self._entity_write("services", name, body, None, created=False)
        assert reply.status < 300, reply.body
        return reply.body

    def put_route(self, name: str, body: dict[str, Any], service: str) -> dict[str, Any]:
        parent = self._find(self.services, service)
        assert parent is not None, f"no service {service}"
        reply = self._entity_write("routes", name, body, parent, created=False)
        assert reply.status < 300, reply.body
        return reply.body

    def put_consumer(self, username: str) -> dict[str, Any]:
        found = self._find_consumer(username)
        if found is None:
            found = {"id": str(uuid.uuid4()), "username": username, "custom_id": None, "tags": None,
                     "created_at": int(time.time())}
            self.consumers[found["id"]] = found
        return found

    def find(self, kind: str, key: str) -> dict[str, Any] | None:
        """A service, route or consumer by id or name (username)."""
        if kind == "consumers":
            return self._find_consumer(key)
        return self._find(self.services if kind == "services" else self.routes, key)

    def _find_consumer(self, key: str) -> dict[str, Any] | None:
        return self.consumers.get(key) or next(
            (consumer for consumer in self.consumers.values() if consumer["username"] == key), None)

    def _find(self, table: dict[str, dict[str, Any]], key: str) -> dict[str, Any] | None:
        if key in table:
            return table[key]
        return next((entity for entity in table.values() if entity.get("name") == key), None)

    def _entity_write(self, kind: str, key: str | None, body: Any, parent: dict[str, Any] | None, *,
                      created: bool, patch: bool = False) -> KongReply:
        if not isinstance(body, dict):
            return schema_violation({"@entity": ["expected a record"]})
        table = self.services if kind == "services" else self.routes
        existing = self._find(table, key) if key else None
        if patch and existing is None:
            return NOT_FOUND
        entity = dict(existing) if (existing and patch) else {}
        entity.update(body)
        if key and not is_uuid(key):
            entity["name"] = key
        entity["id"] = existing["id"] if existing else (key if key and is_uuid(key) else str(uuid.uuid4()))
        errors: dict[str, Any] = {}
        if entity.get("name") is not None and not NAME.match(str(entity["name"])):
            errors["name"] = "invalid value: " + str(entity["name"])
        if kind == "services":
            url = entity.pop("url", None)
            if url:
                parts = urlsplit(url)
                entity.update(protocol=parts.scheme, host=parts.hostname, port=parts.port or 80,
                              path=parts.path or None)
            if not entity.get("host"):
                errors["host"] = "required field missing"
            entity.setdefault("protocol", "http")
            entity.setdefault("port", 80)
            entity.setdefault("path", None)
        else:
            if parent is not None:
                entity["service"] = {"id": parent["id"]}
            service = entity.get("service")
            if service is not None and self._find(self.services, service.get("id") or service.get("name")) is None:
                return KongReply(400, {"code": 4, "name": "foreign key violation", "fields": {"service": service},
                                       "message": f"the foreign key '{lua(service)}' does not reference an "
                                                  "existing 'services' entity."})
            entity.setdefault("service", None)
            entity.setdefault("protocols", ["http", "https"])
            entity.setdefault("paths", None)
        if errors:
            return schema_violation(errors)
        entity.setdefault("tags", None)
        entity.setdefault("name", None)
        entity["created_at"] = existing["created_at"] if existing else int(time.time())
        entity["updated_at"] = int(time.time())
        duplicate = next((e for e in table.values() if e["id"] != entity["id"] and entity["name"] is not None
                          and e.get("name") == entity["name"]), None)
        if duplicate:
            return KongReply(409, {"code": 5, "name": "unique constraint violation", "fields": {"name": entity["name"]},
                                   "message": f"UNIQUE violation detected on '{{name=\"{entity['name']}\"}}'"})
        table[entity["id"]] = entity
        return KongReply(201 if created else 200, entity)

    def _delete_entity(self, kind: str, key: str) -> KongReply:
        table = self.services if kind == "services" else self.routes
        entity = self._find(table, key)
        if entity is None:
            return KongReply(204)
        fk = "service" if kind == "services" else "route"
        if kind == "services" and any((r["service"] or {}).get("id") == entity["id"] for r in self.routes.values()):
            return KongReply(400, {"code": 4, "name": "foreign key violation", "fields": {"@referenced_by": "routes"},
                                   "message": "an existing 'routes' entity references this 'services' entity"})
        for plugin_id in [p["id"] for p in self.plugins.values() if (p.get(fk) or {}).get("id") == entity["id"]]:
            del self.plugins[plugin_id]
        del table[entity["id"]]
        return KongReply(204)

    # -- plugins -------------------------------------------------------------------------------------------------

    def _plugins(self, method: str, key: str | None, query: dict[str, str], body: Any,
                 parent: tuple[str, dict[str, Any]] | None, path: str, top: bool) -> KongReply:
        fk = None if parent is None else ("service" if parent[0] == "services" else "route")
        if key is None:
            if method == "GET":
                items = list(self.plugins.values())
                if parent is not None:
                    items = [p for p in items if (p.get(fk) or {}).get("id") == parent[1]["id"]]
                return page(items, query, path, tags=parent is None)
            if method == "POST":
                return self.plugin_write("POST", None, body, (parent[0], parent[1]["id"]) if parent else None)
            return NOT_ALLOWED
        existing = self._plugin(key)
        in_scope = existing is not None and (parent is None or (existing.get(fk) or {}).get("id") == parent[1]["id"])
        if method == "GET":
            return KongReply(200, existing) if in_scope else NOT_FOUND
        if method == "DELETE":
            if in_scope:
                del self.plugins[existing["id"]]
            return KongReply(204)
        if method in ("PUT", "PATCH"):
            return self.plugin_write(method, key, body, (parent[0], parent[1]["id"]) if parent else None)
        return NOT_ALLOWED

    def _plugin(self, key: str) -> dict[str, Any] | None:
        if key in self.plugins:
            return self.plugins[key]
        return next((p for p in self.plugins.values() if p.get("instance_name") == key), None)

    def plugin_write(self, method: str, key: str | None, body: Any, parent: tuple[str, str] | None) -> KongReply:
        """POST (key None), PUT (upsert by id, or by instance_name for a non-UUID key) or PATCH (deep merge)."""
        if not isinstance(body, dict):
            return schema_violation({"@entity": ["expected a record"]})
        if parent is not None:
            kind, parent_key = parent
            table = self.services if kind == "services" else self.routes
            found = self._find(table, parent_key)
            if found is None:
                return NOT_FOUND
            body = {**body, ("service" if kind == "services" else "route"): {"id": found["id"]}}
        existing = self._plugin(key) if key else None
        if method == "PATCH":
            if existing is None:
                return NOT_FOUND
            merged = {k: v for k, v in existing.items() if k not in ("created_at", "updated_at")}
            config = dict(existing.get("config") or {})
            for name, value in (body.get("config") or {}).items():
                config[name] = {**config[name], **value} if isinstance(value, dict) and isinstance(
                    config.get(name), dict) and name not in ("headers", "resource_attributes") else value
            merged.update({k: v for k, v in body.items() if k != "config"}, config=config)
            body, plugin_id = merged, existing["id"]
        elif method == "PUT" and key and not is_uuid(key):
            if not has_instance_name(self.mode):
                return KongReply(400, {"code": 1, "name": "invalid primary key",
                                       "fields": {"id": "expected a valid UUID"},
                                       "message": "invalid primary key: '{id=\"expected a valid UUID\"}'"})
            body = {**body, "instance_name": key}
            plugin_id = existing["id"] if existing else str(uuid.uuid4())
        elif method == "PUT":
            plugin_id = key or str(uuid.uuid4())
        else:
            plugin_id = body.get("id") or str(uuid.uuid4())
        return self._store_plugin(plugin_id, body, existing if existing and existing["id"] == plugin_id else None,
                                  created=method == "POST")

    def _store_plugin(self, plugin_id: str, body: dict[str, Any], existing: dict[str, Any] | None, *,
                      created: bool) -> KongReply:
        mode = self.mode
        allowed = {"id", "name", "created_at", "service", "route", "consumer", "enabled", "protocols", "tags",
                   "config"}
        if has_instance_name(mode):
            allowed |= {"instance_name", "updated_at"}
        if mode in ENTERPRISE_MODES:
            allowed |= {"ordering", "consumer_group"}
        errors: dict[str, Any] = {name: "unknown field" for name in body if name not in allowed}
        name = body.get("name")
        if name is None:
            errors["name"] = "required field missing"
        elif name != "opentelemetry":
            errors["name"] = f"plugin '{name}' not enabled; add it to the 'plugins' configuration property"
        scope = {fk: body.get(fk) for fk in ("service", "route", "consumer")}
        if not scoped_plugins(mode):
            errors.update({fk: "value must be null" for fk, value in scope.items() if value is not None})
        config, config_errors = expand_config(mode, body.get("config"))
        if config_errors:
            errors["config"] = config_errors
        tags = body.get("tags")
        if tags is not None and (not isinstance(tags, list) or any(
                not isinstance(t, str) or not t or any(c in t for c in ",/ ") for t in tags)):
            errors["tags"] = "invalid tag: expected printable ascii (except `,` and `/`) or valid utf-8 sequences"
        protocols = body.get("protocols") or list(PROTOCOLS)
        if any(p not in PROTOCOLS for p in protocols):
            errors["protocols"] = f"expected one of: {', '.join(PROTOCOLS)}"
        instance_name = body.get("instance_name")
        if instance_name is not None and not NAME.match(str(instance_name)):
            errors["instance_name"] = "invalid value: " + str(instance_name)
        if errors:
            return schema_violation(errors)
        tables = {"service": self.services, "route": self.routes, "consumer": self.consumers}
        for fk, table_name in (("service", "services"), ("route", "routes"), ("consumer", "consumers")):
            ref = scope[fk]
            if ref is not None and ref.get("id") not in tables[fk]:
                return KongReply(400, {"code": 4, "name": "foreign key violation", "fields": {fk: ref},
                                       "message": f"the foreign key '{lua(ref)}' does not reference an existing "
                                                  f"'{table_name}' entity."})
        entity: dict[str, Any] = {
            "id": plugin_id, "name": name, "config": config, "enabled": body.get("enabled", True) is not False,
            "protocols": protocols, "tags": tags,
            "consumer": None if scope["consumer"] is None else {"id": scope["consumer"]["id"]},
            "service": None if scope["service"] is None else {"id": scope["service"]["id"]},
            "route": None if scope["route"] is None else {"id": scope["route"]["id"]},
            "created_at": existing["created_at"] if existing else int(time.time()),
        }
        if has_instance_name(mode):
            entity.update(instance_name=instance_name, updated_at=int(time.time()))
        if mode in ENTERPRISE_MODES:
            entity.update(ordering=body.get("ordering"), consumer_group=None)
        tuple_key = {k: entity[k] for k in ("consumer", "name", "route", "service")}
        for other in self.plugins.values():
            if other["id"] == plugin_id:
                continue
            if {k: other[k] for k in tuple_key} == tuple_key:
                return KongReply(409, {"code": 5, "name": "unique constraint violation", "fields": tuple_key,
                                       "message": f"UNIQUE violation detected on '{lua(tuple_key)}'"})
            if instance_name is not None and other.get("instance_name") == instance_name:
                return KongReply(409, {"code": 5, "name": "unique constraint violation",
                                       "fields": {"instance_name": instance_name},
                                       "message": "UNIQUE violation detected on "
                                                  f"'{{instance_name=\"{instance_name}\"}}'"})
        self.plugins[plugin_id] = entity
        return KongReply(201 if created else 200, entity)
