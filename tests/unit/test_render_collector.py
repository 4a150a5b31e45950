"""The rendered collector config, checked by structure for many stack variants."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kong_slo import telemetry
from kong_slo.collector.model import (
    COUNTS_EXPORTER,
    DYNATRACE_COMPONENTS,
    EXPORTER,
    FAILED,
    HEALTH_PORT,
    LATENCY,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    QUEUE_DIRECTORY,
    SPAN_DURATION_NS,
    SPAN_METRICS,
    STATUS_CODE,
    STATUS_FALLBACK,
    components_outside,
    ottl_string,
    sampling_percentage,
)
from kong_slo.collector.render import render_cloud_init, render_collector_config, render_compose
from kong_slo.errors import KongSloError
from kong_slo.kong.payload import resource_attributes
from kong_slo.kong.release_facts import NEWER_STATUS_ATTRIBUTE
from kong_slo.secrets import Secret
from kong_slo.settings import StackSettings, parse_settings
from tests.fakes import kong_tracing_rules
from tests.unit.settings_helpers import TOKEN

KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
DYNATRACE_URL = "https://abc12345.live.dynatrace.com"

names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-", min_size=1, max_size=20)
fail_entries = st.sampled_from(["5xx", "4xx", "3xx", "404", "429", "408", "503", "500"])
fail_lists = st.lists(fail_entries, min_size=1, max_size=4, unique=True)


@st.composite
def api_entries(draw: st.DrawFn) -> list[dict[str, Any]]:
    api_names = draw(st.lists(names, min_size=1, max_size=12, unique_by=str.lower))
    apis = []
    for name in api_names:
        entry: dict[str, Any] = {"name": name}
        switch_off = draw(st.sampled_from([None, "latency", "availability"]))
        entry["latency"] = False if switch_off == "latency" else {"thresholdMs": draw(st.integers(1, 20_000))}
        entry["availability"] = False if switch_off == "availability" else {"failOn": draw(fail_lists)}
        apis.append(entry)
    return apis


@st.composite
def stack_settings(draw: st.DrawFn) -> StackSettings:
    target = draw(st.sampled_from(["aws", "local"]))
    with_dynatrace = target == "aws" or draw(st.booleans())
    config: dict[str, Any] = {
        "target": target,
        "collector": {
            "distribution": draw(st.sampled_from(["dynatrace", "contrib"])),
            "openGrpc": draw(st.booleans()),
            "traceSampling": draw(st.sampled_from([1.0, 0.5, 0.25, 0.1, 0.015])),
        },
        "apis": draw(api_entries()),
    }
    if target == "aws":
        config["collector"]["allowedCidrs"] = ["10.0.0.0/16"]
        config["kong"] = {"adminUrl": "http://kong.internal:8001"}
    if with_dynatrace:
        config["dynatrace"] = {"environmentUrl": DYNATRACE_URL, "apiToken": Secret(TOKEN)}
    return parse_settings(config, project="kong-slo", stack="prop", aws_region="eu-west-1")


def rendered(settings_: StackSettings) -> dict[str, Any]:
    return yaml.safe_load(render_collector_config(settings_))


def component_type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def check_structure(document: dict[str, Any]) -> None:
    """Every referenced component defined, every defined one used, connectors wired on both sides."""
    service = document["service"]
    pipelines: dict[str, dict[str, list[str]]] = service["pipelines"]
    used: dict[str, set[str]] = {kind: set() for kind in KINDS}
    connectors = set(document.get("connectors") or {})
    for name, pipeline in pipelines.items():
        if set(pipeline["receivers"]) & connectors:
            # A connector cannot retry what a processor refuses: nothing between it and the exporter's queue.
            assert not pipeline.get("processors"), f"{name}: fed by a connector, it must have no processor"
        else:
            assert pipeline["processors"][0] == "memory_limiter", f"{name}: memory_limiter must come first"
        for role in ("receivers", "processors", "exporters"):
            for component in pipeline.get(role, []):
                kind = "connectors" if component in (document.get("connectors") or {}) else role
                assert component in (document.get(kind) or {}), f"{name} names undefined {role} {component}"
                used[kind].add(component)
    used["extensions"] = set(service.get("extensions", []))
    for extension in used["extensions"]:
        assert extension in document["extensions"], f"service.extensions names undefined {extension}"
    for kind in KINDS:
        unused = set(document.get(kind) or {}) - used[kind]
        assert not unused, f"{kind} defined but never used: {sorted(unused)}"
    for connector in document.get("connectors") or {}:
        as_exporter = [name for name, p in pipelines.items() if connector in p.get("exporters", [])]
        as_receiver = [name for name, p in pipelines.items() if connector in p.get("receivers", [])]
        assert as_exporter and as_receiver and set(as_exporter).isdisjoint(as_receiver), connector


def test_the_structure_check_catches_unused_and_undefined_components() -> None:
    document = rendered(aws())
    document["processors"]["batch/unused"] = {}
    with pytest.raises(AssertionError, match="never used"):
        check_structure(document)
    document = rendered(aws())
    document["service"]["pipelines"]["logs"]["exporters"] = ["otlphttp/elsewhere"]
    with pytest.raises(AssertionError, match="undefined exporters"):
        check_structure(document)
    document = rendered(aws())
    document["service"]["pipelines"]["traces"]["processors"].reverse()
    with pytest.raises(AssertionError, match="memory_limiter must come first"):
        check_structure(document)
    document = rendered(aws())
    document["service"]["pipelines"]["metrics"]["processors"] = ["memory_limiter"]
    with pytest.raises(AssertionError, match="fed by a connector, it must have no processor"):
        check_structure(document)


def exporter_names(document: dict[str, Any]) -> set[str]:
    return {component_type(name) for name in document["exporters"]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_settings())
def test_config_is_well_formed_for_every_variant(settings_: StackSettings) -> None:
    text = render_collector_config(settings_)
    document = yaml.safe_load(text)
    check_structure(document)
    collector = settings_.collector

    protocols = document["receivers"]["otlp"]["protocols"]
    assert protocols["http"]["endpoint"] == f"0.0.0.0:{OTLP_HTTP_PORT}"
    assert ("grpc" in protocols) == collector.open_grpc
    if collector.open_grpc:
        assert protocols["grpc"]["endpoint"] == f"0.0.0.0:{OTLP_GRPC_PORT}"
    assert document["extensions"]["health_check"]["endpoint"] == f"0.0.0.0:{HEALTH_PORT}"

    assert document["connectors"][SPAN_METRICS]["histogram"] == {"disable": True}

    assert TOKEN not in text
    assert ("debug" in exporter_names(document)) == (settings_.dynatrace is None)
    assert ("otlp_http" in exporter_names(document)) == (settings_.dynatrace is not None)
    if collector.distribution == "dynatrace":
        assert components_outside(document, DYNATRACE_COMPONENTS) == []

    sampler_in_traces = "probabilistic_sampler" in document["service"]["pipelines"]["traces"]["processors"]
    assert sampler_in_traces == (collector.trace_sampling < 1)
    slo_pipeline = document["service"]["pipelines"]["traces/slo"]
    assert slo_pipeline["receivers"] == ["otlp"] and "probabilistic_sampler" not in slo_pipeline["processors"]


SPAN = r'span\.attributes\["(?P<key>[^"]+)"\]'
RESOURCE = r'resource\.attributes\["(?P<rkey>[^"]+)"\]'
COPY = re.compile(rf'^set\({SPAN}, {RESOURCE}\) where {RESOURCE.replace("rkey", "wkey")} != nil$')
DEFAULT = re.compile(rf'^set\({SPAN}, "(?P<value>[^"]*)"\) where {RESOURCE} == nil$')
SET = re.compile(rf'^set\({SPAN}, "(?P<value>[^"]*)"\)(?: where (?P<where>.+))?$')
DELETE = re.compile(rf'^delete_key\(span\.attributes, "(?P<key>[^"]+)"\)(?: where {SPAN.replace("key", "wkey")} == '
                    r'"(?P<equals>[^"]*)")?$')
DROP = re.compile(r'^delete_key\(resource\.attributes, "(?P<key>[^"]+)"\)$')
WITHIN = f"{SPAN_DURATION_NS} <= Int({LATENCY}) * 1000000"


def marks(groups: list[dict[str, Any]], resource: dict[str, str], duration_ns: int, status: int | None,
          status_attribute: str = telemetry.STATUS_ATTRIBUTE) -> dict[str, str]:
    """The SLO marks the transform processor leaves on one span of a resource (the plugin's resource attributes)
    whose status (None: no status) sits under ``status_attribute``: the rendered statements, run in order with
    OTTL's meaning (an error, such as ``Int("off")``, skips the statement: ``error_mode: ignore``)."""
    span: dict[str, Any] = {} if status is None else {status_attribute: status}
    resource = dict(resource)
    for group in groups:
        for statement in group["statements"]:
            if statement == STATUS_FALLBACK:
                if telemetry.STATUS_ATTRIBUTE not in span and NEWER_STATUS_ATTRIBUTE in span:
                    span[telemetry.STATUS_ATTRIBUTE] = span[NEWER_STATUS_ATTRIBUTE]
            elif (match := COPY.match(statement)) is not None:
                if match["wkey"] in resource:
                    span[match["key"]] = resource[match["rkey"]]
            elif (match := DEFAULT.match(statement)) is not None:
                if match["rkey"] not in resource:
                    span[match["key"]] = match["value"]
            elif (match := SET.match(statement)) is not None:
                if match["where"] is None or _holds(match["where"], span, duration_ns):
                    span[match["key"]] = match["value"]
            elif (match := DELETE.match(statement)) is not None:
                if match["wkey"] is None or span.get(match["wkey"]) == match["equals"]:
                    span.pop(match["key"], None)
            elif (match := DROP.match(statement)) is not None:
                resource.pop(match["key"], None)
            else:
                pytest.fail(f"unexpected statement {statement}")
    assert not any(key.startswith("kong_slo.") for key in (*span, *resource)), "objectives must not be counted"
    return {key: value for key, value in span.items() if key.startswith("slo.")}


def _holds(where: str, span: dict[str, Any], duration_ns: int) -> bool:
    status = span.get(telemetry.STATUS_ATTRIBUTE)
    if where == f"{STATUS_CODE} != nil":
        return status is not None
    if where == FAILED:
        listed = str(span[telemetry.FAIL_ON_ATTRIBUTE]).split(",")
        return status is not None and (str(status) in listed or f"{status // 100}xx" in listed)
    if where == WITHIN:
        try:
            return duration_ns <= int(span[telemetry.LATENCY_OBJECTIVE_ATTRIBUTE]) * 1_000_000
        except (KeyError, ValueError):
            return False  # Int() of nil or "off": an error, the statement is skipped
    pytest.fail(f"unexpected condition {where}")


def fails(fail_on: tuple[str, ...], status: int) -> bool:
    return any(status // 100 == int(entry[0]) if entry.endswith("xx") else status == int(entry) for entry in fail_on)


def expected_outcome(fail_on: tuple[str, ...], status: int | None) -> str:
    if status is None:
        return telemetry.OUTCOME_UNKNOWN
    return telemetry.OUTCOME_FAILURE if fails(fail_on, status) else telemetry.OUTCOME_SUCCESS


@settings(max_examples=80, deadline=None)
@given(stack_settings())
def test_each_api_ends_up_with_exactly_its_own_marks(settings_: StackSettings) -> None:
    groups = rendered(settings_)["processors"]["transform/slo"]["trace_statements"]
    for api in settings_.apis:
        resource = resource_attributes(api)  # what its plugin makes Kong send with every span
        threshold_ns = (api.latency.threshold_ms if api.latency else 600) * 1_000_000
        for duration_ns in (0, threshold_ns, threshold_ns + 1):
            for status in (200, 302, 404, 408, 429, 500, 503, None):
                expected: dict[str, str] = {}
                if api.latency is not None:
                    expected[telemetry.LATENCY_DIMENSION] = (
                        telemetry.LATENCY_GOOD if duration_ns <= threshold_ns else telemetry.LATENCY_BAD)
                if api.availability is not None:
                    expected[telemetry.OUTCOME_DIMENSION] = expected_outcome(api.availability.fail_on, status)
                for attribute in (telemetry.STATUS_ATTRIBUTE, NEWER_STATUS_ATTRIBUTE):
                    assert marks(groups, resource, duration_ns, status, attribute) == expected, (
                        api, duration_ns, status, attribute)


def test_a_plugin_that_sends_no_objective_gets_kong_slos_defaults() -> None:
    groups = rendered(aws())["processors"]["transform/slo"]["trace_statements"]
    bare = {"service.name": "Legacy"}
    assert marks(groups, bare, 600_000_000, 503) == {"slo.latency": "good", "slo.outcome": "failure"}
    assert marks(groups, bare, 600_000_001, 404) == {"slo.latency": "bad", "slo.outcome": "success"}


def test_the_mark_simulator_notices_a_wrong_rule() -> None:
    groups = rendered(aws())["processors"]["transform/slo"]["trace_statements"]
    orders = resource_attributes(aws().apis[1])
    assert marks(groups, orders, 250_000_000, 500) == {"slo.latency": "good", "slo.outcome": "failure"}
    assert marks(groups, orders, 250_000_001, 200) == {"slo.latency": "bad", "slo.outcome": "success"}
    del groups[0]["statements"][0]  # the threshold no longer copied from the request: no threshold at all
    assert marks(groups, orders, 250_000_000, 200)["slo.latency"] == "bad"


@pytest.mark.parametrize("other", [
    [{"name": "Payments", "latency": {"thresholdMs": 90}, "availability": {"failOn": ["4xx", "5xx"]}}],
    [{"name": f"api-{index}", "latency": False if index % 3 else {"thresholdMs": 100 + index}}
     for index in range(300)],
])
def test_the_collector_files_do_not_depend_on_the_apis_or_their_objectives(other: list[dict[str, Any]]) -> None:
    """Adding an API or changing an objective touches only that API's plugin: the collector stays as it is."""
    first, second = aws(), aws(apis=other)
    assert render_collector_config(first) == render_collector_config(second)
    assert render_compose(first) == render_compose(second)
    assert render_cloud_init(first, token_parameter="p", region="eu-west-1") == render_cloud_init(
        second, token_parameter="p", region="eu-west-1")


@pytest.mark.parametrize("version", ["3.0", "3.1", "3.2", "3.4", "3.9", "3.12"])
def test_a_root_span_without_a_status_is_never_a_success(version: str) -> None:
    # Which attribute carries the status per Kong release: tests/fakes/kong_tracing_rules (from Kong's source).
    groups = rendered(aws())["processors"]["transform/slo"]["trace_statements"]
    attribute = kong_tracing_rules.status_attribute(version)
    status = None if attribute is None else 503
    orders = resource_attributes(aws().apis[1])
    outcome = marks(groups, orders, 1, status, attribute or telemetry.STATUS_ATTRIBUTE)["slo.outcome"]
    assert outcome == (telemetry.OUTCOME_UNKNOWN if attribute is None else telemetry.OUTCOME_FAILURE)


def aws(apis: list[dict[str, Any]] | None = None, **collector: Any) -> StackSettings:
    return parse_settings({
        "target": "aws", "collector": {"allowedCidrs": ["10.0.0.0/16"], **collector},
        "kong": {"adminUrl": "http://kong.internal:8001"},
        "dynatrace": {"environmentUrl": DYNATRACE_URL, "apiToken": Secret(TOKEN)},
        "apis": apis or [{"name": "HealthService"}, {"name": "Orders", "latency": {"thresholdMs": 250}}],
    }, project="kong-slo", stack="test", aws_region="eu-west-1")


def test_exporter_sends_to_the_environment_otlp_api_with_the_token_from_the_environment() -> None:
    text = render_collector_config(aws())
    exporter = yaml.safe_load(text)["exporters"][EXPORTER]
    assert exporter["endpoint"] == f"{DYNATRACE_URL}/api/v2/otlp"
    assert exporter["headers"] == {"Authorization": "Api-Token ${env:DT_API_TOKEN}"}
    assert exporter["retry_on_failure"]["enabled"] is True
    assert exporter["sending_queue"] == {"enabled": True, "storage": "file_storage", "sizer": "bytes",
                                         "queue_size": 1024 * 1024 * 1024, "block_on_overflow": False}
    assert yaml.safe_load(text)["extensions"]["file_storage"]["directory"] == QUEUE_DIRECTORY


def test_the_counts_wait_out_any_outage_on_disk_and_are_never_dropped_for_room() -> None:
    document = rendered(aws())
    counts = document["exporters"][COUNTS_EXPORTER]
    assert counts["endpoint"] == document["exporters"][EXPORTER]["endpoint"]
    assert counts["retry_on_failure"]["max_elapsed_time"] == "0s"  # exporterhelper: 0 never stops retrying
    assert counts["sending_queue"] == {"enabled": True, "storage": "file_storage", "sizer": "bytes",
                                       "queue_size": 4096 * 1024 * 1024, "block_on_overflow": True}
    assert document["service"]["pipelines"]["metrics"] == {"receivers": [SPAN_METRICS],
                                                            "exporters": [COUNTS_EXPORTER]}
    for name in ("traces", "logs"):
        assert document["service"]["pipelines"][name]["exporters"] == [EXPORTER]


def test_the_collectors_own_metrics_are_served_for_doctor() -> None:
    (reader,) = rendered(aws())["service"]["telemetry"]["metrics"]["readers"]
    assert reader == {"pull": {"exporter": {"prometheus": {
        "host": "0.0.0.0", "port": 8888, "without_scope_info": True, "without_type_suffix": True,
        "without_units": True}}}}


def test_managed_environment_urls_keep_their_path() -> None:
    settings_ = parse_settings({
        "target": "local", "apis": [{"name": "Orders"}],
        "dynatrace": {"environmentUrl": "https://dynatrace.example.com/e/abc-123", "apiToken": Secret(TOKEN)},
    }, project="kong-slo", stack="test")
    exporter = rendered(settings_)["exporters"][EXPORTER]
    assert exporter["endpoint"] == "https://dynatrace.example.com/e/abc-123/api/v2/otlp"


def test_span_metrics_counts_delta_calls_only_with_the_shared_names() -> None:
    spanmetrics = rendered(aws())["connectors"][SPAN_METRICS]
    assert spanmetrics["namespace"] == telemetry.SPANMETRICS_NAMESPACE
    assert spanmetrics["aggregation_temporality"] == "AGGREGATION_TEMPORALITY_DELTA"
    assert [d["name"] for d in spanmetrics["dimensions"]] == [telemetry.LATENCY_DIMENSION,
                                                              telemetry.OUTCOME_DIMENSION]
    # the connector always adds service.name and rejects it as a duplicate when listed
    assert telemetry.SERVICE_DIMENSION not in [d["name"] for d in spanmetrics["dimensions"]]
    assert spanmetrics["metrics_flush_interval"]
    # no SLO reads the duration histogram; and metrics_expiration has no effect on delta temporality
    assert spanmetrics["histogram"] == {"disable": True}
    assert "metrics_expiration" not in spanmetrics


def test_only_kong_root_server_spans_are_counted() -> None:
    document = rendered(aws())
    (condition,) = document["processors"]["filter/kong_root"]["traces"]["span"]
    # Kong's scope and kind, never its name: 3.0-3.2 name the span "<METHOD> <path>" (instrumentation.lua@3.2.0)
    assert condition == f'instrumentation_scope.name != "{telemetry.KONG_SCOPE}" or kind != SPAN_KIND_SERVER'
    assert document["service"]["pipelines"]["traces/slo"]["processors"] == [
        "memory_limiter", "filter/kong_root", "transform/slo"]


def test_sampler_keeps_the_configured_share() -> None:
    processors = rendered(aws(traceSampling=0.1))["processors"]
    assert processors["probabilistic_sampler"] == {"sampling_percentage": 10}
    assert sampling_percentage(0.07) == "7" and sampling_percentage(0.015) == "1.5"


def test_render_refuses_components_the_dynatrace_distribution_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    without_transform = {**DYNATRACE_COMPONENTS,
                         "processors": DYNATRACE_COMPONENTS["processors"] - {"transform"}}
    monkeypatch.setattr("kong_slo.collector.render.DYNATRACE_COMPONENTS", without_transform)
    with pytest.raises(KongSloError, match=r"processors/transform/slo.*distribution: contrib"):
        render_collector_config(aws())
    render_collector_config(aws(distribution="contrib"))  # contrib ships everything


def test_components_outside_reads_types_not_ids() -> None:
    document = {"connectors": {"count": {}, "spanmetrics/x": {}}, "exporters": {"otlphttp/dynatrace": {}}}
    assert components_outside(document, DYNATRACE_COMPONENTS) == ["connectors/count"]


def test_ottl_strings_escape_quotes_and_backslashes() -> None:
    assert ottl_string('a"b\\c') == '"a\\"b\\\\c"'
