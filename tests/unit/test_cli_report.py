"""``kong-slo report`` on the edges: Dynatrace unreachable (exit 3, one line, no traceback), an empty environment
and SLOs without traffic (a clear page), ``--json`` with the same data, series from counts."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from kong_slo.cli import main
from kong_slo.dynatrace.credentials import TOKEN_ENV
from kong_slo.dynatrace.report_reads import fired_alerts
from kong_slo.objectives.report_model import series_from_counts
from kong_slo.objectives.sli import slo_definitions, slo_payload
from kong_slo.settings import load_stack_file
from tests.fakes.dynatrace import FakeDynatrace
from tests.fakes.dynatrace_problems import TEXT
from tests.unit.stack_files import write_aws_stack


def args(stack_file: Path, url: str) -> list[str]:
    return ["report", "--config-file", str(stack_file), "--environment-url", url]


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    return write_aws_stack(tmp_path, "dev", apis=[{"name": "Orders"}])


def test_unreachable_dynatrace_is_exit_3_without_traceback(stack_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(TOKEN_ENV, "dt0c01.X.Y")
    code = main(["report", "--config-file", str(stack_file), "--environment-url", "http://127.0.0.1:9",
                 "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 3 and "cannot reach Dynatrace at http://127.0.0.1:9" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_a_refused_token_is_bad_input_and_never_printed(stack_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(TOKEN_ENV, "dt0c01.WRONG.WRONGSECRETVALUE")
    with FakeDynatrace("dt0c01.RIGHT.RIGHTSECRETVALUE", read_lag=0) as fake:
        code = main([*args(stack_file, fake.url), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and "401" in err and "WRONGSECRETVALUE" not in err
    assert not (tmp_path / "r.html").exists()


def test_json_of_an_unexpected_shape_is_exit_3_in_one_line(stack_file, monkeypatch, capsys):
    def misshapen(*_: object) -> None:
        raise KeyError("values")

    monkeypatch.setenv(TOKEN_ENV, "dt0c01.X.Y")
    monkeypatch.setattr("kong_slo.commands.report.classic_report", misshapen)
    code = main([*args(stack_file, "http://127.0.0.1:9"), "--json"])
    captured = capsys.readouterr()
    assert code == 3 and "Traceback" not in captured.err
    assert captured.err.strip() == ("kong-slo report: Dynatrace at http://127.0.0.1:9: answered JSON of an "
                                    "unexpected shape (KeyError: 'values')")
    assert json.loads(captured.out)["exit"] == 3


def test_missing_token_and_missing_out_are_bad_input(stack_file, monkeypatch, capsys):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["report", "--config-file", str(stack_file), "--json"]) == 2
    assert main(["report", "--config-file", str(stack_file)]) == 2
    assert "--out FILE" in capsys.readouterr().err


def test_empty_environment_and_no_traffic_give_a_clear_page(stack_file, tmp_path, monkeypatch, capsys):
    page = tmp_path / "r.html"
    with FakeDynatrace(read_lag=0) as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        assert main([*args(stack_file, fake.url), "--out", str(page)]) == 0
        assert "No SLO of this stack exists" in page.read_text()
        fake.require_known_metrics = False
        for definition in slo_definitions(load_stack_file(stack_file, "dev")):
            requests.post(f"{fake.url}/api/v2/slo", json=slo_payload(definition), timeout=5,
                          headers={"Authorization": f"Api-Token {fake.token}"}).raise_for_status()
        assert main([*args(stack_file, fake.url), "--out", str(page)]) == 0
        text = page.read_text()
        assert "no data to draw" in text and "No SLO of this stack" not in text and ">no data<" in text
        capsys.readouterr()
        assert main([*args(stack_file, fake.url), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert [item["status"]["objective"] for item in data["objectives"]] == ["latency", "availability"]
        assert all(item["calls"] == 0 and item["burn"] == [] for item in data["objectives"])


def test_series_from_counts_spends_the_budget_as_calls_fail():
    budget, burn, calls = series_from_counts([0, 60_000, 120_000], 60_000, [100, 98, None], [100, 100, None], 99.0)
    assert calls == 200
    assert [point.value for point in burn] == [0.0, 2.0]  # an empty interval has no burn rate
    assert [point.value for point in budget] == [100.0, 0.0, 0.0]  # 2 of 200 failed: 1 %, the whole budget


def test_fired_alerts_are_listed_with_their_state():
    from kong_slo.commands.report_html import render_html
    from kong_slo.objectives.report_model import FiredAlert, Report

    alerts = [FiredAlert("kong-slo dev: Orders latency page: error budget burning over 5 minutes", "OPEN", 0, None),
              FiredAlert("kong-slo dev: Orders availability ticket: <b>", "CLOSED", 0, 60_000)]
    text = render_html(Report("dev", "classic", "https://x", 0, [], alerts))
    assert text.count("<tr data-alert>") == 2 and "&lt;b&gt;" in text and ">open<" in text


def test_the_emulated_problems_api_refuses_selectors_it_does_not_know():
    with FakeDynatrace() as fake:
        auth = {"Authorization": f"Api-Token {fake.token}"}
        ok = requests.get(f"{fake.url}/api/v2/problems", params={"problemSelector": 'text("kong-slo dev")'},
                          headers=auth, timeout=5)
        assert ok.status_code == 200 and ok.json()["problems"] == []
        refused = requests.get(f"{fake.url}/api/v2/problems", params={"problemSelector": 'status("OPEN")'},
                               headers=auth, timeout=5)
        assert refused.status_code == 400
        fake.token_info.scopes.discard("problems.read")
        assert requests.get(f"{fake.url}/api/v2/problems", headers=auth, timeout=5).status_code == 403


def test_fired_alerts_are_this_stacks_only_when_another_stack_name_starts_alike():
    titles = ["kong-slo prod: Orders latency page: error budget burning over 5 minutes",
              "kong-slo prod-eu: Orders latency page: error budget burning over 5 minutes"]

    class Client:
        def request(self, method: str, path: str, *, params: dict, what: str) -> SimpleNamespace:
            wanted = TEXT.match(params["problemSelector"]).group(1).lower()
            found = [{"title": title, "status": "OPEN", "startTime": 1, "endTime": -1}
                     for title in titles if wanted in title.lower()]
            return SimpleNamespace(json=lambda: {"problems": found, "nextPageKey": None})

        def expect(self, response: SimpleNamespace, what: str, *ok: int) -> SimpleNamespace:
            return response

    assert [alert.title for alert in fired_alerts(Client(), "prod", "now-1h")] == titles[:1]
