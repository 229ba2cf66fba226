"""GitHub Actions OIDC: the provider, and per environment a plan role and a deploy role."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming

GITHUB_ISSUER = "token.actions.githubusercontent.com"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
MAX_MANAGED_POLICY = 6144  # characters IAM accepts in one managed policy

# The only services a deploy may hand one of the environment's roles to: the ones lib/ creates
# roles for (ECS tasks, Lambda, EC2 capacity, RDS monitoring, flow logs, schedules, App Runner).
# Where it is unclear which name a service checks (RDS monitoring, instances that Auto Scaling
# launches, App Runner), each candidate is listed.
PASSED_TO_SERVICES = sorted({
    "ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com",
    "autoscaling.amazonaws.com", "monitoring.rds.amazonaws.com", "rds.amazonaws.com",
    "vpc-flow-logs.amazonaws.com", "scheduler.amazonaws.com", "apprunner.amazonaws.com",
    "build.apprunner.amazonaws.com", "tasks.apprunner.amazonaws.com"})

# Public SSM parameters EC2 resolves `resolve:ssm:` image ids from (lib/network/vpc.py NAT instance,
# lib/compute/cluster.py capacity): the resolution runs with the caller's ssm:GetParameters.
PUBLIC_AMI_PARAMETERS = ("/aws/service/ami-amazon-linux-latest/*",
                         "/aws/service/ecs/optimized-ami/*")


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
    branch: str  # the only branch a deploy role accepts jobs from
    github_environment: str
    state: StateAccess


def github_oidc_provider(scope: Construct, naming: Naming) -> str:
    """The account's OIDC identity provider for GitHub Actions; returns its ARN."""
    provider = aws.iam_openid_connect_provider.IamOpenidConnectProvider(
        scope, "github-oidc", url=f"https://{GITHUB_ISSUER}", client_id_list=["sts.amazonaws.com"],
        tags=naming.tags("github-oidc"))
    return provider.arn


def _trust(provider_arn: str, **claims: str) -> str:
    """Exact matches only (StringEquals): a claim missing from the token fails the trust."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_ISSUER}:{claim}": value
                                       for claim, value in {"aud": "sts.amazonaws.com",
                                                            **claims}.items()}},
    }]})


class DeployRoles(Construct):
    """Two roles per environment, assumable only by workflows of one repository:

    - `<prefix>-github-plan`: pull-request jobs (`sub` = `repo:<repo>:pull_request`). GitHub's
      token names no base branch AWS can check, so this is any pull request of the repository
      (forks get no token). Read-only (AWS ReadOnlyAccess) minus everything that reads data:
      object contents other than the state, secret values, the account's parameters, queue
      messages, table items other than the lock table's, log events. A pull request runs code its
      author wrote, so the role it gets must not leak data.
    - `<prefix>-github-deploy`: jobs in the GitHub environment `github_environment` (`sub` =
      `repo:<repo>:environment:<env>`) running on `branch` (`ref` = `refs/heads/<branch>`, a
      claim STS checks since 2026-01). Required reviewers and the deployment-branch rule are set
      on that GitHub environment. It may manage the environment's resources: named ones (IAM
      roles, buckets, repositories, queues, topics, functions, log groups, secrets, ECS, RDS,
      ElastiCache, load balancers) only under `<project>-<env>`, services without name scoping
      only in the environment's region (and us-east-1 for CloudFront), KMS keys only through
      aliases or tags of this environment; plus the state object, the lock table and the state
      key. Guardrails (explicit denies) keep it off the GitHub roles and their policies, limit
      which services it may pass roles to, and forbid assuming other roles.

    Outputs: `plan_role_arn`, `deploy_role_arn`, `policy_documents` (for tests).
    """

    def __init__(self, scope: Construct, id: str, props: DeployRolesProps):
        super().__init__(scope, id)
        n = props.naming
        repo = props.repository
        plan = aws.iam_role.IamRole(
            self, "plan-role", name=n.name("github-plan"), max_session_duration=3600,
            assume_role_policy=_trust(props.provider_arn, sub=f"repo:{repo}:pull_request"),
            tags=n.tags("github-plan"))
        plan_role_name: str = plan.name
        aws.iam_role_policy_attachment.IamRolePolicyAttachment(
            self, "plan-read-only", role=plan_role_name, policy_arn=READ_ONLY)
        deploy = aws.iam_role.IamRole(
            self, "deploy-role", name=n.name("github-deploy"), max_session_duration=3600,
            assume_role_policy=_trust(
                props.provider_arn, sub=f"repo:{repo}:environment:{props.github_environment}",
                ref=f"refs/heads/{props.branch}"),
            tags=n.tags("github-deploy"))
        deploy_role_name: str = deploy.name
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
                self, f"{name}-attachment",
                role=plan_role_name if name == "plan" else deploy_role_name,
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
            # A plan takes the lock too (GetItem/PutItem/DeleteItem, and GetItem of the digest).
            {"Sid": "StateLock", "Effect": "Allow", "Resource": s.lock_table_arn,
             "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]},
            {"Sid": "StateKey", "Effect": "Allow", "Resource": s.kms_key_arn,
             "Action": ["kms:Decrypt"] + (["kms:Encrypt", "kms:GenerateDataKey"] if write else [])},
        ]

    def _no_data_reads(self, props: DeployRolesProps) -> list[dict]:
        """Denies that narrow ReadOnlyAccess. None may match what `terraform plan` refreshes or
        locks: a deny wins over every allow, so one on the lock table or on lambda:GetFunction
        (the provider's read of aws_lambda_function) fails every plan. GetFunction's code link
        stays open: the code is this repository's own functions/."""
        n, s = props.naming, props.state
        key = f"{s.bucket_arn}/{n.project}/{n.environment}.tfstate"
        return [
            {"Sid": "NoObjectContentsButTheState", "Effect": "Deny", "Action": "s3:GetObject",
             "NotResource": [key]},
            {"Sid": "NoItemsButTheLocks", "Effect": "Deny", "NotResource": [s.lock_table_arn],
             "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                        "dynamodb:Scan"]},
            # The account's own parameters; the public ones (AMI ids) hold no data.
            {"Sid": "NoParameterValues", "Effect": "Deny", "Action": "ssm:GetParameter*",
             "Resource": f"arn:{n.partition}:ssm:*:{n.account_id}:parameter/*"},
            {"Sid": "NoDataReads", "Effect": "Deny", "Resource": "*", "Action": [
                "secretsmanager:GetSecretValue", "sqs:ReceiveMessage",
                "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery",
                "athena:GetQueryResults", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                "kinesis:GetRecords", "rds-db:connect"]},
        ]

    def _deploy_statements(self, props: DeployRolesProps) -> dict[str, list[dict]]:
        n = props.naming
        p, acct, region = n.prefix, n.account_id, n.region
        arn = f"arn:{n.partition}"
        regions = sorted({region, "us-east-1"})
        in_region = {"StringEquals": {"aws:RequestedRegion": regions}}
        named = {
            # Includes this environment's GitHub roles and policies: the guardrails deny those.
            "NamedIamRoles": (["iam:*Role*", "iam:*InstanceProfile*", "iam:*Policy*"],
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
            # logs:PutResourcePolicy: vended log deliveries (API access logs, Redis logs, WAF
            # logs) add the account's log resource policy for their service on first use.
            "Action": ["ec2:*", "elasticloadbalancing:Describe*", "ecs:Describe*", "ecs:List*",
                       "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                       "ecs:CreateCluster", "ecr:GetAuthorizationToken", "rds:Describe*",
                       "rds:AddTagsToResource", "elasticache:Describe*", "lambda:*EventSourceMapping*",
                       "lambda:List*", "lambda:GetAccountSettings", "logs:Describe*",
                       "logs:*Delivery*", "logs:ListTagsForResource", "logs:PutResourcePolicy",
                       "apigateway:*", "cognito-idp:*", "scheduler:*", "wafv2:*", "cloudfront:*",
                       "acm:*", "application-autoscaling:*", "autoscaling:*", "apprunner:*",
                       "cloudwatch:*", "secretsmanager:GetRandomPassword",
                       "kms:CreateKey", "kms:ListAliases", "kms:ListKeys",
                       "iam:CreateServiceLinkedRole", "iam:GetRole", "iam:ListRoles",
                       "sqs:ListQueues", "sns:ListTopics", "s3:ListAllMyBuckets"]},
            # The provider's account check; no other STS call is needed (see NoRoleAssumption).
            {"Sid": "WhoAmI", "Effect": "Allow", "Action": "sts:GetCallerIdentity",
             "Resource": "*"},
            {"Sid": "DnsZones", "Effect": "Allow", "Action": "route53:*", "Resource": "*"},
            {"Sid": "OwnKeysOnly", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
             "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": f"alias/{p}-*"}}},
            # A new key has no alias until Terraform creates it, but its reads, rotation and the
            # grants of resources encrypted with it (ECR, RDS) come first: the provider's
            # default tags name the key's environment from CreateKey on.
            {"Sid": "OwnKeysByTag", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/Project": n.project,
                                            "aws:ResourceTag/Environment": n.environment}}},
            {"Sid": "OwnAliasesOnly", "Effect": "Allow", "Action": "kms:*Alias",
             "Resource": f"{arn}:kms:{region}:{acct}:alias/{p}-*"},
            {"Sid": "PublicAmiParameters", "Effect": "Allow",
             "Action": ["ssm:GetParameters", "ssm:GetParameter"],
             "Resource": [f"{arn}:ssm:{region}::parameter{path}"
                          for path in PUBLIC_AMI_PARAMETERS]},
            # RDS creates the master password secret (rds!db-<id>) with the caller's rights.
            # Its name carries no environment, hence the action list without value reads.
            {"Sid": "RdsManagedSecrets", "Effect": "Allow",
             "Resource": f"{arn}:secretsmanager:{region}:{acct}:secret:rds!*",
             "Action": ["secretsmanager:CreateSecret", "secretsmanager:TagResource",
                        "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret",
                        "secretsmanager:RotateSecret", "secretsmanager:DeleteSecret"]},
            # An instance created without an option group gets the engine's default one, which
            # CreateDBInstance may authorize as one of its resources; it grants nothing else.
            {"Sid": "DefaultOptionGroups", "Effect": "Allow",
             "Action": ["rds:CreateDBInstance", "rds:CreateDBInstanceReadReplica"],
             "Resource": f"{arn}:rds:{region}:{acct}:og:default:*"},
        ]
        return {"state-and-named": self._state(props, write=True) + named_statements[:6],
                "named": named_statements[6:], "regional": unscoped,
                "guardrails": self._guardrails(props)}

    def _guardrails(self, props: DeployRolesProps) -> list[dict]:
        """Explicit denies: they win over every allow above, whatever a later edit adds there.

        Why not a permissions boundary: the safe form requires every role the deploy role
        creates to carry one, i.e. lib/core/iam.py's service_role setting it on every environment's
        roles, which ties each environment to the bootstrap stack (a local dev deploy must not
        need it). Without it, what remains open is this: the deploy role writes inline policies
        and trust policies of its `<prefix>-*` roles and passes them to Lambda/ECS/EC2, so code
        it deploys (or whoever such a role trusts) can hold any permission. Whoever can run a
        job in the GitHub environment on `branch` is therefore an administrator of the account
        in effect; required reviewers and the branch rule on the GitHub environment are the
        gate. What these denies close is the direct way up: editing the GitHub roles (its own
        trust, its own policies), handing a role to a service that does not need one, and
        assuming roles that trust the account or are made to trust the deploy role.
        """
        n = props.naming
        iam = f"arn:{n.partition}:iam::{n.account_id}"
        return [
            # Every environment's GitHub roles and policies (and the OIDC provider): read only.
            {"Sid": "NoChangesToTheGitHubRoles", "Effect": "Deny",
             "NotAction": ["iam:Get*", "iam:List*"],
             "Resource": [f"{iam}:role/{n.project}-*-github-plan",
                          f"{iam}:role/{n.project}-*-github-deploy",
                          f"{iam}:policy/{n.project}-*-github-*",
                          f"{iam}:oidc-provider/{GITHUB_ISSUER}"]},
            {"Sid": "PassRolesOnlyToThePlatformsServices", "Effect": "Deny",
             "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringNotEquals": {"iam:PassedToService": PASSED_TO_SERVICES}}},
            # sts:* on * let it assume any role trusting the account, and a trust policy that
            # names the deploy role itself (it writes those of <prefix>-* roles) needs no allow.
            {"Sid": "NoRoleAssumption", "Effect": "Deny", "Action": "sts:AssumeRole",
             "Resource": "*"},
        ]
