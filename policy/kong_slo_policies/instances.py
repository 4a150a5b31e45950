"""EC2 hosts: IMDSv2 only, and every volume encrypted."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from kong_slo_policies.props import UNKNOWN, get, is_list, items

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VOLUME = "aws:ebs/volume:Volume"


def _validate_imdsv2(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (INSTANCE, LAUNCH_TEMPLATE):
        return
    options = get(args.props, "metadataOptions")
    if options is UNKNOWN:
        return
    if get(options, "httpEndpoint") == "disabled":
        return  # no metadata service at all, so no IMDSv1 either
    tokens = get(options, "httpTokens")
    if tokens in ("required", UNKNOWN):
        return
    found = "is not set, so AWS also answers IMDSv1" if tokens is None else f"is {tokens!r}"
    report_violation(f"metadataOptions.httpTokens {found}; IMDSv2 needs httpTokens: 'required'", None)


def _is_encrypted(value: Any) -> bool:
    # Launch templates spell the flag as a string ("true"); instances and volumes as a boolean.
    return value is True or value is UNKNOWN or value == "true"


def _validate_encryption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    if args.resource_type == INSTANCE:
        root = get(props, "rootBlockDevice")
        if root is not UNKNOWN and not _is_encrypted(get(root, "encrypted")):
            report_violation("rootBlockDevice.encrypted is not true, so the root volume may be unencrypted", None)
        for index, device in items(get(props, "ebsBlockDevices")):
            if not _is_encrypted(get(device, "encrypted")):
                name = get(device, "deviceName", "?")
                report_violation(f"ebsBlockDevices[{index}] ({name}) is not encrypted", None)
    elif args.resource_type == LAUNCH_TEMPLATE:
        mappings = get(props, "blockDeviceMappings")
        if mappings is None or (is_list(mappings) and len(mappings) == 0):
            report_violation("blockDeviceMappings is empty, so the root volume takes the image's encryption "
                             "setting, which may be none", None)
        for index, mapping in items(mappings):
            ebs = get(mapping, "ebs")
            if ebs is not None and ebs is not UNKNOWN and not _is_encrypted(get(ebs, "encrypted")):
                report_violation(f"blockDeviceMappings[{index}].ebs.encrypted is not 'true'", None)
    elif args.resource_type == VOLUME and not _is_encrypted(get(props, "encrypted")):
        report_violation("encrypted is not true", None)


imdsv2_required = ResourceValidationPolicy(
    name="imdsv2-required",
    description="EC2 instances and launch templates must require IMDSv2 session tokens.",
    validate=_validate_imdsv2,
    remediation_steps="Set metadata_options={'http_tokens': 'required'} on the instance or launch template, "
                      "with http_put_response_hop_limit 1 unless containers on the host must reach the metadata "
                      "service.",
)

encrypted_volumes = ResourceValidationPolicy(
    name="encrypted-volumes",
    description="EC2 root volumes, attached EBS volumes, launch template volumes and standalone EBS volumes must "
                "be encrypted.",
    validate=_validate_encryption,
    remediation_steps="Set root_block_device={'encrypted': True}, encrypted=True on every ebs_block_devices "
                      "entry and on aws.ebs.Volume; in a launch template, map the image's root device with "
                      "ebs={'encrypted': 'true'} (a kms_key_id is optional; the account's EBS key is used).",
)
