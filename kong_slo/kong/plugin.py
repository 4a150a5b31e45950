"""The engine side of ``OpenTelemetryPlugin``: the dynamic provider that writes one Kong ``opentelemetry`` plugin.

Identity is a UUID we choose from stack and scope, written with ``PUT``, so a retried or interrupted
create never makes a second plugin. A plugin already sitting in the same scope is adopted (``adopted``
output) rather than duplicated; every write keeps the fields kong-slo does not own (``ownership``).
``check`` asks Kong for other ``opentelemetry`` plugins that share the API's requests (``other_plugins``), so
that ``pulumi preview`` shows a refusal; ``create`` and ``update`` ask again before writing. Those questions,
adoption and drift share one list per Kong in the provider process (``listing``). ``diff`` makes no network call:
it compares the state and, when ``check`` listed Kong in this process, the plugin as listed (so a preview and an
unchanged ``up`` see drift); ``read`` refreshes the keys we manage; ``delete`` removes a plugin kong-slo created
(204 and 404 alike) and gives an adopted one back as it was found (``adopted_from``, a secret output). The admin
token and CA bundle come from stack config in ``configure()`` and are never pickled or written to outputs.
The provider stays in this module: stack state refers to it by this path.
"""

from __future__ import annotations

from typing import Any

from pulumi import dynamic

from kong_slo.dynamic_resource import is_known
from kong_slo.http import ApiError, RetryPolicy
from kong_slo.kong.admin import KongAdmin, KongAdminError
from kong_slo.kong.adoption import adopt_or_create, adoptable_occupant, scope_of_inputs
from kong_slo.kong.listing import CHECK, WRITE, KongListings, KongView
from kong_slo.kong.other_plugins import confirmed_refusal
from kong_slo.kong.ownership import write_body
from kong_slo.kong.payload import (
    PLUGIN_NAME,
    managed_view,
    otlp_urls,
    plugin_id,
    version_problems,
)
from kong_slo.kong.plugin_inputs import (
    context_choice,
    desired_body,
    differs,
    drifted,
    home_value,
    wished_version,
)
from kong_slo.settings.model import KongVersion
from kong_slo.settings.source import provider_section

INPUT_KEYS = ("api_name", "service", "route", "stack", "collector_url", "export_logs", "sampling_rate",
              "admin_url", "workspace", "version", "incoming_trace_context", "broader_plugins", "narrower_plugins",
              "objectives")
REPLACE_KEYS = ("service", "route", "stack", "admin_url", "workspace")
"""Keys that name the plugin's scope or home: changing one means a new plugin (the old one goes first)."""
UPDATE_KEYS = ("api_name", "collector_url", "export_logs", "sampling_rate", "incoming_trace_context", "objectives")
"""Changed inputs that mean a new body. A changed ``version`` wish counts only when it changes the body."""
CHECK_POLICY = RetryPolicy(attempts=2, initial_delay=0.2, timeout=5.0)
"""``check`` runs on every preview: an unreachable Kong costs it seconds, not a full retry schedule."""
OUTPUT_KEYS = ("plugin_id", "adopted", "kong_version", "managed", "adopted_from")


class OpenTelemetryPluginProvider(dynamic.ResourceProvider):
    """CRUD for the plugin against the Kong Admin API. Holds no session and no credentials when pickled."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self._policy = policy
        self._token: str | None = None
        self._ca_bundle: str | None = None
        self._lists = KongListings()

    def __getstate__(self) -> dict[str, Any]:
        return {"_policy": self._policy}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._policy = state.get("_policy")
        self._token = None
        self._ca_bundle = None
        self._lists = KongListings()

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        """Read ``kong.adminToken`` and ``kong.caBundle`` from the stack's ``kong-slo:kong`` config."""
        kong = provider_section(req.config, "kong")
        token = kong.get("adminToken")
        self._token = token if isinstance(token, str) and token else None
        bundle = kong.get("caBundle")
        self._ca_bundle = bundle if isinstance(bundle, str) and bundle else None

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        inputs = {key: news.get(key) for key in INPUT_KEYS}
        failures: list[dynamic.CheckFailure] = []

        def fail(key: str, reason: str) -> None:
            failures.append(dynamic.CheckFailure(key, reason))

        for key in ("api_name", "service", "stack", "collector_url", "admin_url"):
            if is_known(inputs[key]) and (not isinstance(inputs[key], str) or not inputs[key].strip()):
                fail(key, f"{key} is required (a non-empty string)")
        if is_known(inputs["collector_url"]) and isinstance(inputs["collector_url"], str):
            try:
                inputs["collector_url"] = otlp_urls(inputs["collector_url"]).traces.removesuffix("/v1/traces")
            except ValueError as error:
                fail("collector_url", str(error))
        if isinstance(inputs["admin_url"], str) and not inputs["admin_url"].startswith(("http://", "https://")):
            fail("admin_url", f"{inputs['admin_url']!r} is not an http(s) URL of the Kong Admin API")
        rate = inputs["sampling_rate"]
        if is_known(rate) and rate is not None:
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                fail("sampling_rate", f"{rate!r} is not a sampling rate between 0 and 1")
            else:
                inputs["sampling_rate"] = float(rate)
        try:
            version = wished_version(inputs)
        except ValueError as error:
            version = None
            fail("version", str(error))
        if version is not None:
            scope_key = "route" if inputs["route"] else "service"
            for key, problems in (
                (scope_key, version_problems(version, scoped=True, logs=False, sampling_rate=None)),
                ("export_logs", version_problems(version, scoped=False, logs=inputs["export_logs"] is True,
                                                 sampling_rate=None)),
                ("sampling_rate", version_problems(version, scoped=False, logs=False,
                                                   sampling_rate=inputs["sampling_rate"])),
                ("incoming_trace_context", version_problems(version, scoped=False, logs=False, sampling_rate=None,
                                                            incoming_context=context_choice(inputs))),
            ):
                for problem in problems:
                    fail(key, problem)
        if not failures and all(is_known(inputs[key]) for key in ("admin_url", "service", "route", "stack")):
            message = self._other_plugins_message(inputs)
            if message is not None:
                fail("route" if inputs["route"] else "service", message)
        return dynamic.CheckResult(inputs, failures)

    def _other_plugins_message(self, props: dict[str, Any]) -> str | None:
        """The refusal over other ``opentelemetry`` plugins, for ``pulumi preview`` to show. A Kong that cannot be
        asked from here (a first ``up`` of the local stack runs before its Kong exists) is left to the writes."""
        try:
            with self._admin(props, self._policy or CHECK_POLICY) as kong:
                return _other_plugins_refusal(self._lists.view(kong, CHECK), props)
        except ApiError:
            return None

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        replaces = [key for key in REPLACE_KEYS
                    if differs(home_value(key, olds.get(key)), home_value(key, news.get(key)))]
        changed = [key for key in UPDATE_KEYS if differs(olds.get(key), news.get(key))]
        if not replaces and not changed and (drifted(olds, news) or _listed_drift(self._lists, id_, olds, news)):
            changed.append("managed")
        return dynamic.DiffResult(changes=bool(replaces or changed), replaces=replaces,
                                  delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        kind, scope = scope_of_inputs(props)
        own_id = plugin_id(props["stack"], kind, scope, props.get("workspace"))
        with self._admin(props) as kong:
            view = self._lists.view(kong, WRITE)
            version, desired = _body(props, view)
            _stop_for_other_plugins(view, props)
            occupant = adoptable_occupant(kong, kind, scope, props["stack"], view)
            try:
                written, found = adopt_or_create(kong, kind, scope, own_id, occupant, desired)
            except KongAdminError as error:
                # Someone took the scope between our look and our write: adopt that plugin instead.
                occupant = adoptable_occupant(kong, kind, scope, props["stack"]) if error.status == 409 else None
                if occupant is None or occupant["id"] == own_id:
                    raise
                written, found = adopt_or_create(kong, kind, scope, own_id, occupant, desired)
        self._lists.remember(props, written)
        return dynamic.CreateResult(target := written["id"], _outputs(
            props, target, adopted=target != own_id, version=version, plugin=written, found=found))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        with self._admin(props) as kong:
            plugin = kong.get_plugin(id_)
            if plugin is None:
                self._lists.drop(props, id_)
                return dynamic.ReadResult(None, {})
            self._lists.remember(props, plugin)
            version = wished_version(props) or kong.version()
        outs = _outputs(props, id_, adopted=bool(props.get("adopted")), version=version, plugin=plugin,
                        found=props.get("adopted_from"))
        return dynamic.ReadResult(id_, outs, {key: props.get(key) for key in INPUT_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        kind, scope = scope_of_inputs(news)
        found = olds.get("adopted_from")
        with self._admin(news) as kong:
            view = self._lists.view(kong, WRITE)
            version, desired = _body(news, view)
            _stop_for_other_plugins(view, news)
            try:
                written = kong.put_plugin(kind, scope, id_, write_body(desired, kong.get_plugin(id_), found))
            except KongAdminError as error:
                if error.status != 409:
                    raise
                raise KongAdminError(
                    f"plugin {id_} is gone from Kong and another {PLUGIN_NAME} plugin now occupies {kind} "
                    f"{scope!r}; run `pulumi refresh` and `pulumi up` to adopt it ({error})",
                    status=error.status, body=error.body) from error
        self._lists.remember(news, written)
        return dynamic.UpdateResult(_outputs(news, id_, adopted=bool(olds.get("adopted")), version=version,
                                             plugin=written, found=found))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete a plugin kong-slo created; give an adopted one back as it was found (unless it is gone)."""
        found = props.get("adopted_from")
        with self._admin(props) as kong:
            if not found:
                kong.delete_plugin(id_)
            if not found or kong.get_plugin(id_) is None:
                self._lists.drop(props, id_)
                return
            try:
                self._lists.remember(props, kong.put_plugin(*scope_of_inputs(props), id_, found))
            except KongAdminError as error:
                if error.status != 404:
                    raise
                self._lists.drop(props, id_)

    def _admin(self, props: dict[str, Any], policy: RetryPolicy | None = None) -> KongAdmin:
        return KongAdmin(props["admin_url"], workspace=props.get("workspace"), token=self._token,
                         ca_bundle=self._ca_bundle, policy=policy or self._policy)


def _other_plugins_refusal(view: KongView, props: dict[str, Any]) -> str | None:
    return confirmed_refusal(view, props["api_name"], *scope_of_inputs(props), props["stack"],
                             broader=props.get("broader_plugins") or "stop",
                             narrower=props.get("narrower_plugins") or "stop")


def _stop_for_other_plugins(view: KongView, props: dict[str, Any]) -> None:
    if (message := _other_plugins_refusal(view, props)) is not None:
        raise KongAdminError(message, status=409)


def _body(props: dict[str, Any], view: KongView) -> tuple[KongVersion, dict[str, Any]]:
    """The version and the desired body, once Kong answers (it may be restarting after the kong.conf patch);
    Kong's answer is asked once per deployment."""
    info = view.node_info()
    version = wished_version(props) or view.kong.version(info)
    return version, desired_body(props, version)


def _listed_drift(lists: KongListings, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Whether the plugin as ``check`` listed it in this process differs from what ``news`` asks for."""
    admin_url = olds.get("admin_url")
    plugin = lists.listed(admin_url, olds.get("workspace"), id_) if isinstance(admin_url, str) else None
    return plugin is not None and drifted({**olds, "managed": managed_view(plugin)}, news)


def _outputs(props: dict[str, Any], id_: str, *, adopted: bool, version: KongVersion,
             plugin: dict[str, Any], found: dict[str, Any] | None) -> dict[str, Any]:
    return {**{key: props.get(key) for key in INPUT_KEYS}, "plugin_id": id_, "adopted": adopted,
            "kong_version": str(version), "managed": managed_view(plugin), "adopted_from": found}
