"""The alert replay harness: minute-by-minute traffic histories through exactly the burn-rate rules ``pulumi up``
creates, evaluated the way Dynatrace documents it (classic metric events: tests/fakes/dynatrace_metric_events.py;
platform Davis detectors: tests/fakes/dynatrace_detectors.py).

For one objective window, every scenario is an API of its own in one emulated environment: the stack's alerting
profile and e-mail notification, each API's classic metric events (``dynatrace.alerting.burn_rate_alerts``) and
platform detectors (``dynatrace.platform.detectors.burn_rate_detectors``), all written through the providers, so
the emulator's validators see what a tenant would. Traffic: an hour of history within budget, the scenario's
burn for four hours (a burst: ten minutes), then two hours within budget again. ``replay`` reports, per scenario
and flavour, the minutes from the burn's start to the first page and to the first ticket, the minutes from its
end until the last alert closed, and the alerts raised where none should be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kong_slo import telemetry
from kong_slo.dynatrace.alerting import (
    ALERTING_PROFILE_SCHEMA,
    NOTIFICATION_SCHEMA,
    alerting_profile_value,
    burn_rate_alerts,
    email_notification_value,
)
from kong_slo.dynatrace.classic.metric_events import METRIC_EVENT_SCHEMA
from kong_slo.dynatrace.platform.alerting import DETECTOR_SCHEMA
from kong_slo.dynatrace.platform.detectors import PlatformSettingsObjectProvider, burn_rate_detectors
from kong_slo.dynatrace.settings_objects import SettingsObjectProvider
from kong_slo.objectives.sli import SloDefinition, slo_definitions
from kong_slo.settings.model import BurnRatePolicy
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_detectors import detector_events
from tests.fakes.dynatrace_metric_events import MINUTE_MS, Problem, problems
from tests.providers.dynatrace_helpers import PLATFORM_TOKEN, TOKEN, configured, configured_platform, stack_settings

START_MS = 1_700_000_000_000 // MINUTE_MS * MINUTE_MS
HISTORY, BURN, RECOVERY, BURST = 60, 240, 120, 10
PER_MINUTE = 1000
BASELINE_BURN = 0.25
"""Failures outside a burn: a quarter of what the target allows."""
EMAIL = "sre@example.com"
STACK = "replay"


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    burn: float | None
    """Multiple of the allowed failure rate during the burn; None: every request fails."""
    minutes: int = BURN
    quiet: bool = False
    alert_expected: bool = True


SCENARIOS = (
    Scenario("steady", "steady traffic within budget", BASELINE_BURN, alert_expected=False),
    Scenario("burn1", "1x burn", 1.0, alert_expected=False),
    Scenario("burn2", "2x burn", 2.0),
    Scenario("burn6", "6x burn", 6.0),
    Scenario("burn14", "14.4x burn", 14.4),
    Scenario("outage", "100 % failing", None),
    Scenario("burst", "10-minute burst of 20 % failures", 20.0, minutes=BURST),
    Scenario("quiet", "quiet API: 1 failure in 3 requests", None, quiet=True, alert_expected=False),
)
OBJECTIVES = ("1h", "1d", "7d", "28d")
FLAVOURS = ("classic", "platform")


@dataclass(frozen=True)
class Outcome:
    objective: str
    scenario: Scenario
    flavour: str
    page_after: int | None
    """Minutes from the burn's start to the first page; None: no page."""
    ticket_after: int | None
    reset_after: int | None
    """Minutes from the burn's end until the last alert closed; None: none raised, or still open."""
    still_open: bool
    false_alerts: int
    recipients: tuple[str, ...]
    """Everyone the alerts reached by e-mail."""


def _failure_share(definition: SloDefinition, burn: float | None) -> float:
    return 1.0 if burn is None else min(1.0, burn * (100 - definition.target) / 100)


def _traffic(fake: FakeDynatrace, definition: SloDefinition, scenario: Scenario) -> None:
    total_minutes = HISTORY + BURN + RECOVERY
    dims = {telemetry.SERVICE_DIMENSION: definition.api, telemetry.LATENCY_DIMENSION: telemetry.LATENCY_GOOD}
    if scenario.quiet:  # three requests in the burn's first hour, the second one failing
        for minute, outcome in ((HISTORY, telemetry.OUTCOME_SUCCESS), (HISTORY + 20, telemetry.OUTCOME_FAILURE),
                                (HISTORY + 40, telemetry.OUTCOME_SUCCESS)):
            fake.metrics.add(telemetry.CALLS_METRIC_KEY, {**dims, telemetry.OUTCOME_DIMENSION: outcome}, 1.0,
                             START_MS + minute * MINUTE_MS + 1000)
        return
    for minute in range(total_minutes):
        burning = HISTORY <= minute < HISTORY + scenario.minutes
        if scenario.key == "burst" and burning:
            share = 0.2
        else:
            share = _failure_share(definition, scenario.burn if burning else BASELINE_BURN)
        failed = round(PER_MINUTE * share)
        at = START_MS + minute * MINUTE_MS + 1000
        for outcome, count in ((telemetry.OUTCOME_FAILURE, failed), (telemetry.OUTCOME_SUCCESS, PER_MINUTE - failed)):
            fake.metrics.add(telemetry.CALLS_METRIC_KEY, {**dims, telemetry.OUTCOME_DIMENSION: outcome},
                             float(count), at)


def _deploy(fake: FakeDynatrace, definitions: list[SloDefinition], policy: BurnRatePolicy) -> None:
    classic, platform = SettingsObjectProvider(), PlatformSettingsObjectProvider()
    configured(classic, TOKEN)
    configured_platform(platform)

    def create(provider: Any, schema: str, ext_id: str, value: dict[str, Any]) -> str:
        props = {"schema_id": schema, "external_id": ext_id, "value": value, "environment_url": fake.url}
        result = provider.check({}, props)
        assert result.failures == [], result.failures
        return provider.create(result.inputs).id

    profile = create(classic, ALERTING_PROFILE_SCHEMA, "replay:profile", alerting_profile_value(STACK))
    create(classic, NOTIFICATION_SCHEMA, "replay:email", email_notification_value(STACK, [EMAIL], profile))
    for definition in definitions:
        for _, ext_id, value in burn_rate_alerts("kong-slo", STACK, definition, policy):
            create(classic, METRIC_EVENT_SCHEMA, ext_id, value)
        for _, ext_id, value in burn_rate_detectors("kong-slo", STACK, definition, policy):
            create(platform, DETECTOR_SCHEMA, ext_id, value)


def _outcome(objective: str, scenario: Scenario, flavour: str, raised: list[Problem]) -> Outcome:
    burn_start, burn_end = START_MS + HISTORY * MINUTE_MS, START_MS + (HISTORY + scenario.minutes) * MINUTE_MS

    def after(kind: str) -> int | None:
        opened = [p.opened_ms for p in raised if f" {kind}: " in p.title and p.opened_ms >= burn_start]
        return (min(opened) - burn_start) // MINUTE_MS if opened else None

    still_open = any(p.closed_ms is None for p in raised)
    closed = [p.closed_ms for p in raised if p.closed_ms is not None]
    reset = None if still_open or not closed else max(0, (max(closed) - burn_end) // MINUTE_MS)
    early = sum(1 for p in raised if p.opened_ms < burn_start)
    false_alerts = early + (0 if scenario.alert_expected else len(raised) - early)
    recipients = tuple(dict.fromkeys(address for p in raised for address in p.recipients))
    return Outcome(objective, scenario, flavour, after("page"), after("ticket"), reset, still_open, false_alerts,
                   recipients)


def replay(objective: str, policy: BurnRatePolicy | None = None,
           scenarios: tuple[Scenario, ...] = SCENARIOS) -> list[Outcome]:
    """Every scenario against an objective of ``objective`` (e.g. ``28d``), in both flavours."""
    policy = policy or BurnRatePolicy()
    apis = [{"name": f"api-{scenario.key}", "latency": False, "availability": {"window": objective}}
            for scenario in scenarios]
    settings = stack_settings(STACK, apis, alerting={"emails": [EMAIL]})
    definitions = slo_definitions(settings)
    end_ms = START_MS + (HISTORY + BURN + RECOVERY) * MINUTE_MS
    with FakeDynatrace(TOKEN, read_lag=0) as fake:
        fake.platform.platform_token = PLATFORM_TOKEN
        fake.metrics.declare(telemetry.CALLS_METRIC_KEY)  # as MetricDeclaration does before the alerts
        for definition, scenario in zip(definitions, scenarios, strict=True):
            _traffic(fake, definition, scenario)
        _deploy(fake, definitions, policy)
        raised = {"classic": problems(fake, START_MS, end_ms), "platform": detector_events(fake, START_MS, end_ms)}
    outcomes = []
    for definition, scenario in zip(definitions, scenarios, strict=True):
        for flavour in FLAVOURS:
            own = [p for p in raised[flavour] if f" {definition.api} " in p.title]
            outcomes.append(_outcome(objective, scenario, flavour, own))
    return outcomes


TABLE_START = "<!-- alert-replay:start -->"
TABLE_END = "<!-- alert-replay:end -->"


def _minutes(value: int | None) -> str:
    return "—" if value is None else f"{value} min"


def _cells(outcome: Outcome) -> list[str]:
    reset = "still open" if outcome.still_open else _minutes(outcome.reset_after)
    return [_minutes(outcome.page_after), _minutes(outcome.ticket_after), reset, str(outcome.false_alerts)]


def markdown_table(outcomes: list[Outcome]) -> str:
    """The README's alert timing table: per objective and traffic, each flavour's page, ticket, reset and false
    alerts."""
    header = ("| Objective | Traffic | Classic: page | ticket | reset | false "
              "| Platform: page | ticket | reset | false |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|"]
    by_key = {(o.objective, o.scenario.key, o.flavour): o for o in outcomes}
    objectives = list(dict.fromkeys(o.objective for o in outcomes))
    for objective in objectives:
        for scenario in SCENARIOS:
            classic, platform = by_key[(objective, scenario.key, "classic")], by_key[(objective, scenario.key,
                                                                                      "platform")]
            lines.append(f"| {objective} | {scenario.label} | " + " | ".join(_cells(classic) + _cells(platform)) + " |")
    return "\n".join(lines)


def replay_all() -> list[Outcome]:
    return [outcome for objective in OBJECTIVES for outcome in replay(objective)]
