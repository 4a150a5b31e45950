"""What each Kong release does with trace context and status codes, as far as SLO counts depend on it (pure).

Sources, Kong/kong:
- ``kong/pdk/tracing.lua`` ``get_sampling_decision``: a parent whose ``sampled`` flag is 0 decides before any
  sampling rate, so a request arriving with ``traceparent: 00-…-00`` is never exported, and never counted.
- ``kong/plugins/opentelemetry/handler.lua``: 3.0 to 3.2 always read the incoming context; ``header_type``
  (3.3+) ``ignore`` makes ``kong/tracing/propagation.lua`` ``parse`` return nothing, and ``set`` then injects
  the default format (``w3c``) with Kong's own trace.
- ``kong/tracing/propagation/init.lua`` (3.7+) ``get_plugin_params``: ``propagation.extract`` / ``inject`` /
  ``clear``, when any is set, are used as they are (no ``extract`` list, or an empty one: nothing is read);
  otherwise ``header_type`` is translated (``ignore``: no extraction).
- ``kong/tracing/instrumentation.lua`` ``runloop_before_header_filter``: the root span's status is
  ``http.status_code`` (3.2 up to the 3.10 development line and the Enterprise releases kong-slo supports);
  3.0 and 3.1 set no status on the root span.
"""

from __future__ import annotations

from typing import Any

from kong_slo import telemetry
from kong_slo.settings.model import TRACE_CONTEXT_CHOICES, KongVersion
from kong_slo.settings.rules import HEADER_TYPE_SINCE

PROPAGATION_SINCE = KongVersion(3, 7)
ROOT_STATUS_SINCE = KongVersion(3, 2)

STATUS_ATTRIBUTE = telemetry.STATUS_ATTRIBUTE
"""The root span's status on every release that sets one (``http.status_code``)."""
NEWER_STATUS_ATTRIBUTE = "http.response.status_code"
"""The current OpenTelemetry name; no supported release uses it on the root span, the collector reads it too."""

IGNORE, HONOUR = TRACE_CONTEXT_CHOICES
"""``kong.incomingTraceContext``: ``ignore`` counts every request, ``honour`` continues the caller's trace."""


def root_status_attribute(version: KongVersion) -> str | None:
    """The attribute that carries the HTTP status on Kong's root span, or None (3.0, 3.1)."""
    return STATUS_ATTRIBUTE if version >= ROOT_STATUS_SINCE else None


def can_ignore_incoming_context(version: KongVersion) -> bool:
    return version >= HEADER_TYPE_SINCE


def ignore_incoming_context(version: KongVersion) -> dict[str, Any]:
    """The plugin config fields that make Kong read no incoming trace context, so its own sampling rate
    decides for every request. Kong still sends its own ``traceparent`` upstream."""
    if version >= PROPAGATION_SINCE:
        return {"propagation": {"extract": [], "inject": ["w3c"], "default_format": "w3c"}}
    if version >= HEADER_TYPE_SINCE:
        return {"header_type": IGNORE}
    raise ValueError(f"Kong {version} always follows an incoming trace context (header_type needs "
                     f"Kong {HEADER_TYPE_SINCE})")


def reads_incoming_context(config: dict[str, Any]) -> bool:
    """Whether a plugin ``config`` (as sent, or as Kong reads it back) makes Kong read incoming trace context.

    Follows ``get_plugin_params``; a config without either field is Kong's default: it reads.
    """
    propagation = config.get("propagation") or {}
    if any(propagation.get(key) is not None for key in ("extract", "inject", "clear")):
        return bool(propagation.get("extract"))
    return config.get("header_type") != IGNORE


def context_problem(version: KongVersion, choice: str) -> str | None:
    """Why ``choice`` cannot be honoured on ``version``, or None."""
    if choice == IGNORE and not can_ignore_incoming_context(version):
        return (f"Kong {version} always follows an incoming traceparent, so requests a caller did not sample "
                f"(flags 00) would never be counted; it needs Kong {HEADER_TYPE_SINCE} or later to ignore it. "
                f"Set kong.incomingTraceContext: {HONOUR} to accept incomplete counts")
    return None
