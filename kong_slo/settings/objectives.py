"""Parsing and checking of SLO objectives: ``sloDefaults`` merged under each API's overrides."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kong_slo.settings.model import AvailabilityObjective, LatencyObjective
from kong_slo.settings.reader import Node, Problems, describe
from kong_slo.telemetry import DEFAULT_FAIL_ON, DEFAULT_LATENCY_MS

WINDOW_PATTERN = re.compile(r"^([1-9][0-9]*)([mhdw])$")
WINDOW_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
FAILURE_PATTERN = re.compile(r"^([1-5]xx|[1-5][0-9][0-9])$")

LATENCY_KEYS = ("thresholdMs", "target", "warning", "window")
AVAILABILITY_KEYS = ("target", "warning", "window", "failOn")

MAX_THRESHOLD_MS = 2_147_483_646
"""Kong's longest timeout (connect, send and read timeouts are at most 2^31 - 2 ms): no answer comes later."""
MAX_WINDOW_SECONDS = 5 * 365 * 86400
"""Dynatrace keeps metric data for at most five years, so a longer window has nothing to evaluate."""

BUILTIN_LATENCY: dict[str, Any] = {"thresholdMs": DEFAULT_LATENCY_MS, "target": 99.0, "warning": 99.5, "window": "1h"}
BUILTIN_AVAILABILITY: dict[str, Any] = {"target": 99.0, "warning": 99.5, "window": "1h",
                                        "failOn": list(DEFAULT_FAIL_ON)}


def window_seconds(window: str) -> int:
    """Seconds in a window such as ``1h``, ``30m``, ``7d`` or ``4w``."""
    match = WINDOW_PATTERN.match(window)
    if match is None:
        raise ValueError(f"{window!r} is not a window such as 1h, 30m, 7d or 4w")
    return int(match.group(1)) * WINDOW_SECONDS[match.group(2)]


@dataclass(frozen=True)
class Layer:
    """Raw objective values with the key path each one came from."""

    values: dict[str, Any]
    origins: dict[str, str]

    def over(self, node: Node | None, keys: tuple[str, ...]) -> Layer:
        """This layer with the keys ``node`` sets laid over it."""
        if node is None:
            return self
        node.reject_unknown(keys)
        values, origins = dict(self.values), dict(self.origins)
        for key in keys:
            if node.has(key):
                values[key] = node.raw(key)
                origins[key] = node.key(key)
        return Layer(values, origins)


def builtin(values: Mapping[str, Any]) -> Layer:
    """The built-in objective: no key path, since none of its values comes from the stack file."""
    return Layer(dict(values), {})


def _percentages(node: Node) -> tuple[float, float]:
    target = node.number("target", 99.0)
    warning = node.number("warning", 99.5)
    assert target is not None and warning is not None
    target_ok = 0 < target < 100
    if not target_ok:
        node.problem("target", f"{describe(node.raw('target'))} is not a percentage between 0 and 100 "
                               "(both exclusive)")
    if not 0 < warning <= 100:
        node.problem("warning", f"{describe(node.raw('warning'))} is not a percentage between 0 and 100")
    elif target_ok and warning <= target:
        own = f"{node.path}.warning"
        node.problems.add(own, f"{describe(node.raw('warning'))}{_origin(node, 'warning')} must be greater than "
                               f"the target {describe(node.raw('target'))}{_origin(node, 'target')} (Dynatrace "
                               "shows the warning state between the two)")
    return target, warning


def _origin(node: Node, name: str) -> str:
    """Where an objective value came from, when not from the key being reported."""
    origin = node.origins.get(name)
    if origin is None:
        return " (the built-in default)"
    return "" if origin == f"{node.path}.{name}" else f" (from {origin})"


def _window(node: Node) -> str:
    window = node.string("window", "1h") or "1h"
    try:
        seconds = window_seconds(window)
    except ValueError as error:
        node.problem("window", str(error))
        return "1h"
    if seconds < 300:
        node.problem("window", f"{window!r} is shorter than 5 minutes")
    elif seconds > MAX_WINDOW_SECONDS:
        node.problem("window", f"{window!r} is longer than 5 years (1825d), the longest Dynatrace keeps metric data")
    return window


def latency(layer: Layer, path: str, problems: Problems) -> LatencyObjective:
    node = Node(layer.values, path, problems, layer.origins)
    threshold = node.integer("thresholdMs", DEFAULT_LATENCY_MS)
    if threshold is None or threshold <= 0:
        node.problem("thresholdMs", f"{describe(node.raw('thresholdMs'))} is not a positive number of "
                                    "milliseconds")
        threshold = DEFAULT_LATENCY_MS
    elif threshold > MAX_THRESHOLD_MS:
        node.problem("thresholdMs", f"{describe(node.raw('thresholdMs'))} is more than {MAX_THRESHOLD_MS} ms, "
                                    "Kong's longest timeout (about 24.8 days)")
        threshold = DEFAULT_LATENCY_MS
    target, warning = _percentages(node)
    return LatencyObjective(threshold, target, warning, _window(node))


def availability(layer: Layer, path: str, problems: Problems) -> AvailabilityObjective:
    node = Node(layer.values, path, problems, layer.origins)
    target, warning = _percentages(node)
    window = _window(node)
    codes = node.string_list("failOn") or ()
    fail_on: list[str] = []
    for index, code in enumerate(codes):
        normalised = code.lower()
        if not FAILURE_PATTERN.match(normalised):
            problems.add(f"{node.key('failOn')}[{index}]",
                         f"{code!r} is not a status class such as 5xx or a status code such as 404")
        elif normalised not in fail_on:
            fail_on.append(normalised)
    if not codes:
        node.problem("failOn", 'must name at least one status, e.g. ["5xx"]')
        fail_on = list(DEFAULT_FAIL_ON)
    return AvailabilityObjective(target, warning, window, tuple(fail_on))


def read_defaults(root: Node) -> tuple[Layer, Layer]:
    """The built-in objectives with ``sloDefaults`` laid over them."""
    latency_layer = builtin(BUILTIN_LATENCY)
    availability_layer = builtin(BUILTIN_AVAILABILITY)
    defaults = root.child("sloDefaults")
    if defaults is None:
        return latency_layer, availability_layer
    defaults.reject_unknown(("latency", "availability"))
    return (latency_layer.over(defaults.child("latency"), LATENCY_KEYS),
            availability_layer.over(defaults.child("availability"), AVAILABILITY_KEYS))


def api_layer(api: Node, name: str, defaults: Layer, keys: tuple[str, ...]) -> Layer | None:
    """An API's objective over the defaults; ``None`` when switched off with ``false``."""
    value = api.raw(name)
    if value is False:
        return None
    if value is None or value is True:
        return defaults
    return defaults.over(api.child(name), keys)
