"""Counts stay complete: the plugin body, run through Kong's own rules (``tests/fakes/kong_tracing_rules``,
written from Kong's source), exports the spans of requests a caller did not sample."""

from __future__ import annotations

import pytest
import requests

from kong_slo.kong.payload import managed_view, plugin_payload
from kong_slo.kong.release_facts import (
    ignore_incoming_context,
    reads_incoming_context,
    root_status_attribute,
)
from kong_slo.settings.model import Api, KongVersion
from tests.fakes import kong_tracing_rules as kong
from tests.fakes.kong_admin import FakeKong
from tests.fakes.kong_schema import MODES

ORDERS = Api(name="Orders", route=None, latency=None, availability=None, sampling_rate=None)
UNSAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
SAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
RELEASES = ("3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12")


def config(version: str, context: str) -> dict:
    return plugin_payload(ORDERS, stack="dev", traces_url="http://c:4318/v1/traces", logs_url=None,
                          sampling_rate=None, version=KongVersion.parse(version), incoming_context=context)["config"]


@pytest.mark.parametrize("version", [v for v in RELEASES if KongVersion.parse(v) >= KongVersion(3, 3)])
def test_ignoring_the_incoming_context_counts_unsampled_requests(version: str) -> None:
    assert kong.exports_spans(version, config(version, "ignore"), UNSAMPLED) is True
    assert kong.exports_spans(version, config(version, "honour"), UNSAMPLED) is False
    assert kong.exports_spans(version, config(version, "honour"), SAMPLED) is True
    assert reads_incoming_context(config(version, "ignore")) is False
    assert reads_incoming_context(config(version, "honour")) is True


def test_before_3_3_nothing_can_be_ignored() -> None:
    with pytest.raises(ValueError, match=r"header_type needs Kong 3\.3"):
        ignore_incoming_context(KongVersion(3, 2))
    assert kong.exports_spans("3.2", {"header_type": "ignore"}, UNSAMPLED) is False


@pytest.mark.parametrize("version", RELEASES)
def test_status_attribute_agrees_with_kongs_rule(version: str) -> None:
    assert root_status_attribute(KongVersion.parse(version)) == kong.status_attribute(version)


@pytest.mark.parametrize("mode", [m for m in MODES if m != "3.0"])
def test_kongs_read_back_keeps_the_choice(mode: str) -> None:
    # Reads come back expanded (header_type "preserve", propagation with nulls): the view must not see drift.
    version = KongVersion.parse(mode)
    with FakeKong(mode) as fake:
        fake.add_service("orders")
        for context in ("ignore", "honour"):
            body = plugin_payload(ORDERS, stack="dev", traces_url="http://c:4318/v1/traces", logs_url=None,
                                  sampling_rate=None, version=version, incoming_context=context)
            answer = requests.put(f"{fake.url}/services/orders/plugins/{'0' * 8}-0000-4000-8000-{'0' * 12}",
                                  json=body, timeout=5)
            assert answer.status_code == 200, answer.json()
            read = answer.json()
            assert managed_view(read)["reads_incoming_context"] is (context == "honour")
            assert kong.exports_spans(mode, read["config"], UNSAMPLED) is (context == "ignore")


# -- the rules themselves, each from Kong's source -----------------------------------------------------------


def test_w3c_traceparent_parsing_follows_the_extractor() -> None:
    # kong/tracing/propagation/extractors/w3c.lua: version 00, non-zero ids, sampled = flags & 1.
    assert kong.parent_sampled(SAMPLED) is True and kong.parent_sampled(UNSAMPLED) is False
    assert kong.parent_sampled(SAMPLED[:-2] + "03") is True
    assert kong.parent_sampled("00-" + "0" * 32 + "-00f067aa0ba902b7-00") is None
    assert kong.parent_sampled("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00") is None
    assert kong.parent_sampled(None) is None


def test_a_parents_no_wins_over_the_rate() -> None:
    # kong/pdk/tracing.lua get_sampling_decision: parent_should_sample == false decides first.
    assert kong.exports_spans("3.9", {"sampling_rate": 1.0}, UNSAMPLED) is False
    assert kong.exports_spans("3.9", {"sampling_rate": 0.0}, SAMPLED) is False
    assert kong.exports_spans("3.4", {}, None) is True


def test_propagation_supersedes_header_type_only_when_extract_inject_or_clear_is_set() -> None:
    # kong/tracing/propagation/init.lua get_plugin_params.
    legacy_ignore = {"header_type": "ignore", "propagation": {"default_format": "w3c"}}
    assert kong.extracts_w3c("3.7", legacy_ignore) is False
    assert kong.extracts_w3c("3.7", {**legacy_ignore, "propagation": {"default_format": "w3c",
                                                                      "inject": ["w3c"]}}) is False
    assert kong.extracts_w3c("3.7", {"header_type": "ignore",
                                     "propagation": {"default_format": "w3c", "extract": ["b3", "w3c"]}}) is True
    assert kong.extracts_w3c("3.7", {"header_type": "preserve", "propagation": {"default_format": "w3c"}}) is True
    assert kong.extracts_w3c("3.5", {"header_type": "ignore", "propagation": {"extract": ["w3c"]}}) is False
    assert kong.status_attribute("3.0") is None and kong.status_attribute("3.2") == "http.status_code"
