"""The SLO and Settings 2.0 lifecycles against a real Dynatrace: ``DT_ENV_URL`` + ``DT_API_TOKEN``.

Any base URL works: SaaS (``https://<id>.live.dynatrace.com``), Managed (``https://<host>/e/<id>``), an
ActiveGate, or a local stand-in. The token needs slo.read, slo.write, settings.read and settings.write.
Throwaway objects are named uniquely and removed even when a step fails. ``DT_LIVE_SLO_EXPRESSION``
overrides the SLO expression when the environment lacks the default service metrics.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kong_slo.dynatrace.alerting import ALERTING_PROFILE_SCHEMA, METRIC_EVENT_SCHEMA, alerting_profile_value
from kong_slo.dynatrace.classic.slo import ServiceLevelObjectiveProvider
from kong_slo.dynatrace.client import DynatraceClient
from kong_slo.dynatrace.settings_objects import SettingsObjectProvider
from tests.live.conftest import require_env

DEFAULT_EXPRESSION = ("(100)*(builtin:service.errors.server.successCount:splitBy())"
                      "/(builtin:service.requestCount.server:splitBy())")


@pytest.fixture
def environment() -> dict[str, str]:
    return require_env("DT_ENV_URL", "DT_API_TOKEN")


@pytest.fixture
def client(environment: dict[str, str]) -> Iterator[DynatraceClient]:
    with DynatraceClient(environment["DT_ENV_URL"], environment["DT_API_TOKEN"]) as dynatrace:
        yield dynatrace


def test_slo_lifecycle(environment, client, run_id):
    name = f"kong-slo live test {run_id}"
    payload = {"name": name, "description": "kong-slo live test; safe to delete", "enabled": True,
               "evaluationType": "AGGREGATE", "metricName": f"kong_slo_live_test_{run_id}",
               "metricExpression": os.environ.get("DT_LIVE_SLO_EXPRESSION", DEFAULT_EXPRESSION),
               "target": 95.0, "warning": 97.5, "timeframe": "-1h",
               "errorBudgetBurnRate": {"burnRateVisualizationEnabled": True, "fastBurnThreshold": 10}}
    provider = ServiceLevelObjectiveProvider()  # token from DT_API_TOKEN
    props = provider.check({}, {"payload": payload, "environment_url": environment["DT_ENV_URL"]}).inputs
    try:
        created = provider.create(props)
        assert created.id
        again = provider.create(props)  # a re-run with lost state adopts, never duplicates
        assert again.id == created.id and again.outs["adopted"] is True
        read = provider.read(created.id, created.outs)
        assert read.id == created.id
        assert provider.diff(created.id, read.outs, props).changes is False
        news = {**props, "payload": {**payload, "target": 96.0}}
        provider.update(created.id, created.outs, news)
        assert provider.read(created.id, created.outs).outs["payload"]["target"] == pytest.approx(96.0)
        provider.delete(created.id, created.outs)
        provider.delete(created.id, created.outs)  # already gone: still fine
    finally:
        leftover = client.find_slo_by_name(name)
        if leftover is not None:
            client.delete_slo(leftover["id"])
    assert client.find_slo_by_name(name) is None


def test_alerting_profile_lifecycle(environment, client, run_id):
    ext_id = f"kong-slo:live-test:{run_id}"
    props = {"schema_id": ALERTING_PROFILE_SCHEMA, "external_id": ext_id,
             "value": alerting_profile_value(f"live-test-{run_id}"), "environment_url": environment["DT_ENV_URL"]}
    provider = SettingsObjectProvider()
    try:
        created = provider.create(props)
        assert provider.create(props).id == created.id  # adopted by externalId
        read = provider.read(created.id, created.outs)
        assert provider.diff(created.id, read.outs, props).changes is False
        provider.delete(created.id, created.outs)
    finally:
        leftover = client.find_settings(ALERTING_PROFILE_SCHEMA, ext_id)
        if leftover is not None:
            client.delete_settings(leftover["objectId"])
    assert client.find_settings(ALERTING_PROFILE_SCHEMA, ext_id) is None


def test_a_metric_never_seen_is_declared_and_then_accepted_by_an_slo(environment, client, run_id):
    """The fresh-tenant path: a brand-new counter key (``kong.slo.live<run_id>``), declared by metadata and a
    zero point through the metrics ingest API, becomes usable in an SLO at once, and Dynatrace accepts a
    burn-rate alert built on it. The token also needs metrics.ingest and metrics.read. Dynatrace keeps the
    throwaway metric for its retention period."""
    from kong_slo.dynatrace.classic.metric import MetricDeclarationProvider

    base = f"kong.slo.live{run_id}"
    lines = [f'#{base} count dt.meta.displayName="kong-slo live test {run_id}"',
             f'{base},service.name="live-test",slo.outcome="success" count,delta=0']
    declared = MetricDeclarationProvider().create({"metric_key": f"{base}.count", "lines": lines,
                                                   "environment_url": environment["DT_ENV_URL"]})
    assert declared.outs["known"] is True
    name = f"kong-slo live fresh metric {run_id}"
    payload = {"name": name, "description": "kong-slo live test; safe to delete", "enabled": True,
               "evaluationType": "AGGREGATE", "metricName": f"kong_slo_live_fresh_{run_id}",
               "metricExpression": f'(100)*({base}.count:filter(eq("slo.outcome","success")):splitBy():sum'
                                   f':default(0))/({base}.count:splitBy():sum)',
               "target": 95.0, "warning": 97.5, "timeframe": "-1h"}
    provider = ServiceLevelObjectiveProvider()
    provider.create_attempts = 3  # type: ignore[misc]  # accepted at once, or the declaration did not help
    alert = _burn_rate_alert_on(f"{base}.count", run_id)
    alerts = SettingsObjectProvider()
    ext_id = f"kong-slo:live-test:burn-rate:{run_id}"
    try:
        created = provider.create({"payload": payload, "environment_url": environment["DT_ENV_URL"]})
        assert created.id
        # one burn-rate alert as kong-slo builds it (two windows, minimum count, min/max through :abs)
        made = alerts.create({"schema_id": METRIC_EVENT_SCHEMA, "external_id": ext_id, "value": alert,
                              "environment_url": environment["DT_ENV_URL"]})
        stored = client.get_settings(made.id)
        assert stored is not None
        assert stored["value"]["queryDefinition"]["metricSelector"] == alert["queryDefinition"]["metricSelector"]
    finally:
        leftover_alert = client.find_settings(METRIC_EVENT_SCHEMA, ext_id)
        if leftover_alert is not None:
            client.delete_settings(leftover_alert["objectId"])
        leftover = client.find_slo_by_name(name)
        if leftover is not None:
            client.delete_slo(leftover["id"])


def _burn_rate_alert_on(metric_key: str, run_id: str) -> dict:
    """The 28-day fast-burn page kong-slo would create, reading ``metric_key`` instead of the real counter."""
    from kong_slo import telemetry
    from kong_slo.dynatrace.classic.metric_events import metric_event_value
    from kong_slo.objectives.burn_rate import alert_rules
    from kong_slo.objectives.sli import availability_definition
    from kong_slo.settings.model import BurnRatePolicy
    from tests.providers.dynatrace_helpers import stack_settings

    settings = stack_settings(stack=f"live-{run_id}", apis=[{"name": "live-test", "availability": {"window": "28d"}}])
    api = settings.apis[0]
    assert api.availability is not None
    definition = availability_definition(settings, api, api.availability)
    value = metric_event_value(definition, settings.stack, alert_rules(definition.window, BurnRatePolicy())[0],
                               BurnRatePolicy().min_requests)
    selector = value["queryDefinition"]["metricSelector"].replace(telemetry.CALLS_METRIC_KEY, metric_key)
    return {**value, "queryDefinition": {**value["queryDefinition"], "metricSelector": selector}}
