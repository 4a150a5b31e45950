"""A DB-less Kong (the emulator, ``database = off``) loads the rendered DB-less file through ``POST /config`` once
its plugins sit in the configuration that defines the services, refuses the decK file, and doctor then finds each
API's plugin; before that, doctor's advice names the DB-less file."""

from __future__ import annotations

import requests
import yaml

from kong_slo.commands.artifacts import collector_url_for_kong, kong_db_less_file, kong_deck_file
from kong_slo.doctor.kong_node import check_kong
from kong_slo.doctor.plugins import check_plugins, wanted_for
from kong_slo.kong.admin import KongAdmin
from kong_slo.kong.declarative import FILE_NAME
from kong_slo.kong.payload import otlp_urls
from tests.fakes.kong_admin import FakeKong
from tests.unit.settings_helpers import aws_config, parse

SERVICES = {"_format_version": "3.0", "services": [
    {"name": "HealthService", "url": "http://health.internal:8080"},
    {"name": "Orders", "url": "http://orders.internal:8080", "routes": [{"name": "orders-v2", "paths": ["/v2"]}]}]}


def test_a_db_less_kong_loads_the_db_less_file_and_refuses_the_deck_file() -> None:
    settings = parse(aws_config(apis=[{"name": "HealthService"}, {"name": "Orders", "route": "orders-v2"}]))
    traces = otlp_urls(collector_url_for_kong(settings)).traces
    with FakeKong("3.9", db_less=True) as kong, KongAdmin(kong.url) as admin:
        checks, facts = check_kong(admin, settings)
        assert facts.db_less and "DB-less" in checks[0].detail
        assert requests.post(f"{kong.url}/config", json=SERVICES, timeout=5).status_code == 201
        before = check_plugins(admin, settings, wanted_for(settings, traces, facts.version, db_less=True)).checks
        missing = [check for check in before if check.name == "plugins.HealthService.plugin"]
        assert missing and FILE_NAME in missing[0].fix and "decK does not manage" in missing[0].fix

        deck = yaml.safe_load(kong_deck_file(settings))
        refused = requests.post(f"{kong.url}/config", json={**SERVICES, **deck}, timeout=5)
        assert refused.status_code == 400 and refused.json()["code"] == 14
        assert "_info: unknown field" in refused.json()["message"]

        plugins = yaml.safe_load(kong_db_less_file(settings))["plugins"]
        loaded = requests.post(f"{kong.url}/config", json={**SERVICES, "plugins": plugins}, timeout=5)
        assert loaded.status_code == 201, loaded.text
        after = check_plugins(admin, settings, wanted_for(settings, traces, facts.version, db_less=True)).checks
        assert [check.name for check in after if check.state != "ok"] == []


def test_a_database_backed_kong_has_no_config_endpoint() -> None:
    with FakeKong("3.9") as kong:
        answer = requests.post(f"{kong.url}/config", json=SERVICES, timeout=5)
        assert answer.status_code == 400 and "not use a database" in answer.json()["message"]
