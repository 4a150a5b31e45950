"""IAM documents for the collector host, as plain dictionaries."""

from __future__ import annotations

from typing import Any

SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""What the SSM agent needs for Session Manager, and nothing more. The AWS-managed
``AmazonSSMManagedInstanceCore`` is not used: it allows ``ssm:GetParameter`` on every parameter of
the account, which would let the collector host read every SecureString, not just its own token."""


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


def host_policy(parameter_arn: str) -> dict[str, Any]:
    """The host role's only permissions: Session Manager, and ``ssm:GetParameter`` on the token parameter.

    No ``kms:Decrypt`` statement: the parameter uses the AWS-managed ``aws/ssm`` key, whose key policy
    already lets principals of the account decrypt through SSM. A customer-managed key would need one.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SessionManager",
                "Effect": "Allow",
                "Action": list(SESSION_MANAGER_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "ReadDynatraceToken",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": parameter_arn,
            },
        ],
    }
