"""What the ``OpenTelemetryPlugin`` resource's inputs mean, and how two sets of them compare (pure)."""

from __future__ import annotations

from typing import Any

from kong_slo.dynamic_resource import is_known
from kong_slo.kong.admin import DEFAULT_WORKSPACE
from kong_slo.kong.payload import drifted_keys, managed_view, plugin_body
from kong_slo.kong.release_facts import HONOUR
from kong_slo.settings.model import Api, KongVersion


def differs(old: Any, new: Any) -> bool:
    if not is_known(new):
        return True
    if isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(old, bool):
        return float(old) != float(new)
    return old != new


def home_value(key: str, value: Any) -> Any:
    """How a replace-key compares: the same Kong and workspace written two ways is not a new home."""
    if key == "admin_url" and isinstance(value, str):
        return value.rstrip("/")
    if key == "workspace":
        return value or DEFAULT_WORKSPACE
    return value


def wished_version(props: dict[str, Any]) -> KongVersion | None:
    """The ``version`` input (``3.9``, ``3.9.1``, ``3.4.3.5``), or None when Kong is to be asked."""
    text = props.get("version")
    if not text or not is_known(text):
        return None
    return KongVersion.parse(str(text))


def api_of(props: dict[str, Any]) -> Api:
    return Api(name=props["api_name"], route=props.get("route"), latency=None, availability=None,
               sampling_rate=props.get("sampling_rate"))


def context_choice(props: dict[str, Any]) -> str:
    """``incoming_trace_context``; state written before the input existed means Kong's default, ``honour``."""
    return props.get("incoming_trace_context") or HONOUR


def desired_body(props: dict[str, Any], version: KongVersion) -> dict[str, Any]:
    return plugin_body(api_of(props), stack=props["stack"], collector_url=props["collector_url"],
                       export_logs=props.get("export_logs"), version=version, incoming_context=context_choice(props),
                       objectives=props.get("objectives") if is_known(props.get("objectives")) else None)


def drifted(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Whether Kong's plugin, as last written or refreshed, differs from what ``news`` asks for."""
    state = olds.get("managed")
    version = wished_version(news) or (KongVersion.parse(olds["kong_version"]) if olds.get("kong_version") else None)
    if not state or version is None:
        return False
    return bool(drifted_keys(managed_view(desired_body(news, version)), state))
