"""Pieces of the Dynatrace client and credentials that need no server."""

from __future__ import annotations

import json

import pytest
import requests
from pulumi.runtime import rpc

from kong_slo.dynatrace.client import DynatraceError, api_base, error_message, rate_limit_wait
from kong_slo.dynatrace.credentials import MissingToken, resolve_token, token_from_config


def response(status: int = 429, headers: dict | None = None, body: object = None) -> requests.Response:
    reply = requests.Response()
    reply.status_code = status
    reply.headers.update(headers or {})
    reply._content = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return reply


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "12"}, 12.0),
    ({"Retry-After": "3", "X-RateLimit-Reset": "1700000030"}, 3.0),
    ({"X-RateLimit-Reset": "1700000030"}, 30.0),                     # seconds since the epoch
    ({"X-RateLimit-Reset": "1700000030000000"}, 30.0),               # microseconds since the epoch
    ({"X-RateLimit-Reset": "1699999990"}, 0.0),                      # already past
    ({"X-RateLimit-Reset": "soon"}, None),
    ({}, None),
])
def test_rate_limit_wait(headers, expected):
    assert rate_limit_wait(response(headers=headers), now=1_700_000_000.0) == expected


@pytest.mark.parametrize(("url", "base"), [
    ("https://abc12345.live.dynatrace.com", "https://abc12345.live.dynatrace.com/api/v2"),
    ("https://abc12345.live.dynatrace.com/", "https://abc12345.live.dynatrace.com/api/v2"),
    ("https://dt.example.com/e/1234-abcd", "https://dt.example.com/e/1234-abcd/api/v2"),
    ("https://ag.internal:9999/e/env1/api/v2", "https://ag.internal:9999/e/env1/api/v2"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v2"),
])
def test_api_base_accepts_any_environment_url(url, base):
    assert api_base(url) == base


@pytest.mark.parametrize("url", ["https://abc12345.apps.dynatrace.com", "abc12345.live.dynatrace.com", "",
                                 "http://abc12345.live.dynatrace.com", "http://activegate.internal:9999/e/env1",
                                 "https://abc12345.live.dynatrace.com/ui/apps/x", "https://abc.live.dynatrace.com?a=1",
                                 "https://abc.live.dynatrace.com#top", "https://abc.live.dynatrace.com:99999",
                                 "https://abc.live.dynatrace.com:0", "https://abc.live.dynatrace.com:http",
                                 "https://user:pass@abc.live.dynatrace.com"])
def test_api_base_refuses_what_cannot_serve_the_api(url):
    with pytest.raises(DynatraceError):
        api_base(url)


def test_error_message_lists_constraint_violations():
    body = {"error": {"code": 400, "message": "2 constraint violations", "constraintViolations": [
        {"path": "warning", "message": "must be greater than target"},
        {"path": "metricName", "message": "is invalid"}]}}
    assert error_message(response(400, body=body), "create SLO 'x'") == (
        "create SLO 'x': HTTP 400: 2 constraint violations (warning: must be greater than target; "
        "metricName: is invalid)")


def test_error_message_handles_null_violations_and_html():
    assert error_message(response(429, body={"code": 429, "message": "Too many requests.",
                                             "constraintViolations": None}), "list") == (
        "list: HTTP 429: Too many requests.")
    assert error_message(response(400, body=b"<html><title>HTTP Status 400</title><h1>Bad</h1></html>"), "x") == (
        'x: HTTP 400 with an HTML page ("HTTP Status 400")')


class FakeConfig:
    def __init__(self, values: dict) -> None:
        self.values = values

    def get(self, key: str):
        return self.values.get(key)


@pytest.mark.parametrize("raw", [
    json.dumps({"apiToken": "dt0c01.A.B", "environmentUrl": "https://x.live.dynatrace.com"}),
    {"apiToken": "dt0c01.A.B"},
    {"apiToken": {rpc._special_sig_key: rpc._special_secret_sig, "value": "dt0c01.A.B"}},
])
def test_token_from_config_shapes(raw):
    assert token_from_config(FakeConfig({"kong-slo:dynatrace": raw})) == "dt0c01.A.B"


def test_missing_token_names_both_places(monkeypatch):
    monkeypatch.delenv("DT_API_TOKEN", raising=False)
    assert token_from_config(FakeConfig({})) is None
    with pytest.raises(MissingToken, match=r"kong-slo:dynatrace\.apiToken.*DT_API_TOKEN"):
        resolve_token(None)


def test_credentials_in_an_environment_url_never_reach_the_error():
    with pytest.raises(DynatraceError) as error:
        api_base("http://someone:SECRETPASSWORD@remote.example.com")
    assert "SECRETPASSWORD" not in str(error.value) and "credentials" in str(error.value)
