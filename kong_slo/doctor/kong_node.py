"""Link 1, Kong: the Admin API answers, and tracing is on at the wanted sampling rate.

What Kong reports of itself (``GET /``): ``version``; ``edition`` from 3.6 (before that, Enterprise releases
have four-part versions); ``configuration``, the effective kong.conf with secrets removed, where
``database`` is ``off`` on a DB-less node and tracing sits under ``opentelemetry_tracing`` /
``opentelemetry_tracing_sampling_rate`` (3.0 to 3.1) or ``tracing_instrumentations`` / ``tracing_sampling_rate``
(3.2+; the instrumentations are a list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kong_slo.doctor.reach import REFUSED, unreachable
from kong_slo.doctor.report import Check, ok, problem, skipped
from kong_slo.http import ApiError
from kong_slo.kong.admin import KongAdmin
from kong_slo.kong.tracing import RENAMED_IN, format_rate, parse_instrumentations
from kong_slo.settings import KongVersion, StackSettings

LINK = "kong"
KONG_CONF_FIX = ("set {key} = {value} in kong.conf (`kong-slo kong-conf /etc/kong/kong.conf --write`, or "
                 "KONG_{env}={value} for Kong in a container) and restart Kong")


@dataclass(frozen=True)
class KongFacts:
    """What later checks need to know about the node; ``version`` is None when Kong did not answer."""

    version: KongVersion | None
    db_less: bool = False


def check_kong(kong: KongAdmin, settings: StackSettings) -> tuple[list[Check], KongFacts]:
    try:
        info = kong.node_info()
    except ApiError as error:
        return [problem(LINK, "kong.admin_api", _unanswered(kong, error), _reach_fix(error, settings))], \
            KongFacts(None)
    text = str(info.get("version"))
    try:
        version = KongVersion.parse(text)
    except ValueError:
        return [problem(LINK, "kong.admin_api", f"{kong.shown_url} answered, but not with a Kong version "
                        f"({text!r})", "set kong.adminUrl to Kong's Admin API (port 8001 by default)")], \
            KongFacts(None)
    configuration = info.get("configuration") if isinstance(info.get("configuration"), dict) else {}
    db_less = configuration.get("database") == "off"
    workspace = settings.kong.workspace or "default"
    mode = "DB-less" if db_less else f"database {configuration.get('database', 'not reported')}"
    checks = [ok(LINK, "kong.admin_api", f"Admin API at {kong.shown_url}: Kong {text} ({_edition(info, text)}), "
                 f"{mode}, workspace {workspace}")]
    wish = settings.kong.version
    if wish is not None and wish != version:
        checks.append(problem(LINK, "kong.version", f"the stack says kong.version {wish}, but Kong runs {text}: "
                              "plugin bodies are shaped for the wrong release",
                              f"set kong.version to {version} (or remove it to detect the version), then `pulumi up`"))
    checks += tracing_checks(configuration, version, settings)
    return checks, KongFacts(version, db_less)


def tracing_checks(configuration: dict[str, Any], version: KongVersion, settings: StackSettings) -> list[Check]:
    """Instrumentations and sampling rate from Kong's effective configuration (pure)."""
    old = version < RENAMED_IN
    instrumentations_key = "opentelemetry_tracing" if old else "tracing_instrumentations"
    rate_key = "opentelemetry_tracing_sampling_rate" if old else "tracing_sampling_rate"
    checks: list[Check] = []
    raw = configuration.get(instrumentations_key)
    if raw is None:
        checks.append(skipped(LINK, "kong.tracing", f"Kong does not report {instrumentations_key} in GET /; "
                              "check kong.conf on the node"))
    else:
        items = parse_instrumentations(raw) if isinstance(raw, str) else tuple(str(item) for item in raw)
        shown = ",".join(items) or "(empty)"
        if (items[:1] == ("all",)) or "request" in items:
            checks.append(ok(LINK, "kong.tracing", f"tracing on: {instrumentations_key} = {shown}"))
        else:
            checks.append(problem(
                LINK, "kong.tracing", f"tracing is off: {instrumentations_key} = {shown}, so Kong makes no spans "
                "and no request is counted",
                KONG_CONF_FIX.format(key=instrumentations_key, value="all", env=instrumentations_key.upper())))
    rate = configuration.get(rate_key)
    wanted = settings.kong.sampling_rate
    own_rates = bool(settings.apis) and all(api.sampling_rate is not None for api in settings.apis)
    if not isinstance(rate, int | float) or isinstance(rate, bool):
        checks.append(skipped(LINK, "kong.sampling", f"Kong does not report {rate_key} in GET /"))
    elif rate >= wanted:
        checks.append(ok(LINK, "kong.sampling", f"{rate_key} = {format_rate(rate)}"))
    elif own_rates:
        checks.append(ok(LINK, "kong.sampling", f"{rate_key} = {format_rate(rate)}; every API sets its own "
                         "samplingRate on its plugin"))
    else:
        checks.append(problem(
            LINK, "kong.sampling", f"{rate_key} = {format_rate(rate)}: only {rate * 100:g} % of requests are "
            f"traced and counted (the stack wants {format_rate(wanted)})",
            KONG_CONF_FIX.format(key=rate_key, value=format_rate(wanted), env=rate_key.upper())))
    return checks


def _edition(info: dict[str, Any], version: str) -> str:
    edition = info.get("edition")
    if isinstance(edition, str) and edition:
        return edition
    return "enterprise" if len(version.split(".")) >= 4 else "edition not reported"


def _unanswered(kong: KongAdmin, error: ApiError) -> str:
    """Why the Admin API gave no usable answer, in the fewest words that still say where to look."""
    if error.status is not None:
        return f"the Admin API refused: {error}"
    reason = unreachable(kong.base_url)
    if reason == REFUSED:
        return f"nothing listens at {kong.shown_url}: Kong is down, or its Admin API listens elsewhere"
    if reason:
        return f"the Admin API at {kong.shown_url} is not reachable from here ({reason})"
    return f"the Admin API at {kong.shown_url} did not answer: {error}"


def _reach_fix(error: ApiError, settings: StackSettings) -> str:
    if error.status == 401:
        return "Kong RBAC is on: export KONG_ADMIN_TOKEN with an admin token (and set kong.workspace)"
    if error.status == 403:
        return "the admin token in KONG_ADMIN_TOKEN may not read this workspace; use a token with read access"
    if settings.target == "local":
        return f"start the local stack: `make up STACK={settings.stack}`"
    return ("start Kong, or set kong.adminUrl to where its Admin API listens (admin_listen in kong.conf) and make "
            "sure this machine may reach it")
