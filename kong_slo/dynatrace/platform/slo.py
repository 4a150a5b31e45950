"""``PlatformServiceLevelObjective``: a Latest Dynatrace SLO (``/platform/slo/v1``) as a Pulumi dynamic resource.

- identity: the ``externalId`` in the payload (unique per project, stack, API and objective). Dynatrace does not
  keep it unique, so kong-slo looks before every POST: create adopts the SLO with that ``externalId`` (updating
  it to the payload), found in one paged list of the environment's SLOs shared by all creates (``listing``) and read
  afresh by id before it is adopted; a POST whose answer was lost is recognised by a fresh list, never repeated
  blindly.
- diff: only the payload keys we send (Dynatrace fills in others), floats rounded, tags as a set. Another
  ``externalId`` or platform URL is a replacement, created before the old one is deleted.
- update and delete: with the ``version`` from the last read as ``optimistic-locking-version``. A 409 (someone
  changed the SLO, or a retried write already landed) is answered by reading again: an update whose content is
  already there is done, otherwise it is sent once more with the fresh version. Delete treats 404 as done.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from kong_slo.dynamic_resource import DynamicResource
from kong_slo.dynatrace import listing
from kong_slo.dynatrace.client import DynatraceError, OutcomeUnknown, error_message
from kong_slo.dynatrace.platform.client import PlatformClient
from kong_slo.dynatrace.platform.provider import PlatformProvider
from kong_slo.dynatrace.provider import differing_keys, normalised

LOCKED_WRITE_ATTEMPTS = 3


def _payload_check(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["payload must be an object"]
    problems = [f"payload.{key} is missing" for key in ("name", "criteria", "externalId") if not payload.get(key)]
    if ("customSli" in payload) == ("sliReference" in payload):
        problems.append("payload must hold exactly one of customSli and sliReference")
    return problems


class PlatformServiceLevelObjectiveProvider(PlatformProvider):
    """CRUD for one platform SLO; credentials from ``configure()`` (never pickled), timing knobs on the class."""

    create_attempts: ClassVar[int] = 5

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure("payload", problem) for problem in _payload_check(news.get("payload"))]
        return CheckResult(news, failures + self.platform_url_failures(news, "platform_url"))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old_payload, new_payload = olds.get("payload") or {}, news.get("payload") or {}
        changed = set(differing_keys(new_payload, old_payload)) | (set(old_payload) - set(new_payload))
        replaces = ["payload"] if "externalId" in changed else []
        if normalised(olds.get("platform_url")) != normalised(news.get("platform_url")):
            replaces.append("platform_url")
        return DiffResult(changes=bool(changed) or bool(replaces), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        payload, key = props["payload"], _listing_key(props)
        with self.client(props["platform_url"]) as client:
            existing = self._listed(client, key, payload["externalId"])
            if existing is not None:
                stored = self._converge(client, existing, payload)
                return CreateResult(stored["id"], self._outs(props, stored, adopted=True))
            stored = self._post(client, payload)
            listing.SLOS.remember(key, payload["externalId"], {"id": stored["id"], "externalId": payload["externalId"]})
        return CreateResult(stored["id"], self._outs(props, stored, adopted=False))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props["platform_url"]) as client:
            remote = client.get_platform_slo(id_)
        if remote is None:
            return ReadResult("", {})
        payload = {key: remote.get(key, value) for key, value in (props.get("payload") or {}).items()}
        inputs = {"payload": payload, "platform_url": props["platform_url"]}
        return ReadResult(id_, {**props, **inputs, "slo_id": id_, "version": remote.get("version")}, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client(news["platform_url"]) as client:
            current = {"id": id_, "version": olds.get("version")}
            if not current["version"]:
                current = self._read_existing(client, id_, news["payload"])
            stored = self._converge(client, current, news["payload"], force=True)
        return UpdateResult(self._outs(news, stored, adopted=bool(olds.get("adopted"))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props["platform_url"]) as client:
            version = props.get("version")
            for _ in range(LOCKED_WRITE_ATTEMPTS):
                if not version:
                    remote = client.get_platform_slo(id_)
                    if remote is None:
                        return
                    version = remote.get("version")
                response = client.delete_platform_slo(id_, str(version))
                if response.status_code in (200, 204, 404):
                    listing.SLOS.forget(_listing_key(props), (props.get("payload") or {}).get("externalId", ""))
                    return
                if response.status_code != 409:
                    client.expect(response, f"delete SLO {id_}", 204)
                version = None
            raise DynatraceError(f"delete SLO {id_}: it kept changing while being deleted (409 each time)", status=409)

    # -- steps --------------------------------------------------------------------------------------

    @staticmethod
    def _outs(props: dict[str, Any], stored: dict[str, Any], *, adopted: bool) -> dict[str, Any]:
        return {"payload": props["payload"], "platform_url": props["platform_url"], "slo_id": stored["id"],
                "version": stored.get("version"), "adopted": adopted}

    @staticmethod
    def _listed(client: PlatformClient, key: listing.Key, external_id: str) -> dict[str, Any] | None:
        """The SLO to adopt: looked up in the stack's shared list, then read afresh by id (only "absent" is
        trusted from a list); one the list names but that has gone since is looked for in a fresh list."""
        listed = listing.SLOS.find(key, external_id, lambda: _environment_slos(client))
        if listed is None:
            return None
        remote = client.get_platform_slo(str(listed["id"]))
        if remote is not None and remote.get("externalId") == external_id:
            return remote
        return client.find_by_external_id(external_id)

    @staticmethod
    def _read_existing(client: PlatformClient, slo_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        remote = client.get_platform_slo(slo_id)
        if remote is None:
            raise DynatraceError(f"SLO {slo_id} ({payload['name']!r}) no longer exists in Dynatrace; run "
                                 "`pulumi refresh` so the next `pulumi up` creates it again", status=404)
        return remote

    def _converge(self, client: PlatformClient, current: dict[str, Any], payload: dict[str, Any], *,
                  force: bool = False) -> dict[str, Any]:
        """Make the SLO ``current`` (id and version, maybe its content) hold ``payload``; returns it as stored."""
        if not force and not differing_keys(payload, current):
            return current
        what = f"update SLO {payload['name']!r}"
        for _ in range(LOCKED_WRITE_ATTEMPTS):
            response = client.update_platform_slo(current["id"], str(current.get("version")), payload)
            if response.status_code == 200:
                body = response.json() if response.content else {}
                return body if body.get("version") else self._read_existing(client, current["id"], payload)
            if response.status_code != 409:
                client.expect(response, what, 200)
            current = self._read_existing(client, current["id"], payload)
            if not differing_keys(payload, current):
                return current  # an earlier attempt of this write landed; its answer was lost
        raise DynatraceError(f"{what}: the SLO kept changing while being updated (409 each time)", status=409)

    def _post(self, client: PlatformClient, payload: dict[str, Any]) -> dict[str, Any]:
        what = f"create SLO {payload['name']!r}"
        for attempt in range(self.create_attempts):
            try:
                response = client.create_platform_slo(payload)
            except OutcomeUnknown as error:
                existing = client.find_by_external_id(payload["externalId"])
                if existing is not None:
                    return self._converge(client, existing, payload)
                if attempt + 1 == self.create_attempts:
                    raise DynatraceError(f"{error}; gave up after {self.create_attempts} tries without an answer "
                                         "(a later `pulumi up` adopts the SLO by externalId if one of them created "
                                         "it)", status=error.status) from None
                self.sleep(client.policy.backoff(attempt))
                continue
            if response.status_code in (200, 201):
                return response.json()
            raise DynatraceError(error_message(response, what), status=response.status_code)
        raise AssertionError("unreachable")


def _listing_key(props: dict[str, Any]) -> listing.Key:
    return normalised(props["platform_url"]).rstrip("/"), "platform-slo"


def _environment_slos(client: PlatformClient) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every SLO that carries an ``externalId``, from one paged list: the list's filter covers only id, name
    and tags, so it cannot narrow the list to one stack's ``externalId`` values."""
    for slo in client.list_platform_slos():
        if slo.get("externalId"):
            yield str(slo["externalId"]), slo


class PlatformServiceLevelObjective(DynamicResource, module="dynatrace", name="PlatformServiceLevelObjective"):
    """A Latest Dynatrace SLO. ``payload`` is ``definitions.platform_slo_payload(...)``; the platform token or
    OAuth client comes from the ``kong-slo:dynatrace`` stack config, never from inputs."""

    slo_id: pulumi.Output[str]
    version: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    """True when an SLO with the same ``externalId`` already existed and was taken over."""

    def __init__(self, name: str, *, payload: pulumi.Input[dict[str, Any]], platform_url: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PlatformServiceLevelObjectiveProvider(), name,
                         {"payload": payload, "platform_url": platform_url, "slo_id": None, "version": None,
                          "adopted": None}, opts)
