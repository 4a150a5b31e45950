"""Settings 2.0 alerting objects against the Dynatrace emulator: externalId adoption, faults, call counts."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest
from pulumi.output import Unknown

from kong_slo.dynatrace.alerting import (
    ALERTING_PROFILE_SCHEMA,
    METRIC_EVENT_SCHEMA,
    NOTIFICATION_SCHEMA,
    alerting_profile_value,
    email_notification_value,
)
from kong_slo.dynatrace.classic.metric_events import metric_event_value
from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.settings_objects import SettingsObjectProvider, external_id
from kong_slo.objectives.burn_rate import alert_rules
from kong_slo.objectives.sli import slo_definitions
from kong_slo.settings.model import BurnRatePolicy
from kong_slo.telemetry import CALLS_METRIC_KEY
from tests.fakes.dynatrace import FakeDynatrace, Fault
from tests.providers.dynatrace_helpers import TOKEN, checked, configured, stack_settings


@pytest.fixture
def fake() -> Iterator[FakeDynatrace]:
    with FakeDynatrace(TOKEN) as server:
        server.metrics.declare(CALLS_METRIC_KEY)
        yield server


@pytest.fixture
def provider() -> SettingsObjectProvider:
    provider = SettingsObjectProvider()
    configured(provider)
    return provider


def profile_props(fake: FakeDynatrace) -> dict:
    return {"schema_id": ALERTING_PROFILE_SCHEMA, "external_id": external_id("kong-slo", "test", "alerting-profile"),
            "value": alerting_profile_value("test"), "environment_url": fake.url}


def create(provider: SettingsObjectProvider, props: dict):
    return provider.create(checked(provider, props))


def test_create_is_one_post_with_an_external_id(fake, provider):
    result = create(provider, profile_props(fake))
    assert fake.per_method() == {"GET": 1, "POST": 1}
    stored = fake.settings[result.id]
    assert stored["externalId"] == "kong-slo:test:alerting-profile"
    assert [rule["severityLevel"] for rule in stored["value"]["severityRules"]] == ["ERRORS", "CUSTOM_ALERT"]
    assert result.outs["object_id"] == result.id and result.outs["adopted"] is False


def test_unchanged_is_no_call_even_though_dynatrace_filled_defaults(fake, provider):
    created = create(provider, profile_props(fake))
    refreshed = provider.read(created.id, created.outs)
    fake.reset_calls()
    assert provider.diff(created.id, refreshed.outs, profile_props(fake)).changes is False
    assert provider.diff(created.id, created.outs, copy.deepcopy(profile_props(fake))).changes is False
    assert fake.calls == []


def test_rerun_after_lost_state_adopts_by_external_id(fake, provider):
    first = create(provider, profile_props(fake))
    fake.reset_calls()
    second = create(provider, profile_props(fake))
    assert second.id == first.id and second.outs["adopted"] is True
    assert len(fake.settings) == 1
    assert fake.writes() == 0


def test_adoption_brings_a_drifted_value_in_line(fake, provider):
    first = create(provider, profile_props(fake))
    fake.settings[first.id]["value"]["name"] = "renamed by hand"
    create(provider, profile_props(fake))
    assert fake.settings[first.id]["value"]["name"] == "kong-slo test SLO burn rate"
    assert fake.count("PUT") == 1


@pytest.mark.parametrize("kind", ["drop-after", "drop", "503", "429"])
def test_no_duplicate_when_the_post_fails_in_flight(fake, provider, kind):
    fake.inject(Fault(kind, "POST", "/settings/objects$", {"Retry-After": "0"}))
    result = create(provider, profile_props(fake))
    assert list(fake.settings) == [result.id]
    assert fake.faults == []


@pytest.mark.parametrize("kind", ["drop-after", "500-after"])
def test_single_object_even_where_dynatrace_would_accept_a_second_external_id(provider, kind):
    with FakeDynatrace(TOKEN, unique_external_ids=False) as fake:
        fake.inject(Fault(kind, "POST", "/settings/objects$"))
        result = create(provider, profile_props(fake))
        assert list(fake.settings) == [result.id]
        assert fake.count("POST") == 1  # looked up after the lost answer instead of posting again


def test_a_server_that_never_answers_gives_up_without_a_duplicate(fake, provider):
    fake.inject(*[Fault("503", "POST", "/settings/objects$") for _ in range(4)])
    with pytest.raises(DynatraceError, match="HTTP 503"):
        create(provider, profile_props(fake))
    assert fake.count("POST") == 4 and fake.settings == {}


def test_update_and_delete(fake, provider):
    created = create(provider, profile_props(fake))
    news = profile_props(fake)
    news["value"]["severityRules"][0]["delayInMinutes"] = 5
    assert provider.diff(created.id, created.outs, news).changes is True
    fake.reset_calls()
    provider.update(created.id, created.outs, news)
    assert fake.per_method() == {"PUT": 1}
    assert fake.settings[created.id]["value"]["severityRules"][0]["delayInMinutes"] == 5
    provider.delete(created.id, created.outs)
    provider.delete(created.id, created.outs)  # 404: already done
    assert fake.settings == {}


def test_notification_on_the_profile_and_its_rejection_message(fake, provider):
    profile = create(provider, profile_props(fake))
    notification = {"schema_id": NOTIFICATION_SCHEMA, "external_id": "kong-slo:test:email-notification",
                    "value": email_notification_value("test", ["sre@example.com"], profile.id),
                    "environment_url": fake.url}
    created = create(provider, notification)
    assert fake.settings[created.id]["value"]["alertingProfile"] == profile.id
    broken = dict(notification, external_id="other",
                  value=email_notification_value("test", ["sre@example.com"], "no-such-profile"))
    with pytest.raises(DynatraceError, match="alertingProfile: Alerting profile does not exist"):
        create(provider, broken)


def test_an_update_is_refused_what_a_create_is_refused(fake, provider):
    """Settings 2.0 validates a PUT's value as it validates a POST's: an update to a missing alerting profile is
    refused, not stored (the provider's update and adoption both PUT)."""
    profile = create(provider, profile_props(fake))
    notification = {"schema_id": NOTIFICATION_SCHEMA, "external_id": "kong-slo:test:email-notification",
                    "value": email_notification_value("test", ["sre@example.com"], profile.id),
                    "environment_url": fake.url}
    created = create(provider, notification)
    broken = dict(notification, value=email_notification_value("test", ["sre@example.com"], "no-such-profile"))
    with pytest.raises(DynatraceError, match="Alerting profile does not exist"):
        provider.update(created.id, created.outs, broken)
    assert fake.settings[created.id]["value"]["alertingProfile"] == profile.id


def test_a_value_not_known_yet_is_a_change_not_a_crash(fake, provider):
    """``pulumi preview`` of an update whose value is computed from another resource: the engine sends the value
    unknown (seen with the CLI 3.274.1: an e-mail notification after its profile changed)."""
    created = create(provider, profile_props(fake))
    news = {**profile_props(fake), "value": Unknown()}
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes is True and diff.replaces == []
    partly = {**profile_props(fake), "value": {**profile_props(fake)["value"], "name": Unknown()}}
    assert provider.diff(created.id, created.outs, partly).changes is True


def test_external_id_change_is_a_replacement(fake, provider):
    created = create(provider, profile_props(fake))
    news = dict(profile_props(fake), external_id="kong-slo:other:alerting-profile")
    diff = provider.diff(created.id, created.outs, news)
    assert diff.replaces == ["external_id"] and diff.delete_before_replace is True


def test_a_burn_rate_alert_is_stored_and_its_title_passes_the_profile(fake, provider):
    settings = stack_settings(apis=[{"name": "Orders"}], alerting={"emails": ["sre@example.com"]})
    definition = slo_definitions(settings)[0]
    rule = alert_rules(definition.window, BurnRatePolicy())[0]
    value = metric_event_value(definition, "test", rule, BurnRatePolicy().min_requests)
    assert value["modelProperties"]["alertCondition"] == "ABOVE"
    profile_filter = alerting_profile_value("test")["eventFilters"][0]["customFilter"]["titleFilter"]
    assert value["eventTemplate"]["title"].startswith(profile_filter["value"])
    created = create(provider, {"schema_id": METRIC_EVENT_SCHEMA, "environment_url": fake.url,
                                "external_id": external_id("kong-slo", "test", "burn-rate-page", "orders"),
                                "value": value})
    assert fake.settings[created.id]["schemaId"] == METRIC_EVENT_SCHEMA


def test_creates_of_one_stack_and_schema_share_one_listing(fake, provider):
    for index in range(5):
        create(provider, dict(profile_props(fake), external_id=external_id("kong-slo", "test", "profile", str(index)),
                              value={**alerting_profile_value("test"), "name": f"profile {index}"}))
    assert fake.per_method() == {"GET": 1, "POST": 5}


def engine_numbers(value):
    """``value`` as the Pulumi engine hands it to a dynamic provider: every number a double."""
    if isinstance(value, bool) or not isinstance(value, int | float | dict | list):
        return value
    if isinstance(value, dict):
        return {key: engine_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [engine_numbers(item) for item in value]
    return float(value)


def test_the_emulator_refuses_a_decimal_where_the_schema_types_an_integer(fake):
    """builtin:alerting.profile 8.6.3 types severityRules[].delayInMinutes as integer (range 0-10000) and
    builtin:anomaly-detection.metric-events 1.0.19 types modelProperties.samples integer (3-60)."""
    value = alerting_profile_value("test")
    refused = fake.settings_item({"schemaId": ALERTING_PROFILE_SCHEMA, "externalId": "x",
                                  "value": engine_numbers(value)})
    assert refused["code"] == 400
    assert "severityRules[0].delayInMinutes: 0.0 is not an integer" in refused["error"]["message"]
    assert fake.settings_item({"schemaId": ALERTING_PROFILE_SCHEMA, "externalId": "x", "value": value})["code"] == 200


def test_numbers_the_engine_made_doubles_leave_as_integers(fake, provider):
    settings = stack_settings(apis=[{"name": "Orders"}], alerting={"emails": ["sre@example.com"]})
    definition = slo_definitions(settings)[0]
    rule = alert_rules(definition.window, BurnRatePolicy())[0]
    for schema, value in ((ALERTING_PROFILE_SCHEMA, alerting_profile_value("test")),
                          (METRIC_EVENT_SCHEMA, metric_event_value(definition, "test", rule, 1000))):
        doubled = engine_numbers(value)
        created = create(provider, {"schema_id": schema, "environment_url": fake.url, "value": doubled,
                                    "external_id": external_id("kong-slo", "test", schema)})
        stored = fake.settings[created.id]["value"]
        # 3, not 3.0: every integer property as the schema types it (json tells them apart; == does not)
        assert {key: json.dumps(stored[key]) for key in value} == {key: json.dumps(item) for key, item in value.items()}
        provider.update(created.id, created.outs, {**created.outs, "value": doubled})  # the PUT too
