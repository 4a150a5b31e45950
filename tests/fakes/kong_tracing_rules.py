"""Kong's rules for exporting a request's spans and labelling their status, written from Kong's source
independently of kong-slo's own code, for emulators and span stand-ins to apply.

Assumes kong.conf traces requests (``tracing_instrumentations`` not ``off``) at ``tracing_sampling_rate = 1.0``,
which is what kong-slo configures. Sources, Kong/kong:

- ``kong/pdk/tracing.lua``, ``get_sampling_decision``: ``parent_should_sample == false`` wins over any rate.
- ``kong/plugins/opentelemetry/handler.lua``: 3.0 to 3.2 parse incoming headers unconditionally; 3.3 to 3.6 pass
  ``conf.header_type`` to ``kong/tracing/propagation.lua`` ``parse``, which returns nothing for ``ignore``.
- ``kong/tracing/propagation/init.lua`` (3.7+): ``get_plugin_params`` uses ``propagation`` as it is when
  ``extract``, ``inject`` or ``clear`` is set, else translates ``header_type`` (``ignore``: no extractors);
  ``extract_tracing_context`` reads nothing without extractors and stops at the first that finds a context.
- ``kong/tracing/propagation/extractors/w3c.lua``: ``traceparent`` = version ``00``, 32-hex trace id (not all
  zero), 16-hex parent id (not all zero), 2-hex flags; sampled = flags & 1. Anything else is ignored.
- ``kong/tracing/instrumentation.lua``, ``runloop_before_header_filter``: ``http.status_code`` on the root span
  from 3.2; 3.0 and 3.1 set no status there.
"""

from __future__ import annotations

import re
from typing import Any

TRACEPARENT = re.compile(r"^00-(?P<trace>[0-9a-f]{32})-(?P<parent>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})$")


def _release(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def parent_sampled(traceparent: str | None) -> bool | None:
    """The caller's sampling decision carried by a W3C ``traceparent``; None when absent or malformed."""
    match = TRACEPARENT.match((traceparent or "").strip().lower())
    if match is None or set(match["trace"]) == {"0"} or set(match["parent"]) == {"0"}:
        return None
    return bool(int(match["flags"], 16) & 1)


def extracts_w3c(version: str, plugin_config: dict[str, Any]) -> bool:
    """Whether the plugin reads an incoming ``traceparent`` on this Kong version."""
    release = _release(version)
    if release < (3, 3):
        return True
    header_type = plugin_config.get("header_type") or "preserve"
    if release < (3, 7):
        return header_type != "ignore"
    propagation = plugin_config.get("propagation") or {}
    explicit = [propagation.get(name) for name in ("extract", "inject", "clear")]
    if any(value is not None for value in explicit):
        return "w3c" in (propagation.get("extract") or [])
    return header_type != "ignore"


def exports_spans(version: str, plugin_config: dict[str, Any], traceparent: str | None) -> bool:
    """Whether Kong ``version`` exports the spans of a request that arrived with ``traceparent`` through an
    ``opentelemetry`` plugin with ``plugin_config``. A plugin ``sampling_rate`` of 0 (3.6+) exports nothing;
    a rate strictly between 0 and 1 is a coin toss, which this function refuses to guess.
    """
    if extracts_w3c(version, plugin_config) and parent_sampled(traceparent) is False:
        return False
    rate = plugin_config.get("sampling_rate") if _release(version) >= (3, 6) else None
    if rate is None or rate == 1:
        return True
    if rate == 0:
        return False
    raise ValueError(f"sampling_rate {rate} decides by trace id; exports_spans only answers for 0 and 1")


def status_attribute(version: str) -> str | None:
    """The root span attribute carrying the HTTP status on Kong ``version``; None on 3.0 and 3.1."""
    return "http.status_code" if _release(version) >= (3, 2) else None
