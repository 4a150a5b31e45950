"""One Settings 2.0 object in the environment scope, found again by its ``externalId``: the lifecycle both
Dynatrace flavours use for alerting profiles, notifications, metric events and Davis anomaly detectors.

A create looks for an object of the schema carrying the ``externalId`` (one paged list per stack and schema) and
takes it over instead of adding a second one; a POST whose answer was lost is looked up again before any retry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from kong_slo.dynamic_resource import DynamicResource, is_known
from kong_slo.dynatrace import listing
from kong_slo.dynatrace.client import DynatraceClient, DynatraceError, OutcomeUnknown, error_message
from kong_slo.dynatrace.provider import DynatraceProvider, differing_keys, normalised

EXTERNAL_ID_MAX = 500
TRANSIENT_ERRORS = re.compile(r"metric selector|func:slo|does not exist yet", re.IGNORECASE)


def external_id(project: str, stack: str, kind: str, name: str = "") -> str:
    text = ":".join(part for part in (project, stack, kind, name) if part)
    return text[:EXTERNAL_ID_MAX]


class SettingsObjectProvider(DynatraceProvider):
    """CRUD for one environment-scoped Settings 2.0 object identified by ``externalId``."""

    create_attempts: ClassVar[int] = 30
    create_retry_delay: ClassVar[float] = 2.0

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        for key in ("schema_id", "external_id"):
            if not isinstance(news.get(key), str) or not news[key]:
                failures.append(CheckFailure(key, f"{key} must be a non-empty string"))
        if is_known(news.get("value")) and not isinstance(news.get("value"), dict):
            failures.append(CheckFailure("value", "value must be an object"))
        failures += self.environment_url_failures(news)
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in ("schema_id", "external_id", "environment_url")
                    if normalised(olds.get(key)) != normalised(news.get(key))]
        old_value, new_value = olds.get("value") or {}, news.get("value") or {}
        # In ``pulumi preview`` a value computed from a resource being created or updated is not known: a change.
        value_changed = (not is_known(new_value)
                         or bool(differing_keys(new_value, old_value) or set(old_value) - set(new_value)))
        return DiffResult(changes=value_changed or bool(replaces), replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        schema_id, ext_id, value, key = props["schema_id"], props["external_id"], props["value"], _listing_key(props)
        with self.client(props["environment_url"]) as client:
            listed = listing.SETTINGS.find(key, ext_id, lambda: _stack_objects(client, schema_id, ext_id))
            existing = client.find_settings(schema_id, ext_id) if listed is not None else None  # confirm afresh
            if existing is not None:
                object_id = self._adopt(client, existing, value)
                return CreateResult(object_id, {**props, "object_id": object_id, "adopted": True})
            object_id = self._post(client, schema_id, ext_id, value)
            listing.SETTINGS.remember(key, ext_id, {"objectId": object_id, "externalId": ext_id})
        return CreateResult(object_id, {**props, "object_id": object_id, "adopted": False})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props["environment_url"]) as client:
            remote = client.get_settings(id_)
        if remote is None:
            return ReadResult("", {})
        remote_value = remote.get("value") or {}
        value = {key: remote_value.get(key, wanted) for key, wanted in (props.get("value") or {}).items()}
        inputs = {key: props[key] for key in ("schema_id", "external_id", "environment_url")} | {"value": value}
        return ReadResult(id_, {**props, **inputs, "object_id": id_}, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with self.client(news["environment_url"]) as client:
            try:
                client.update_settings(id_, news["value"])
            except DynatraceError as error:
                if error.status == 404:
                    raise DynatraceError(f"{news['schema_id']} {news['external_id']!r} ({id_}) no longer exists; "
                                         "run `pulumi refresh` so the next `pulumi up` creates it again",
                                         status=404) from None
                raise
        return UpdateResult({**news, "object_id": id_, "adopted": bool(olds.get("adopted"))})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props["environment_url"]) as client:
            client.delete_settings(id_)
        listing.SETTINGS.forget(_listing_key(props), props.get("external_id", ""))

    @staticmethod
    def _adopt(client: DynatraceClient, existing: dict[str, Any], value: dict[str, Any]) -> str:
        object_id = str(existing["objectId"])
        if differing_keys(value, existing.get("value") or {}):
            client.update_settings(object_id, value)
        return object_id

    def _post(self, client: DynatraceClient, schema_id: str, ext_id: str, value: dict[str, Any]) -> str:
        unknown = 0
        for attempt in range(self.create_attempts):
            try:
                return _post_once(client, schema_id, ext_id, value)
            except OutcomeUnknown as error:
                failure, unknown = error, unknown + 1
                retry, delay = unknown < client.policy.attempts, client.policy.backoff(unknown)
            except DynatraceError as error:
                # A new SLO's func: metrics take a while to appear; until then the selector is refused.
                failure, retry, delay = error, bool(TRANSIENT_ERRORS.search(str(error))), self.create_retry_delay
            # Applied without an answer, or refused because an earlier POST was: the object carrying our
            # externalId is ours. Looking before every new POST is what keeps it single.
            existing = client.find_settings(schema_id, ext_id)
            if existing is not None:
                return self._adopt(client, existing, value)
            if not retry or attempt + 1 == self.create_attempts:
                raise failure
            self.sleep(delay)
        raise AssertionError("unreachable")


def _listing_key(props: dict[str, Any]) -> tuple[str, ...]:
    return (normalised(props["environment_url"]).rstrip("/"), props["schema_id"],
            listing.external_id_prefix(props["external_id"]))


def _stack_objects(client: DynatraceClient, schema_id: str, ext_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The stack's objects of ``schema_id`` by ``externalId``, from one paged list of the schema."""
    prefix = listing.external_id_prefix(ext_id)
    for item in client.list_settings(schema_id):
        if str(item.get("externalId") or "").startswith(prefix):
            yield str(item["externalId"]), item


def _post_once(client: DynatraceClient, schema_id: str, ext_id: str, value: dict[str, Any]) -> str:
    """The new object's id; raises ``DynatraceError`` with Dynatrace's reasons (``OutcomeUnknown``: no answer)."""
    what = f"create {schema_id} {ext_id!r}"
    response = client.create_settings(schema_id, ext_id, value)
    items = _json_list(response)
    item = items[0] if items else {}
    if response.status_code in (200, 207) and item.get("code") == 200 and item.get("objectId"):
        return str(item["objectId"])
    message = error_message_from_item(item, what) if item.get("error") else error_message(response, what)
    raise DynatraceError(message, status=item.get("code") or response.status_code)


def _json_list(response: Any) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []


def error_message_from_item(item: dict[str, Any], what: str) -> str:
    """One item of a Settings POST answer (``{code, error{message, constraintViolations}}``) as a message."""
    error = item.get("error") or {}
    violations = [f"{v.get('path') or '?'}: {v.get('message')}" for v in error.get("constraintViolations") or []
                  if isinstance(v, dict)]
    line = f"{what}: {item.get('code')}: {error.get('message') or 'rejected'}"
    return line + (f" ({'; '.join(violations)})" if violations else "")


class SettingsObject(DynamicResource, module="dynatrace", name="SettingsObject"):
    """One Settings 2.0 object in the environment scope, found again by ``external_id``."""

    object_id: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(self, name: str, *, schema_id: str, external_id: str, value: pulumi.Input[dict[str, Any]],
                 environment_url: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(SettingsObjectProvider(), name,
                         {"schema_id": schema_id, "external_id": external_id, "value": value,
                          "environment_url": environment_url, "object_id": None, "adopted": None}, opts)
