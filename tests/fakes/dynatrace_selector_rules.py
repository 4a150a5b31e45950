"""What Dynatrace's metric selector accepts, checked before anything is evaluated (the settings schemas run this
as ``metric-event-selector-validator``; SLOs as ``slo-metric-selector-validator``).

From "Metrics API - Metric selector" (docs.dynatrace.com/docs/dynatrace-api/environment-api/metric-v2/
metric-selector, updated Oct 31 2025) and "Metrics API - Metric expressions" (…/metric-v2/metric-expressions):
- the transformations are exactly those the reference lists (``TRANSFORMATIONS``); anything else, ``:abs`` for
  one, is refused;
- "The rollup window duration is limited to 60 minutes", and "You must apply an aggregation transformation before
  using the rollup transformation";
- partition: "You need to apply an aggregation transformation before using value conditions within the
  partition transformation"; its value criteria are lt, le, eq, ne, ge, gt, range, or, and, not, and
  ``otherwise`` closes a chain;
- an expression's operands keep their aggregation: "If an aggregation has been applied in a transformation
  chain, this aggregation is used", so a transformation on a parenthesised expression counts as aggregated when
  every metric in it is;
- "The selector must contain at least one metric key."
The emulator evaluates only part of what is documented (``dynatrace_selectors``); a documented transformation it
cannot evaluate is refused with a message that says so, never silently mis-evaluated.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.dynatrace_selector_parser import SelectorError, duration_ms, parse

AGGREGATIONS = frozenset({"auto", "avg", "count", "max", "median", "min", "percentile", "sum", "value"})
TRANSFORMATIONS = AGGREGATIONS | frozenset({
    "asGauge", "default", "delta", "evaluateModel", "filter", "fold", "last", "lastReal", "limit", "merge", "names",
    "parents", "partition", "rate", "rollup", "setUnit", "smooth", "sort", "splitBy", "timeshift", "toUnit"})
"""Every transformation the metric selector reference documents (its aggregation list included)."""
ROLLUP_MAX_MS = 3_600_000
ROLLUP_AGGREGATIONS = frozenset({"avg", "count", "max", "median", "min", "percentile", "sum", "value"})
VALUE_CRITERIA = frozenset({"lt", "le", "eq", "ne", "ge", "gt", "range", "or", "and", "not"})
FILTER_CONDITIONS = frozenset({"prefix", "suffix", "contains", "eq", "ne", "in", "existsKey", "remainder", "series",
                               "and", "or", "not"})


def check(selector: str) -> Any:
    """The parsed selector, or ``SelectorError`` naming the first thing Dynatrace documents as invalid."""
    tree = parse(selector)
    if not _keys(tree):
        raise SelectorError("the selector must contain at least one metric key")
    _check_node(tree)
    return tree


def _keys(node: Any) -> list[str]:
    if node[0] == "key":
        return [node[1]]
    if node[0] == "op":
        return _keys(node[2]) + _keys(node[3])
    if node[0] == "group":
        return _keys(node[1])
    return []


def _aggregated(node: Any) -> bool:
    """Whether an aggregation applies to ``node``'s values (see the module docstring)."""
    if node[0] == "num":
        return True
    if node[0] == "op":
        return _aggregated(node[2]) and _aggregated(node[3])
    if node[0] == "group" and _aggregated(node[1]):
        return True
    return any(name in AGGREGATIONS for name, _ in node[-1])


def _check_node(node: Any) -> None:
    if node[0] == "op":
        _check_node(node[2])
        _check_node(node[3])
        return
    if node[0] == "num":
        return
    if node[0] == "group":
        _check_node(node[1])
    aggregated = node[0] == "group" and _aggregated(node[1])
    for name, args in node[-1]:
        if name not in TRANSFORMATIONS:
            raise SelectorError(f"Metric selector is invalid: unknown transformation :{name}")
        if name in AGGREGATIONS:
            aggregated = True
        elif name == "rollup":
            _check_rollup(args, aggregated)
        elif name == "partition":
            _check_partition(args, aggregated)
        elif name == "filter":
            for condition in args:
                _check_filter(condition)


def _check_rollup(args: list[Any], aggregated: bool) -> None:
    if not aggregated:
        raise SelectorError("an aggregation transformation must come before :rollup")
    if len(args) != 2 or args[0] not in ROLLUP_AGGREGATIONS:
        raise SelectorError(f"rollup takes an aggregation and a window, got {args!r}")
    if duration_ms(str(args[1])) > ROLLUP_MAX_MS:
        raise SelectorError("the rollup window duration is limited to 60 minutes")


def _check_partition(args: list[Any], aggregated: bool) -> None:
    if len(args) < 2 or not isinstance(args[0], str):
        raise SelectorError("partition takes a dimension key and at least one partition")
    for partition in args[1:]:
        if not isinstance(partition, tuple) or partition[0] not in ("value", "dimension", "otherwise"):
            raise SelectorError(f"{partition!r} is not a partition")
        if partition[0] == "value":
            if not aggregated:
                raise SelectorError("an aggregation transformation must come before partition value conditions")
            label, criterion = partition[1]
            if not isinstance(label, str):
                raise SelectorError("a partition needs a value for its dimension")
            if criterion != "otherwise":
                _check_criterion(criterion)


def _check_criterion(criterion: Any) -> None:
    if not isinstance(criterion, tuple) or criterion[0] not in VALUE_CRITERIA:
        raise SelectorError(f"{criterion!r} is not a partition criterion")
    if criterion[0] in ("or", "and", "not"):
        for inner in criterion[1]:
            _check_criterion(inner)
    elif not all(isinstance(arg, float) for arg in criterion[1]):
        raise SelectorError(f"{criterion[0]}() compares with numbers")


def _check_filter(condition: Any) -> None:
    if not isinstance(condition, tuple) or condition[0] not in FILTER_CONDITIONS:
        raise SelectorError(f"{condition!r} is not a filter condition")
    if condition[0] in ("and", "or", "not"):
        for inner in condition[1]:
            _check_filter(inner)
