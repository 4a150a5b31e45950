"""Doctor reads the collector's own metrics (kong_slo.doctor.collector_telemetry): counts dropped, spans refused."""

from __future__ import annotations

from kong_slo.cli import main
from kong_slo.doctor.collector_telemetry import assess, parse
from tests.unit.stack_files import write_aws_stack

HEALTHY = """# HELP otelcol_exporter_sent_metric_points Number of metric points successfully sent to destination.
# TYPE otelcol_exporter_sent_metric_points counter
otelcol_exporter_sent_metric_points{exporter="otlp_http/dynatrace_counts",service_name="otelcol"} 120
otelcol_exporter_queue_size{data_type="metrics",exporter="otlp_http/dynatrace_counts"} 512
otelcol_exporter_send_failed_metric_points{exporter="otlp_http/dynatrace_counts"} 0
otelcol_receiver_refused_spans{receiver="otlp",transport="http"} 0
"""


def states(text: str) -> dict[str, str]:
    return {check.name: check.state for check in assess(parse(text), "the log")}


def test_a_collector_that_dropped_nothing_is_ok_and_says_what_it_sent():
    (check,) = assess(parse(HEALTHY), "the log")
    assert check.state == "ok" and "120 points sent" in check.detail and "512 bytes queued" in check.detail


def test_dropped_counts_are_a_problem_naming_the_token():
    text = HEALTHY.replace('dynatrace_counts"} 0', 'dynatrace_counts"} 36')
    (check,) = [c for c in assess(parse(text), "the log") if c.name == "collector.counts"]
    assert check.state == "problem" and "36 SLO count points were dropped" in check.detail
    assert "token" in check.fix and "the log" in check.fix


def test_counters_with_the_total_suffix_and_several_series_add_up():
    text = ('otelcol_exporter_send_failed_metric_points_total{exporter="otlp_http/dynatrace_counts",a="1"} 2\n'
            'otelcol_exporter_send_failed_metric_points_total{exporter="otlp_http/dynatrace_counts",a="2"} 3\n'
            'otelcol_exporter_send_failed_metric_points_total{exporter="otlp_http/dynatrace"} 100\n')
    assert parse(text).get("otelcol_exporter_send_failed_metric_points", "otlp_http/dynatrace_counts") == 5


def test_refused_spans_and_dropped_traces_are_reported_apart():
    text = HEALTHY.replace('transport="http"} 0', 'transport="http"} 7') + \
        'otelcol_exporter_enqueue_failed_spans{exporter="otlp_http/dynatrace"} 9\n'
    assert states(text) == {"collector.counts": "ok", "collector.refused": "problem", "collector.traces": "problem"}


def test_a_collector_telemetry_url_that_is_not_http_is_bad_input_before_any_call(tmp_path, capsys):
    stack_file = write_aws_stack(tmp_path, "dev", apis=[{"name": "Orders"}])
    code = main(["doctor", "--config-file", str(stack_file), "--collector-telemetry-url", "collector:8888/metrics"])
    err = capsys.readouterr().err
    assert code == 2 and "--collector-telemetry-url 'collector:8888/metrics'" in err and "Traceback" not in err
