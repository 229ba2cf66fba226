"""IAM roles for AWS services, with the confused-deputy guard on every trust policy."""

import json

import jsii
from lib.core.cdk import IAspect
from constructs import Construct, IConstruct

from lib.core import aws
from lib.core.naming import Naming


def policy_document(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def service_role(scope: Construct, id: str, naming: Naming, name: str, service: str,
                 statements: list[dict] | None = None, managed_policy_arns: list[str] = ()):
    """A role `<project>-<env>-<name>` that only `service` (e.g. "ecs-tasks.amazonaws.com") acting
    for this account can assume, with an inline policy of `statements` (if any) and the given
    managed policies attached. Returns the aws_iam_role."""
    return service_role_with_policies(scope, id, naming, name, service, statements,
                                      managed_policy_arns)[0]


def service_role_with_policies(scope: Construct, id: str, naming: Naming, name: str, service: str,
                               statements: list[dict] | None = None,
                               managed_policy_arns: list[str] = ()) -> tuple:
    """`service_role`, and the resources that grant its permissions (the inline policy, the
    managed policy attachments): a service that checks its role's rights when it is created
    (AWS Config, say) must depend on them, not only on the role."""
    role = aws.iam_role.IamRole(
        scope, id, name=naming.name(name),
        assume_role_policy=policy_document([{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": naming.account_id}},
        }]),
        tags=naming.tags(name))
    grants = []
    if statements:
        grants.append(aws.iam_role_policy.IamRolePolicy(scope, f"{id}-policy", role=role.id,
                                                        name=name,
                                                        policy=policy_document(statements)))
    for i, arn in enumerate(managed_policy_arns):
        grants.append(aws.iam_role_policy_attachment.IamRolePolicyAttachment(
            scope, f"{id}-managed-{i}", role=role.name, policy_arn=arn))
    return role, grants


def web_identity_trust(provider_arn: str, issuer: str, claims: dict[str, str]) -> str:
    """A trust policy for the tokens of an OIDC identity provider (GitHub Actions, Terraform
    Cloud): exact matches only (StringEquals on `<issuer>:<claim>`), so a token missing a claim,
    or carrying another value, fails the trust."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{issuer}:{claim}": value
                                       for claim, value in claims.items()}},
    }]})


def federated_role(scope: Construct, id: str, naming: Naming, name: tuple[str, ...], trust: str,
                   policy_arns: tuple[str, ...]) -> str:
    """A role `<project>-<env>-<name...>` assumable through `trust` (one-hour sessions) with the
    given managed policies attached (ids `<id>-role`, `<id>-policy-<i>`); returns its ARN."""
    role = aws.iam_role.IamRole(scope, f"{id}-role", name=naming.name(*name),
                                max_session_duration=3600, assume_role_policy=trust,
                                tags=naming.tags(*name))
    for i, arn in enumerate(policy_arns):
        aws.iam_role_policy_attachment.IamRolePolicyAttachment(
            scope, f"{id}-policy-{i}", role=role.name, policy_arn=arn)
    return role.arn


def boundary_policy_name(project: str, environment: str) -> str:
    """The permissions boundary every role of an environment carries, created by the bootstrap
    stack (lib/delivery/policies.py boundary_document)."""
    return f"{project}-{environment}-boundary"


def boundary_policy_arn(naming: Naming) -> str:
    return (f"arn:{naming.partition}:iam::{naming.account_id}:policy/"
            f"{boundary_policy_name(naming.project, naming.environment)}")


@jsii.implements(IAspect)
class PermissionsBoundary:
    """Attaches `arn` as the permissions boundary of every IAM role in the construct it is added
    to (an Aspect, so a role added later cannot be missed). The deploy roles may create and
    change roles only with their environment's boundary attached (lib/delivery/policies.py)."""

    def __init__(self, arn: str):
        self.arn = arn

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, aws.iam_role.IamRole):
            node.permissions_boundary = self.arn
