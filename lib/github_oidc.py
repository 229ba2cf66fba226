"""GitHub Actions OIDC: the provider, and per environment a plan role and a deploy role."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib import aws
from lib.naming import Naming

GITHUB_ISSUER = "token.actions.githubusercontent.com"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
MAX_MANAGED_POLICY = 6144  # characters IAM accepts in one managed policy


@dataclass(frozen=True)
class StateAccess:
    bucket_arn: str
    lock_table_arn: str
    kms_key_arn: str


@dataclass(frozen=True)
class DeployRolesProps:
    naming: Naming  # the environment's naming: its roles are <project>-<env>-github-plan|deploy
    provider_arn: str
    repository: str  # owner/name
    branch: str
    github_environment: str
    state: StateAccess


def github_oidc_provider(scope: Construct, naming: Naming) -> str:
    """The account's OIDC identity provider for GitHub Actions; returns its ARN."""
    provider = aws.iam_openid_connect_provider.IamOpenidConnectProvider(
        scope, "github-oidc", url=f"https://{GITHUB_ISSUER}", client_id_list=["sts.amazonaws.com"],
        tags=naming.tags("github-oidc"))
    return provider.arn


def _trust(provider_arn: str, subject: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com",
                                       f"{GITHUB_ISSUER}:sub": subject}},
    }]})


class DeployRoles(Construct):
    """Two roles per environment, assumable only by workflows of one repository:

    - `<prefix>-github-plan`: pull requests into `branch` (`repo:<repo>:pull_request`). Read-only
      (AWS ReadOnlyAccess) minus everything that reads data: object contents other than the
      state, secret values, parameters, queue messages, table items, log events. A pull request
      runs code its author wrote, so the role it gets must not leak data.
    - `<prefix>-github-deploy`: jobs running in the GitHub environment `github_environment`
      (`repo:<repo>:environment:<env>`; required reviewers are set on that environment). It may
      manage the environment's resources: named ones (IAM roles, buckets, repositories, queues,
      topics, functions, log groups, secrets, ECS, RDS, ElastiCache, load balancers) only under
      `<project>-<env>`, services without name scoping only in the environment's region (and
      us-east-1 for CloudFront), KMS keys only through aliases of this environment; plus the
      state object, the lock table and the state key.

    Outputs: `plan_role_arn`, `deploy_role_arn`, `policy_documents` (for tests).
    """

    def __init__(self, scope: Construct, id: str, props: DeployRolesProps):
        super().__init__(scope, id)
        n = props.naming
        repo = props.repository
        plan = aws.iam_role.IamRole(
            self, "plan-role", name=n.name("github-plan"), max_session_duration=3600,
            assume_role_policy=_trust(props.provider_arn, f"repo:{repo}:pull_request"),
            tags=n.tags("github-plan"))
        aws.iam_role_policy_attachment.IamRolePolicyAttachment(
            self, "plan-read-only", role=plan.name, policy_arn=READ_ONLY)
        deploy = aws.iam_role.IamRole(
            self, "deploy-role", name=n.name("github-deploy"), max_session_duration=3600,
            assume_role_policy=_trust(props.provider_arn,
                                      f"repo:{repo}:environment:{props.github_environment}"),
            tags=n.tags("github-deploy"))
        self.policy_documents: dict[str, dict] = {
            "plan": {"Version": "2012-10-17",
                     "Statement": self._state(props, write=False) + self._no_data_reads(props)},
            **{name: {"Version": "2012-10-17", "Statement": statements}
               for name, statements in self._deploy_statements(props).items()},
        }
        for name, document in self.policy_documents.items():
            policy = aws.iam_policy.IamPolicy(
                self, f"{name}-policy", name=n.name("github", name), policy=json.dumps(document),
                description=f"GitHub Actions {name} permissions for {n.prefix}",
                tags=n.tags("github", name))
            aws.iam_role_policy_attachment.IamRolePolicyAttachment(
                self, f"{name}-attachment", role=(plan if name == "plan" else deploy).name,
                policy_arn=policy.arn)
        self.plan_role_arn: str = plan.arn
        self.deploy_role_arn: str = deploy.arn

    def _state(self, props: DeployRolesProps, write: bool) -> list[dict]:
        n, s = props.naming, props.state
        key = f"{s.bucket_arn}/{n.project}/{n.environment}.tfstate"
        object_actions = ["s3:GetObject"] + (["s3:PutObject", "s3:DeleteObject"] if write else [])
        return [
            {"Sid": "StateObject", "Effect": "Allow", "Action": object_actions,
             "Resource": [key, f"{key}.tflock"]},
            {"Sid": "StateBucket", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": s.bucket_arn},
            {"Sid": "StateLock", "Effect": "Allow", "Resource": s.lock_table_arn,
             "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]},
            {"Sid": "StateKey", "Effect": "Allow", "Resource": s.kms_key_arn,
             "Action": ["kms:Decrypt"] + (["kms:Encrypt", "kms:GenerateDataKey"] if write else [])},
        ]

    def _no_data_reads(self, props: DeployRolesProps) -> list[dict]:
        n, s = props.naming, props.state
        key = f"{s.bucket_arn}/{n.project}/{n.environment}.tfstate"
        return [
            {"Sid": "NoObjectContentsButTheState", "Effect": "Deny", "Action": "s3:GetObject",
             "NotResource": [key]},
            {"Sid": "NoDataReads", "Effect": "Deny", "Resource": "*", "Action": [
                "secretsmanager:GetSecretValue", "ssm:GetParameter*", "sqs:ReceiveMessage",
                "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
                "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery",
                "athena:GetQueryResults", "lambda:GetFunction", "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer", "kinesis:GetRecords", "rds-db:connect"]},
        ]

    def _deploy_statements(self, props: DeployRolesProps) -> dict[str, list[dict]]:
        n = props.naming
        p, acct, region = n.prefix, n.account_id, n.region
        arn = f"arn:{n.partition}"
        regions = sorted({region, "us-east-1"})
        in_region = {"StringEquals": {"aws:RequestedRegion": regions}}
        named = {
            "NamedIamRoles": (["iam:*Role*", "iam:*InstanceProfile*", "iam:*Policy*",
                               "iam:PassRole"],
                              [f"{arn}:iam::{acct}:role/{p}-*",
                               f"{arn}:iam::{acct}:instance-profile/{p}-*",
                               f"{arn}:iam::{acct}:policy/{p}-*"]),
            "NamedBuckets": (["s3:*"], [f"{arn}:s3:::{p}-*"]),
            "NamedRepositories": (["ecr:*"], [f"{arn}:ecr:{region}:{acct}:repository/{p}/*"]),
            "NamedQueuesTopics": (["sqs:*", "sns:*"], [f"{arn}:sqs:{region}:{acct}:{p}-*",
                                                       f"{arn}:sns:{region}:{acct}:{p}-*"]),
            "NamedFunctions": (["lambda:*"], [f"{arn}:lambda:{region}:{acct}:function:{p}-*"]),
            "NamedLogGroups": (["logs:*"], [
                f"{arn}:logs:*:{acct}:log-group:/{n.project}/{n.environment}/*",
                f"{arn}:logs:*:{acct}:log-group:/aws/rds/instance/{p}-*",
                f"{arn}:logs:*:{acct}:log-group:/aws/lambda/{p}-*",
                f"{arn}:logs:*:{acct}:log-group:aws-waf-logs-{p}-*"]),
            "NamedSecrets": (["secretsmanager:*"], [
                f"{arn}:secretsmanager:{region}:{acct}:secret:/{n.project}/{n.environment}/*"]),
            "NamedEcs": (["ecs:*"], [f"{arn}:ecs:{region}:{acct}:cluster/{p}-*",
                                     f"{arn}:ecs:{region}:{acct}:service/{p}-*",
                                     f"{arn}:ecs:{region}:{acct}:task-definition/{p}-*",
                                     f"{arn}:ecs:{region}:{acct}:capacity-provider/{p}-*"]),
            "NamedDatabases": (["rds:*"], [f"{arn}:rds:{region}:{acct}:{kind}:{p}-*" for kind in
                                           ("db", "pg", "subgrp", "snapshot")]),
            "NamedCaches": (["elasticache:*"], [
                f"{arn}:elasticache:{region}:{acct}:{kind}:{p}-*" for kind in
                ("replicationgroup", "parametergroup", "subnetgroup", "user", "usergroup",
                 "cluster", "snapshot")]),
            "NamedLoadBalancers": (["elasticloadbalancing:*"], [
                f"{arn}:elasticloadbalancing:{region}:{acct}:{kind}/{p}-*" for kind in
                ("loadbalancer/app", "targetgroup", "listener/app", "listener-rule/app")]),
        }
        named_statements = [{"Sid": sid, "Effect": "Allow", "Action": actions,
                             "Resource": resources} for sid, (actions, resources) in named.items()]
        unscoped = [{
            "Sid": "ServicesWithoutNameScopeInTheRegion", "Effect": "Allow", "Resource": "*",
            "Condition": in_region,
            "Action": ["ec2:*", "elasticloadbalancing:Describe*", "ecs:Describe*", "ecs:List*",
                       "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                       "ecs:CreateCluster", "ecr:GetAuthorizationToken", "rds:Describe*",
                       "rds:AddTagsToResource", "elasticache:Describe*", "lambda:*EventSourceMapping*",
                       "lambda:List*", "lambda:GetAccountSettings", "logs:Describe*",
                       "logs:*Delivery*", "logs:ListTagsForResource", "apigateway:*",
                       "cognito-idp:*", "scheduler:*", "wafv2:*", "cloudfront:*", "acm:*",
                       "application-autoscaling:*", "autoscaling:*", "apprunner:*",
                       "cloudwatch:*", "secretsmanager:GetRandomPassword",
                       "kms:CreateKey", "kms:ListAliases", "kms:ListKeys",
                       "iam:CreateServiceLinkedRole", "iam:GetRole", "iam:ListRoles",
                       "sqs:ListQueues", "sns:ListTopics", "s3:ListAllMyBuckets", "sts:*"]},
            {"Sid": "DnsZones", "Effect": "Allow", "Action": "route53:*", "Resource": "*"},
            {"Sid": "OwnKeysOnly", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
             "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": f"alias/{p}-*"}}},
            {"Sid": "OwnAliasesOnly", "Effect": "Allow", "Action": "kms:*Alias",
             "Resource": f"{arn}:kms:{region}:{acct}:alias/{p}-*"},
        ]
        return {"state-and-named": self._state(props, write=True) + named_statements[:6],
                "named": named_statements[6:], "regional": unscoped}
