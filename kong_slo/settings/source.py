"""Where stack config comes from: a stack file (for the CLI) or the Pulumi engine (inside a program)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kong_slo.errors import SettingsError
from kong_slo.secrets import Secret
from kong_slo.settings.ciphertext import bad_secure_values
from kong_slo.settings.model import StackSettings
from kong_slo.settings.parse import TOP_KEYS, parse_settings
from kong_slo.settings.reader import NAMESPACE
from kong_slo.settings.stack_yaml import MAX_FILE_BYTES, StackFileError
from kong_slo.settings.stack_yaml import decode as decode_stack_yaml
from kong_slo.settings.stack_yaml import parse as parse_stack_yaml

PROJECT = "kong-slo"
SECRET_PATHS: tuple[tuple[str, ...], ...] = (
    ("kong", "adminToken"),
    ("kong", "ssh", "privateKey"),
    ("dynatrace", "apiToken"),
    ("dynatrace", "platformToken"),
    ("dynatrace", "oauth", "clientSecret"),
)
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
"""What Pulumi accepts as a stack name."""
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
    """The stack a file belongs to: ``Pulumi.<stack>.yaml``, else the file name without ``.yaml``."""
    match = STACK_FILE.match(path.name)
    if match is not None:
        return match.group("stack")
    stem = re.sub(r"\.ya?ml$", "", path.name)
    if STACK_NAME.match(stem):
        return stem
    raise SettingsError([f"{path}: cannot tell the stack's name from the file name; give it with --stack NAME"])


@dataclass(frozen=True)
class StackFile:
    """The ``kong-slo`` namespace of a stack file (prefix removed), its ``aws:region``, the problems found
    reading it, and how scalars that YAML read as something else were written (see ``stack_yaml``)."""

    namespace: dict[str, Any]
    region: str | None
    problems: tuple[str, ...]
    written: Mapping[str, str]
    secrets: tuple[tuple[str, str], ...] = ()
    """``(config path, what is wrong)`` for each ``secure:`` value that is no Pulumi ciphertext."""


def read_stack_file(path: Path) -> StackFile:
    """Read a stack file; raises ``SettingsError`` naming the file when it cannot be read as one."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise SettingsError([f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; "
                                 "that is not a stack file"])
        document = parse_stack_yaml(decode_stack_yaml(raw, str(path)), str(path), TOP_KEYS)
    except OSError as error:
        raise SettingsError([f"{path}: cannot be read ({error.strerror or error})"]) from None
    except StackFileError as error:
        raise SettingsError(error.problems) from None
    data = document.data if document.data is not None else {}
    if not isinstance(data, Mapping) or not isinstance(data.get("config") or {}, Mapping):
        raise SettingsError([f"{path}: expected a mapping with a 'config:' section"])
    unwrapped = sorted(str(key) for key in data if ":" in str(key))
    if "config" not in data and unwrapped:
        raise SettingsError([f"{path}: {', '.join(unwrapped[:3])}{' …' if len(unwrapped) > 3 else ''} must sit "
                             "under a top-level 'config:' mapping, as in every Pulumi stack file: add a line "
                             "'config:' first and indent the keys below it"])
    config = data.get("config") or {}
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if str(key).startswith(f"{NAMESPACE}:")}
    namespace = {key: _encrypted_to_secret(value) for key, value in raw.items()}
    region = config.get("aws:region")
    return StackFile(namespace, region if isinstance(region, str) else None, tuple(document.problems),
                     document.written, tuple(bad_secure_values(raw, f"{NAMESPACE}:")))


def load_stack_file(path: Path, stack: str | None = None, *, deployable: bool = False) -> StackSettings:
    """Settings from a stack file; secrets there are known to exist, not their values.

    The stack is ``stack`` when given, else named by the file (``Pulumi.<stack>.yaml`` or ``<stack>.yaml``).
    ``deployable`` also refuses ``secure:`` values Pulumi could not decrypt (an example's placeholder, a number),
    each with the command that sets it.
    """
    stack_file = read_stack_file(path)
    name = stack or stack_name_of(path)
    problems = list(stack_file.problems)
    if deployable:
        problems += [f"{key}: {what}; set it with `make pulumi STACK={name} ARGS=\"config set --secret --path "
                     f"{key} …\"` (pulumi config set on make's backend and passphrase)"
                     for key, what in stack_file.secrets]
    try:
        settings = parse_settings(stack_file.namespace, project=PROJECT, stack=name,
                                  aws_region=stack_file.region, written=stack_file.written)
    except SettingsError as error:
        raise SettingsError([*problems, *error.problems], source=str(path)) from None
    if problems:
        raise SettingsError(problems, source=str(path))
    return settings


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
