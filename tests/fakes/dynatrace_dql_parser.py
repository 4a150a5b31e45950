"""The parser of the emulator's DQL subset (see ``dynatrace_dql``): text → a ``Query`` of callables."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.dynatrace_metrics import DataPoint

TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>\d+(?:\.\d+)?(?:[smhd]\b)?)|'
                   r"(?P<op>==|!=|\[\]|[{}(),:=|+\-*/])|(?P<name>[A-Za-z_][A-Za-z0-9_.]*(?<!\.)))")
UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "sum": sum, "avg": lambda values: sum(values) / len(values), "min": min, "max": max,
    "count": lambda values: float(len(values)),
}
Series = list[float | None]


class DqlError(ValueError):
    """The query is outside the supported subset or malformed; the message says where."""


def tokens(query: str) -> list[tuple[str, str]]:
    found, position = [], 0
    query = query.rstrip()
    while position < len(query):
        match = TOKEN.match(query, position)
        if match is None:
            raise DqlError(f"cannot read the query at {query[position:position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


@dataclass
class Aggregation:
    column: str
    function: str
    metric: str
    default: float | None
    condition: Callable[[DataPoint], bool]


@dataclass
class Query:
    aggregations: list[Aggregation]
    by: list[str]
    condition: Callable[[DataPoint], bool]
    interval_ms: int | None
    from_ms: int | None
    to_ms: int | None
    fields: list[tuple[str, Callable[[dict[str, Any]], Series]]]
    kept: list[str] | None = None


class Parser:
    def __init__(self, query: str) -> None:
        self.items = tokens(query)
        self.index = 0

    def peek(self, offset: int = 0) -> str | None:
        spot = self.index + offset
        return self.items[spot][1] if spot < len(self.items) else None

    def take(self, expected: str | None = None) -> str:
        if self.index >= len(self.items):
            raise DqlError(f"the query ends where {expected or 'more'} was expected")
        value = self.items[self.index][1]
        if expected is not None and value != expected:
            raise DqlError(f"expected {expected!r}, found {value!r}")
        self.index += 1
        return value

    def kind(self) -> str | None:
        return self.items[self.index][0] if self.index < len(self.items) else None

    def query(self, now_ms: int) -> Query:
        self.take("timeseries")
        braces = self.peek() == "{"
        if braces:
            self.take("{")
        aggregations = [self.aggregation()]
        while self.peek() == "," and (braces or self.peek(1) not in ("by", "filter", "interval", "from", "to")):
            self.take(",")
            aggregations.append(self.aggregation())
        if braces:
            self.take("}")
        query = Query(aggregations, [], lambda point: True, None, None, None, [])
        while self.peek() == ",":
            self.take(",")
            option = self.take()
            self.take(":")
            if option == "by":
                query.by = self.names()
            elif option == "filter":
                query.condition = self.condition()
            elif option == "interval":
                query.interval_ms = self.duration()
            elif option in ("from", "to"):
                setattr(query, f"{option}_ms", self.time(now_ms))
            else:
                raise DqlError(f"timeseries parameter {option!r} is outside the emulated subset")
        while self.peek() == "|":
            self.take("|")
            command = self.take()
            if command == "fields":
                query.kept = self.names()
                while self.peek() == ",":
                    self.take(",")
                    query.kept.append(self.take())
                continue
            if command != "fieldsAdd":
                raise DqlError(f"command {command!r} is outside the emulated subset")
            query.fields.append(self.assignment())
            while self.peek() == ",":
                self.take(",")
                query.fields.append(self.assignment())
        if self.peek() is not None:
            raise DqlError(f"unexpected {self.peek()!r}")
        return query

    def aggregation(self) -> Aggregation:
        column = None
        if self.peek(1) == "=":
            column = self.take()
            self.take("=")
        function = self.take()
        if function not in AGGREGATIONS:
            raise DqlError(f"aggregation {function!r} is outside the emulated subset")
        self.take("(")
        metric = self.take()
        default, condition = None, (lambda point: True)
        while self.peek() == ",":
            self.take(",")
            option = self.take()
            self.take(":")
            if option == "default":
                default = float(self.take())
            elif option == "filter":
                condition = self.condition()
            else:
                raise DqlError(f"aggregation parameter {option!r} is outside the emulated subset")
        self.take(")")
        return Aggregation(column or f"{function}({metric})", function, metric, default, condition)

    def names(self) -> list[str]:
        if self.peek() != "{":
            return [self.take()]
        self.take("{")
        names = [self.take()]
        while self.peek() == ",":
            self.take(",")
            names.append(self.take())
        self.take("}")
        return names

    def duration(self) -> int:
        text = self.take()
        match = re.fullmatch(r"(\d+)([smhd])", text)
        if match is None:
            raise DqlError(f"{text!r} is not a duration such as 1m")
        return int(match.group(1)) * UNIT_MS[match.group(2)]

    def time(self, now_ms: int) -> int:
        self.take("now")
        if self.peek() == "-":
            self.take("-")
            return now_ms - self.duration()
        return now_ms

    def binary(self, operators: tuple[str, ...], operand: Callable[[], Callable[[Any], Any]],
               combine: Callable[[str, Any, Any], Any]) -> Callable[[Any], Any]:
        """``operand (operator operand)*``, left-associative, for conditions and arithmetic alike."""
        left = operand()
        while self.peek() in operators:
            operator, right, first = self.take(), operand(), left
            left = lambda item, a=first, b=right, op=operator: combine(op, a(item), b(item))  # noqa: E731
        return left

    def condition(self) -> Callable[[DataPoint], bool]:
        return self.binary(("or",), self.conjunction, lambda _, a, b: a or b)

    def conjunction(self) -> Callable[[DataPoint], bool]:
        return self.binary(("and",), self.negation, lambda _, a, b: a and b)

    def negation(self) -> Callable[[DataPoint], bool]:
        if self.peek() == "not":
            self.take("not")
            inner = self.negation()
            return lambda point: not inner(point)
        if self.peek() == "(":
            self.take("(")
            inner = self.condition()
            self.take(")")
            return inner
        dimension, operator = self.take(), self.take()
        if operator not in ("==", "!=") or self.kind() != "string":
            raise DqlError(f"only dimension == \"text\" and != comparisons are emulated, not {operator!r}")
        value = _unquote(self.take())
        if operator == "==":
            return lambda point: point.dimension(dimension) == value
        return lambda point: point.dimension(dimension) not in (None, value)

    def assignment(self) -> tuple[str, Callable[[dict[str, Any]], Series]]:
        name = self.take()
        self.take("=")
        return name, self.sum_expression()

    def sum_expression(self) -> Callable[[dict[str, Any]], Series]:
        return self.binary(("+", "-"), self.product, _combine)

    def product(self) -> Callable[[dict[str, Any]], Series]:
        return self.binary(("*", "/"), self.operand, _combine)

    def operand(self) -> Callable[[dict[str, Any]], Series]:
        if self.peek() == "(":
            self.take("(")
            inner = self.sum_expression()
            self.take(")")
            return inner
        if self.kind() == "number":
            number = float(self.take())
            return lambda record: [number] * record["_length"]
        name = self.take()
        if self.peek() == "(":
            return self.function(name)
        self.take("[]")
        return lambda record: record[name]

    def function(self, name: str) -> Callable[[dict[str, Any]], Series]:
        self.take("(")
        if name == "abs":
            inner = self.sum_expression()
            self.take(")")
            return lambda record: [None if value is None else abs(value) for value in inner(record)]
        if name == "arrayMovingSum":
            field, _, size = self.take(), self.take(","), int(self.take())
            self.take(")")
            return lambda record: _moving_sum(record[field], size)
        raise DqlError(f"function {name!r} is outside the emulated subset")


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _combine(operator: str, left: Series, right: Series) -> Series:
    out: Series = []
    for a, b in zip(left, right, strict=True):
        if a is None or b is None or (operator == "/" and b == 0):
            out.append(None)
        else:
            out.append(a + b if operator == "+" else a - b if operator == "-" else a * b if operator == "*" else a / b)
    return out


def _moving_sum(values: Series, size: int) -> Series:
    sums: Series = []
    for index in range(len(values)):
        window = [value for value in values[max(0, index - size + 1):index + 1] if value is not None]
        sums.append(sum(window) if window else None)
    return sums
