"""Where stack config comes from: a stack file (for the CLI) or the Pulumi engine (inside a program)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kong_slo.errors import SettingsError
from kong_slo.secrets import Secret
from kong_slo.settings.model import StackSettings
from kong_slo.settings.parse import parse_settings
from kong_slo.settings.reader import NAMESPACE

PROJECT = "kong-slo"
SECRET_PATHS: tuple[tuple[str, ...], ...] = (
    ("kong", "adminToken"),
    ("kong", "ssh", "privateKey"),
    ("dynatrace", "apiToken"),
    ("dynatrace", "platformToken"),
    ("dynatrace", "oauth", "clientSecret"),
)
STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>[A-Za-z0-9_.-]+)\.ya?ml$")


def _encrypted_to_secret(value: Any) -> Any:
    """Replace every ``{secure: ...}`` of a stack file with an (unreadable) ``Secret``."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return Secret(None)
        return {key: _encrypted_to_secret(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_encrypted_to_secret(item) for item in value]
    return value


def stack_name_of(path: Path) -> str:
    match = STACK_FILE.match(path.name)
    if match is None:
        raise SettingsError([f"{path}: a stack file is named Pulumi.<stack>.yaml"])
    return match.group("stack")


def read_stack_file(path: Path) -> tuple[dict[str, Any], str | None]:
    """The ``kong-slo`` namespace of a stack file (prefix removed) and its ``aws:region``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise SettingsError([f"{path}: cannot be read ({error.strerror or error})"]) from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SettingsError([f"{path}:{where} is not valid YAML ({getattr(error, 'problem', error)})"]) from error
    if not isinstance(document, Mapping) or not isinstance(document.get("config", {}), Mapping):
        raise SettingsError([f"{path}: expected a mapping with a 'config:' section"])
    config = document.get("config") or {}
    namespace = {key.split(":", 1)[1]: _encrypted_to_secret(value)
                 for key, value in config.items() if str(key).startswith(f"{NAMESPACE}:")}
    region = config.get("aws:region")
    return namespace, region if isinstance(region, str) else None


def load_stack_file(path: Path, stack: str | None = None) -> StackSettings:
    """Settings from ``stacks/Pulumi.<stack>.yaml``; secrets there are known to exist, not their values."""
    namespace, region = read_stack_file(path)
    return parse_settings(namespace, project=PROJECT, stack=stack or stack_name_of(path), aws_region=region)


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _wrap_secret_paths(key: str, value: Any) -> Any:
    for path in SECRET_PATHS:
        if path[0] != key or not isinstance(value, dict):
            continue
        holder: Any = value
        for part in path[1:-1]:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(path[-1]), str):
            holder[path[-1]] = Secret(holder[path[-1]])
    return value


def _unwrapped(value: Any) -> Any:
    from pulumi.runtime import rpc

    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, Mapping):
        return {key: _unwrapped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrapped(item) for item in value]
    return value


def provider_section(config: Any, section: str) -> dict[str, Any]:
    """One ``kong-slo:<section>`` object (``kong``, ``dynatrace``) as a dynamic provider's ``configure()`` gets
    it from the engine: a JSON string or a mapping, secrets possibly still wrapped. Empty when absent.

    Providers read only their credentials here; everything else reaches them as resource inputs.
    """
    value = _unwrapped(_decode(config.get(f"{NAMESPACE}:{section}")))
    return dict(value) if isinstance(value, Mapping) else {}


def namespace_from_engine() -> tuple[dict[str, Any], str | None]:
    """The ``kong-slo`` namespace as the Pulumi engine hands it to the program, secrets wrapped."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    namespace: dict[str, Any] = {}
    for full_key in sorted(keys):
        if not full_key.startswith(f"{NAMESPACE}:"):
            continue
        key = full_key.split(":", 1)[1]
        value = _decode(runtime_config.get_config(full_key))
        if runtime_config.is_config_secret(full_key):
            value = _wrap_secret_paths(key, value)
        namespace[key] = value
    region = runtime_config.get_config("aws:region")
    return namespace, region if isinstance(region, str) else None


def load_from_engine() -> StackSettings:
    """Settings of the stack being deployed; call inside a Pulumi program, never at import time."""
    import pulumi

    namespace, region = namespace_from_engine()
    return parse_settings(namespace, project=pulumi.get_project(), stack=pulumi.get_stack(), aws_region=region)
