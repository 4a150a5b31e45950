"""The SLO flavour and the platform credentials: defaults, derived hosts, and every combination refused."""

from __future__ import annotations

from typing import Any

import pytest

from kong_slo.errors import SettingsError
from kong_slo.secrets import Secret
from kong_slo.settings.model import SSO_TOKEN_URL
from tests.unit.settings_helpers import TOKEN, aws_config, parse

PLATFORM_TOKEN = "dt0s16.SENTINELPUBLIC.SENTINELPLATFORMSECRET"
CLIENT_SECRET = "dt0s02.SENTINELPUBLIC.SENTINELCLIENTSECRET"
ACCOUNT = "urn:dtaccount:12345678-abcd-4ef0-9abc-1234567890ab"


def dynatrace(**keys: Any) -> dict[str, Any]:
    return aws_config(dynatrace={"environmentUrl": "https://abc12345.apps.dynatrace.com", "apiToken": Secret(TOKEN),
                                 **keys})


def oauth(**keys: Any) -> dict[str, Any]:
    return {"clientId": "dt0s02.SENTINELPUBLIC", "clientSecret": Secret(CLIENT_SECRET), "accountUrn": ACCOUNT, **keys}


def problems_of(config: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        parse(config)
    return list(raised.value.problems)


def test_an_apps_url_means_platform_and_otlp_goes_to_the_live_host() -> None:
    settings = parse(dynatrace(platformToken=Secret(PLATFORM_TOKEN)))
    assert settings.dynatrace is not None
    assert settings.dynatrace.flavour == "platform"
    assert settings.dynatrace.environment_url == "https://abc12345.live.dynatrace.com"
    assert settings.dynatrace.platform is not None
    assert settings.dynatrace.platform.url == "https://abc12345.apps.dynatrace.com"
    assert settings.dynatrace.platform.token == Secret(PLATFORM_TOKEN)
    assert settings.dynatrace.platform.oauth is None


def test_a_live_url_stays_classic_and_platform_can_be_chosen_on_it() -> None:
    classic = parse(aws_config())
    assert classic.dynatrace is not None and classic.dynatrace.flavour == "classic"
    assert classic.dynatrace.platform is None
    chosen = parse(dynatrace(environmentUrl="https://abc12345.live.dynatrace.com", flavour="platform",
                             platformToken=Secret(PLATFORM_TOKEN)))
    assert chosen.dynatrace is not None and chosen.dynatrace.platform is not None
    assert chosen.dynatrace.platform.url == "https://abc12345.apps.dynatrace.com"


def test_classic_can_be_kept_on_an_apps_url() -> None:
    settings = parse(dynatrace(flavour="classic"))
    assert settings.dynatrace is not None and settings.dynatrace.flavour == "classic"
    assert settings.dynatrace.environment_url == "https://abc12345.live.dynatrace.com"


def test_oauth_client_with_the_default_sso_token_url() -> None:
    settings = parse(dynatrace(oauth=oauth()))
    assert settings.dynatrace is not None and settings.dynatrace.platform is not None
    client = settings.dynatrace.platform.oauth
    assert client is not None
    assert (client.client_id, client.account_urn, client.token_url) == ("dt0s02.SENTINELPUBLIC", ACCOUNT,
                                                                         SSO_TOKEN_URL)
    assert client.client_secret.reveal() == CLIENT_SECRET


@pytest.mark.parametrize(("keys", "expected"), [
    ({}, "kong-slo:dynatrace.platformToken: or kong-slo:dynatrace.oauth is required for flavour platform "
         "(the default for an apps URL)"),
    ({"platformToken": Secret(PLATFORM_TOKEN), "oauth": oauth()}, "kong-slo:dynatrace.platformToken: set either"),
    ({"platformToken": Secret("dt0c01.NOT.PLATFORM")}, "kong-slo:dynatrace.platformToken: is not a Dynatrace "
                                                       "platform token"),
    ({"platformToken": PLATFORM_TOKEN}, "kong-slo:dynatrace.platformToken: is stored in plain text"),
    ({"flavour": "grail"}, "kong-slo:dynatrace.flavour: 'grail' is not one of classic, platform"),
    ({"flavour": "classic", "platformToken": Secret(PLATFORM_TOKEN)},
     "kong-slo:dynatrace.platformToken: is used only with flavour platform"),
    ({"oauth": oauth(clientSecret=CLIENT_SECRET)}, "kong-slo:dynatrace.oauth.clientSecret: is stored in plain text"),
    ({"oauth": oauth(clientId="someone")}, "kong-slo:dynatrace.oauth.clientId: 'someone' is not an OAuth client id"),
    ({"oauth": oauth(accountUrn="12345")}, "kong-slo:dynatrace.oauth.accountUrn: '12345' is not an account URN"),
    ({"oauth": oauth(tokenUrl="http://sso.example.com/token")}, "kong-slo:dynatrace.oauth.tokenUrl:"),
    ({"oauth": {"clientId": "dt0s02.X", "accountUrn": ACCOUNT}}, "kong-slo:dynatrace.oauth.clientSecret: is required"),
    ({"oauth": oauth(scope="x")}, "kong-slo:dynatrace.oauth.scope: unknown key"),
    ({"platformToken": Secret(PLATFORM_TOKEN), "sliSource": "service"},
     "kong-slo:dynatrace.sliSource: 'service' works with classic SLOs only"),
    ({"platformToken": Secret(PLATFORM_TOKEN), "detectorActor": "me"},
     "kong-slo:dynatrace.detectorActor: 'me' is not a service user's id"),
    ({"platformToken": Secret(PLATFORM_TOKEN), "detectorActor": "12345678-abcd-4ef0-9abc-1234567890ab"},
     "kong-slo:dynatrace.detectorActor: is used only for burn-rate detectors"),
    ({"flavour": "classic", "detectorActor": "12345678-abcd-4ef0-9abc-1234567890ab"},
     "kong-slo:dynatrace.detectorActor: is used only with flavour platform"),
    ({"environmentUrl": "https://dt.example.com/e/abc-123", "flavour": "platform",
      "platformToken": Secret(PLATFORM_TOKEN)}, "kong-slo:dynatrace.flavour: platform SLOs need a SaaS environment"),
])
def test_each_combination_that_cannot_work_is_refused_with_its_reason(keys: dict[str, Any], expected: str) -> None:
    problems = problems_of(dynatrace(**keys))
    assert any(line.startswith(expected) or expected in line for line in problems), problems


def test_no_secret_reaches_a_problem_message() -> None:
    problems = problems_of(dynatrace(platformToken=PLATFORM_TOKEN, oauth=oauth(clientSecret=CLIENT_SECRET)))
    assert all(PLATFORM_TOKEN not in line and CLIENT_SECRET not in line for line in problems)


def test_a_stack_file_keeps_platform_secrets_encrypted(tmp_path) -> None:
    from kong_slo.settings.source import load_stack_file

    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(
        "config:\n  aws:region: eu-west-1\n  kong-slo:target: aws\n"
        "  kong-slo:collector: {allowedCidrs: [10.0.0.0/16]}\n  kong-slo:kong: {adminUrl: 'http://k:8001'}\n"
        "  kong-slo:apis: [{name: Orders}]\n  kong-slo:dynatrace:\n"
        "    environmentUrl: https://abc12345.apps.dynatrace.com\n    apiToken: {secure: AAA}\n"
        f"    oauth: {{clientId: dt0s02.PUBLIC, accountUrn: '{ACCOUNT}', clientSecret: {{secure: BBB}}}}\n",
        encoding="utf-8")
    settings = load_stack_file(path)
    assert settings.dynatrace is not None and settings.dynatrace.platform is not None
    assert settings.dynatrace.platform.oauth is not None
    assert settings.dynatrace.platform.oauth.client_secret.known is False


def test_a_detector_actor_with_alerting():
    actor = "12345678-abcd-4ef0-9abc-1234567890ab"
    settings = parse(dynatrace(platformToken=Secret(PLATFORM_TOKEN), detectorActor=actor,
                               alerting={"emails": ["sre@example.com"]}))
    assert settings.dynatrace is not None and settings.dynatrace.platform is not None
    assert settings.dynatrace.platform.detector_actor == actor


def test_platform_credentials_do_not_replace_the_ingest_token() -> None:
    config = dynatrace(platformToken=Secret(PLATFORM_TOKEN))
    del config["dynatrace"]["apiToken"]
    assert any(line.startswith("kong-slo:dynatrace.apiToken: is required") and "OTLP ingest" in line
               for line in problems_of(config))
