"""IAM documents for the collector host, as plain dictionaries."""

from __future__ import annotations

from typing import Any

SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
"""AWS-managed policy that lets SSM Session Manager reach the host (instead of SSH)."""


def ec2_assume_role_policy() -> dict[str, Any]:
    """Trust policy: only EC2 may assume the host's role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    }


def token_read_policy(parameter_arn: str) -> dict[str, Any]:
    """``ssm:GetParameter`` on the token parameter and nothing else.

    No ``kms:Decrypt`` statement: the parameter uses the AWS-managed ``aws/ssm`` key, whose key policy
    already lets principals of the account decrypt through SSM. A customer-managed key would need one.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadDynatraceToken",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": parameter_arn,
        }],
    }


def managed_policy_arn(partition: str, name: str) -> str:
    """ARN of an AWS-managed policy in ``partition`` (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    return f"arn:{partition}:iam::aws:policy/{name}"
