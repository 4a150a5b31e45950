"""The ``kong-slo:dynatrace`` section: environment URL, API token, SLI source, alerting and burn-rate policy, and
(through ``settings.platform``) the SLO flavour."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from kong_slo.http import is_loopback_host
from kong_slo.secrets import Secret
from kong_slo.settings.model import SLI_SOURCES, AlertingSettings, BurnRatePolicy, DynatraceSettings
from kong_slo.settings.platform import PLATFORM_KEYS, read_platform
from kong_slo.settings.reader import Node, describe, http_url
from kong_slo.settings.rules import environment_url_problem

DYNATRACE_KEYS = ("environmentUrl", "apiToken", "sliSource", "alerting", *PLATFORM_KEYS)
ALERTING_KEYS = ("emails", "burnRate")
BURN_RATE_KEYS = ("fastBurnThreshold", "pageFactor", "slowPageFactor", "ticketFactor", "minRequests")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _environment_url(node: Node) -> str | None:
    url = http_url(node, "environmentUrl", required=True)
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if is_loopback_host(host):
        return url  # an SSH tunnel or a test's emulator on this machine: plain http stays on the host
    shape = environment_url_problem(url)
    if shape is not None:
        node.problem("environmentUrl", shape)
    elif parts.scheme != "https":
        node.problem("environmentUrl", f"{url!r} must use https")
    elif "/api" in parts.path or "/platform" in parts.path:
        node.problem("environmentUrl", f"{url!r} should be the environment URL without the /api path")
    elif not (".live." in host or ".apps." in host or re.match(r"^/e/[A-Za-z0-9-]+$", parts.path)):
        node.problem("environmentUrl", f"{url!r} is neither a SaaS environment (https://<id>.live.dynatrace"
                                       ".com or https://<id>.apps.dynatrace.com) nor a Managed one "
                                       "(https://<host>/e/<environment-id>)")
    return url


def read_dynatrace(node: Node | None) -> DynatraceSettings | None:
    """The section's settings, or None when the stack has none (every problem added to the node's list)."""
    if node is None:
        return None
    node.reject_unknown(DYNATRACE_KEYS)
    url = _environment_url(node)
    token = node.secret("apiToken")
    if token is None and "apiToken" not in node.data:
        why = " (the collector's OTLP ingest token; platform credentials cover only the platform APIs)" \
            if (node.has("platformToken") or node.has("oauth")) else ""
        node.problem("apiToken", f"is required: {node.problems.config_set(node.key('apiToken'), 'dt0c01....')}{why}")
    elif token is not None and token.known and not token.reveal().startswith("dt0"):
        node.problem("apiToken", "is not a Dynatrace API token (they start with dt0c01.)")
    alerting, threshold = _alerting(node.child("alerting"))
    sli_source = node.choice("sliSource", SLI_SOURCES, "collector")
    flavour, live_url, platform = read_platform(node, url)
    if flavour == "platform" and sli_source != "collector":
        node.problem("sliSource", f"{sli_source!r} works with classic SLOs only; platform SLOs read the "
                                  "collector's counters with DQL (sliSource: collector)")
    return DynatraceSettings(live_url or "", token or Secret(None), sli_source, threshold, alerting, flavour, platform)


def _alerting(node: Node | None) -> tuple[AlertingSettings | None, float]:
    if node is None:
        return None, 10.0
    node.reject_unknown(ALERTING_KEYS)
    threshold = 10.0
    burn = node.child("burnRate")
    policy = BurnRatePolicy()
    if burn is not None:
        burn.reject_unknown(BURN_RATE_KEYS)
        threshold = burn.number("fastBurnThreshold", 10.0) or 10.0
        if threshold < 1.01:
            burn.problem("fastBurnThreshold", f"{describe(burn.raw('fastBurnThreshold'))} must be at least "
                                              "1.01 (a burn rate of 1 uses the budget exactly)")
            threshold = 10.0
        policy = _burn_rate_policy(burn)
    emails = node.string_list("emails") or ()
    for index, email in enumerate(emails):
        if not EMAIL.match(email):
            node.problems.add(f"{node.key('emails')}[{index}]", f"{email!r} is not an e-mail address")
    if not emails:
        node.problem("emails", "must list at least one address to notify")
    return AlertingSettings(tuple(dict.fromkeys(emails)), policy), threshold


def _burn_rate_policy(node: Node) -> BurnRatePolicy:
    defaults = BurnRatePolicy()
    factors = {}
    for key, default in (("pageFactor", defaults.page_factor), ("slowPageFactor", defaults.slow_page_factor),
                         ("ticketFactor", defaults.ticket_factor)):
        value = node.number(key, default)
        if value is None or value <= 0:
            node.problem(key, f"{describe(node.raw(key))} must be a burn rate above 0")
            value = default
        factors[key] = value
    minimum = node.integer("minRequests", defaults.min_requests)
    if minimum is None or minimum < 0:
        node.problem("minRequests", f"{describe(node.raw('minRequests'))} must be a whole number, 0 or more")
        minimum = defaults.min_requests
    return BurnRatePolicy(factors["pageFactor"], factors["slowPageFactor"], factors["ticketFactor"], minimum)
