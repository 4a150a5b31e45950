"""The Dynatrace emulator's token lookup: ``POST /api/v2/apiTokens/lookup`` with ``{"token": …}``.

As documented (https://docs.dynatrace.com/docs/dynatrace-api/environment-api/tokens-v2/api-tokens/post-token-lookup):
any scope may call it; it answers the ``ApiToken`` metadata (``id``, ``name``, ``enabled``, ``owner``,
``creationDate``, ``expirationDate``, ``scopes``, ``personalAccessToken``), 404 for a token it does not know,
400 without a token. It changes nothing, so it does not count as a write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOOKUP_PATH = "/apiTokens/lookup"
READ_ONLY_POSTS = frozenset({LOOKUP_PATH})
ALL_SCOPES = ("openTelemetryTrace.ingest", "metrics.ingest", "logs.ingest", "metrics.read", "slo.read", "slo.write",
              "settings.read", "settings.write")

Reply = tuple[int, Any, dict[str, str]]


@dataclass
class TokenInfo:
    """What the lookup reports of the emulator's token; tests take scopes away or set an expiry."""

    name: str = "kong-slo stack token"
    scopes: set[str] = field(default_factory=lambda: set(ALL_SCOPES))
    enabled: bool = True
    expiration_date: str | None = None


def token_route(token: str, info: TokenInfo, method: str, path: str, body: Any) -> Reply | None:
    """The reply for a token request, or None when ``path`` is not one."""
    if path != LOOKUP_PATH:
        return None
    if method != "POST":
        return 405, {"error": {"code": 405, "message": "Method not allowed"}}, {}
    asked = body.get("token") if isinstance(body, dict) else None
    if not isinstance(asked, str) or not asked:
        return 400, {"error": {"code": 400, "message": "Constraints violated.", "constraintViolations": [
            {"path": "token", "message": "must not be null", "parameterLocation": "PAYLOAD_BODY",
             "location": None}]}}, {}
    if asked != token:
        return 404, {"error": {"code": 404, "message": "Token not found"}}, {}
    return 200, {"id": token.rsplit(".", 1)[0], "name": info.name, "enabled": info.enabled,
                 "personalAccessToken": False, "owner": "sre@example.com",
                 "creationDate": "2026-01-05T09:00:00.000Z", "expirationDate": info.expiration_date,
                 "lastUsedDate": None, "scopes": sorted(info.scopes)}, {}


SCOPE_RULES = (
    ("/slo", {"GET": "slo.read", "*": "slo.write"}),
    ("/settings/objects", {"GET": "settings.read", "*": "settings.write"}),
    ("/metrics/ingest", {"*": "metrics.ingest"}),
    ("/metrics", {"GET": "metrics.read"}),
)
"""Per path prefix and method, the scope Dynatrace's API reference names for the call ("To execute this request,
you need an access token with ``slo.read`` scope", and so on); token lookup takes any scope."""


def missing_scope(info: TokenInfo, method: str, path: str) -> Reply | None:
    """The 403 for a call the token's scopes do not cover, or None."""
    for prefix, scopes in SCOPE_RULES:
        if path == prefix or path.startswith(prefix + "/"):
            needed = scopes.get(method, scopes.get("*"))
            if needed is None or needed in info.scopes:
                return None
            message = f"Token is missing required scope. Use one of: {needed}"
            return 403, {"error": {"code": 403, "message": message}}, {}
    return None
