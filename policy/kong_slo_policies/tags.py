"""Ownership tags on every taggable AWS resource, so a stack's resources can be found, costed and cleaned up.

The tags may come from the resource itself or from the AWS provider's ``defaultTags``. pulumi-aws merges both
into ``tagsAll`` while checking a resource, so a resource is taggable exactly when ``tags`` or ``tagsAll``
appears among its properties. The provider's own ``defaultTags`` are read as well, because ``tagsAll`` is not
known during preview when any tag value is computed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from kong_slo_policies.props import UNKNOWN, get, items

REQUIRED_TAGS = ("project", "stack", "managed-by")


def as_tag_map(value: Any) -> dict[str, str] | None:
    """Tags as a dict; accepts a map, a JSON string of one (provider config) and the list-of-``{key, value}``
    form (auto scaling groups). ``None`` when unknown or absent."""
    if value is UNKNOWN or value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, Mapping):
        return {str(key): tag for key in value if isinstance(tag := get(value, key), str)}
    tags = {get(entry, "key"): get(entry, "value") for _, entry in items(value)}
    return {key: tag for key, tag in tags.items() if isinstance(key, str) and isinstance(tag, str)} or None


def _provider_default_tags(args: ResourceValidationArgs) -> dict[str, str]:
    if args.provider is None:
        return {}
    default_tags = get(args.provider.props, "defaultTags")
    if isinstance(default_tags, str):
        try:
            default_tags = json.loads(default_tags)
        except ValueError:
            return {}
    return as_tag_map(get(default_tags, "tags")) or {}


def effective_tags(args: ResourceValidationArgs) -> dict[str, str] | None:
    """The tags the resource will carry, or ``None`` when it takes no tags."""
    props = args.props
    # Iterate over the keys: a membership test would read the value, which may be unknown during preview.
    if not isinstance(props, Mapping) or not any(key in ("tags", "tagsAll") for key in props):
        return None
    return {**_provider_default_tags(args), **(as_tag_map(get(props, "tags")) or {}),
            **(as_tag_map(get(props, "tagsAll")) or {})}


def _validate_required_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:"):
        return
    tags = effective_tags(args)
    if tags is None:
        return
    required = args.get_config().get("requiredTags") or REQUIRED_TAGS
    missing = [key for key in required if not tags.get(key, "").strip()]
    if missing:
        report_violation(f"missing tag(s) {', '.join(missing)} (found: {', '.join(sorted(tags)) or 'none'})", None)


required_tags = ResourceValidationPolicy(
    name="required-tags",
    description="Taggable AWS resources must carry the project, stack and managed-by tags.",
    validate=_validate_required_tags,
    config_schema=PolicyConfigSchema(
        properties={"requiredTags": {"type": "array", "items": {"type": "string"},
                                     "default": list(REQUIRED_TAGS),
                                     "description": "tag keys every taggable AWS resource must have"}},
    ),
    remediation_steps="Pass tags={'project': ..., 'stack': ..., 'managed-by': 'pulumi'} to the resource, or set "
                      "them once as defaultTags on the AWS provider (aws:defaultTags in the stack config).",
)
