"""A DQL evaluator for the subset kong-slo sends, over the emulator's ``MetricStore``.

Supported (https://docs.dynatrace.com/docs/shortlink/metric-commands, "timeseries"):

    timeseries [{] [name =] agg(metric [, default: N] [, filter: COND]) [, ...] [}]
               [, by: {dim, ...}] [, filter: COND] [, interval: 1m] [, from: now-1h] [, to: now]
    | fieldsAdd name = EXPR [, name = EXPR ...]
    | fields name, ...

``agg`` is sum, avg, min, max or count; ``COND`` compares dimensions with ``==``/``!=`` to strings, joined with
``and``/``or``/``not`` and parentheses; ``EXPR`` is arithmetic (+ - * /) over numbers and series (``name[]``),
element by element, where a null or a division by zero gives null, plus ``abs(EXPR)`` and
``arrayMovingSum(name, N)`` (each element the sum of the last N non-null elements up to it). Anything else is a
``DqlError``, which the emulator answers with 400, so a query kong-slo starts sending beyond the subset fails
loudly in tests.

Grail names a counter as it was ingested, without the ``.count`` suffix Metrics Classic appends
(https://docs.dynatrace.com/docs/observe-and-explore/metrics/troubleshooting): the store keeps the classic key
``x.count`` for an OTLP counter ``x``, so the metric ``x`` in DQL reads the points of ``x`` and of ``x.count``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.fakes.dynatrace_dql_parser import AGGREGATIONS, DqlError, Parser
from tests.fakes.dynatrace_metrics import DataPoint, MetricStore

__all__ = ["DqlError", "Parser", "evaluate", "grail_points"]


def grail_points(store: MetricStore, metric: str, start_ms: int | None = None,
                 end_ms: int | None = None) -> Iterable[DataPoint]:
    """The points DQL reads as ``metric``: ingested under that key, or as a counter Classic suffixed ``.count``
    (within ``[start_ms, end_ms)`` when given)."""
    if start_ms is not None and end_ms is not None:
        return [*store.between(metric, start_ms, end_ms), *store.between(f"{metric}.count", start_ms, end_ms)]
    return [point for point in store.points() if point.key in (metric, f"{metric}.count")]


def evaluate(query_text: str, store: MetricStore, *, now_ms: int, from_ms: int | None = None,
             default_interval_ms: int = 60_000) -> list[dict[str, Any]]:
    """The records ``timeseries`` returns: one per group of ``by`` dimensions that has data, each with
    ``timeframe``, ``interval`` (ms) and one series per column."""
    query = Parser(query_text).query(now_ms)
    end = query.to_ms if query.to_ms is not None else now_ms
    start = query.from_ms if query.from_ms is not None else from_ms if from_ms is not None else end - 7_200_000
    interval = query.interval_ms or default_interval_ms
    buckets = max(1, -(-(end - start) // interval))
    groups: dict[tuple[str | None, ...], dict[str, list[list[float]]]] = {}
    for aggregation in query.aggregations:
        for point in grail_points(store, aggregation.metric, start, end):
            if not (start <= point.timestamp_ms < end and query.condition(point) and aggregation.condition(point)):
                continue
            key = tuple(point.dimension(name) for name in query.by)
            columns = groups.setdefault(key, {})
            slots = columns.setdefault(aggregation.column, [[] for _ in range(buckets)])
            slots[(point.timestamp_ms - start) // interval].append(point.value)
    records = []
    for key, columns in groups.items():
        record: dict[str, Any] = {"timeframe": {"start": start, "end": start + buckets * interval},
                                  "interval": interval, **dict(zip(query.by, key, strict=True))}
        for aggregation in query.aggregations:
            slots = columns.get(aggregation.column, [[] for _ in range(buckets)])
            record[aggregation.column] = [AGGREGATIONS[aggregation.function](values) if values
                                          else aggregation.default for values in slots]
        for name, expression in query.fields:
            record[name] = expression(record)
        if query.kept is not None:
            record = {name: record[name] for name in query.kept if name in record}
        records.append(record)
    return records
