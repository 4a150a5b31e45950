"""The Kong emulator behaves like Kong: if it drifted from Kong, the provider tests would prove nothing."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.kong_admin import FakeKong
from tests.fakes.kong_schema import MODES, traces_key

TRACES = "http://collector:4318/v1/traces"
# The first version mode that knows each field; earlier modes must reject it as an unknown field.
FIRST_MODE = {"queue": "3.4", "header_type": "3.4", "sampling_rate": "3.7", "propagation": "3.7",
              "traces_endpoint": "3.9", "logs_endpoint": "3.9", "sampling_strategy": "3.12"}
SAMPLE = {"queue": {"max_batch_size": 200}, "header_type": "w3c", "sampling_rate": 1.0,
          "propagation": {"default_format": "w3c"}, "traces_endpoint": TRACES, "logs_endpoint": TRACES,
          "sampling_strategy": "parent_probability_fallback"}


def put(kong: FakeKong, body: dict, *, plugin: str | None = None, scope: str = "/services/orders") -> requests.Response:
    return requests.put(f"{kong.url}{scope}/plugins/{plugin or uuid.uuid4()}", json=body, timeout=5)


@pytest.fixture(params=MODES)
def kong(request: pytest.FixtureRequest):
    with FakeKong(request.param) as fake:
        fake.add_service("orders")
        yield fake


@pytest.mark.parametrize("field", sorted(FIRST_MODE))
def test_each_mode_accepts_exactly_its_fields(kong: FakeKong, field: str) -> None:
    scope = "" if kong.version == "3.0" else "/services/orders"
    config = {"endpoint": TRACES, field: SAMPLE[field]}
    answer = put(kong, {"name": "opentelemetry", "config": config}, scope=scope)
    known = MODES.index(kong.version) >= MODES.index(FIRST_MODE[field])
    if known:
        assert answer.status_code == 200, answer.json()
    else:
        assert answer.status_code == 400
        body = answer.json()
        assert body["code"] == 2 and body["name"] == "schema violation"
        assert body["fields"] == {"config": {field: "unknown field"}}
        assert f"config.{field}: unknown field" in body["message"]


def test_defaults_are_filled_and_unset_fields_read_back_null(kong: FakeKong) -> None:
    scope = "" if kong.version == "3.0" else "/services/orders"
    created = put(kong, {"name": "opentelemetry", "config": {traces_key(kong.version): TRACES}}, scope=scope).json()
    config = requests.get(f"{kong.url}/plugins/{created['id']}", timeout=5).json()["config"]
    assert config["connect_timeout"] == 1000 and config["headers"] is None and config["resource_attributes"] is None
    assert created["enabled"] is True and created["protocols"] == ["grpc", "grpcs", "http", "https"]
    if kong.version == "3.0":
        assert config["batch_span_count"] == 200
    else:
        assert config["queue"]["max_batch_size"] == (1 if kong.version == "3.4" else 200)
        assert config["queue"]["max_bytes"] is None
    if kong.version in ("3.9", "3.12"):
        assert "endpoint" not in config and config["logs_endpoint"] is None
    if kong.version == "3.12":
        assert config["sampling_strategy"] == "parent_drop_probability_fallback"


def test_a_partial_queue_resets_max_batch_size_to_one() -> None:
    with FakeKong("3.9") as kong:
        kong.add_service("orders")
        body = {"name": "opentelemetry", "config": {"traces_endpoint": TRACES, "queue": {"max_entries": 5000}}}
        assert put(kong, body).json()["config"]["queue"]["max_batch_size"] == 1


def test_endpoint_is_a_write_only_alias_from_3_9() -> None:
    with FakeKong("3.9") as kong:
        kong.add_service("orders")
        stored = put(kong, {"name": "opentelemetry", "config": {"endpoint": TRACES}}).json()
        assert stored["config"]["traces_endpoint"] == TRACES and "endpoint" not in stored["config"]
        empty = put(kong, {"name": "opentelemetry", "config": {}}, scope="/services/orders").json()
        assert empty["fields"]["config"]["@entity"] == [
            "at least one of these fields must be non-empty: 'traces_endpoint', 'logs_endpoint'"]


def test_propagation_needs_default_format() -> None:
    with FakeKong("3.7") as kong:
        kong.add_service("orders")
        config = {"endpoint": TRACES, "propagation": {"extract": ["w3c"]}}
        answer = put(kong, {"name": "opentelemetry", "config": config})
        assert answer.json()["fields"] == {"config": {"propagation": {"default_format": "required field missing"}}}


def test_3_0_refuses_a_scoped_plugin() -> None:
    with FakeKong("3.0") as kong:
        kong.add_service("orders")
        answer = put(kong, {"name": "opentelemetry", "config": {"endpoint": TRACES}})
        assert answer.status_code == 400 and answer.json()["fields"]["service"] == "value must be null"


def test_uniqueness_per_scope_and_by_instance_name() -> None:
    with FakeKong("3.9") as kong:
        kong.add_service("orders")
        body = {"name": "opentelemetry", "config": {"traces_endpoint": TRACES}}
        first = put(kong, body).json()
        second = put(kong, body)
        assert second.status_code == 409
        assert second.json()["code"] == 5 and second.json()["fields"]["service"] == first["service"]
        named = requests.put(f"{kong.url}/plugins/otel-global", json=body, timeout=5)
        assert named.status_code == 200 and named.json()["instance_name"] == "otel-global"
        assert requests.get(f"{kong.url}/plugins/otel-global", timeout=5).json()["id"] == named.json()["id"]


def test_404_bodies_delete_204_and_patch_deep_merges() -> None:
    with FakeKong("3.9") as kong:
        kong.add_service("orders")
        missing = requests.get(f"{kong.url}/plugins/{uuid.uuid4()}", timeout=5)
        assert missing.status_code == 404 and missing.json() == {"message": "Not found"}
        assert requests.delete(f"{kong.url}/plugins/{uuid.uuid4()}", timeout=5).status_code == 204
        assert requests.get(f"{kong.url}/services/nope/plugins", timeout=5).status_code == 404
        stored = put(kong, {"name": "opentelemetry", "config": {"traces_endpoint": TRACES,
                                                                "queue": {"max_batch_size": 50}}}).json()
        patched = requests.patch(f"{kong.url}/plugins/{stored['id']}", json={"config": {"queue": {"max_entries": 9}}},
                                 timeout=5).json()
        assert patched["config"]["queue"]["max_batch_size"] == 50 and patched["config"]["queue"]["max_entries"] == 9


def test_paging_and_tags() -> None:
    with FakeKong("3.9") as kong:
        for index in range(5):
            kong.add_service(f"svc{index}")
            put(kong, {"name": "opentelemetry", "config": {"traces_endpoint": TRACES},
                       "tags": ["kong-slo", f"n{index % 2}"]}, scope=f"/services/svc{index}")
        seen, url = [], f"{kong.url}/plugins?size=2"
        while url:
            page = requests.get(url, timeout=5).json()
            seen += page["data"]
            url = f"{kong.url}{page['next']}" if page["next"] else None
            assert ("offset" in page) == bool(page["next"])
        assert len(seen) == 5 and len({p["id"] for p in seen}) == 5
        both = requests.get(f"{kong.url}/plugins?tags=kong-slo,n0", timeout=5).json()["data"]
        either = requests.get(f"{kong.url}/plugins?tags=n0/n1", timeout=5).json()["data"]
        assert len(both) == 3 and len(either) == 5
        nested = requests.get(f"{kong.url}/services/svc1/plugins?tags=n0", timeout=5).json()["data"]
        assert len(nested) == 1, "nested endpoints ignore tags"
        assert requests.get(f"{kong.url}/plugins?size=1001", timeout=5).json()["code"] == 9


def test_token_workspaces_and_db_less() -> None:
    with FakeKong("3.12", token="t0k", workspaces=("team-a",)) as kong:
        assert requests.get(f"{kong.url}/plugins", timeout=5).status_code == 401
        headers = {"Kong-Admin-Token": "t0k"}
        assert requests.get(f"{kong.url}/team-a/plugins", headers=headers, timeout=5).status_code == 200
        assert requests.get(f"{kong.url}/team-b/plugins", headers=headers, timeout=5).status_code == 404
        assert requests.get(f"{kong.url}/", headers=headers, timeout=5).json()["edition"] == "enterprise"
    with FakeKong("3.9", db_less=True) as kong:
        answer = requests.put(f"{kong.url}/plugins/{uuid.uuid4()}", json={"name": "opentelemetry"}, timeout=5)
        assert answer.status_code == 405 and answer.json()["code"] == 12
        assert requests.get(f"{kong.url}/", timeout=5).json()["configuration"]["database"] == "off"


def test_faults_fire_once_and_are_counted() -> None:
    with FakeKong("3.9") as kong:
        kong.fail_next("429", method="GET", retry_after="7")
        limited = requests.get(f"{kong.url}/plugins", timeout=5)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
        kong.fail_next("503")
        assert requests.get(f"{kong.url}/plugins", timeout=5).status_code == 503
        kong.fail_next("drop")
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{kong.url}/plugins", timeout=5)
        kong.add_service("orders")
        kong.fail_next("drop_after", method="PUT")
        with pytest.raises(requests.ConnectionError):
            put(kong, {"name": "opentelemetry", "config": {"traces_endpoint": TRACES}})
        assert len(kong.plugins()) == 1, "the write was applied before the connection dropped"
        kong.fail_next("slow", delay=0.5)
        with pytest.raises(requests.Timeout):
            requests.get(f"{kong.url}/plugins", timeout=0.1)
        assert requests.get(f"{kong.url}/plugins", timeout=5).status_code == 200
        assert kong.calls["GET"] == 5 and kong.calls["PUT"] == 1


def test_the_fault_proxy_forwards_to_kong_and_injects_the_same_faults() -> None:
    with FakeKong("3.9") as kong, FaultProxy(kong.url) as proxy:
        kong.add_service("orders")
        proxy.fail_next("429", method="GET", retry_after="3")
        limited = requests.get(f"{proxy.url}/plugins", timeout=5)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        assert kong.calls["GET"] == 0, "an injected refusal never reaches Kong"
        proxy.fail_next("drop_after", method="PUT")
        with pytest.raises(requests.ConnectionError):
            requests.put(f"{proxy.url}/services/orders/plugins/{uuid.uuid4()}",
                         json={"name": "opentelemetry", "config": {"traces_endpoint": TRACES}}, timeout=5)
        assert len(kong.plugins()) == 1, "the write reached Kong before the reply was withheld"
        listed = requests.get(f"{proxy.url}/plugins", timeout=5)
        assert listed.status_code == 200 and len(listed.json()["data"]) == 1
        assert proxy.calls == {"GET": 2, "PUT": 1}
        with pytest.raises(ValueError, match="fault 'teapot'"):
            proxy.fail_next("teapot")
