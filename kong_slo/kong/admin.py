"""A small client for Kong's Admin API: plugins in a service or route scope, and node information.

One ``KongAdmin`` lives for one provider call (``with KongAdmin(...) as kong:``); its ``requests`` session
is opened and closed there, so nothing network-related is ever pickled. Every request has a timeout;
429 (honouring ``Retry-After``), 502/503/504 and connection errors are retried. Errors quote Kong's
``message`` and ``fields`` and never the admin token.
"""

from __future__ import annotations

import json
import math
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from kong_slo.http import ApiError, RetryPolicy, send, what_came_back
from kong_slo.kong.declarative import FILE_NAME as DB_LESS_FILE
from kong_slo.settings.model import KongVersion

TOKEN_HEADER = "Kong-Admin-Token"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
PAGE_SIZE = 1000
SCOPE_PATHS = {"service": "services", "route": "routes"}
RESTART_WAIT_SECONDS = 120.0
RESTART_POLL_SECONDS = 2.0
DEFAULT_WORKSPACE = "default"
"""Reached without a path prefix: on Enterprise that is the default workspace, and OSS knows no prefixes."""


def workspace_prefix(workspace: str | None) -> str:
    """The path prefix of an Enterprise workspace: ``/payments``; empty for none and for ``default``."""
    return f"/{_segment(workspace)}" if workspace and workspace != DEFAULT_WORKSPACE else ""


class KongAdminError(ApiError):
    """Kong answered with an error; ``code`` is Kong's error code (2 schema, 5 unique, 12 DB-less …)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message, status=status, body=body)
        self.code = body.get("code") if isinstance(body, dict) else None


class KongAdmin:
    """The Admin API at ``base_url`` (any base: ``http://127.0.0.1:8001``, ``https://host/admin-prefix``),
    optionally inside an Enterprise ``workspace`` and with an RBAC ``token``. Credentials written into
    ``base_url`` (``https://user:password@host``) are used but never shown in messages.
    """

    def __init__(self, base_url: str, *, workspace: str | None = None, token: str | None = None,
                 ca_bundle: str | None = None, policy: RetryPolicy | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.workspace = workspace
        self._token = token
        self._verify: bool | str = ca_bundle or True
        self._policy = policy or RetryPolicy()
        self._session: requests.Session | None = None

    def __enter__(self) -> KongAdmin:
        session = requests.Session()
        session.headers["Accept"] = "application/json"
        if self._token:
            session.headers[TOKEN_HEADER] = self._token
        session.verify = self._verify
        self._session = session
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __repr__(self) -> str:
        return f"KongAdmin({_shown(self.base_url)!r}, workspace={self.workspace!r})"

    @property
    def shown_url(self) -> str:
        """``base_url`` without any credentials written into it, for messages."""
        return _shown(self.base_url)

    # -- node --------------------------------------------------------------------------------------------

    def node_info(self) -> dict[str, Any]:
        """``GET /``: version, edition, configuration (``database`` tells DB-less)."""
        return self._call("GET", "/", workspace=False)

    def wait_until_answering(self, seconds: float = RESTART_WAIT_SECONDS) -> dict[str, Any]:
        """``node_info`` once Kong answers: right after kong.conf is patched, Kong may still be restarting.
        Connection errors and 502/503/504 are waited out for about ``seconds``; other errors raise at once."""
        rounds = max(1, math.ceil(seconds / RESTART_POLL_SECONDS))
        for round_ in range(rounds):
            try:
                return self.node_info()
            except ApiError as error:
                if error.status not in (None, *RETRY_STATUSES) or round_ + 1 == rounds:
                    raise KongAdminError(f"Kong at {_shown(self.base_url)} did not answer within {seconds:g} s "
                                         f"(a restart after the kong.conf patch takes longer?): {error}",
                                         status=error.status, body=getattr(error, "body", None)) from error
                self._policy.sleep(RESTART_POLL_SECONDS)
        raise AssertionError("unreachable")

    def version(self, info: dict[str, Any] | None = None) -> KongVersion:
        """Kong's version from ``info`` (a ``node_info`` answer), or from asking."""
        text = (info if info is not None else self.node_info()).get("version")
        try:
            return KongVersion.parse(str(text))
        except ValueError as error:
            raise KongAdminError(f"Kong at {_shown(self.base_url)} reported version {text!r}: {error}") from error

    # -- plugins -----------------------------------------------------------------------------------------

    def get_plugin(self, plugin_id: str) -> dict[str, Any] | None:
        """The plugin, or None when Kong has no plugin with that id."""
        return self._call("GET", f"/plugins/{_segment(plugin_id)}", missing_ok=True)

    def scope_plugins(self, scope_kind: str, scope: str) -> list[dict[str, Any]]:
        """Every plugin attached to a service or route (all pages). Kong ignores ``tags`` here."""
        try:
            return self._list(f"/{_scope_path(scope_kind)}/{_segment(scope)}/plugins")
        except KongAdminError as error:
            if error.status != 404:
                raise
            raise self.missing_scope(scope_kind, scope, error.body) from error

    def missing_scope(self, scope_kind: str, scope: str, body: Any = None) -> KongAdminError:
        """The error naming a service or route this Kong does not have."""
        where = f" in workspace {self.workspace!r}" if self.workspace else ""
        return KongAdminError(f"Kong at {_shown(self.base_url)} has no {scope_kind} named {scope!r}{where}: "
                              "create it first, or correct the API's name or route in the stack", status=404,
                              body=body)

    def plugins(self, tags: list[str] | None = None) -> list[dict[str, Any]]:
        """Every plugin of the workspace, optionally only those carrying all ``tags``."""
        params = {"tags": ",".join(tags)} if tags else {}
        return self._list("/plugins", params)

    def put_plugin(self, scope_kind: str, scope: str, plugin_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or fully replace the plugin ``plugin_id`` in a service or route scope (idempotent)."""
        path = f"/{_scope_path(scope_kind)}/{_segment(scope)}/plugins/{_segment(plugin_id)}"
        return self._call("PUT", path, json=body)

    def delete_plugin(self, plugin_id: str) -> None:
        """Delete; Kong answers 204 whether or not it existed, and a 404 means done as well."""
        self._call("DELETE", f"/plugins/{_segment(plugin_id)}", missing_ok=True)

    # -- services and routes -----------------------------------------------------------------------------

    def get_service(self, name_or_id: str) -> dict[str, Any] | None:
        return self._call("GET", f"/services/{_segment(name_or_id)}", missing_ok=True)

    def get_route(self, name_or_id: str) -> dict[str, Any] | None:
        return self._call("GET", f"/routes/{_segment(name_or_id)}", missing_ok=True)

    def service_routes(self, service: str) -> list[dict[str, Any]]:
        """Every route of a service (all pages)."""
        return self._list(f"/services/{_segment(service)}/routes")

    # (the writes below set up and tear down throwaway entities)

    def put_service(self, name: str, url: str, tags: list[str] | None = None) -> dict[str, Any]:
        return self._call("PUT", f"/services/{_segment(name)}", json={"url": url, "tags": tags or []})

    def put_route(self, name: str, service: str, paths: list[str], tags: list[str] | None = None) -> dict[str, Any]:
        body = {"paths": paths, "tags": tags or []}
        return self._call("PUT", f"/services/{_segment(service)}/routes/{_segment(name)}", json=body)

    def services(self) -> list[dict[str, Any]]:
        """Every service of the workspace (all pages)."""
        return self._list("/services")

    def routes(self) -> list[dict[str, Any]]:
        """Every route of the workspace (all pages); each names its service as ``{"id": …}``."""
        return self._list("/routes")

    def delete_service(self, name: str) -> None:
        self._call("DELETE", f"/services/{_segment(name)}", missing_ok=True)

    def delete_route(self, name: str) -> None:
        self._call("DELETE", f"/routes/{_segment(name)}", missing_ok=True)

    # -- plumbing ----------------------------------------------------------------------------------------

    def _url(self, path: str, workspace: bool = True) -> str:
        return f"{self.base_url}{workspace_prefix(self.workspace) if workspace else ''}{path}"

    def _list(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {**(params or {}), "size": PAGE_SIZE}
        while True:
            page = self._call("GET", path, params=query)
            items.extend(page.get("data") or [])
            offset = page.get("offset")
            if not offset or not page.get("next"):
                return items
            query = {**query, "offset": offset}

    def _call(self, method: str, path: str, *, workspace: bool = True, missing_ok: bool = False,
              **kwargs: Any) -> Any:
        if self._session is None:
            raise RuntimeError("use KongAdmin as a context manager: `with KongAdmin(...) as kong:`")
        url = self._url(path, workspace)
        label = f"{method} {_shown(url)}"
        response = send(self._session, method, url, policy=self._policy,
                        retry_statuses=RETRY_STATUSES, describe=label, **kwargs)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise _error(label, response)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as error:
            raise KongAdminError(f"{label}: Kong answered {response.status_code} with a body that is not JSON",
                                 status=response.status_code) from error


def _segment(value: str | None) -> str:
    return quote(str(value), safe="")


def _shown(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _scope_path(scope_kind: str) -> str:
    try:
        return SCOPE_PATHS[scope_kind]
    except KeyError:
        raise ValueError(f"scope kind {scope_kind!r} is not one of {', '.join(SCOPE_PATHS)}") from None


def _error(label: str, response: requests.Response) -> KongAdminError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    status = response.status_code
    message = body.get("message") if isinstance(body, dict) else None
    code = body.get("code") if isinstance(body, dict) else None
    if status == 405 and code == 12:
        text = (f"{label}: this Kong runs without a database (DB-less, code 12) and its Admin API cannot "
                f"change plugins, nor does decK manage it. Add the opentelemetry plugins of {DB_LESS_FILE} (`kong-slo "
                "render` writes it, in Kong's declarative format) to the declarative configuration that defines the "
                "services and load it (declarative_config, or POST /config); in hybrid mode point kong.adminUrl at "
                "the control plane")
    elif status == 401:
        text = (f"{label}: Kong refused the request (401: {message or 'unauthorised'}); set the RBAC token with "
                "`pulumi config set --secret --path kong-slo:kong.adminToken …`")
    elif status == 403:
        text = f"{label}: the admin token may not do this (403: {message or 'forbidden'})"
    else:
        text = f"{label}: Kong answered {status}"
        if code is not None:
            text += f" (code {code}, {body.get('name')})"
        if message:
            text += f": {message}"
        if isinstance(body, dict) and body.get("fields"):
            text += f"; fields: {json.dumps(body['fields'], sort_keys=True)}"
        if body is None and response.text:
            text += f": {what_came_back(response)}"
    return KongAdminError(text, status=status, body=body)
