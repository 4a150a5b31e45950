"""Stack files (``Pulumi.<stack>.yaml``) for the CLI tests, built from ``settings_helpers.aws_config``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kong_slo.secrets import Secret
from tests.unit.settings_helpers import aws_config

CIPHERTEXT = "v1:ZmFrZW5vbmNlMTIz:c2VhbGVkIHNlY3JldCB2YWx1ZSB3aXRoIGl0cyB0YWcxMjM0NTY3OA=="
"""The shape ``pulumi config set --secret`` leaves with a passphrase: ``v1:<nonce>:<sealed>``, base64 parts."""


def sealed_copy(example: Path, directory: Path) -> Path:
    """A copy of an example stack file whose placeholder secrets are replaced by ciphertext-shaped values, as if
    ``pulumi config set --secret`` had set them."""
    copy = directory / example.name
    copy.write_text(example.read_text().replace("v1:placeholder-replace-with-pulumi-config-set-secret", CIPHERTEXT))
    return copy


def write_aws_stack(directory: Path, stack: str, **overrides: Any) -> Path:
    """Write ``Pulumi.<stack>.yaml`` holding ``aws_config(**overrides)`` under ``kong-slo:`` keys, every secret
    stored encrypted as ``pulumi config set --secret`` leaves it; returns its path."""
    namespace = {f"kong-slo:{key}": _encrypted(value) for key, value in aws_config(**overrides).items()}
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": {"aws:region": "eu-west-1", **namespace}}, sort_keys=False))
    return path


def _encrypted(value: Any) -> Any:
    if isinstance(value, Secret):
        return {"secure": CIPHERTEXT}
    if isinstance(value, dict):
        return {key: _encrypted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_encrypted(item) for item in value]
    return value
