"""The Admin API client: URLs, paging, retries, and errors that quote Kong but never the token."""

from __future__ import annotations

import uuid

import pytest

from kong_slo.http import ApiError
from kong_slo.kong import admin
from kong_slo.kong.admin import KongAdmin, KongAdminError
from kong_slo.settings.model import KongVersion
from tests.fakes.kong_admin import FakeKong
from tests.providers.kong_helpers import TOKEN, Sleeps, fast_policy

BODY = {"name": "opentelemetry", "config": {"traces_endpoint": "http://c:4318/v1/traces"}}


def test_urls_keep_any_base_path_and_prefix_the_workspace() -> None:
    client = KongAdmin("https://gateway.example.com/kong-admin/", workspace="team a")
    assert client._url("/plugins") == "https://gateway.example.com/kong-admin/team%20a/plugins"
    assert client._url("/", workspace=False) == "https://gateway.example.com/kong-admin/"
    assert KongAdmin("http://127.0.0.1:8001")._url("/plugins/x") == "http://127.0.0.1:8001/plugins/x"


def test_the_default_workspace_needs_no_prefix_so_oss_kong_accepts_it() -> None:
    # OSS Kong has no workspace routes: `/default/plugins` would be a 404 there. On Enterprise no prefix
    # means the default workspace.
    assert KongAdmin("http://127.0.0.1:8001", workspace="default")._url("/plugins") == "http://127.0.0.1:8001/plugins"
    with FakeKong("3.9") as kong, KongAdmin(kong.url, workspace="default", policy=fast_policy()) as client:
        kong.add_service("orders")
        plugin_id = str(uuid.uuid4())
        client.put_plugin("service", "orders", plugin_id, BODY)
        assert [plugin["id"] for plugin in client.scope_plugins("service", "orders")] == [plugin_id]
        assert client.get_plugin(plugin_id) is not None


def test_credentials_in_the_admin_url_never_reach_a_message() -> None:
    with FakeKong("3.9") as kong:
        url = kong.url.replace("http://", "http://admin:s3cret-pw@")
        with KongAdmin(url, policy=fast_policy()) as client:
            with pytest.raises(KongAdminError) as raised:
                client.scope_plugins("service", "missing")
            assert "s3cret-pw" not in str(raised.value) and "s3cret-pw" not in repr(client)
            kong.fail_next("drop", times=10)
            with pytest.raises(ApiError) as gave_up:
                client.plugins()
            assert "s3cret-pw" not in str(gave_up.value)


def test_the_session_lives_only_inside_the_with_block() -> None:
    client = KongAdmin("http://127.0.0.1:9", token=TOKEN)
    with pytest.raises(RuntimeError, match="context manager"):
        client.node_info()
    with client:
        assert client._session is not None and client._session.headers["Kong-Admin-Token"] == TOKEN
    assert client._session is None
    assert TOKEN not in repr(client)


def test_version_detection() -> None:
    with FakeKong("3.12") as kong, KongAdmin(kong.url, policy=fast_policy()) as client:
        assert client.version() == KongVersion(3, 12)


def test_paging_follows_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "PAGE_SIZE", 2)
    with FakeKong("3.9") as kong, KongAdmin(kong.url, policy=fast_policy()) as client:
        for index in range(5):
            kong.add_service(f"svc{index}")
            client.put_plugin("service", f"svc{index}", str(uuid.uuid4()),
                              {**BODY, "tags": ["kong-slo"] if index < 3 else ["other"]})
        kong.reset_counts()
        assert len(client.plugins()) == 5
        assert kong.calls["GET"] == 3
        assert len(client.plugins(tags=["kong-slo"])) == 3


def test_schema_errors_quote_message_and_fields() -> None:
    with FakeKong("3.7") as kong, KongAdmin(kong.url, policy=fast_policy()) as client:
        kong.add_service("orders")
        with pytest.raises(KongAdminError) as raised:
            client.put_plugin("service", "orders", str(uuid.uuid4()), BODY)
        error = raised.value
        assert error.status == 400 and error.code == 2
        assert "config.traces_endpoint: unknown field" in str(error)
        assert '"traces_endpoint": "unknown field"' in str(error)
        assert "PUT http://127.0.0.1" in str(error)


def test_unauthorised_requests_say_how_to_set_the_token_without_showing_one() -> None:
    with FakeKong("3.9", token=TOKEN) as kong:
        with KongAdmin(kong.url, token="wrong-token", policy=fast_policy()) as client, \
                pytest.raises(KongAdminError, match=r"kong\.adminToken") as raised:
            client.plugins()
        assert "wrong-token" not in str(raised.value)
        with KongAdmin(kong.url, token=TOKEN, policy=fast_policy()) as client:
            assert client.plugins() == []


def test_a_slow_reply_times_out_and_is_retried() -> None:
    sleeps = Sleeps()
    with FakeKong("3.9") as kong, KongAdmin(kong.url, policy=fast_policy(sleeps, timeout=0.2)) as client:
        kong.fail_next("slow", method="GET", delay=0.5)
        assert client.plugins() == []
        assert kong.calls["GET"] == 2 and len(sleeps) == 1


def test_giving_up_names_the_request() -> None:
    with FakeKong("3.9") as kong, KongAdmin(kong.url, token=TOKEN, policy=fast_policy()) as client:
        kong.fail_next("drop", times=10)
        gave_up = r"GET http://127\.0\.0\.1:\d+/plugins: no answer after 5 attempts"
        with pytest.raises(ApiError, match=gave_up) as raised:
            client.plugins()
        assert TOKEN not in str(raised.value)


def test_503_exhausted_reports_kong_status() -> None:
    with FakeKong("3.9") as kong, KongAdmin(kong.url, policy=fast_policy()) as client:
        kong.fail_next("503", times=10)
        with pytest.raises(KongAdminError, match="Kong answered 503") as raised:
            client.get_plugin(str(uuid.uuid4()))
        assert raised.value.status == 503 and kong.calls["GET"] == 5


def test_waits_for_kong_to_answer_after_a_restart() -> None:
    # Kong restarting after the kong.conf patch: the first calls find nothing listening, or a 503.
    with FakeKong("3.9") as kong:
        sleeps = Sleeps()
        kong.fail_next("503", path="/", times=7)  # more than one call's own retries
        with KongAdmin(kong.url, policy=fast_policy(sleeps)) as admin:
            assert admin.wait_until_answering()["version"] == "3.9.1"
    with KongAdmin("http://127.0.0.1:9", policy=fast_policy(Sleeps())) as admin, \
            pytest.raises(KongAdminError, match=r"did not answer within 4 s"):
        admin.wait_until_answering(4)
