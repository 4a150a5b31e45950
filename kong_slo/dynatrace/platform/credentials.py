"""How the platform providers and ``kong-slo status`` get a Bearer token for Latest Dynatrace.

Either a platform token (``dynatrace.platformToken``, else ``DT_PLATFORM_TOKEN``) or an OAuth client
(``dynatrace.oauth``, else ``DT_CLIENT_ID``/``DT_CLIENT_SECRET``/``DT_ACCOUNT_URN``) whose client-credentials
token comes from Dynatrace SSO (``POST https://sso.dynatrace.com/sso/oauth2/token``, form-encoded
``grant_type=client_credentials``, ``client_id``, ``client_secret``, ``scope``, ``resource=urn:dtaccount:<uuid>``;
``oauth.tokenUrl`` points elsewhere, e.g. at a test double). Secrets never reach a URL, a log or a message.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from kong_slo.dynatrace.client import error_message
from kong_slo.dynatrace.credentials import CONFIG_KEY, MissingToken
from kong_slo.http import ApiError, RetryPolicy, send
from kong_slo.settings import StackSettings
from kong_slo.settings.model import SSO_TOKEN_URL
from kong_slo.settings.source import provider_section

PLATFORM_TOKEN_ENV = "DT_PLATFORM_TOKEN"
CLIENT_ID_ENV, CLIENT_SECRET_ENV, ACCOUNT_URN_ENV = "DT_CLIENT_ID", "DT_CLIENT_SECRET", "DT_ACCOUNT_URN"
SLO_SCOPES = ("slo:slos:read", "slo:slos:write", "storage:metrics:read")
"""What the SLO resources and ``status`` need: the SLO API, and reading the metrics the SLI's DQL queries."""
EXPIRY_MARGIN = 30.0


_ACCESS_TOKENS: dict[tuple[str, ...], tuple[str, float]] = {}
"""Access tokens by client and scopes, shared by every provider instance of the process (the engine unpickles a
provider per resource operation), so a deployment asks SSO once per client and scope set, not once per object."""
_ACCESS_LOCK = threading.Lock()


@dataclass
class PlatformCredentials:
    """A platform token, or an OAuth client whose access token is fetched on first use and reused until
    shortly before it expires."""

    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    account_urn: str | None = None
    token_url: str = SSO_TOKEN_URL

    def bearer(self, policy: RetryPolicy, scopes: tuple[str, ...] = SLO_SCOPES) -> str:
        if self.token:
            return self.token
        secret = hashlib.sha256((self.client_secret or "").encode()).hexdigest()
        key = (self.token_url, self.client_id or "", self.account_urn or "", secret, *sorted(scopes))
        with _ACCESS_LOCK:
            cached = _ACCESS_TOKENS.get(key)
            if cached is not None and cached[1] > time.time():
                return cached[0]
            token, lifetime = fetch_oauth_token(self, scopes, policy)
            _ACCESS_TOKENS[key] = (token, time.time() + max(0.0, lifetime - EXPIRY_MARGIN))
            return token


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def credentials_from_config(config: Any) -> PlatformCredentials | None:
    """``platformToken`` or ``oauth`` inside ``kong-slo:dynatrace`` as ``configure()`` receives them."""
    section = provider_section(config, "dynatrace")
    oauth = section.get("oauth") if isinstance(section.get("oauth"), dict) else {}
    credentials = PlatformCredentials(_text(section.get("platformToken")), _text(oauth.get("clientId")),
                                      _text(oauth.get("clientSecret")), _text(oauth.get("accountUrn")),
                                      _text(oauth.get("tokenUrl")) or SSO_TOKEN_URL)
    return credentials if credentials.token or credentials.client_id else None


def resolve_credentials(configured: PlatformCredentials | None) -> PlatformCredentials:
    """The configured credentials, else the environment's; raises ``MissingToken`` naming every place."""
    if configured is not None:
        return configured
    token = _text(os.environ.get(PLATFORM_TOKEN_ENV))
    client_id = _text(os.environ.get(CLIENT_ID_ENV))
    if token or client_id:
        return PlatformCredentials(token, client_id, _text(os.environ.get(CLIENT_SECRET_ENV)),
                                   _text(os.environ.get(ACCOUNT_URN_ENV)))
    raise MissingToken(f"no Dynatrace platform credentials: set {CONFIG_KEY}.platformToken or "
                       f"{CONFIG_KEY}.oauth (clientId, clientSecret as a Pulumi secret, accountUrn), or "
                       f"{PLATFORM_TOKEN_ENV}, or {CLIENT_ID_ENV}/{CLIENT_SECRET_ENV}/{ACCOUNT_URN_ENV}")


def fetch_oauth_token(credentials: PlatformCredentials, scopes: tuple[str, ...],
                      policy: RetryPolicy) -> tuple[str, float]:
    """``(access token, lifetime in seconds)`` from the SSO token endpoint (client-credentials grant)."""
    missing = [name for name, value in (("clientSecret", credentials.client_secret),
                                        ("accountUrn", credentials.account_urn)) if not value]
    if missing:
        raise MissingToken(f"the OAuth client {credentials.client_id!r} needs {' and '.join(missing)} too")
    form = {"grant_type": "client_credentials", "client_id": credentials.client_id,
            "client_secret": credentials.client_secret, "scope": " ".join(scopes),
            "resource": credentials.account_urn}
    what = f"get an OAuth token for client {credentials.client_id!r}"
    with requests.Session() as session:
        response = send(session, "POST", credentials.token_url, policy=policy, describe=what, data=form)
    if response.status_code != 200:
        raise ApiError(error_message(response, what) + " (check the client's secret, account URN and that it "
                       f"holds the scopes {' '.join(scopes)})", status=response.status_code)
    body = response.json()
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ApiError(f"{what}: the answer carried no access_token")
    return token, float(body.get("expires_in") or 300)


def credentials_from_environment(settings: StackSettings) -> PlatformCredentials:
    """For commands run outside Pulumi (status, doctor): the platform token from ``DT_PLATFORM_TOKEN``, else the
    stack's OAuth client with its secret from ``DT_CLIENT_SECRET``; raises ``MissingToken`` naming every place."""
    platform = settings.dynatrace.platform if settings.dynatrace else None
    token = os.environ.get(PLATFORM_TOKEN_ENV, "").strip()
    if not token and platform is not None and platform.oauth is not None:
        oauth = platform.oauth
        return PlatformCredentials(None, oauth.client_id, os.environ.get(CLIENT_SECRET_ENV, "").strip() or None,
                                   oauth.account_urn, oauth.token_url)
    return resolve_credentials(None)
