"""Link 4a, the Dynatrace token: valid, enabled, unexpired, and holding the scopes each feature needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kong_slo.doctor.report import Check, ok, problem
from kong_slo.dynatrace.client import DynatraceClient, DynatraceError
from kong_slo.dynatrace.credentials import TOKEN_ENV
from kong_slo.dynatrace.reads import lookup_token
from kong_slo.dynatrace.report_reads import REPORT_SCOPES
from kong_slo.settings import StackSettings

LINK = "dynatrace"
TOKEN_FIX = f"set {TOKEN_ENV} to the stack's API token (dynatrace.apiToken) for this environment"


@dataclass(frozen=True)
class ScopeNeed:
    key: str
    """The check's id: ``dynatrace.scopes.<key>``."""
    feature: str
    scopes: tuple[str, ...]


def required_scopes(settings: StackSettings) -> list[ScopeNeed]:
    """The token scopes each feature of this stack needs."""
    ingest = ("openTelemetryTrace.ingest", "metrics.ingest")
    if settings.kong.export_logs is not False:
        ingest += ("logs.ingest",)
    if settings.dynatrace is not None and settings.dynatrace.platform is not None:
        # platform SLOs, detectors and status use the platform credentials; this token only feeds the collector
        return [ScopeNeed("export", "the collector's export", ingest)]
    alerting = settings.dynatrace is not None and settings.dynatrace.alerting is not None
    needs = [ScopeNeed("export", "the collector's export", ingest),
             ScopeNeed("slos", "SLOs (`pulumi up`)", ("slo.read", "slo.write"))]
    if alerting:
        needs.append(ScopeNeed("alerting", "burn-rate alerts and e-mail (`pulumi up`)",
                               ("settings.read", "settings.write")))
    needs.append(ScopeNeed("dashboard", "the stack's dashboard (`pulumi up`)", ("ReadConfig", "WriteConfig")))
    reads = ("slo.read", "metrics.read") + (("settings.read",) if alerting else ())
    needs.append(ScopeNeed("reads", "`kong-slo status` and doctor", reads))
    needs.append(ScopeNeed("report", "`kong-slo report`", REPORT_SCOPES))
    return needs


def check_token(client: DynatraceClient, token: str, settings: StackSettings,
                now: datetime | None = None) -> tuple[list[Check], bool]:
    """The token's checks, and whether it works at all (when not, the other Dynatrace checks are skipped)."""
    try:
        metadata = lookup_token(client, token)
    except DynatraceError as error:
        if error.status == 401:
            return [problem(LINK, "dynatrace.token", f"Dynatrace refused the token in {TOKEN_ENV} (401): it is "
                            "unknown, revoked or for another environment", TOKEN_FIX)], False
        return [problem(LINK, "dynatrace.token", f"the token lookup at {client.base} failed: {error}",
                        "check dynatrace.environmentUrl (the .live. host) and run doctor again")], False
    name = str(metadata.get("name") or metadata.get("id") or "the token")
    if metadata.get("enabled") is False:
        return [problem(LINK, "dynatrace.token", f"token {name!r} is disabled",
                        "enable it under Access tokens, or issue a new one")], False
    expiry = _expiry(metadata, now or datetime.now(UTC))
    if expiry:
        return [problem(LINK, "dynatrace.token", f"token {name!r} expired on {expiry}",
                        "issue a new token and store it as dynatrace.apiToken and in " + TOKEN_ENV)], False
    checks = [ok(LINK, "dynatrace.token", f"token {name!r} ({TOKEN_ENV}) is valid")]
    held = set(metadata.get("scopes") or ())
    for need in required_scopes(settings):
        missing = [scope for scope in need.scopes if scope not in held]
        check_name = f"dynatrace.scopes.{need.key}"
        if missing:
            checks.append(problem(LINK, check_name, f"{need.feature} needs {', '.join(missing)}, which the token "
                                  "lacks", f"add the scope(s) {', '.join(missing)} to token {name!r} (Access tokens "
                                  "→ edit)"))
        else:
            checks.append(ok(LINK, check_name, f"{need.feature}: token has {', '.join(need.scopes)}"))
    return checks, True


def _expiry(metadata: dict[str, Any], now: datetime) -> str | None:
    """The expiry date when it has passed, else None."""
    text = metadata.get("expirationDate")
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return text if when <= now else None
