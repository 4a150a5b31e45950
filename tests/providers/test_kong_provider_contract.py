"""The provider's offline contract: input checks, diffs without network, configure, pickling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from kong_slo.kong.plugin import OpenTelemetryPluginProvider
from tests.providers.kong_helpers import TOKEN, checked, inputs, provider

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "http://127.0.0.1:9"  # nothing listens here: any network call would fail the test


def failures(**overrides: object) -> dict[str, str]:
    result = provider().check({}, inputs(ADMIN, **overrides))
    return {failure.property: failure.reason for failure in result.failures}


@pytest.mark.parametrize(("overrides", "key", "words"), [
    ({"version": "3.1"}, "service", "Kong 3.1 runs the opentelemetry plugin only globally"),
    ({"version": "3.1", "route": "orders-v2"}, "route", "needs Kong 3.2 or later"),
    ({"version": "3.7", "export_logs": True, "sampling_rate": None}, "export_logs", "Kong 3.7 cannot export logs"),
    ({"version": "3.5"}, "sampling_rate", "Kong 3.5 has no per-plugin sampling_rate"),
    ({"version": "three"}, "version", "is not a Kong version"),
    ({"sampling_rate": 1.5}, "sampling_rate", "not a sampling rate between 0 and 1"),
    ({"collector_url": "collector:4318"}, "collector_url", "is not an http(s) URL"),
    ({"admin_url": "kong:8001"}, "admin_url", "is not an http(s) URL"),
    ({"service": ""}, "service", "service is required"),
])
def test_check_names_the_property_and_the_version(overrides: dict, key: str, words: str) -> None:
    found = failures(**overrides)
    assert key in found, found
    assert words in found[key]


def test_check_accepts_what_the_version_can_do_and_normalises() -> None:
    news = checked(provider(token=TOKEN), ADMIN, version="3.9.1", export_logs=True, sampling_rate=1,
                   collector_url="http://collector:4318/v1/traces")
    assert news["collector_url"] == "http://collector:4318"
    assert news["sampling_rate"] == 1.0 and isinstance(news["sampling_rate"], float)
    assert TOKEN not in repr(news), "the configured admin token never enters the checked inputs"


def test_check_lets_unknown_values_through_during_preview() -> None:
    assert failures(collector_url=rpc.UNKNOWN) == {}


def test_unchanged_inputs_make_no_change_and_no_call() -> None:
    plugins = provider()
    news = checked(plugins, ADMIN, version="3.9")
    state = {**news, "plugin_id": "p", "adopted": False, "kong_version": "3.9",
             "managed": {"traces_endpoint": "http://collector.internal:4318/v1/traces",
                         "logs_endpoint": "http://collector.internal:4318/v1/logs",
                         "resource_attributes": {"service.name": "Orders", "kong_slo.latency_ms": "off",
                                                 "kong_slo.fail_on": "off"}, "sampling_rate": 1.0,
                         "tags": ["kong-slo", "kong-slo-stack:dev"], "enabled": True,
                         "reads_incoming_context": False}}
    assert plugins.diff("p", state, {**news, "__provider": "a different pickle"}).changes is False
    assert plugins.diff("p", state, {**news, "version": None}).changes is False
    assert plugins.diff("p", {**state, "version": None}, news).changes is False
    before_upgrade = {**state, "kong_version": "3.7", "managed": {**state["managed"], "logs_endpoint": None}}
    upgraded = plugins.diff("p", before_upgrade, {**news, "version": "3.9"})
    assert upgraded.changes is True, "logs are exported once Kong can"
    drifted = {**state, "managed": {**state["managed"], "tags": ["team-x"]}}
    assert plugins.diff("p", drifted, news).changes is True


@pytest.mark.parametrize(("key", "value", "replaces"), [
    ("collector_url", "http://other:4318", []),
    ("collector_url", rpc.UNKNOWN, []),
    ("api_name", "OrdersV2", []),
    ("export_logs", False, []),
    ("sampling_rate", 0.5, []),
    ("service", "payments", ["service"]),
    ("route", "orders-v2", ["route"]),
    ("workspace", "team-a", ["workspace"]),
    ("admin_url", "http://kong-2:8001", ["admin_url"]),
])
def test_diff_classifies_changes(key: str, value: object, replaces: list[str]) -> None:
    plugins = provider()
    olds = {**checked(plugins, ADMIN, version="3.9"), "kong_version": "3.9", "managed": None}
    result = plugins.diff("p", olds, {**olds, key: value})
    assert result.changes is True and result.replaces == replaces
    assert result.delete_before_replace is True


@pytest.mark.parametrize(("key", "old", "new"), [
    ("admin_url", ADMIN, ADMIN + "/"),
    ("workspace", None, "default"),
    ("workspace", "default", None),
])
def test_the_same_kong_and_workspace_written_another_way_is_no_replacement(key: str, old: object,
                                                                           new: object) -> None:
    # A replacement deletes the plugin first: tracing for the API would stop for nothing.
    plugins = provider()
    olds = {**checked(plugins, ADMIN, version="3.9"), "kong_version": "3.9", "managed": None}
    result = plugins.diff("p", {**olds, key: old}, {**olds, key: new})
    assert result.replaces == [] and result.changes is False


@pytest.mark.parametrize("value", [
    json.dumps({"adminToken": TOKEN, "caBundle": "/etc/ssl/kong-ca.pem"}),
    {"adminToken": TOKEN, "caBundle": "/etc/ssl/kong-ca.pem"},
    {"adminToken": {rpc._special_sig_key: rpc._special_secret_sig, "value": TOKEN},
     "caBundle": "/etc/ssl/kong-ca.pem"},
])
def test_configure_reads_token_and_ca_bundle_in_every_shape(value: object) -> None:
    plugins = provider(config_value=value)
    assert plugins._token == TOKEN and plugins._ca_bundle == "/etc/ssl/kong-ca.pem"


def test_the_token_is_never_pickled() -> None:
    plugins = provider(token=TOKEN)
    assert plugins._token == TOKEN
    assert TOKEN.encode() not in dill.dumps(plugins, recurse=True)
    restored = dill.loads(dill.dumps(plugins, recurse=True))
    assert restored._token is None


def test_the_pickled_provider_is_byte_identical_across_runs() -> None:
    script = ("from pulumi.dynamic.dynamic import serialize_provider\n"
              "from kong_slo.kong.plugin import OpenTelemetryPluginProvider\n"
              "print(serialize_provider(OpenTelemetryPluginProvider()))\n")
    runs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              check=True, timeout=60)
        runs.add(done.stdout.strip())
    runs.add(serialize_provider(OpenTelemetryPluginProvider()))
    assert len(runs) == 1
