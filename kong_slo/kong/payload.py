"""The ``opentelemetry`` plugin body for one API, shaped for a given Kong version (pure, no network).

Kong rejects any field its version does not know (400, "unknown field"), so the body carries exactly
the fields that version accepts: ``endpoint`` up to 3.7, ``traces_endpoint``/``logs_endpoint`` from 3.8,
``sampling_rate`` from 3.6. A wish the version cannot honour raises ``PluginVersionError`` here, before
anything reaches Kong.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kong_slo import telemetry
from kong_slo.errors import KongSloError
from kong_slo.kong.release_facts import IGNORE, context_problem, ignore_incoming_context, reads_incoming_context
from kong_slo.settings.model import Api, KongVersion
from kong_slo.settings.rules import LOGS_ENDPOINT_SINCE, PLUGIN_SAMPLING_SINCE, SCOPED_PLUGINS_SINCE

PLUGIN_NAME = "opentelemetry"
OWNER_TAG = "kong-slo"
SCOPE_KINDS = ("service", "route")
OTLP_TRACES_PATH = "/v1/traces"
OTLP_LOGS_PATH = "/v1/logs"
OLDEST_SUPPORTED = KongVersion(3, 0)

# Fixed namespace for plugin ids: the same stack and scope always give the same id, in every run.
_ID_NAMESPACE = uuid.UUID("5b0e6f0e-4a8f-5c1e-9d43-6b6f6e672d73")


class PluginVersionError(KongSloError):
    """The stack asks for something the Kong version cannot do."""


@dataclass(frozen=True)
class OtlpUrls:
    traces: str
    logs: str


def ownership_tags(stack: str) -> list[str]:
    """Tags on every plugin kong-slo writes: who owns it, and which stack."""
    return [OWNER_TAG, f"{OWNER_TAG}-stack:{stack}"]


def scope_of(api: Api) -> tuple[str, str]:
    """``("route", route)`` when the API names a route, else ``("service", name)``."""
    return ("route", api.route) if api.route else ("service", api.name)


def plugin_id(stack: str, scope_kind: str, scope: str, workspace: str | None) -> str:
    """The plugin's id, chosen by us: a UUIDv5 of workspace, stack and scope.

    Writing with ``PUT /…/plugins/{id}`` makes a retried or interrupted create land on the same plugin.
    """
    if scope_kind not in SCOPE_KINDS:
        raise ValueError(f"scope kind {scope_kind!r} is not one of {', '.join(SCOPE_KINDS)}")
    return str(uuid.uuid5(_ID_NAMESPACE, f"{workspace or 'default'}/{stack}/{scope_kind}/{scope}"))


def otlp_urls(collector_url: str) -> OtlpUrls:
    """The OTLP/HTTP traces and logs URLs of a collector base URL such as ``http://10.0.1.5:4318``.

    A URL that already ends in ``/v1/traces`` is accepted as the base plus that path.
    """
    base = collector_url.strip().rstrip("/")
    if base.endswith(OTLP_TRACES_PATH):
        base = base[: -len(OTLP_TRACES_PATH)]
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{collector_url!r} is not an http(s) URL with a host, e.g. http://collector:4318")
    return OtlpUrls(traces=base + OTLP_TRACES_PATH, logs=base + OTLP_LOGS_PATH)


def wants_logs(export_logs: bool | None, version: KongVersion) -> bool:
    """``None`` means: export logs wherever the version can (3.8+)."""
    return (version >= LOGS_ENDPOINT_SINCE) if export_logs is None else export_logs


def version_problems(version: KongVersion, *, scoped: bool, logs: bool, sampling_rate: float | None,
                     incoming_context: str | None = None) -> list[str]:
    """What this Kong version cannot honour, one sentence each, naming the version. ``incoming_context`` is
    ``kong.incomingTraceContext`` (None: not checked)."""
    problems = []
    if version < OLDEST_SUPPORTED:
        problems.append(f"Kong {version} is not supported; the opentelemetry plugin needs Kong {OLDEST_SUPPORTED}+")
    if scoped and version < SCOPED_PLUGINS_SINCE:
        problems.append(f"Kong {version} runs the opentelemetry plugin only globally; a plugin per service or "
                        f"route needs Kong {SCOPED_PLUGINS_SINCE} or later")
    if logs and version < LOGS_ENDPOINT_SINCE:
        problems.append(f"Kong {version} cannot export logs (logs_endpoint needs Kong {LOGS_ENDPOINT_SINCE} or "
                        "later); set exportLogs to false")
    if sampling_rate is not None and version < PLUGIN_SAMPLING_SINCE:
        problems.append(f"Kong {version} has no per-plugin sampling_rate (needs Kong {PLUGIN_SAMPLING_SINCE} or "
                        "later); leave the API's samplingRate unset and use kong.samplingRate in kong.conf")
    context = None if incoming_context is None else context_problem(version, incoming_context)
    if context is not None and version >= OLDEST_SUPPORTED:
        problems.append(context)
    return problems


def plugin_body(api: Api, *, stack: str, collector_url: str, export_logs: bool | None,
                version: KongVersion, incoming_context: str = IGNORE,
                objectives: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``plugin_payload`` for a collector base URL: traces there, and logs too where wanted and supported."""
    urls = otlp_urls(collector_url)
    logs = urls.logs if wants_logs(export_logs, version) else None
    return plugin_payload(api, stack=stack, traces_url=urls.traces, logs_url=logs, sampling_rate=api.sampling_rate,
                          version=version, incoming_context=incoming_context, objectives=objectives)


def objective_attributes(api: Api) -> dict[str, str]:
    """The API's objectives as the collector reads them from each request: ``kong_slo.latency_ms`` (``600`` or
    ``off``) and ``kong_slo.fail_on`` (``5xx,404`` or ``off``). Kong's ``resource_attributes`` are strings."""
    latency = str(api.latency.threshold_ms) if api.latency is not None else telemetry.OBJECTIVE_OFF
    fail_on = ",".join(api.availability.fail_on) if api.availability is not None else telemetry.OBJECTIVE_OFF
    return {telemetry.LATENCY_OBJECTIVE_ATTRIBUTE: latency, telemetry.FAIL_ON_ATTRIBUTE: fail_on.lower()}


def resource_attributes(api: Api, objectives: Mapping[str, str] | None = None) -> dict[str, str]:
    """What Kong puts on every span of the API: its name and its objectives (``objectives``, as the plugin
    resource carries them, else the API's own), so the collector's config names no API."""
    return {telemetry.SERVICE_DIMENSION: api.name,
            **(dict(objectives) if objectives is not None else objective_attributes(api))}


def plugin_payload(api: Api, *, stack: str, traces_url: str, logs_url: str | None, sampling_rate: float | None,
                   version: KongVersion, incoming_context: str = IGNORE,
                   objectives: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The full plugin body for ``PUT /{services|routes}/{scope}/plugins/{id}``: exactly the fields ``version``
    accepts. The scope is carried by the path, so the body names none. With ``incoming_context`` ``ignore``
    Kong reads no caller's trace context, so a caller's "not sampled" cannot keep a request from being counted.
    """
    problems = version_problems(version, scoped=True, logs=logs_url is not None, sampling_rate=sampling_rate,
                                incoming_context=incoming_context)
    if problems:
        raise PluginVersionError(f"API {api.name!r}: " + "; ".join(problems))
    config: dict[str, Any] = {"resource_attributes": resource_attributes(api, objectives)}
    if version >= LOGS_ENDPOINT_SINCE:
        config["traces_endpoint"] = traces_url
        if logs_url is not None:
            config["logs_endpoint"] = logs_url
    else:
        config["endpoint"] = traces_url
    if sampling_rate is not None:
        config["sampling_rate"] = float(sampling_rate)
    if incoming_context == IGNORE:
        config.update(ignore_incoming_context(version))
    return {"name": PLUGIN_NAME, "enabled": True, "tags": ownership_tags(stack), "config": config}


def managed_view(plugin: dict[str, Any]) -> dict[str, Any]:
    """The part of a plugin kong-slo manages, in one shape for every version and for both our body and
    Kong's expanded read: the traces URL under one key (``endpoint`` ≡ ``traces_endpoint``), nulls as None,
    numbers as floats, tags sorted.
    """
    config = plugin.get("config") or {}
    traces = config.get("traces_endpoint") or config.get("endpoint")
    rate = config.get("sampling_rate")
    return {
        "traces_endpoint": traces,
        "logs_endpoint": config.get("logs_endpoint"),
        "resource_attributes": dict(sorted((config.get("resource_attributes") or {}).items())),
        "sampling_rate": None if rate is None else float(rate),
        "tags": sorted(plugin.get("tags") or []),
        "enabled": bool(plugin.get("enabled", True)),
        "reads_incoming_context": reads_incoming_context(config),
    }


def drifted_keys(desired: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Keys of ``desired`` whose value ``actual`` does not have. A ``sampling_rate`` we do not set is left
    to kong.conf and never counts as drift; other tags and resource attributes beside ours are not drift.
    """
    drifted = []
    for key, want in desired.items():
        have = actual.get(key)
        if key == "sampling_rate" and want is None:
            continue
        if key == "tags":
            same = set(want) <= set(have or ())
        elif key == "resource_attributes":
            same = want.items() <= (have or {}).items()
        elif isinstance(want, float) or isinstance(have, float):
            same = want is not None and have is not None and math.isclose(float(want), float(have), abs_tol=1e-9)
        else:
            same = want == have
        if not same:
            drifted.append(key)
    return drifted
