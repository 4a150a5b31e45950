"""Every key of the ``kong-slo`` namespace, as dotted paths: the README's reference is tested against it."""

from __future__ import annotations

from kong_slo.settings import dynatrace_section, objectives, parse, platform, ssh


def _under(prefix: str, keys: tuple[str, ...]) -> list[str]:
    return [f"{prefix}.{key}" for key in keys]


def all_key_paths() -> list[str]:
    """Leaf and section keys, e.g. ``collector.allowedCidrs``, ``apis[].latency.thresholdMs``."""
    paths = ["target"]
    paths += _under("collector", parse.COLLECTOR_KEYS)
    paths += _under("kong", tuple(key for key in parse.KONG_KEYS if key not in ("ssh", "otherPlugins")))
    paths += _under("kong.ssh", ssh.SSH_KEYS)
    paths += _under("kong.ssh.nodes[]", ssh.NODE_KEYS)
    paths += _under("kong.otherPlugins", parse.OTHER_PLUGIN_KEYS)
    sections = ("alerting", "oauth")
    paths += _under("dynatrace", tuple(key for key in dynatrace_section.DYNATRACE_KEYS if key not in sections))
    paths += _under("dynatrace.oauth", platform.OAUTH_KEYS)
    paths += ["dynatrace.alerting.emails"]
    paths += _under("dynatrace.alerting.burnRate", dynatrace_section.BURN_RATE_KEYS)
    paths += _under("sloDefaults.latency", objectives.LATENCY_KEYS)
    paths += _under("sloDefaults.availability", objectives.AVAILABILITY_KEYS)
    paths += _under("apis[]", tuple(key for key in parse.API_KEYS if key not in ("latency", "availability")))
    paths += _under("apis[].latency", objectives.LATENCY_KEYS)
    paths += _under("apis[].availability", objectives.AVAILABILITY_KEYS)
    return paths
