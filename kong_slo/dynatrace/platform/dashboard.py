"""``PlatformDashboard``: a stack's Latest Dynatrace dashboard, a document of type ``dashboard`` in the Documents
API (``/platform/document/v1``), as Dynatrace's own configuration-as-code client calls it
(Dynatrace/dynatrace-configuration-as-code-core ``clients/documents``):

- identity: the document's ``externalId`` (project and stack); create lists the stack's dashboards
  (``filter=externalId == '…'``) and adopts the one carrying it, rewriting it only where it differs. A POST whose
  answer was lost is looked up the same way before it is ever sent again.
- create: ``POST /documents`` (multipart form: ``name``, ``type``, ``isPrivate``, ``externalId``, ``content``).
- update: ``PATCH /documents/{id}?optimistic-locking-version=<version>`` (multipart: ``name``, ``content``); a 409
  (changed meanwhile) reads the version again and retries, a bounded number of times.
- diff: the content's keys kong-slo sets, and the name. Another ``externalId`` or URL is a replacement.
- delete: ``DELETE /documents/{id}?optimistic-locking-version=…`` moves it to the trash, then
  ``DELETE /trash/documents/{id}`` removes it for good; 404 on either is done.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from kong_slo.dynamic_resource import DynamicResource, is_known
from kong_slo.dynatrace.client import DynatraceError, OutcomeUnknown, error_message
from kong_slo.dynatrace.platform.client import PlatformClient
from kong_slo.dynatrace.platform.provider import PlatformProvider
from kong_slo.dynatrace.provider import differing_keys, normalised
from kong_slo.http import whole_numbers_as_integers

DOCUMENT_API_PATH = "/platform/document/v1"
DOCUMENT_SCOPES = ("document:documents:read", "document:documents:write", "document:documents:delete",
                   "document:trash.documents:delete")
LOCKED_WRITE_ATTEMPTS = 3
IDENTITY = ("external_id", "platform_url")


def _form(name: str, content: dict[str, Any], external_id: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": (None, name), "type": (None, "dashboard"), "isPrivate": (None, "false")}
    if external_id:
        fields["externalId"] = (None, external_id)
    fields["content"] = (name, json.dumps(whole_numbers_as_integers(content)), "application/json")
    return fields


def find_document(client: PlatformClient, external_id: str) -> dict[str, Any] | None:
    """The metadata of the dashboard document carrying ``external_id``, or None."""
    escaped = external_id.replace("'", "\\'")
    params: dict[str, Any] = {"filter": f"type == 'dashboard' and externalId == '{escaped}'"}
    what = f"list dashboards {external_id!r}"
    while True:
        body = client.expect(client.request("GET", "/documents", params=params, what=what), what, 200).json()
        for document in body.get("documents") or []:
            if document.get("externalId") == external_id:
                return document
        if not body.get("nextPageKey"):
            return None
        params = {"page-key": body["nextPageKey"]}


def document_path(document_id: str) -> str:
    return f"/documents/{quote(document_id, safe='')}"


def read_metadata(client: PlatformClient, document_id: str) -> dict[str, Any] | None:
    """The document's metadata (its version among them), or None when it does not exist."""
    return client.read_or_none(f"{document_path(document_id)}/metadata", what=f"read dashboard {document_id}")


def read_document(client: PlatformClient, document_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(metadata, content) of the document, or None when it does not exist."""
    metadata = read_metadata(client, document_id)
    if metadata is None:
        return None
    what = f"read dashboard {document_id}"
    content = client.expect(client.request("GET", f"{document_path(document_id)}/content", what=what), what, 200)
    try:
        return metadata, content.json()
    except ValueError:
        return metadata, {}


class PlatformDashboardProvider(PlatformProvider):
    """CRUD for one dashboard document; credentials from ``configure()`` (never pickled)."""

    api_path: ClassVar[str] = DOCUMENT_API_PATH
    scopes: ClassVar[tuple[str, ...]] = DOCUMENT_SCOPES

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        for key in ("name", "external_id"):
            if not isinstance(news.get(key), str) or not news[key]:
                failures.append(CheckFailure(key, f"{key} must be a non-empty string"))
        if is_known(news.get("content")) and not isinstance(news.get("content"), dict):
            failures.append(CheckFailure("content", "content must be an object"))
        return CheckResult(news, failures + self.platform_url_failures(news, "platform_url"))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in IDENTITY if normalised(olds.get(key)) != normalised(news.get(key))]
        old, new = olds.get("content") or {}, news.get("content") or {}
        changed = (not is_known(new) or olds.get("name") != news.get("name")
                   or bool(differing_keys(new, old) or set(old) - set(new)))
        return DiffResult(changes=changed or bool(replaces), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.client(props["platform_url"]) as client:
            existing = find_document(client, props["external_id"])
            if existing is not None:
                version = self._converge(client, str(existing["id"]), props)
                return CreateResult(str(existing["id"]), {**props, "version": version, "adopted": True})
            document_id, version = self._post(client, props)
        return CreateResult(document_id, {**props, "version": version, "adopted": False})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props["platform_url"]) as client:
            found = read_document(client, id_)
        if found is None:
            return ReadResult("", {})
        metadata, remote = found
        content = {key: remote.get(key, value) for key, value in (props.get("content") or {}).items()}
        inputs = {key: props[key] for key in IDENTITY} | {"content": content, "name": metadata.get("name")}
        return ReadResult(id_, {**props, **inputs, "version": str(metadata.get("version"))}, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client(news["platform_url"]) as client:
            version = self._converge(client, id_, news, force=True)
        return UpdateResult({**news, "version": version, "adopted": bool(olds.get("adopted"))})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props["platform_url"]) as client:
            for _ in range(LOCKED_WRITE_ATTEMPTS):
                metadata = read_metadata(client, id_)
                if metadata is None:
                    break
                response = client.request("DELETE", document_path(id_),
                                          params={"optimistic-locking-version": metadata["version"]},
                                          what=f"delete dashboard {id_}")
                if response.status_code in (200, 204, 404):
                    break
                if response.status_code != 409:
                    client.expect(response, f"delete dashboard {id_}", 204)
            else:
                raise DynatraceError(f"delete dashboard {id_}: it kept changing (409 each time)", status=409)
            what = f"empty dashboard {id_} from the trash"
            response = client.request("DELETE", f"/trash{document_path(id_)}", what=what)
            if response.status_code != 404:
                client.expect(response, what, 204, 200)

    def _converge(self, client: PlatformClient, document_id: str, props: dict[str, Any], *,
                  force: bool = False) -> str:
        """Make the document hold ``props``' name and content; returns its version afterwards."""
        what = f"update dashboard {props['name']!r}"
        for _ in range(LOCKED_WRITE_ATTEMPTS):
            found = read_document(client, document_id)
            if found is None:
                raise DynatraceError(f"dashboard {document_id} no longer exists; run `pulumi refresh` so the next "
                                     "`pulumi up` creates it again", status=404)
            metadata, content = found
            if metadata.get("name") == props["name"] and not differing_keys(props["content"], content) \
                    and (not force or not set(content) - set(props["content"])):
                return str(metadata.get("version"))
            response = client.request("PATCH", document_path(document_id),
                                      params={"optimistic-locking-version": metadata["version"]},
                                      files=_form(props["name"], props["content"]), what=what)
            if response.status_code == 200:
                return str(((response.json() or {}).get("documentMetadata") or {}).get("version"))
            if response.status_code != 409:
                client.expect(response, what, 200)
        raise DynatraceError(f"{what}: it kept changing while being updated (409 each time)", status=409)

    def _post(self, client: PlatformClient, props: dict[str, Any]) -> tuple[str, str]:
        """Create the document; (id, version). A POST whose answer was lost is looked up before it is sent again."""
        what = f"create dashboard {props['name']!r}"
        for attempt in range(client.policy.attempts):
            try:
                response = client.post_once("/documents", None, what=what,
                                            files=_form(props["name"], props["content"], props["external_id"]))
            except OutcomeUnknown:
                existing = find_document(client, props["external_id"])
                if existing is not None:
                    return str(existing["id"]), self._converge(client, str(existing["id"]), props)
                if attempt + 1 == client.policy.attempts:
                    raise
                self.sleep(client.policy.backoff(attempt))
                continue
            if response.status_code in (200, 201):
                metadata = response.json()
                return str(metadata["id"]), str(metadata.get("version"))
            raise DynatraceError(error_message(response, what), status=response.status_code)
        raise AssertionError("unreachable")


class PlatformDashboard(DynamicResource, module="dynatrace", name="PlatformDashboard"):
    """A stack's Latest Dynatrace dashboard. ``content`` is ``dashboard_content.platform_dashboard(...)``."""

    version: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(self, name: str, *, document_name: str, external_id: str, content: pulumi.Input[dict[str, Any]],
                 platform_url: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PlatformDashboardProvider(), name,
                         {"name": document_name, "external_id": external_id, "content": content,
                          "platform_url": platform_url, "version": None, "adopted": None}, opts)
