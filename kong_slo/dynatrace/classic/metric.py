"""``MetricDeclaration``: makes the SLO counter known to Dynatrace before the first SLO refers to it.

Dynatrace refuses an SLO whose metric expression reads a metric key it has never seen ("Metric selector is
invalid"), and ``kong.slo.calls.count`` only appears once the collector has counted a request. So, on a new
environment, the first ``pulumi up`` sends the counter's metadata and one zero-valued point per API through
the metrics ingest API (``metrics.ingest`` scope), then waits, for a bounded time, until the metric's
descriptor can be read (``metrics.read``).

- identity: the metric key. diff: the lines (new APIs) or the environment. update: the lines sent again.
- delete: nothing is removed. Dynatrace keeps a metric for its retention period and the collector keeps
  writing it; deleting the key would also delete the counted requests.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from kong_slo.dynamic_resource import DynamicResource
from kong_slo.dynatrace.client import DynatraceClient
from kong_slo.dynatrace.provider import DynatraceProvider, normalised

STATE_KEYS = ("metric_key", "lines", "environment_url")


class MetricDeclarationProvider(DynatraceProvider):
    """Declare the metric; timing knobs are class attributes so pickles stay identical."""

    visibility_polls: ClassVar[int] = 30
    visibility_delay: ClassVar[float] = 2.0

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if not isinstance(news.get("metric_key"), str) or not news["metric_key"]:
            failures.append(CheckFailure("metric_key", "metric_key must be a non-empty string"))
        lines = news.get("lines")
        if not isinstance(lines, list) or not lines or not all(isinstance(line, str) for line in lines):
            failures.append(CheckFailure("lines", "lines must be a non-empty list of line-protocol strings"))
        failures += self.environment_url_failures(news)
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in STATE_KEYS if normalised(olds.get(key)) != normalised(news.get(key))]
        replaces = [key for key in ("metric_key", "environment_url") if key in changed]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.client(props["environment_url"]) as client:
            known = self._declare(client, props)
        return CreateResult(props["metric_key"], {**props, "known": known})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props, {key: props.get(key) for key in STATE_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client(news["environment_url"]) as client:
            known = self._declare(client, news)
        return UpdateResult({**news, "known": known})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Nothing to remove (see the module docstring)."""

    def _declare(self, client: DynatraceClient, props: dict[str, Any]) -> bool:
        """Send the lines unless the key is known already; True once Dynatrace lists the metric.

        A key still unknown after the bounded wait is not an error here: the SLO's own create retries
        "Metric selector is invalid" for a while longer.
        """
        client.ingest_metrics(props["lines"])  # idempotent: metadata and zeros
        for poll in range(self.visibility_polls):
            if client.metric_known(props["metric_key"]):
                return True
            if poll + 1 < self.visibility_polls:
                self.sleep(self.visibility_delay)
        return False


class MetricDeclaration(DynamicResource, module="dynatrace", name="MetricDeclaration"):
    """The SLO counter's metadata and a zero point per API, sent before the SLOs are created."""

    known: pulumi.Output[bool]

    def __init__(self, name: str, *, metric_key: str, lines: list[str], environment_url: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(MetricDeclarationProvider(), name,
                         {"metric_key": metric_key, "lines": lines, "environment_url": environment_url,
                          "known": None}, opts)
