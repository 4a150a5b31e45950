"""The parser of the emulator's DQL subset (see ``dynatrace_dql``): text → a ``Query`` of callables."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.dynatrace_metrics import DataPoint

TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>\d+(?:\.\d+)?(?:[smhd]\b)?)|'
                   r"(?P<op>==|!=|>=|<=|\[\]|[{}(),:=|+\-*/<>])|(?P<name>[A-Za-z_][A-Za-z0-9_.]*(?<!\.)))")
UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "sum": sum, "avg": lambda values: sum(values) / len(values), "min": min, "max": max,
    "count": lambda values: float(len(values)),
}
Series = list[float | None]
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
Value = float | None | Series
"""A field: a series (``timeseries`` columns, iterative expressions ``name[]``) or one number (``arrayLast``)."""


class DqlError(ValueError):
    """The query is outside the supported subset or malformed; the message says where."""


@functools.lru_cache(maxsize=256)
def tokens(query: str) -> tuple[tuple[str, str], ...]:
    found, position = [], 0
    query = query.rstrip()
    while position < len(query):
        match = TOKEN.match(query, position)
        if match is None:
            raise DqlError(f"cannot read the query at {query[position:position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return tuple(found)


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
    fields: list[tuple[str, Callable[[dict[str, Any]], Value]]]
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

    def assignment(self) -> tuple[str, Callable[[dict[str, Any]], Value]]:
        name = self.take()
        self.take("=")
        return name, self.sum_expression()

    def sum_expression(self) -> Callable[[dict[str, Any]], Value]:
        return self.binary(("+", "-"), self.product, _combine)

    def product(self) -> Callable[[dict[str, Any]], Value]:
        return self.binary(("*", "/"), self.operand, _combine)

    def operand(self) -> Callable[[dict[str, Any]], Value]:
        if self.peek() == "(":
            self.take("(")
            inner = self.sum_expression()
            self.take(")")
            return inner
        if self.kind() == "number":
            number = float(self.take())
            return lambda record: number
        name = self.take()
        if self.peek() == "(":
            return self.function(name)
        if self.peek() == "[]":
            self.take("[]")
            return lambda record: _field(record, name, series=True)
        return lambda record: _field(record, name, series=False)

    def function(self, name: str) -> Callable[[dict[str, Any]], Value]:
        """``abs``; ``if(condition, then[, else: other])`` over numbers; the array functions
        ``arrayMovingSum(array, N)``, ``arrayLast(array)``, ``arraySum(array)``
        (https://docs.dynatrace.com/docs/shortlink/array-functions), whose array is a field named bare."""
        self.take("(")
        if name == "if":
            return self.if_function()
        if name == "abs":
            inner = self.sum_expression()
            self.take(")")
            return lambda record: _apply(abs, inner(record))
        if name not in ("arrayMovingSum", "arrayLast", "arraySum"):
            raise DqlError(f"function {name!r} is outside the emulated subset")
        array = self.array_argument()
        if name == "arrayMovingSum":
            self.take(",")
            size = int(self.take())
            self.take(")")
            return lambda record: _moving_sum(array(record), size)
        self.take(")")
        if name == "arrayLast":
            return lambda record: array(record)[-1] if array(record) else None
        return lambda record: sum(value for value in array(record) if value is not None)

    def if_function(self) -> Callable[[dict[str, Any]], Value]:
        condition = self.binary(("and",), self.comparison, lambda _, a, b: a and b)
        self.take(",")
        then = self.sum_expression()
        otherwise: Callable[[dict[str, Any]], Value] = lambda record: None  # noqa: E731
        if self.peek() == ",":
            self.take(",")
            self.take("else")
            self.take(":")
            otherwise = self.sum_expression()
        self.take(")")
        return lambda record: then(record) if condition(record) else otherwise(record)

    def comparison(self) -> Callable[[dict[str, Any]], bool]:
        left = self.sum_expression()
        operator = self.take()
        if operator not in COMPARISONS:
            raise DqlError(f"expected a comparison, found {operator!r}")
        right = self.sum_expression()

        def compare(record: dict[str, Any]) -> bool:
            a, b = left(record), right(record)
            if isinstance(a, list) or isinstance(b, list):
                raise DqlError("the emulated if() compares numbers, not arrays")
            return a is not None and b is not None and COMPARISONS[operator](a, b)
        return compare

    def array_argument(self) -> Callable[[dict[str, Any]], Series]:
        if self.peek(1) == "(":
            inner = self.function(self.take())
            return lambda record: _series(inner(record))
        name = self.take()
        if self.peek() == "[]":
            raise DqlError(f"an array function takes the array {name}, not the iterative expression {name}[]")
        return lambda record: _field(record, name, series=True)


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _field(record: dict[str, Any], name: str, *, series: bool) -> Value:
    if name not in record:
        raise DqlError(f"the field {name} does not exist")
    value = record[name]
    if series != isinstance(value, list):
        raise DqlError(f"{name} is {'not ' if series else ''}an array: write {name if series else name + '[]'}")
    return value


def _series(value: Value) -> Series:
    if not isinstance(value, list):
        raise DqlError("an array function needs an array")
    return value


def _apply(function: Callable[[float], float], value: Value) -> Value:
    if isinstance(value, list):
        return [None if item is None else function(item) for item in value]
    return None if value is None else function(value)


def _arithmetic(operator: str, a: float | None, b: float | None) -> float | None:
    if a is None or b is None or (operator == "/" and b == 0):
        return None
    return a + b if operator == "+" else a - b if operator == "-" else a * b if operator == "*" else a / b


def _combine(operator: str, left: Value, right: Value) -> Value:
    """Element by element; a number meets every element of a series (a null or a division by zero gives null)."""
    if not isinstance(left, list) and not isinstance(right, list):
        return _arithmetic(operator, left, right)
    length = len(left) if isinstance(left, list) else len(right)  # type: ignore[arg-type]
    lefts = left if isinstance(left, list) else [left] * length
    rights = right if isinstance(right, list) else [right] * length
    return [_arithmetic(operator, a, b) for a, b in zip(lefts, rights, strict=True)]


def _moving_sum(values: Series, size: int) -> Series:
    """Each element: the sum of the non-null values among the last ``size`` up to it (null when there are none)."""
    sums: Series = []
    total, present = 0.0, 0
    for index, value in enumerate(values):
        if value is not None:
            total, present = total + value, present + 1
        if index >= size and values[index - size] is not None:
            total, present = total - values[index - size], present - 1  # type: ignore[operator]
        sums.append(total if present else None)
    return sums
