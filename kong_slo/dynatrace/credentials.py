"""How the Dynatrace providers get their API token without ever pickling or outputting it.

Pulumi hands each dynamic provider the stack config through ``configure()``; ``apiToken`` in the
``kong-slo:dynatrace`` object is the token.
``DT_API_TOKEN`` in the environment is the fallback (tests, and CI that injects the token that way).
"""

from __future__ import annotations

import os
from typing import Any

from kong_slo.errors import KongSloError
from kong_slo.settings.source import provider_section

CONFIG_KEY = "kong-slo:dynatrace"
TOKEN_ENV = "DT_API_TOKEN"


class MissingToken(KongSloError):
    """No Dynatrace API token in the stack config or the environment."""


def token_from_config(config: Any) -> str | None:
    """The ``apiToken`` inside ``kong-slo:dynatrace`` from a ``pulumi.dynamic.Config``-like object."""
    token = provider_section(config, "dynatrace").get("apiToken")
    return token.strip() if isinstance(token, str) and token.strip() else None


def resolve_token(configured: str | None) -> str:
    """The configured token, else ``DT_API_TOKEN``; raises ``MissingToken`` naming both places."""
    token = configured or os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise MissingToken(f"no Dynatrace API token: set {CONFIG_KEY}.apiToken as a Pulumi secret "
                           f"(pulumi config set --secret --path '{CONFIG_KEY}.apiToken' …) or {TOKEN_ENV}")
    return token


def token_from_environment(scopes: tuple[str, ...]) -> str:
    """``DT_API_TOKEN`` for a command run by hand (``status``, ``report``); raises ``MissingToken`` naming the
    ``scopes`` the command reads with."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        words = f"the {scopes[0]} scope" if len(scopes) == 1 else \
            f"the scopes {', '.join(scopes[:-1])} and {scopes[-1]}"
        raise MissingToken(f"set {TOKEN_ENV} to a Dynatrace API token with {words}")
    return token
