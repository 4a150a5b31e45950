"""Target external: the team's own collector; kong-slo needs Kong's Admin API and where Kong sends OTLP."""

from __future__ import annotations

import pytest

from kong_slo.errors import SettingsError
from kong_slo.secrets import Secret
from tests.unit.settings_helpers import TOKEN, parse


def external(**kong: object) -> dict:
    return {"target": "external", "kong": kong, "apis": [{"name": "Orders"}],
            "dynatrace": {"environmentUrl": "https://abc12345.live.dynatrace.com", "apiToken": Secret(TOKEN)}}


def test_external_needs_the_admin_api_and_the_collector_address() -> None:
    with pytest.raises(SettingsError) as error:
        parse(external(), region=None)
    message = str(error.value)
    assert "kong-slo:kong.adminUrl: is required for target external" in message
    assert "kong-slo:kong.collectorUrl: is required for target external" in message


def test_an_invalid_collector_url_is_reported_once() -> None:
    with pytest.raises(SettingsError) as error:
        parse(external(adminUrl="http://kong.internal:8001", collectorUrl="otel:4318"), region=None)
    assert str(error.value).count("kong.collectorUrl") == 1


def test_external_needs_no_aws_region_nor_allow_list() -> None:
    settings = parse(external(adminUrl="http://kong.internal:8001", collectorUrl="http://otel.internal:4318"),
                     region=None)
    assert settings.target == "external"
    assert settings.kong.collector_url == "http://otel.internal:4318"


@pytest.mark.parametrize("url", ["http://127.0.0.1:18080", "http://localhost:9999", "http://[::1]:8443"])
def test_a_loopback_dynatrace_url_is_accepted_for_tunnels_and_tests(url: str) -> None:
    config = external(adminUrl="http://127.0.0.1:8001", collectorUrl="http://127.0.0.1:4318")
    config["dynatrace"]["environmentUrl"] = url
    assert parse(config, region=None).dynatrace.environment_url == url


@pytest.mark.parametrize("url", ["http://abc12345.live.dynatrace.com", "http://10.0.0.5:8080/e/abc"])
def test_every_other_plain_http_dynatrace_url_stays_refused(url: str) -> None:
    config = external(adminUrl="http://127.0.0.1:8001", collectorUrl="http://127.0.0.1:4318")
    config["dynatrace"]["environmentUrl"] = url
    with pytest.raises(SettingsError, match="must use https"):
        parse(config, region=None)
