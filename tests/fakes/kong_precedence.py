"""Which instance of a plugin Kong runs for one request: the most specific one, never several.

Follows ``lookup_cfg`` in ``kong/runloop/plugins_iterator.lua`` (Kong/kong): the open-source order

    route+service+consumer > route+consumer > service+consumer > route+service > consumer > route > service > global

and, where consumer groups can scope plugins (Enterprise), the order with groups interleaved

    consumer+route+service > group+route+service > consumer+route > consumer+service > group+route >
    group+service > route+service > consumer > group > route > service > global

A disabled plugin counts as absent (it yields no configuration), so the search goes on to the next,
less specific level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

SCOPE_FIELDS = ("route", "service", "consumer", "consumer_group")

OSS_ORDER: tuple[frozenset[str], ...] = tuple(frozenset(level) for level in (
    ("route", "service", "consumer"), ("route", "consumer"), ("service", "consumer"), ("route", "service"),
    ("consumer",), ("route",), ("service",), (),
))
GROUP_ORDER: tuple[frozenset[str], ...] = tuple(frozenset(level) for level in (
    ("consumer", "route", "service"), ("consumer_group", "route", "service"), ("consumer", "route"),
    ("consumer", "service"), ("consumer_group", "route"), ("consumer_group", "service"), ("route", "service"),
    ("consumer",), ("consumer_group",), ("route",), ("service",), (),
))


def _ref(plugin: dict[str, Any], field: str) -> str | None:
    value = plugin.get(field)
    return value.get("id") if isinstance(value, dict) else None


def plugin_for_request(plugins: Iterable[dict[str, Any]], name: str, *, route: str | None, service: str | None,
                       consumer: str | None = None, consumer_groups: Sequence[str] = (),
                       with_groups: bool = False) -> dict[str, Any] | None:
    """The one ``name`` plugin that runs for a request matched to ``route``/``service`` (ids), made by
    ``consumer`` (id) who belongs to ``consumer_groups`` (ids); None when no instance applies.
    """
    known = {"route": {route} - {None}, "service": {service} - {None}, "consumer": {consumer} - {None},
             "consumer_group": set(consumer_groups)}
    candidates = [p for p in plugins if p.get("name") == name and p.get("enabled", True) is not False]
    for level in GROUP_ORDER if with_groups else OSS_ORDER:
        for plugin in candidates:
            scope = {field for field in SCOPE_FIELDS if _ref(plugin, field) is not None}
            if scope == level and all(_ref(plugin, field) in known[field] for field in level):
                return plugin
    return None
