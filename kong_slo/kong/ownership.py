"""Which parts of an ``opentelemetry`` plugin kong-slo owns, and how a write keeps everything else (pure).

Kong's ``PUT`` replaces the whole plugin: every field left out of the body goes back to its default
(``kong/api/endpoints.lua``: upsert → ``process_auto_fields``). So a write to a plugin that already exists starts
from that plugin as Kong holds it and changes only what kong-slo owns:

- ``config.endpoint`` / ``traces_endpoint`` / ``logs_endpoint``, ``config.sampling_rate``;
- ``config.resource_attributes["service.name"]`` (other resource attributes stay);
- the incoming-context switch: ``config.header_type`` (3.3 to 3.6) or ``config.propagation.extract`` and
  ``inject`` (3.7+), with ``propagation.default_format`` when kong-slo sets it;
- its two ownership tags (other tags stay), and ``enabled``.

Everything else stays as found: ``headers`` (a vendor's auth header), ``queue``, timeouts,
``http_response_header_for_traceid``, ``propagation.clear``, ``instance_name``, ``protocols``, Enterprise
``ordering``, other tags. When kong-slo stops setting an owned value (``incomingTraceContext: honour``, no
per-API ``samplingRate``), it goes back to what the plugin had when kong-slo adopted it, or to Kong's default.
``restore_body`` is the adopted plugin as found, for ``destroy`` to put back.
"""

from __future__ import annotations

from typing import Any

from kong_slo.kong.payload import OWNER_TAG

ENTITY_ONLY = frozenset({"id", "created_at", "updated_at", "service", "route", "consumer", "consumer_group"})
"""Fields a ``PUT /{services|routes}/{scope}/plugins/{id}`` body leaves out: identity, timestamps, and the scope,
which the path carries."""
ENDPOINT_KEYS = ("endpoint", "traces_endpoint", "logs_endpoint")
CONTEXT_PROPAGATION_KEYS = ("extract", "inject")


def _without_nulls(value: Any) -> Any:
    """A Kong read without its null leaves (Kong fills them in again): records stay, lists are left alone."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value


def restore_body(found: dict[str, Any]) -> dict[str, Any]:
    """The plugin as found, as a ``PUT`` body."""
    return _without_nulls({key: value for key, value in found.items() if key not in ENTITY_ONLY})


def _is_ours(tag: Any) -> bool:
    return tag == OWNER_TAG or str(tag).startswith(f"{OWNER_TAG}-stack:")


def write_body(desired: dict[str, Any], current: dict[str, Any] | None,
               found: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``PUT`` body that gives ``current`` (the plugin in Kong; None: a new plugin) kong-slo's ``desired``
    values and keeps every field kong-slo does not own. ``found`` is the plugin as adopted, if it was."""
    if current is None:
        return desired
    body = restore_body(current)
    body["name"], body["enabled"] = desired["name"], desired["enabled"]
    body["tags"] = [tag for tag in body.get("tags") or () if not _is_ours(tag)] + list(desired["tags"])
    body["config"] = _config(desired["config"], body.get("config") or {},
                             _without_nulls((found or {}).get("config") or {}))
    return body


def _config(wanted: dict[str, Any], current: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    config = {key: value for key, value in current.items() if key not in ENDPOINT_KEYS}
    config.update({key: wanted[key] for key in ENDPOINT_KEYS if key in wanted})
    config["resource_attributes"] = {**(current.get("resource_attributes") or {}), **wanted["resource_attributes"]}
    _own(config, "sampling_rate", wanted, found)
    _own(config, "header_type", wanted, found)
    propagation = dict(current.get("propagation") or {})
    if "propagation" in wanted:
        propagation.update(wanted["propagation"])
    elif propagation:
        for key in CONTEXT_PROPAGATION_KEYS:
            _own(propagation, key, {}, found.get("propagation") or {})
    if propagation:
        config["propagation"] = propagation
    return config


def _own(target: dict[str, Any], key: str, wanted: dict[str, Any], found: dict[str, Any]) -> None:
    """Set an owned ``key``: kong-slo's value, else the value found at adoption, else Kong's default (left out)."""
    if key in wanted:
        target[key] = wanted[key]
    elif key in found:
        target[key] = found[key]
    else:
        target.pop(key, None)
