"""The platform SLO lifecycle against a real Latest Dynatrace tenant: ``DT_PLATFORM_URL``
(``https://<id>.apps.dynatrace.com``) and ``DT_PLATFORM_TOKEN`` (or ``DT_CLIENT_ID``/``DT_CLIENT_SECRET``/
``DT_ACCOUNT_URN`` of an OAuth client) with slo:slos:read, slo:slos:write and storage:metrics:read.

The SLO is a throwaway with a unique externalId, removed even when a step fails.
"""

from __future__ import annotations

import os

import pytest

from kong_slo.dynatrace.platform.client import PlatformClient
from kong_slo.dynatrace.platform.credentials import PLATFORM_TOKEN_ENV, resolve_credentials
from kong_slo.dynatrace.platform.definitions import sli_query
from kong_slo.dynatrace.platform.slo import PlatformServiceLevelObjectiveProvider
from kong_slo.http import RetryPolicy
from tests.live.conftest import require_env


def test_platform_slo_lifecycle(run_id):
    url = require_env("DT_PLATFORM_URL")["DT_PLATFORM_URL"]
    if not os.environ.get(PLATFORM_TOKEN_ENV) and not os.environ.get("DT_CLIENT_ID"):
        pytest.skip(f"set {PLATFORM_TOKEN_ENV} (or DT_CLIENT_ID, DT_CLIENT_SECRET, DT_ACCOUNT_URN) to run this test")
    payload = {"name": f"kong-slo live test {run_id}", "description": "kong-slo live test; safe to delete",
               "customSli": {"indicator": sli_query("kong-slo-live-test", "availability")},
               "criteria": [{"timeframeFrom": "now-1h", "timeframeTo": "now", "target": 95.0, "warning": 97.5}],
               "tags": ["kong-slo-stack:live-test"], "externalId": f"kong_slo_live_test_{run_id}"}
    provider = PlatformServiceLevelObjectiveProvider()  # credentials from the environment
    props = provider.check({}, {"payload": payload, "platform_url": url}).inputs
    try:
        created = provider.create(props)
        again = provider.create(props)  # a re-run with lost state adopts by externalId, never duplicates
        assert again.id == created.id and again.outs["adopted"] is True
        read = provider.read(created.id, created.outs)
        assert provider.diff(created.id, read.outs, props).changes is False
        news = {**props, "payload": {**payload, "criteria": [{**payload["criteria"][0], "target": 96.0}]}}
        updated = provider.update(created.id, read.outs, news)
        assert provider.read(created.id, updated.outs).outs["payload"]["criteria"][0]["target"] == pytest.approx(96.0)
        provider.delete(created.id, updated.outs)
        provider.delete(created.id, updated.outs)  # already gone: still fine
    finally:
        policy = RetryPolicy()
        with PlatformClient(url, resolve_credentials(None).bearer(policy), policy=policy) as client:
            leftover = client.find_by_external_id(payload["externalId"])
            if leftover is not None:
                client.delete_platform_slo(leftover["id"], leftover["version"])
            assert client.find_by_external_id(payload["externalId"]) is None
