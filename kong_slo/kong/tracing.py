"""The kong.conf tracing settings kong-slo wants, named for the Kong release that reads them.

Kong 3.0 to 3.1 call them ``opentelemetry_tracing`` / ``opentelemetry_tracing_sampling_rate``; from 3.2 they are
``tracing_instrumentations`` / ``tracing_sampling_rate`` (the old names stay as deprecated aliases, and the new
name wins when both are set). ``log_level`` is the same everywhere. Values are checked the way Kong checks them,
so a refused setting never reaches a host: ``off`` stands alone, ``all`` only works as the first item, the
sampling rate lies in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kong_slo.errors import KongSloError
from kong_slo.settings import KongVersion, StackSettings

INSTRUMENTATIONS = (
    "off", "request", "all", "db_query", "dns_query", "router", "http_client", "balancer",
    "plugin_rewrite", "plugin_access", "plugin_header_filter",
)
SPAN_MAKING = ("all", "request")
"""Instrumentations that give every request its root span (``all`` only counts as the first item)."""
LOG_LEVELS = ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg")

FIRST_TRACING_RELEASE = KongVersion(3, 0)
RENAMED_IN = KongVersion(3, 2)
LOG_LEVEL_KEY = "log_level"


class TracingSettingsError(KongSloError):
    """The wanted tracing settings are not something Kong accepts; ``problems`` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class TracingSettings:
    """What kong.conf must say for Kong to trace every request. Validated on construction.

    ``kong_version`` picks the property names; ``None`` means a 3.2+ release.
    """

    instrumentations: tuple[str, ...] = ("all",)
    sampling_rate: float = 1.0
    log_level: str | None = None
    kong_version: KongVersion | None = None

    def __post_init__(self) -> None:
        problems = _instrumentation_problems(self.instrumentations)
        rate = self.sampling_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) \
                or not 0 <= rate <= 1:
            problems.append(f"sampling rate {rate!r} must be a number between 0 and 1")
        if self.log_level is not None and self.log_level not in LOG_LEVELS:
            problems.append(f"log level {self.log_level!r} is not one of {', '.join(LOG_LEVELS)}")
        if self.kong_version is not None and self.kong_version < FIRST_TRACING_RELEASE:
            problems.append(f"Kong {self.kong_version} has no tracing settings; they start with Kong 3.0")
        if problems:
            raise TracingSettingsError(problems)

    @property
    def instrumentations_key(self) -> str:
        return "opentelemetry_tracing" if self._before_rename else "tracing_instrumentations"

    @property
    def sampling_rate_key(self) -> str:
        return "opentelemetry_tracing_sampling_rate" if self._before_rename else "tracing_sampling_rate"

    @property
    def _before_rename(self) -> bool:
        return self.kong_version is not None and self.kong_version < RENAMED_IN

    def properties(self) -> dict[str, str]:
        """The kong.conf properties to set, in file order, with their values as kong.conf text."""
        wanted = {
            self.instrumentations_key: ",".join(self.instrumentations),
            self.sampling_rate_key: format_rate(self.sampling_rate),
        }
        if self.log_level is not None:
            wanted[LOG_LEVEL_KEY] = self.log_level
        return wanted

    def satisfied_by(self, key: str, value: str) -> bool:
        """Whether ``value`` (as Kong reads it from kong.conf) already means what we want for ``key``."""
        if key == self.instrumentations_key:
            return parse_instrumentations(value) == self.instrumentations
        if key == self.sampling_rate_key:
            try:
                return float(value) == float(self.sampling_rate)
            except ValueError:
                return False
        return value == self.properties().get(key)


def _instrumentation_problems(items: tuple[str, ...]) -> list[str]:
    if not items:
        return ["instrumentations must name at least one of " + ", ".join(INSTRUMENTATIONS)]
    problems = [f"invalid tracing type {item!r}; known: {', '.join(INSTRUMENTATIONS)}"
                for item in items if item not in INSTRUMENTATIONS]
    if "off" in items and len(items) > 1:
        problems.append("instrumentation 'off' must stand alone")
    if "all" in items[1:]:
        problems.append("instrumentation 'all' only takes effect as the first item")
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        problems.append(f"instrumentations listed twice: {', '.join(duplicates)}")
    return problems


def format_rate(rate: float) -> str:
    """``1`` → ``1.0``, ``0.25`` → ``0.25``: the shortest text that reads back as exactly the same number."""
    return repr(float(rate))


def parse_instrumentations(text: str) -> tuple[str, ...]:
    """A comma-separated list as kong.conf and the CLI write it: items trimmed, empty items dropped."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def tracing_for_stack(settings: StackSettings) -> TracingSettings:
    """The tracing settings a stack asks for: every request traced at ``kong.samplingRate``."""
    return TracingSettings(sampling_rate=settings.kong.sampling_rate, kong_version=settings.kong.version)


def tracing_env(tracing: TracingSettings) -> dict[str, str]:
    """The same settings as ``KONG_*`` environment variables, for Kong in a container.

    Kong does not strip ``#`` comments from environment values (3.2+), and none of these values holds one.
    """
    return {f"KONG_{key.upper()}": value for key, value in tracing.properties().items()}
