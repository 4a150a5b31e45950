"""The metric store behind the Dynatrace emulator: every data point ingested, as Dynatrace keeps it.

Ingest paths (OTLP, the metrics ingest API) add points here; the evaluators (metric selectors for classic SLOs,
DQL for platform SLOs) read them. A point is one delta value of one metric key for one dimension set at one
timestamp, which is what Dynatrace stores for a delta counter (a counter ``x`` arrives as the key ``x.count``).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class DataPoint:
    key: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp_ms: int
    value: float

    @cached_property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)

    def dimension(self, name: str) -> str | None:
        return self.dimension_map.get(name)


class MetricStore:
    """Thread-safe list of data points, with the set of metric keys Dynatrace would know."""

    def __init__(self) -> None:
        self._points: list[DataPoint] = []
        self._by_key: dict[str, tuple[list[int], list[DataPoint]]] = {}
        """Per key, the timestamps and points in time order, for reading a timeframe without a full scan."""
        self._declared: set[str] = set()
        self._lock = threading.Lock()

    def add(self, key: str, dimensions: Mapping[str, str], value: float, timestamp_ms: int) -> None:
        point = DataPoint(key, tuple(sorted(dimensions.items())), timestamp_ms, float(value))
        with self._lock:
            self._points.append(point)
            stamps, points = self._by_key.setdefault(key, ([], []))
            at = bisect.bisect_right(stamps, timestamp_ms)
            stamps.insert(at, timestamp_ms)
            points.insert(at, point)

    def between(self, key: str, start_ms: int, end_ms: int) -> list[DataPoint]:
        """The points of ``key`` with ``start_ms <= timestamp < end_ms``, in time order."""
        with self._lock:
            stamps, points = self._by_key.get(key, ([], []))
            return points[bisect.bisect_left(stamps, start_ms):bisect.bisect_left(stamps, end_ms)]

    def declare(self, key: str) -> None:
        """Make ``key`` known without a data point (a metric metadata declaration)."""
        with self._lock:
            self._declared.add(key)

    def known_keys(self) -> set[str]:
        with self._lock:
            return {point.key for point in self._points} | self._declared

    def points(self, key: str | None = None) -> list[DataPoint]:
        with self._lock:
            return [point for point in self._points if key is None or point.key == key]

    def total(self, key: str, **dimensions: str) -> float:
        """Sum of every point of ``key`` whose dimensions include all of ``dimensions``."""
        return sum(point.value for point in self.points(key)
                   if all(point.dimension(name) == value for name, value in dimensions.items()))
