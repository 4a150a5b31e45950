"""kong-slo: SLO tracking for every API behind Kong Gateway, deployed with Pulumi."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType

__version__ = "0.1.0"

PROVIDER_HOMES = {
    "kong_slo.dynatrace.slo": "kong_slo.dynatrace.classic.slo",
    "kong_slo.dynatrace.metric": "kong_slo.dynatrace.classic.metric",
    "kong_slo.dynatrace.settings": "kong_slo.dynatrace.settings_objects",
    "kong_slo.dynatrace.platform_slo": "kong_slo.dynatrace.platform.slo",
    "kong_slo.dynatrace.platform_settings": "kong_slo.dynatrace.platform.detectors",
}
"""Where the dynamic providers pickled into existing stacks' state by earlier kong-slo releases live now. Pulumi
stores each provider by module path and unpickles it to refresh or delete the resource, so those paths keep
resolving."""


class _ProviderHomes(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(fullname, self) if fullname in PROVIDER_HOMES else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(PROVIDER_HOMES[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The module is the one at its new home, already executed."""


if not any(isinstance(finder, _ProviderHomes) for finder in sys.meta_path):
    sys.meta_path.insert(0, _ProviderHomes())
