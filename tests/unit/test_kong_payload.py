"""The plugin body per Kong version, its identity and the managed view (pure functions)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kong_slo.kong.payload import (
    PluginVersionError,
    drifted_keys,
    managed_view,
    otlp_urls,
    plugin_id,
    plugin_payload,
    scope_of,
    wants_logs,
)
from kong_slo.settings.model import Api, KongVersion

TRACES = "http://collector:4318/v1/traces"
LOGS = "http://collector:4318/v1/logs"
ORDERS = Api(name="Orders", route=None, latency=None, availability=None, sampling_rate=None)
V = KongVersion.parse


def body(version: str, *, logs: str | None = None, rate: float | None = None, api: Api = ORDERS,
         context: str = "honour") -> dict:
    return plugin_payload(api, stack="dev", traces_url=TRACES, logs_url=logs, sampling_rate=rate, version=V(version),
                          incoming_context=context)


@pytest.mark.parametrize(("version", "context", "config_keys"), [
    ("3.2", "honour", {"endpoint", "resource_attributes"}),
    ("3.5", "honour", {"endpoint", "resource_attributes"}),
    ("3.5", "ignore", {"endpoint", "resource_attributes", "header_type"}),
    ("3.7", "ignore", {"endpoint", "resource_attributes", "propagation"}),
    ("3.8", "honour", {"traces_endpoint", "resource_attributes"}),
    ("3.12", "ignore", {"traces_endpoint", "resource_attributes", "propagation"}),
])
def test_the_body_carries_the_fields_of_the_version(version: str, context: str, config_keys: set[str]) -> None:
    payload = body(version, context=context)
    assert set(payload["config"]) == config_keys
    assert payload["name"] == "opentelemetry" and payload["enabled"] is True
    assert payload["tags"] == ["kong-slo", "kong-slo-stack:dev"]
    assert payload["config"]["resource_attributes"]["service.name"] == "Orders"
    assert TRACES in payload["config"].values()
    assert not {"service", "route", "consumer", "id"} & set(payload)


def test_logs_and_sampling_rate_appear_where_the_version_has_them() -> None:
    assert body("3.9", logs=LOGS, rate=0.5)["config"] == {
        "traces_endpoint": TRACES, "logs_endpoint": LOGS, "sampling_rate": 0.5,
        "resource_attributes": {"service.name": "Orders", "kong_slo.latency_ms": "off", "kong_slo.fail_on": "off"}}
    assert body("3.6", rate=1)["config"]["sampling_rate"] == 1.0


@pytest.mark.parametrize(("version", "logs", "rate", "words"), [
    ("3.1", None, None, "Kong 3.1 runs the opentelemetry plugin only globally"),
    ("3.7", LOGS, None, "Kong 3.7 cannot export logs"),
    ("3.5", None, 0.5, "Kong 3.5 has no per-plugin sampling_rate"),
    ("2.8", None, None, "Kong 2.8 is not supported"),
    ("3.2", None, None, "Kong 3.2 always follows an incoming traceparent"),
])
def test_a_wish_the_version_cannot_honour_is_refused_naming_it(version: str, logs: str | None, rate: float | None,
                                                                 words: str) -> None:
    with pytest.raises(PluginVersionError, match=words) as raised:
        body(version, logs=logs, rate=rate, context="ignore")
    assert "'Orders'" in str(raised.value)


def test_logs_follow_the_version_unless_the_stack_decides() -> None:
    assert wants_logs(None, V("3.8")) and not wants_logs(None, V("3.7"))
    assert not wants_logs(False, V("3.9")) and wants_logs(True, V("3.9"))


@pytest.mark.parametrize("url", ["http://c:4318", "http://c:4318/", "http://c:4318/v1/traces", " http://c:4318 "])
def test_otlp_urls(url: str) -> None:
    assert otlp_urls(url).traces == "http://c:4318/v1/traces" and otlp_urls(url).logs == "http://c:4318/v1/logs"


@pytest.mark.parametrize("url", ["c:4318", "ftp://c", "http://", ""])
def test_otlp_urls_refuse_what_is_not_a_url(url: str) -> None:
    with pytest.raises(ValueError, match="is not an http"):
        otlp_urls(url)


def test_scope_prefers_the_route() -> None:
    assert scope_of(ORDERS) == ("service", "Orders")
    routed = Api(name="Orders", route="orders-v2", latency=None, availability=None, sampling_rate=None)
    assert scope_of(routed) == ("route", "orders-v2")


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~", min_size=1, max_size=30)


@given(stack=names, scope=names, workspace=st.none() | names, kind=st.sampled_from(["service", "route"]))
def test_plugin_id_is_a_stable_uuid_per_stack_scope_and_workspace(stack: str, scope: str, workspace: str | None,
                                                                   kind: str) -> None:
    first = plugin_id(stack, kind, scope, workspace)
    assert first == plugin_id(stack, kind, scope, workspace)
    assert uuid.UUID(first).version == 5
    other_kind = "route" if kind == "service" else "service"
    assert first != plugin_id(stack, other_kind, scope, workspace)
    assert first != plugin_id(stack + "x", kind, scope, workspace)
    assert first != plugin_id(stack, kind, scope, (workspace or "default") + "x")


def test_the_default_workspace_is_the_unnamed_one() -> None:
    assert plugin_id("dev", "service", "orders", None) == plugin_id("dev", "service", "orders", "default")
    with pytest.raises(ValueError, match="scope kind"):
        plugin_id("dev", "consumer", "orders", None)


def test_the_managed_view_of_our_body_matches_kongs_expanded_read() -> None:
    ours = managed_view(body("3.7", rate=1))
    kongs = {"id": "x", "enabled": True, "tags": ["kong-slo-stack:dev", "kong-slo"], "created_at": 1,
             "config": {"endpoint": TRACES, "sampling_rate": 1, "resource_attributes": {
                 "service.name": "Orders", "kong_slo.latency_ms": "off", "kong_slo.fail_on": "off"},
                        "queue": {"max_batch_size": 200}, "headers": None, "connect_timeout": 1000}}
    assert drifted_keys(ours, managed_view(kongs)) == []
    as_3_9 = {**kongs, "config": {**kongs["config"], "traces_endpoint": TRACES, "logs_endpoint": None}}
    del as_3_9["config"]["endpoint"]
    assert drifted_keys(ours, managed_view(as_3_9)) == []


def test_drift_is_reported_per_key_and_an_unset_sampling_rate_is_left_to_kong_conf() -> None:
    ours = managed_view(body("3.9", logs=LOGS))
    theirs = {**ours, "logs_endpoint": None, "sampling_rate": 0.25, "tags": ["kong-slo"], "enabled": False}
    assert drifted_keys(ours, theirs) == ["logs_endpoint", "tags", "enabled"]
    assert drifted_keys(managed_view(body("3.9", rate=0.5)), {**ours, "sampling_rate": 0.25}) == [
        "logs_endpoint", "sampling_rate"]
