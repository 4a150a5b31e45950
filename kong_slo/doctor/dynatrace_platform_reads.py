"""Link 4b for platform stacks: the platform credentials reach the stack's dashboard document (Documents API,
``document:documents:read``) and Grail as ``kong-slo report`` reads it (``storage:buckets:read`` with
``storage:metrics:read`` for the counter, ``storage:events:read`` for the burn-rate detectors' Davis events). Read-only:
it looks the dashboard up and runs two queries over the last minute. The write scopes of the dashboard cannot be
seen without writing; an OAuth client is asked for all of them (SSO refuses a token when one is not granted)."""

from __future__ import annotations

import time

from kong_slo.doctor.report import Check, ok, problem
from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.dashboard_sections import dashboard_external_id
from kong_slo.dynatrace.platform.client import PlatformClient
from kong_slo.dynatrace.platform.credentials import PlatformCredentials
from kong_slo.dynatrace.platform.dashboard import DOCUMENT_API_PATH, DOCUMENT_SCOPES, find_document
from kong_slo.dynatrace.platform.definitions import calls_timeseries
from kong_slo.dynatrace.platform.grail import QUERY_SCOPES, GrailClient
from kong_slo.dynatrace.platform.report import events_query
from kong_slo.http import RetryPolicy
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings import StackSettings

LINK = "dynatrace"
UP_FIX = "pulumi up"


def _scopes_fix(scopes: tuple[str, ...]) -> str:
    return f"give the platform token or OAuth client the scopes {', '.join(scopes)}"


def check_dashboard(settings: StackSettings, url: str, credentials: PlatformCredentials,
                    policy: RetryPolicy) -> Check:
    """The stack's dashboard document exists and the credentials can read it."""
    name = "dynatrace.platform.dashboard"
    try:
        with PlatformClient(url, credentials.bearer(policy, DOCUMENT_SCOPES), policy=policy,
                            api_path=DOCUMENT_API_PATH) as client:
            found = find_document(client, dashboard_external_id(settings.project, settings.stack))
    except DynatraceError as error:
        return problem(LINK, name, f"the stack's dashboard cannot be read: {error}", _scopes_fix(DOCUMENT_SCOPES))
    if found is None:
        return problem(LINK, name, "the stack's dashboard document does not exist", UP_FIX)
    return ok(LINK, name, f"dashboard document {found.get('name') or found.get('id')!r} exists")


def check_report_reads(settings: StackSettings, url: str, credentials: PlatformCredentials,
                       policy: RetryPolicy) -> Check:
    """``kong-slo report`` can read the counter and the Davis events from Grail."""
    name = "dynatrace.platform.report"
    definitions = slo_definitions(settings)
    now = int(time.time() * 1000)
    try:
        with GrailClient(url, credentials.bearer(policy, QUERY_SCOPES), policy=policy) as grail:
            if definitions:
                grail.query(calls_timeseries(definitions[0].api, definitions[0].objective, options=", interval: 1m"),
                            now - 60_000, now, what="read the counter from Grail")
            grail.query(events_query(settings.stack), now - 60_000, now, what="read Davis events from Grail")
    except DynatraceError as error:
        return problem(LINK, name, f"`kong-slo report` cannot read Grail: {error}", _scopes_fix(QUERY_SCOPES))
    return ok(LINK, name, "`kong-slo report` can read the counter and the Davis events from Grail")
