"""What every Dynatrace dynamic provider shares: the token from ``configure()``, a fresh client per call,
float-tolerant comparison, and a pickled form that never carries the token."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider

from kong_slo.dynatrace.client import DEFAULT_POLICY, ENVIRONMENT_API_PATH, DynatraceClient, DynatraceError, api_base
from kong_slo.dynatrace.credentials import resolve_token, token_from_config

FLOAT_DIGITS = 4
"""Dynatrace returns 99.9 as 99.9000015…; values are compared after rounding to this many decimals."""


def normalised(value: Any) -> Any:
    """``value`` with floats rounded, integral floats made ints and strings stripped, recursively."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float | int):
        rounded = round(float(value), FLOAT_DIGITS)
        return int(rounded) if rounded.is_integer() else rounded
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return {key: normalised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalised(item) for item in value]
    return value


def differing_keys(wanted: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Keys of ``wanted`` whose value ``actual`` does not match; nested dicts compare only the keys we set,
    because Dynatrace fills in defaults for the rest."""
    changed = []
    for key, value in wanted.items():
        if not _matches(value, actual.get(key)):
            changed.append(key)
    return changed


def _matches(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, Mapping) and isinstance(actual, Mapping):
        return not differing_keys(wanted, actual)
    if isinstance(wanted, list | tuple) and isinstance(actual, list | tuple):
        if len(wanted) != len(actual):
            return False
        if all(isinstance(item, str) for item in [*wanted, *actual]):
            return sorted(normalised(list(wanted))) == sorted(normalised(list(actual)))  # sets in Dynatrace
        return all(_matches(w, a) for w, a in zip(wanted, actual, strict=True))
    return normalised(wanted) == normalised(actual)


class DynatraceProvider(ResourceProvider):
    """Base for the Dynatrace providers. Holds no state but the token set in ``configure()``, which
    ``__getstate__`` drops, so the pickled provider is the same bytes in every run and never a secret."""

    serialize_as_secret_always = False
    retry_policy = DEFAULT_POLICY
    api_path: ClassVar[str] = ENVIRONMENT_API_PATH
    """Which API of the environment the provider's client speaks to."""

    def configure(self, req: ConfigureRequest) -> None:
        self._token = token_from_config(req.config)

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_token"}

    @staticmethod
    def environment_url_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
        """``check()``'s verdict on the ``environment_url`` input (the API base it must lead to)."""
        try:
            api_base(str(news.get("environment_url") or ""))
        except DynatraceError as error:
            return [CheckFailure("environment_url", str(error))]
        return []

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def client(self, environment_url: str) -> DynatraceClient:
        token = resolve_token(getattr(self, "_token", None))
        return DynatraceClient(environment_url, token, policy=dataclasses.replace(self.retry_policy, sleep=self.sleep),
                               api_path=self.api_path)
