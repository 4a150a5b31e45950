"""The metric selector language, as far as kong-slo speaks it, evaluated over the emulator's metric store.

Every selector is first checked against what Dynatrace documents (``dynatrace_selector_rules``). Semantics follow
Dynatrace's metric selector and metric expression references
(https://docs.dynatrace.com/docs/dynatrace-api/environment-api/metric-v2/metric-selector, …/metric-expressions):

- a metric key selects one series per dimension set; the value of a slot is the sum of its data points (what a
  delta counter's ``:sum`` gives);
- ``:filter(and(...), or(...), not(...), eq("dim","value"), ne(...))`` keeps the series whose dimensions match;
- ``:splitBy("a",…)`` merges series by those dimensions (``splitBy()``: into one), adding slot by slot;
- ``:sum`` / ``:value`` are the counter's aggregation (no change here); ``:avg``/``:min``/``:max`` only on a
  series of one value per slot (``func:`` metrics, expressions), where they change nothing either;
- ``:default(v)`` fills empty slots of existing series; ``:default(v,always)`` also makes a series when there is none;
- ``:rollup(sum|avg|min|max, 5m)`` replaces each slot by the aggregation over the window that ends with it
  (data before the query's start counts);
- ``:partition("dim", value("v", gt(x)), …)``: per data point, the first partition whose criterion it meets gets
  it; each partition is a series with the new dimension, null where its criterion was not met;
- ``func:slo.<metricName>`` is the stored metric query holding the classic SLO's expression (settings schema
  ``builtin:metric.query``, scope ``metric-func:slo.<metricName>``): the expression evaluated per slot, at the
  query's resolution — per minute in a metric event, not over the SLO's timeframe;
- ``:fold`` / ``:fold(sum|avg|min|max)`` collapses the time axis into one slot;
- ``+ - * /`` between selectors and numbers: series are paired by dimensions, a dimensionless operand applies to
  every series; an empty slot or a division by zero gives an empty slot.
A documented construct outside this list raises ``SelectorError`` saying it is not emulated.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes.dynatrace_metrics import MetricStore
from tests.fakes.dynatrace_selector_parser import SelectorError, duration_ms
from tests.fakes.dynatrace_selector_rules import check

Dims = tuple[tuple[str, str], ...]
Slots = list[float | None]
Series = dict[Dims, Slots]

SLO_FUNCTION = "func:slo."
AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "sum": sum, "value": sum, "avg": statistics.fmean, "min": min, "max": max,
}


@dataclass(frozen=True)
class Timeframe:
    """``[start_ms, end_ms)`` in slots of ``resolution_ms``; a resolution of the whole span is one slot."""

    start_ms: int
    end_ms: int
    resolution_ms: int = 60_000

    @property
    def slots(self) -> int:
        return max(1, math.ceil((self.end_ms - self.start_ms) / self.resolution_ms))


SloExpressions = Mapping[str, str]
"""``metricName`` → metric expression of the classic SLOs ``func:slo.<metricName>`` reads."""


def evaluate(selector: str, store: MetricStore, timeframe: Timeframe, slos: SloExpressions | None = None) -> Series:
    """The selector's series over ``timeframe``; rollups read data from before its start."""
    tree = check(selector)
    lookback = math.ceil(_longest_rollup(tree) / timeframe.resolution_ms)
    extended = Timeframe(timeframe.start_ms - lookback * timeframe.resolution_ms, timeframe.end_ms,
                         timeframe.resolution_ms)
    result = _Evaluator(store, extended, slos or {}).node(tree)
    return {dims: slots[lookback:] if len(slots) > lookback else slots for dims, slots in result.items()}


def single_value(selector: str, store: MetricStore, start_ms: int, end_ms: int) -> float | None:
    """The selector over the whole timeframe as one value (how an AGGREGATE SLO is evaluated); None: no data."""
    series = evaluate(selector, store, Timeframe(start_ms, end_ms, max(1, end_ms - start_ms)))
    values = [slots[0] for slots in series.values() if slots and slots[0] is not None]
    return values[0] if len(values) == 1 else None


def _longest_rollup(node: Any) -> int:
    if node[0] == "op":
        return max(_longest_rollup(node[2]), _longest_rollup(node[3]))
    if node[0] == "group":
        inner = _longest_rollup(node[1])
    elif node[0] == "key":
        inner = 0
    else:
        return 0
    return max([inner] + [duration_ms(str(args[1])) for name, args in node[-1] if name == "rollup" and len(args) == 2])


class _Evaluator:
    def __init__(self, store: MetricStore, timeframe: Timeframe, slos: SloExpressions) -> None:
        self.store, self.timeframe, self.slos = store, timeframe, slos
        self.read: dict[str, Series] = {}
        """Each key is read once per evaluation; no transformation changes a series in place."""

    def node(self, node: Any) -> Series:
        if node[0] == "num":
            return {(): [node[1]] * self.timeframe.slots}
        if node[0] == "key":
            return self.transform(self.metric(node[1]), node[2], derived=node[1].startswith("func:"))
        if node[0] == "group":
            return self.transform(self.node(node[1]), node[2], derived=True)
        return _arithmetic(node[1], self.node(node[2]), self.node(node[3]))

    def metric(self, key: str) -> Series:
        if key not in self.read:
            self.read[key] = self._slo(key) if key.startswith(SLO_FUNCTION) else self._slots(key)
        return self.read[key]

    def _slo(self, key: str) -> Series:
        metric_name = key.removeprefix(SLO_FUNCTION)
        if metric_name not in self.slos:
            return {}
        return evaluate(self.slos[metric_name], self.store, self.timeframe)

    def _slots(self, key: str) -> Series:
        frame, series = self.timeframe, {}
        for point in self.store.between(key, frame.start_ms, frame.end_ms):
            slots = series.setdefault(point.dimensions, [None] * frame.slots)
            index = (point.timestamp_ms - frame.start_ms) // frame.resolution_ms
            slots[index] = (slots[index] or 0.0) + point.value
        return series

    def transform(self, series: Series, transforms: Sequence[tuple[str, list[Any]]], *, derived: bool) -> Series:
        for name, args in transforms:
            if name == "filter":
                _check_condition(args[0] if args else None)
                series = {dims: slots for dims, slots in series.items() if _matches(args[0], dict(dims))}
            elif name == "splitBy":
                series = _split_by(series, [str(arg) for arg in args])
            elif name in ("sum", "value") or (derived and name in ("avg", "min", "max")):
                continue
            elif name == "default":
                series = _default(series, float(args[0]), "always" in args[1:], self.timeframe.slots)
            elif name == "rollup":
                series = {dims: _rollup(slots, _aggregation(args[0]),
                                        duration_ms(str(args[1])) // self.timeframe.resolution_ms)
                          for dims, slots in series.items()}
            elif name == "fold":
                aggregate = _aggregation(args[0] if args else "value")
                series = {dims: [_combine(aggregate, slots)] for dims, slots in series.items()}
            elif name == "partition":
                series = _partition(series, str(args[0]), args[1:])
            else:
                raise SelectorError(f"the documented transformation :{name} is not emulated here")
        return series


def _partition(series: Series, dimension: str, partitions: list[Any]) -> Series:
    """Each data point to the first partition whose value criterion it meets (``otherwise`` meets any)."""
    if any(kind == "dimension" for kind, _ in partitions):
        raise SelectorError("partition dimension conditions are not emulated here")
    result: Series = {}
    for dims, slots in series.items():
        for index, value in enumerate(slots):
            if value is None:
                continue
            for kind, args in partitions:
                label, criterion = (args[0], "otherwise") if kind == "otherwise" else (args[0], args[1])
                if criterion == "otherwise" or _meets(criterion, value):
                    target = result.setdefault(tuple(sorted((*dims, (dimension, str(label))))), [None] * len(slots))
                    target[index] = value
                    break
    return result


def _meets(criterion: Any, value: float) -> bool:
    name, args = criterion
    if name in ("and", "or"):
        found = [_meets(inner, value) for inner in args]
        return all(found) if name == "and" else any(found)
    if name == "not":
        return not _meets(args[0], value)
    if name == "range":
        return args[0] <= value < args[1]
    bound = args[0]
    return {"lt": value < bound, "le": value <= bound, "eq": value == bound, "ne": value != bound,
            "ge": value >= bound, "gt": value > bound}[name]


def _aggregation(name: Any) -> Callable[[list[float]], float]:
    if name not in AGGREGATIONS:
        raise SelectorError(f"{name!r} is not an aggregation")
    return AGGREGATIONS[name]


def _combine(aggregate: Callable[[list[float]], float], values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return aggregate(present) if present else None


def _matches(condition: Any, dims: dict[str, str]) -> bool:
    name, args = condition
    if name == "and":
        return all(_matches(arg, dims) for arg in args)
    if name == "or":
        return any(_matches(arg, dims) for arg in args)
    if name == "not":
        return not _matches(args[0], dims)
    if name == "eq":
        return dims.get(args[0]) == args[1]
    if name == "ne":
        return dims.get(args[0]) != args[1]
    raise SelectorError(f"the condition {name}() is not supported here")


def _check_condition(condition: Any) -> None:
    if not isinstance(condition, tuple) or condition[0] not in ("and", "or", "not", "eq", "ne"):
        raise SelectorError(f"{condition!r} is not a supported filter condition")
    if condition[0] in ("and", "or", "not"):
        for inner in condition[1]:
            _check_condition(inner)


def _split_by(series: Series, names: list[str]) -> Series:
    merged: Series = {}
    for dims, slots in series.items():
        key = tuple((name, value) for name, value in dims if name in names)
        into = merged.setdefault(key, [None] * len(slots))
        for index, value in enumerate(slots):
            if value is not None:
                into[index] = (into[index] or 0.0) + value
    return merged


def _default(series: Series, value: float, always: bool, slots: int) -> Series:
    if not series:
        return {(): [value] * slots} if always else {}
    return {dims: [value if v is None else v for v in values] for dims, values in series.items()}


def _rollup(slots: Slots, aggregate: Callable[[list[float]], float], width: int) -> Slots:
    width = max(1, width)
    if aggregate in (AGGREGATIONS["sum"], AGGREGATIONS["avg"]):
        return _rolling_sum(slots, width, average=aggregate is AGGREGATIONS["avg"])
    return [_combine(aggregate, slots[max(0, index - width + 1):index + 1]) for index in range(len(slots))]


def _rolling_sum(slots: Slots, width: int, *, average: bool) -> Slots:
    """Sum (or mean) of the present values among the last ``width`` slots, in one pass."""
    total, present, result = 0.0, 0, []
    for index, value in enumerate(slots):
        if value is not None:
            total, present = total + value, present + 1
        if index >= width and slots[index - width] is not None:
            total, present = total - slots[index - width], present - 1  # type: ignore[operator]
        result.append(None if present == 0 else total / present if average else total)
    return result


def _arithmetic(sign: str, left: Series, right: Series) -> Series:
    def apply(a: float | None, b: float | None) -> float | None:
        if a is None or b is None:
            return None
        if sign == "/":
            return None if b == 0 else a / b
        return a + b if sign == "+" else a - b if sign == "-" else a * b

    def pair(a: Slots, b: Slots) -> Slots:
        if len(a) != len(b):
            a, b = (a * len(b), b) if len(a) == 1 else (a, b * len(a))
        return [apply(x, y) for x, y in zip(a, b, strict=True)]

    if list(left) == [()]:
        return {dims: pair(left[()], slots) for dims, slots in right.items()}
    if list(right) == [()]:
        return {dims: pair(slots, right[()]) for dims, slots in left.items()}
    return {dims: pair(slots, right[dims]) for dims, slots in left.items() if dims in right}
