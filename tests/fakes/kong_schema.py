"""The ``opentelemetry`` plugin schema as the Kong emulator enforces it, per version mode.

Each mode accepts exactly its version's config fields, fills Kong's defaults on write (record defaults
only when the record is omitted), returns every unset leaf as null, and answers violations with the
``fields`` shape Kong uses (nested under the record, entity checks under ``@entity``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MODES = ("3.0", "3.4", "3.7", "3.9", "3.12")
RELEASES = {"3.0": "3.0.2", "3.4": "3.4.2", "3.7": "3.7.1", "3.9": "3.9.1", "3.12": "3.12.0.1"}
ENTERPRISE_MODES = frozenset({"3.12"})
PROTOCOLS = ("grpc", "grpcs", "http", "https")
UNSET = object()


@dataclass(frozen=True)
class Field:
    kind: str  # url | string | integer | number | boolean | map | record | array | enum
    default: Any = None
    required: bool = False
    between: tuple[float, float] | None = None
    one_of: tuple[Any, ...] = ()
    fields: dict[str, Field] = field(default_factory=dict)
    record_default: dict[str, Any] | None = None


def _int(default: Any = None, **extra: Any) -> Field:
    return Field("integer", default, **extra)


def _num(default: Any = None, **extra: Any) -> Field:
    return Field("number", default, **extra)


TIMEOUT = (0, 2147483646)


def _queue(mode: str) -> Field:
    subfields = {
        "max_batch_size": _int(1, between=(1, 1_000_000)),
        "max_coalescing_delay": _num(1, between=(0, 3600)),
        "max_entries": _int(10000, between=(1, 1_000_000)),
        "max_bytes": _int(None),
        "max_retry_time": _num(60),
        "initial_retry_delay": _num(0.01, between=(0.001, 1_000_000)),
        "max_retry_delay": _num(60, between=(0.001, 1_000_000)),
    }
    if mode in ("3.9", "3.12"):
        subfields["concurrency_limit"] = _int(1, one_of=(-1, 1))
    record_default = None if mode == "3.4" else {"max_batch_size": 200}
    return Field("record", required=True, fields=subfields, record_default=record_default)


def _propagation(formats: tuple[str, ...]) -> Field:
    return Field("record", required=True, record_default={"default_format": "w3c"}, fields={
        "extract": Field("array", one_of=tuple(f for f in formats if f != "b3-single")),
        "clear": Field("array"),
        "inject": Field("array", one_of=("preserve", *formats)),
        "default_format": Field("enum", required=True, one_of=formats),
    })


def config_fields(mode: str) -> dict[str, Field]:
    """The config fields of one version mode, in Kong's order."""
    formats = ("w3c", "b3", "b3-single", "jaeger", "ot", "datadog", "aws", "gcp")
    if mode == "3.12":
        formats = (*formats, "instana")
    header_types = ("preserve", "ignore", *formats) if mode != "3.4" else (
        "preserve", "ignore", "b3", "b3-single", "w3c", "jaeger", "ot", "aws")
    fields: dict[str, Field] = {}
    if mode in ("3.9", "3.12"):
        fields["traces_endpoint"] = Field("url")
        fields["logs_endpoint"] = Field("url")
    else:
        fields["endpoint"] = Field("url", required=True)
    fields["headers"] = Field("map")
    fields["resource_attributes"] = Field("map")
    if mode == "3.0":
        fields["batch_span_count"] = _int(200, required=True)
        fields["batch_flush_delay"] = _int(3, required=True)
    else:
        fields["queue"] = _queue(mode)
        fields["batch_span_count"] = _int(None)
        fields["batch_flush_delay"] = _int(None)
    fields["connect_timeout"] = _int(1000, between=TIMEOUT)
    fields["send_timeout"] = _int(5000, between=TIMEOUT)
    fields["read_timeout"] = _int(5000, between=TIMEOUT)
    if mode != "3.0":
        fields["http_response_header_for_traceid"] = Field("string")
        fields["header_type"] = Field("enum", "preserve", one_of=header_types)
    if mode in ("3.7", "3.9", "3.12"):
        fields["sampling_rate"] = _num(None, between=(0, 1))
        fields["propagation"] = _propagation(formats)
    if mode == "3.12":
        fields["sampling_strategy"] = Field("enum", "parent_drop_probability_fallback", required=True,
                                            one_of=("parent_drop_probability_fallback", "parent_probability_fallback"))
    return fields


def scoped_plugins(mode: str) -> bool:
    """3.0 to 3.1 run the plugin globally only."""
    return mode != "3.0"


def has_instance_name(mode: str) -> bool:
    return mode != "3.0"


def traces_key(mode: str) -> str:
    """The config field holding the traces URL: ``traces_endpoint`` from 3.8 (3.9 mode), ``endpoint`` before."""
    return "traces_endpoint" if mode in ("3.9", "3.12") else "endpoint"


def config_shorthands(mode: str) -> tuple[str, ...]:
    return ("endpoint",) if mode in ("3.9", "3.12") else ()


def expand_config(mode: str, config: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Kong's stored config for ``config`` (defaults filled, unset leaves null) and the ``fields`` errors."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        return {}, {"config": "expected a record"}
    config = dict(config)
    if "endpoint" in config and "endpoint" in config_shorthands(mode):
        endpoint = config.pop("endpoint")
        if config.get("traces_endpoint") is None:
            config["traces_endpoint"] = endpoint
    out, errors = _record(config_fields(mode), config)
    if not errors and mode in ("3.9", "3.12") and out["traces_endpoint"] is None and out["logs_endpoint"] is None:
        errors["@entity"] = ["at least one of these fields must be non-empty: 'traces_endpoint', 'logs_endpoint'"]
    return out, errors


def _record(fields: dict[str, Field], given: dict[str, Any]) -> tuple[dict, dict]:
    out: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name in given:
        if name not in fields:
            errors[name] = "unknown field"
    for name, spec in fields.items():
        value = given.get(name, UNSET)
        if spec.kind == "record":
            if value is UNSET or value is None:
                value = dict(spec.record_default or {})
            if not isinstance(value, dict):
                errors[name] = "expected a record"
                continue
            out[name], nested = _record(spec.fields, value)
            if nested:
                errors[name] = nested
            continue
        if value is UNSET or value is None:
            if spec.required and spec.default is None:
                errors[name] = "required field missing"
            out[name] = spec.default
            continue
        problem = _leaf_problem(spec, value)
        if problem:
            errors[name] = problem
        out[name] = value
    return out, errors


def _leaf_problem(spec: Field, value: Any) -> str | None:
    kind = spec.kind
    if kind in ("string", "url", "enum") and not isinstance(value, str):
        return "expected a string"
    if kind == "url":
        parts = urlsplit(value)
        if not parts.scheme:
            return "missing scheme in url"
        if not parts.hostname:
            return "missing host in url"
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return "expected an integer"
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return "expected a number"
    if kind == "map":
        if not isinstance(value, dict):
            return "expected a map"
        if any(not isinstance(v, str) or not v for v in value.values()):
            return "length must be at least 1"
    if kind == "array":
        if not isinstance(value, list):
            return "expected an array"
        bad = [item for item in value if spec.one_of and item not in spec.one_of]
        if bad:
            return f"expected one of: {', '.join(spec.one_of)}"
    if kind in ("enum", "integer") and spec.one_of and value not in spec.one_of:
        return f"expected one of: {', '.join(str(choice) for choice in spec.one_of)}"
    if spec.between and isinstance(value, int | float) and not spec.between[0] <= value <= spec.between[1]:
        low, high = spec.between
        return f"value should be between {low:g} and {high:g}"
    return None


def flatten(errors: dict[str, Any], prefix: str = "") -> list[str]:
    """``config.foo: unknown field`` lines, as Kong joins them into its ``message``."""
    lines = []
    for key, value in errors.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += flatten(value, f"{path}.")
        elif isinstance(value, list):
            lines += [f"{path}: {item}" for item in value]
        else:
            lines.append(f"{path}: {value}")
    return lines
