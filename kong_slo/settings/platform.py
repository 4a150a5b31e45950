"""The SLO flavour of a stack and, for ``platform``, how kong-slo reaches Latest Dynatrace's platform APIs.

A SaaS environment has two hosts: ``<env-id>.live.dynatrace.com`` (OTLP ingest, classic SLO and Settings APIs,
API tokens) and ``<env-id>.apps.dynatrace.com`` (platform APIs such as ``/platform/slo/v1``, Bearer tokens).
``environmentUrl`` may name either; the other is derived. An ``apps`` URL means ``flavour: platform`` unless
the stack says otherwise; Dynatrace Managed (``/e/<env-id>``) has classic SLOs only.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from kong_slo.http import is_loopback_host
from kong_slo.secrets import Secret
from kong_slo.settings.model import FLAVOURS, SSO_TOKEN_URL, OAuthClient, PlatformSettings
from kong_slo.settings.reader import Node, describe

PLATFORM_KEYS = ("flavour", "platformToken", "oauth", "detectorActor")
OAUTH_KEYS = ("clientId", "clientSecret", "accountUrn", "tokenUrl")
PLATFORM_TOKEN_PREFIX = "dt0s16."
OAUTH_CLIENT_PREFIX = "dt0s02."
ACCOUNT_URN = re.compile(r"^urn:dtaccount:[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def live_and_apps_urls(url: str) -> tuple[str, str | None]:
    """``(live URL, apps URL)`` for an environment URL; the apps URL is None for Managed and other hosts. A
    Dynatrace on this machine (an emulator, a tunnel) serves both on one address."""
    host = urlsplit(url).hostname or ""
    if is_loopback_host(host):
        return url, url
    if ".apps." in host:
        return url.replace(".apps.", ".live.", 1), url
    if ".live." in host:
        return url, url.replace(".live.", ".apps.", 1)
    return url, None


def read_platform(node: Node, url: str | None) -> tuple[str, str | None, PlatformSettings | None]:
    """``(flavour, live URL, platform settings)`` from the ``dynatrace`` block, problems recorded on ``node``."""
    live, apps = live_and_apps_urls(url) if url else (None, None)
    is_apps = bool(url) and apps == url and live != url
    flavour = node.choice("flavour", FLAVOURS, "platform" if is_apps else "classic")
    token, oauth = node.secret("platformToken"), _oauth(node.child("oauth"))
    if flavour == "classic":
        for key in ("platformToken", "oauth", "detectorActor"):
            if node.has(key):
                node.problem(key, "is used only with flavour platform; remove it or set "
                                  f"{node.key('flavour')}: platform")
        return flavour, live, None
    if url and apps is None:
        node.problem("flavour", "platform SLOs need a SaaS environment on Latest Dynatrace "
                                f"(https://<env-id>.apps.dynatrace.com); {url!r} offers classic SLOs only")
    if token is not None and oauth is not None:
        node.problem("platformToken", f"set either it or {node.key('oauth')}, not both")
    elif token is None and oauth is None and "platformToken" not in node.data:
        default = " (the default for an apps URL)" if is_apps and not node.has("flavour") else ""
        classic = f"; for classic SLOs use {live!r} or set {node.key('flavour')}: classic" if default else ""
        node.problem("platformToken", f"or {node.key('oauth')} is required for flavour platform{default}: a "
                                      f"platform token with the slo:slos:read/write scopes, stored with `pulumi "
                                      f"config set --secret --path '{node.key('platformToken')}'`{classic}")
    if token is not None and token.known and not token.reveal().startswith(PLATFORM_TOKEN_PREFIX):
        node.problem("platformToken", f"is not a Dynatrace platform token (they start with {PLATFORM_TOKEN_PREFIX})")
    actor = node.string("detectorActor")
    if actor is not None and not UUID.match(actor):
        node.problem("detectorActor", f"{actor!r} is not a service user's id (a UUID)")
    elif actor is not None and not node.has("alerting"):
        node.problem("detectorActor", f"is used only for burn-rate detectors; set {node.key('alerting')} too")
    return flavour, live, PlatformSettings(apps or "", token, oauth, actor)


def _oauth(node: Node | None) -> OAuthClient | None:
    if node is None:
        return None
    node.reject_unknown(OAUTH_KEYS)
    client_id = node.string("clientId", required=True) or ""
    if client_id and not client_id.startswith(OAUTH_CLIENT_PREFIX):
        node.problem("clientId", f"{client_id!r} is not an OAuth client id (they start with {OAUTH_CLIENT_PREFIX})")
    secret = node.secret("clientSecret")
    if secret is None and "clientSecret" not in node.data:
        node.problem("clientSecret", "is required: `pulumi config set --secret --path "
                                     f"'{node.key('clientSecret')}' dt0s02....`")
    urn = node.string("accountUrn", required=True) or ""
    if urn and not ACCOUNT_URN.match(urn):
        node.problem("accountUrn", f"{urn!r} is not an account URN such as urn:dtaccount:<account uuid>")
    token_url = node.string("tokenUrl") or SSO_TOKEN_URL
    parts = urlsplit(token_url)
    if not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname))) \
            or not parts.hostname:
        node.problem("tokenUrl", f"{describe(token_url)} is not an https URL (the client secret crosses it)")
    return OAuthClient(client_id, secret or Secret(None), urn, token_url)
