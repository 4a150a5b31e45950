"""What the platform providers share: credentials from ``configure()`` (a platform token or an OAuth client,
never pickled), a Bearer token per operation, and a client for one platform API on the ``apps`` host."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from pulumi.dynamic import CheckFailure, ConfigureRequest

from kong_slo.dynatrace.client import DynatraceError
from kong_slo.dynatrace.platform.client import SLO_API_PATH, PlatformClient, platform_base
from kong_slo.dynatrace.platform.credentials import SLO_SCOPES, credentials_from_config, resolve_credentials
from kong_slo.dynatrace.provider import DynatraceProvider


class PlatformProvider(DynatraceProvider):
    """Base for providers of platform objects. ``api_path`` and ``scopes`` say which API and what it needs."""

    api_path: ClassVar[str] = SLO_API_PATH
    scopes: ClassVar[tuple[str, ...]] = SLO_SCOPES

    def configure(self, req: ConfigureRequest) -> None:
        self._credentials = credentials_from_config(req.config)

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key not in ("_token", "_credentials")}

    def client(self, platform_url: str) -> PlatformClient:  # type: ignore[override]
        policy = dataclasses.replace(self.retry_policy, sleep=self.sleep)
        credentials = resolve_credentials(getattr(self, "_credentials", None))
        self._credentials = credentials
        return PlatformClient(platform_url, credentials.bearer(policy, self.scopes), policy=policy,
                              api_path=self.api_path)

    @staticmethod
    def platform_url_failures(news: Mapping[str, Any], key: str) -> list[CheckFailure]:
        try:
            platform_base(str(news.get(key) or ""))
        except DynatraceError as error:
            return [CheckFailure(key, str(error))]
        return []
