"""What may plan and deploy one environment: the managed IAM policies the bootstrap stack creates
once per environment and attaches to every principal that plans or deploys it (the GitHub Actions
roles, lib/delivery/github_oidc.py; the Terraform Cloud roles, lib/delivery/terraform_cloud.py),
and the permissions boundary that every role of that environment's stack carries.

All environments of an account share it, so a deploy role must not reach another environment.
What keeps it to its own, in order:
1. Names. Services whose ARNs carry a name (IAM, S3, ECR, SQS, SNS, Lambda, logs, secrets, ECS,
   RDS, ElastiCache, load balancers, schedules, CloudFront functions, alarms, dashboards, App
   Runner, Auto Scaling groups) are granted on `<project>-<env>-*` names only.
2. Tags. Everything else is granted where its `Project` and `Environment` tags, on the resource
   (`aws:ResourceTag`) and in a create request (`aws:RequestTag`), are the environment's own. The
   provider's default tags put both on every resource from its creation on. A request that
   carries neither key (an untagged resource, an action AWS cannot scope by tag) passes the allow
   (`...IfExists`): tests/test_isolation.py evaluates every action the role holds against
   another environment's resource with the condition keys AWS documents for it, and the few
   that stay open are reads, creates of new resources, or listed there with why.
3. Guardrails, explicit denies that win over any allow: nothing tagged for another environment
   or project; no edit of the delivery roles, their policies, the boundaries or the identity
   providers; roles only with this environment's boundary attached, which nobody may remove;
   roles passed only to the services the platform uses; no role assumption; Route 53 records only
   under the environment's own domains.
"""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.iam import boundary_policy_name
from lib.core.naming import Naming
from lib.delivery.action_lists import (ACCOUNT_WIDE_WRITES, PASSED_TO_SERVICES,
                                       PUBLIC_AMI_PARAMETERS, TAGGED_SERVICES, UNSCOPABLE_WRITES)
from lib.delivery.plan_denies import DATA_READS, DATA_READS_ELSEWHERE

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
TAG_KEYS = ("Project", "Environment")  # lib/core/naming.py Naming.default_tags


@dataclass(frozen=True)
class StateAccess:
    bucket_arn: str
    lock_table_arn: str
    kms_key_arn: str


@dataclass(frozen=True)
class AccountResources:
    """What the bootstrap stack keeps for the whole account: no environment role may touch it,
    except each deploy role its own state object (and, for Session Manager, the instances
    their session logs)."""

    state: StateAccess
    audit_bucket_arn: str | None  # with the baseline
    audit_key_arn: str | None
    session_log_prefix: str  # lib/delivery/baseline.py SESSION_LOG_PREFIX


@dataclass(frozen=True)
class EnvironmentPoliciesProps:
    naming: Naming  # the environment's: its policies are <project>-<env>-delivery-plan|deploy-*
    account: AccountResources
    remote_state: bool  # the s3 backend: the plan and deploy roles use the state bucket
    # The environment still locks in the DynamoDB table too ([backend] lock_table, while it
    # migrates to the S3 lock file): its roles may take that lock as well.
    state_lock_table: bool
    domains: tuple[str, ...]  # the DNS names its records may have (and their subdomains)
    foreign_domains: tuple[str, ...]  # other environments' domains of the account
    protected_roles: tuple[str, ...]  # role-name patterns of every delivery principal
    backup_copy_region: str | None = None  # database.backup_copy_region


def boundary_document(n: Naming, account: AccountResources,
                      protected_roles: tuple[str, ...]) -> dict:
    """The permissions boundary of every role an environment stack creates: whatever its own
    policies say, it can never use IAM (beyond handing its task roles to ECS, which scheduled
    tasks need), administer a KMS key, or touch the account's own resources."""
    arn = f"arn:{n.partition}"
    iam = f"{arn}:iam::{n.account_id}"
    s = account.state
    statements: list[dict] = [
        {"Sid": "NoIamNoKeyAdministration", "Effect": "Allow", "Resource": "*",
         "NotAction": ["iam:*", "sts:AssumeRole", "kms:Create*", "kms:Put*", "kms:Delete*",
                       "kms:Update*", "kms:Enable*", "kms:Disable*", "kms:ScheduleKeyDeletion",
                       "kms:CancelKeyDeletion", "kms:ImportKeyMaterial", "kms:ReplicateKey",
                       "kms:TagResource", "kms:UntagResource", "kms:RevokeGrant",
                       "kms:RetireGrant"]},
        # EventBridge Scheduler's role starts ECS tasks with the task and execution roles.
        {"Sid": "PassTaskRolesToEcs", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": f"{iam}:role/{n.prefix}-*",
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        {"Sid": "NothingOfTheAccountsState", "Effect": "Deny", "Action": "*",
         "Resource": [s.bucket_arn, f"{s.bucket_arn}/*", s.lock_table_arn, s.kms_key_arn]},
        {"Sid": "NothingOfTheDeliveryPrincipals", "Effect": "Deny", "Action": "*",
         "Resource": [*(f"{iam}:role/{r}" for r in protected_roles),
                      f"{iam}:policy/{n.project}-*-delivery-*",
                      f"{iam}:policy/{boundary_policy_name(n.project, '*')}",
                      f"{iam}:oidc-provider/*"]},
    ]
    if account.audit_bucket_arn and account.audit_key_arn:
        bucket, sessions = account.audit_bucket_arn, account.session_log_prefix
        statements += [
            # Instances write Session Manager logs there (lib/core/access.py SessionLogAccess):
            # that much, and nothing else of the audit trail.
            {"Sid": "AuditBucketOnlySessionLogWrites", "Effect": "Deny",
             "NotAction": ["s3:PutObject", "s3:GetEncryptionConfiguration"],
             "Resource": [bucket, f"{bucket}/*"]},
            {"Sid": "AuditObjectsOnlySessionLogs", "Effect": "Deny", "Action": "s3:PutObject",
             "NotResource": f"{bucket}/{sessions}/*"},
            {"Sid": "AuditKeyOnlyForSessionLogs", "Effect": "Deny",
             "NotAction": ["kms:GenerateDataKey", "kms:Decrypt"],
             "Resource": account.audit_key_arn},
        ]
    return {"Version": "2012-10-17", "Statement": statements}


class EnvironmentPolicies(Construct):
    """The environment's boundary, plan and deploy policies (see the module doc).

    - plan: AWS ReadOnlyAccess, narrowed by denies of everything that reads data (object and
      version contents, user and identity lists, database log files, log events and live tails,
      secret and parameter values, queue messages, table items other than the lock table's),
      plus the state object to read and its lock file to take when the state is in S3 (and the
      lock table's item while the environment still locks there).
    - deploy: the environment's resources by name and tag, the state object and lock, and the
      guardrails.

    Outputs: `plan_policy_arns`, `deploy_policy_arns`, `boundary_arn`, `documents` (by policy
    name suffix, for tests).
    """

    def __init__(self, scope: Construct, id: str, props: EnvironmentPoliciesProps):
        super().__init__(scope, id)
        n = props.naming
        self.documents: dict[str, dict] = {
            "boundary": boundary_document(n, props.account, props.protected_roles),
            "plan": _document(self._state(props, write=False) + self._no_data_reads(props)),
            "deploy-named": _document(self._state(props, write=True) + self._named(n)),
            "deploy-tagged": _document(self._tagged(props)),
            "deploy-guardrails": _document(self._guardrails(props)),
        }
        arns: dict[str, str] = {}
        for suffix, document in self.documents.items():
            name = (boundary_policy_name(n.project, n.environment) if suffix == "boundary"
                    else n.name("delivery", suffix))
            policy = aws.iam_policy.IamPolicy(
                self, suffix, name=name, policy=json.dumps(document),
                description=f"{n.prefix}: {suffix} (lib/delivery/policies.py)",
                tags=n.tags("delivery", suffix))
            arns[suffix] = policy.arn
        self.boundary_arn: str = arns["boundary"]
        self.plan_policy_arns: tuple[str, ...] = (READ_ONLY, arns["plan"])
        self.deploy_policy_arns = tuple(arns[s] for s in arns if s.startswith("deploy"))

    # --- state ------------------------------------------------------------------------------

    def _state(self, props: EnvironmentPoliciesProps, write: bool) -> list[dict]:
        if not props.remote_state:
            return []
        n, s = props.naming, props.account.state
        key = f"{s.bucket_arn}/{n.project}/{n.environment}.tfstate"
        # A plan locks too, with the S3 lock file: a conditional PutObject takes it, GetObject
        # reads who holds it, DeleteObject releases it (Terraform's S3 backend, client.go). It is
        # encrypted as the state is (backend.kms_key), so even a plan writes with the key.
        objects = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        return [
            {"Sid": "StateObject", "Effect": "Allow", "Action": objects if write else objects[:1],
             "Resource": key},
            {"Sid": "StateLockFile", "Effect": "Allow", "Action": objects,
             "Resource": f"{key}.tflock"},
            {"Sid": "StateBucket", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": s.bucket_arn},
            {"Sid": "StateKey", "Effect": "Allow", "Resource": s.kms_key_arn,
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"] + (["kms:Encrypt"] if write else [])},
            # While migrating from DynamoDB locking: its lock item and the state digest beside it.
            *([{"Sid": "StateLockTable", "Effect": "Allow", "Resource": s.lock_table_arn,
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]}]
              if props.state_lock_table else []),
        ]

    # --- plan -------------------------------------------------------------------------------

    def _no_data_reads(self, props: EnvironmentPoliciesProps) -> list[dict]:
        """Denies that narrow ReadOnlyAccess. None may match what `terraform plan` refreshes or
        locks: a deny wins over every allow, so one on the lock table or on lambda:GetFunction
        (the provider's read of aws_lambda_function) fails every plan. GetFunction's code link
        stays open: the code is this repository's own functions/."""
        n, s = props.naming, props.account.state
        key = f"{s.bucket_arn}/{n.project}/{n.environment}.tfstate"
        # The lock file holds who locked and when (Terraform's lock info), no infrastructure.
        own_state = [key, f"{key}.tflock"] if props.remote_state else []
        return [
            # Object contents, ACLs, attributes and torrents: only the current state object;
            # no object's old versions (Terraform reads the current state only).
            {"Sid": "NoObjectContents", "Effect": "Deny", "Action": "s3:GetObject*",
             "NotResource": own_state or ["arn:aws:s3:::no-such-object/none"]},
            {"Sid": "NoObjectVersions", "Effect": "Deny", "Action": "s3:GetObjectVersion*",
             "Resource": "*"},
            {"Sid": "NoItemsButTheLocks", "Effect": "Deny",
             "NotResource": [s.lock_table_arn] if props.state_lock_table else ["none"],
             "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                        "dynamodb:Scan", "dynamodb:PartiQLSelect", "dynamodb:GetRecords"]},
            # The account's own parameters; the public ones (AMI ids) hold no data.
            {"Sid": "NoParameterValues", "Effect": "Deny", "Action": "ssm:GetParameter*",
             "Resource": f"arn:{n.partition}:ssm:*:{n.account_id}:parameter/*"},
            {"Sid": "NoDataReads", "Effect": "Deny", "Resource": "*", "Action": list(DATA_READS)},
            {"Sid": "NoDataReadsElsewhere", "Effect": "Deny", "Resource": "*",
             "Action": list(DATA_READS_ELSEWHERE)},
        ]

    # --- deploy -----------------------------------------------------------------------------

    def _named(self, n: Naming) -> list[dict]:
        p, acct, region = n.prefix, n.account_id, n.region
        arn = f"arn:{n.partition}"
        named = {
            # The guardrails keep these off the delivery roles and the boundary, and make every
            # role carry the boundary.
            "NamedIamRoles": (["iam:*Role*", "iam:*InstanceProfile*", "iam:*Policy*"],
                              [f"{arn}:iam::{acct}:role/{p}-*",
                               f"{arn}:iam::{acct}:instance-profile/{p}-*",
                               f"{arn}:iam::{acct}:policy/{p}-*"]),
            "NamedBuckets": (["s3:*"], [f"{arn}:s3:::{p}-*"]),
            "NamedRepositories": (["ecr:*"], [f"{arn}:ecr:{region}:{acct}:repository/{p}/*"]),
            "NamedQueuesTopics": (["sqs:*", "sns:*"], [f"{arn}:sqs:{region}:{acct}:{p}-*",
                                                       f"{arn}:sns:{region}:{acct}:{p}-*"]),
            "NamedFunctions": (["lambda:*"], [f"{arn}:lambda:{region}:{acct}:function:{p}-*"]),
            # lib/observability/chatbot.py: Slack channel configurations have no region.
            "NamedChatConfigurations": (["chatbot:*"], [
                f"{arn}:chatbot::{acct}:chat-configuration/slack-channel/{p}-*"]),
            "NamedLogGroups": (["logs:*"], [
                f"{arn}:logs:*:{acct}:log-group:/{n.project}/{n.environment}/*",
                f"{arn}:logs:*:{acct}:log-group:/aws/rds/instance/{p}-*",
                f"{arn}:logs:*:{acct}:log-group:/aws/rds/proxy/{p}-*",
                f"{arn}:logs:*:{acct}:log-group:/aws/lambda/{p}-*",
                f"{arn}:logs:*:{acct}:log-group:aws-waf-logs-{p}-*",
                f"{arn}:logs:*:{acct}:log-group:/aws/chatbot/{p}-*",  # lib/observability/chatbot.py
                f"{arn}:logs:*:{acct}:delivery-source:{p}-*",
                f"{arn}:logs:*:{acct}:delivery-destination:{p}-*"]),
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
                 "cluster", "snapshot", "serverlesscache", "serverlesscachesnapshot")]),
            "NamedLoadBalancers": (["elasticloadbalancing:*"], [
                f"{arn}:elasticloadbalancing:{region}:{acct}:{kind}/{p}-*" for kind in
                ("loadbalancer/app", "targetgroup", "listener/app", "listener-rule/app")]),
            "NamedEdge": (["cloudfront:*Function", "cloudwatch:*Dashboard*", "cloudwatch:*Alarm*",
                           "scheduler:*Schedule", "apprunner:*", "autoscaling:*",
                           "wafv2:*"], [
                f"{arn}:cloudfront::{acct}:function/{p}-*",
                f"{arn}:cloudwatch::{acct}:dashboard/{p}",  # lib/observability/alarms.py
                f"{arn}:cloudwatch::{acct}:dashboard/{p}-*",
                f"{arn}:cloudwatch:{region}:{acct}:alarm:{p}-*",
                f"{arn}:scheduler:{region}:{acct}:schedule/*/{p}-*",
                f"{arn}:apprunner:{region}:{acct}:*/{p}-*",
                f"{arn}:autoscaling:{region}:{acct}:autoScalingGroup:*:"
                f"autoScalingGroupName/{p}-*",
                f"{arn}:wafv2:*:{acct}:*/*/{p}-*/*"]),
        }
        return [{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
                for sid, (actions, resources) in named.items()]

    def _tagged(self, props: EnvironmentPoliciesProps) -> list[dict]:
        n = props.naming
        p, acct, region = n.prefix, n.account_id, n.region
        arn = f"arn:{n.partition}"
        regions = sorted({region, "us-east-1"})  # CloudFront's certificates, WAF and logs
        own = {f"aws:{where}Tag/{key}": value for where in ("Resource", "Request")
               for key, value in zip(TAG_KEYS, (n.project, n.environment))}
        statements = [
            # Actions on a resource (an ARN): the guardrails deny those tagged for another
            # environment. Actions without one are evaluated against "*", which this statement
            # does not name: they are the next statement's, one by one.
            {"Sid": "OwnOrNewResourcesByTag", "Effect": "Allow", "Resource": f"{arn}:*",
             "Action": [f"{service}:*" for service in TAGGED_SERVICES],
             "Condition": {"StringEqualsIfExists": own,
                           "StringEquals": {"aws:RequestedRegion": regions}}},
            # Listings, and creates of something new, that AWS authorizes on "*" only (no ARN to
            # scope by name or tag); ACCOUNT_WIDE_WRITES says why each other write is here.
            {"Sid": "AccountWide", "Effect": "Allow", "Resource": "*",
             "Condition": {"StringEqualsIfExists": own,
                           "StringEquals": {"aws:RequestedRegion": regions}},
             "Action": sorted({*(f"{service}:{verb}" for service in TAGGED_SERVICES
                                 for verb in ("Describe*", "List*", "Create*")),
                               "ecs:Describe*", "ecs:List*", "ecs:RegisterTaskDefinition",
                               "ecs:CreateCluster", "ecr:GetAuthorizationToken",
                               "rds:Describe*", "elasticache:Describe*", "lambda:List*",
                               "lambda:*EventSourceMapping*", "lambda:GetAccountSettings",
                               "secretsmanager:GetRandomPassword", "kms:CreateKey",
                               "kms:ListAliases", "kms:ListKeys", "iam:CreateServiceLinkedRole",
                               "iam:GetRole", "iam:ListRoles", "sqs:ListQueues",
                               "sns:ListTopics", "s3:ListAllMyBuckets", "route53:Get*",
                               "route53:List*", "route53:CreateHostedZone",
                               *ACCOUNT_WIDE_WRITES})},
            # An event source mapping has an id, not a name: its tags scope it. The provider
            # tags it on create (default tags), which takes lambda:TagResource, and reads them
            # back with lambda:ListTags (AWS Lambda Developer Guide, "Using tags on event source
            # mappings"); NamedFunctions covers the functions' own tags.
            {"Sid": "OwnEventSourceMappingTags", "Effect": "Allow",
             "Resource": f"{arn}:lambda:{region}:{acct}:event-source-mapping:*",
             "Action": ["lambda:TagResource", "lambda:UntagResource", "lambda:ListTags"],
             "Condition": {"StringEqualsIfExists": own}},
            # Chatbot's listings (the provider reads a configuration back through them) answer
            # on "*" only, in us-east-2 whatever the environment's region.
            {"Sid": "ChatConfigurationListings", "Effect": "Allow", "Resource": "*",
             "Action": ["chatbot:Describe*", "chatbot:List*"]},
            # The provider's account check; no other STS call is needed (see NoRoleAssumption).
            {"Sid": "WhoAmI", "Effect": "Allow", "Action": "sts:GetCallerIdentity",
             "Resource": "*"},
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
            # RDS Proxy (lib/data/proxy.py): a proxy and its target group are named by id
            # (db-proxy:prx-..., target-group:prx-tg-...), so their tags scope them. Registering
            # the primary also names the instance, which NamedDatabases covers.
            {"Sid": "OwnDbProxiesByTag", "Effect": "Allow",
             "Action": ["rds:*DBProxy*", "rds:AddTagsToResource", "rds:RemoveTagsFromResource",
                        "rds:ListTagsForResource"],
             "Resource": [f"{arn}:rds:{region}:{acct}:{kind}:*"
                          for kind in ("db-proxy", "target-group")],
             "Condition": {"StringEqualsIfExists": own}},
            # An instance created without an option group gets the engine's default one, which
            # CreateDBInstance may authorize as one of its resources; it grants nothing else.
            {"Sid": "DefaultOptionGroups", "Effect": "Allow",
             "Action": ["rds:CreateDBInstance", "rds:CreateDBInstanceReadReplica"],
             "Resource": f"{arn}:rds:{region}:{acct}:og:default:*"},
        ]
        if props.backup_copy_region:
            statements += self._backup_copy_region(props, own)
        if props.domains:
            # Route 53 has no tags to scope by: records by name instead ("Using IAM policy
            # conditions for fine-grained access control", Route 53 Developer Guide; names are
            # lower case without the trailing dot). Certificate validation records are
            # subdomains (_<token>.<domain>).
            names = sorted({name for d in props.domains for name in (d, f"*.{d}")})
            statements.append(
                {"Sid": "OwnRecordsOnly", "Effect": "Allow",
                 "Action": "route53:ChangeResourceRecordSets",
                 "Resource": f"{arn}:route53:::hostedzone/*",
                 "Condition": {"ForAllValues:StringLike": {
                     "route53:ChangeResourceRecordSetsNormalizedRecordNames": names}}})
            # A created zone's destroy. Route 53 refuses to delete a zone that holds records
            # other than its own SOA and NS (DeleteHostedZone, HostedZoneNotEmpty), and the
            # records are the environment's own names only: another environment's zone stays.
            # Terraform tags a zone after CreateHostedZone; Route 53 authorizes nothing by tag.
            statements.append({"Sid": "OwnEmptyZones", "Effect": "Allow",
                               "Action": ["route53:DeleteHostedZone",
                                          "route53:ChangeTagsForResource"],
                               "Resource": f"{arn}:route53:::hostedzone/*"})
        return statements

    @staticmethod
    def _backup_copy_region(props: EnvironmentPoliciesProps, own: dict) -> list[dict]:
        """lib/data/backup_copy.py in the second Region: its key (created there, then used by
        tag, OwnKeysByTag) and alias, and the replication, which Terraform starts, reads and
        stops there. Start is authorized on the source instance (NamedDatabases) and on the new
        replicated backup, whose id RDS picks (Service Authorization Reference, "Actions,
        resources, and condition keys for Amazon RDS": auto-backup); Stop on the instance."""
        n, other = props.naming, props.backup_copy_region
        arn, acct = f"arn:{n.partition}", n.account_id
        return [
            {"Sid": "BackupCopyRegion", "Effect": "Allow", "Resource": "*",
             "Action": ["kms:CreateKey", "kms:ListAliases", "kms:ListKeys", "rds:Describe*"],
             "Condition": {"StringEqualsIfExists": own,
                           "StringEquals": {"aws:RequestedRegion": other}}},
            {"Sid": "BackupCopyKeyAlias", "Effect": "Allow", "Action": "kms:*Alias",
             "Resource": f"{arn}:kms:{other}:{acct}:alias/{n.prefix}-*"},
            {"Sid": "ReplicateOwnBackups", "Effect": "Allow",
             "Action": "rds:StartDBInstanceAutomatedBackupsReplication",
             "Resource": f"{arn}:rds:{other}:{acct}:auto-backup:*"},
        ]

    def _guardrails(self, props: EnvironmentPoliciesProps) -> list[dict]:
        """Explicit denies: they win over every allow above, whatever a later edit adds there."""
        n = props.naming
        iam = f"arn:{n.partition}:iam::{n.account_id}"
        s = props.account.state
        boundary = f"{iam}:policy/{boundary_policy_name(n.project, n.environment)}"
        statements = [
            # Tags are ANDed within a statement, so one statement per key.
            *({"Sid": f"NoOther{key}sResources", "Effect": "Deny", "Action": "*",
               "NotResource": [s.kms_key_arn, s.lock_table_arn, s.bucket_arn,
                               f"{s.bucket_arn}/*"],
               "Condition": {"StringNotEquals": {f"aws:ResourceTag/{key}": value},
                             "Null": {f"aws:ResourceTag/{key}": "false"}}}
              for key, value in zip(TAG_KEYS, (n.project, n.environment))),
            *({"Sid": f"NoResourcesTaggedForAnother{key}", "Effect": "Deny", "Action": "*",
               "Resource": "*",
               "Condition": {"StringNotEquals": {f"aws:RequestTag/{key}": value},
                             "Null": {f"aws:RequestTag/{key}": "false"}}}
              for key, value in zip(TAG_KEYS, (n.project, n.environment))),
            {"Sid": "NoUnscopableWrites", "Effect": "Deny", "Resource": "*",
             "Action": list(UNSCOPABLE_WRITES)},
            # Resources named by name that the tag allow would let through (they carry no tag
            # AWS checks): only the environment's own names.
            *({"Sid": sid, "Effect": "Deny", "Action": actions, "NotResource": own}
              for sid, actions, own in self._only_own_names(n)),
            # RunTask and StartTask are authorized on the task definition; the cluster they run
            # in is only the ecs:cluster condition key (Service Authorization Reference, Amazon
            # ECS). Without this, the role could run its own task in another environment's
            # cluster, with that environment's subnets and security groups (its database's).
            # No cluster named (the default cluster) is denied too.
            {"Sid": "TasksOnlyInOwnClusters", "Effect": "Deny", "Resource": "*",
             "Action": ["ecs:RunTask", "ecs:StartTask"],
             "Condition": {"ArnNotLike": {"ecs:cluster": (
                 f"arn:{n.partition}:ecs:*:{n.account_id}:cluster/{n.prefix}-*")}}},
            # Other services' resources that EC2 and WAF actions can name; none is the platform's.
            {"Sid": "NoForeignResources", "Effect": "Deny", "Action": ["ec2:*", "wafv2:*"],
             "Resource": [f"arn:{n.partition}:elastic-inference:*",
                          f"arn:{n.partition}:license-manager:*",
                          f"arn:{n.partition}:resource-groups:*",
                          f"arn:{n.partition}:wafv2:*:*:*/managedruleset/*"]},
            # Every delivery principal of every environment, their policies, the boundaries and
            # the identity providers: read only.
            {"Sid": "NoChangesToDelivery", "Effect": "Deny",
             "NotAction": ["iam:Get*", "iam:List*"],
             "Resource": [*(f"{iam}:role/{r}" for r in props.protected_roles),
                          f"{iam}:policy/{n.project}-*-delivery-*",
                          f"{iam}:policy/{boundary_policy_name(n.project, '*')}",
                          f"{iam}:oidc-provider/*"]},
            # A role of this environment exists only with its boundary (IAM User Guide,
            # "Permissions boundaries for IAM entities": iam:PermissionsBoundary on role
            # creation and on every change of a role's policies), and keeps it.
            {"Sid": "RolesOnlyWithTheBoundary", "Effect": "Deny", "Resource": "*",
             "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
                        "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRolePolicy",
                        "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
                        "iam:UpdateRoleDescription", "iam:DeleteRole"],
             "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": boundary}}},
            {"Sid": "NoBoundaryRemoval", "Effect": "Deny", "Resource": "*",
             "Action": "iam:DeleteRolePermissionsBoundary"},
            {"Sid": "PassRolesOnlyToThePlatformsServices", "Effect": "Deny",
             "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringNotEquals": {"iam:PassedToService": PASSED_TO_SERVICES}}},
            # sts:* on * let it assume any role trusting the account, and a trust policy that
            # names the deploy role itself (it writes those of <prefix>-* roles) needs no allow.
            {"Sid": "NoRoleAssumption", "Effect": "Deny", "Action": "sts:AssumeRole",
             "Resource": "*"},
        ]
        # Another environment's domain at or under this one's (prod at example.com, staging at
        # staging.example.com): the record allow above covers it, so it is denied by name.
        nested = {d for d in props.foreign_domains
                  if any(d == own or d.endswith(f".{own}") for own in props.domains)}
        if nested:
            names = sorted({name for d in nested for name in (d, f"*.{d}")})
            statements.append(
                {"Sid": "NoOtherEnvironmentsRecords", "Effect": "Deny",
                 "Action": "route53:ChangeResourceRecordSets", "Resource": "*",
                 "Condition": {"ForAnyValue:StringLike": {
                     "route53:ChangeResourceRecordSetsNormalizedRecordNames": names}}})
        return statements

    @staticmethod
    def _only_own_names(n: Naming) -> list[tuple[str, list[str], list[str]]]:
        p, acct, region, arn = n.prefix, n.account_id, n.region, f"arn:{n.partition}"
        return [
            # Only the web ACL of the load balancer (lib/edge/waf.py): a disassociation would
            # switch another environment's WAF off.
            ("OwnWebAclAssociations", ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
                                       "apprunner:*WebAcl", "cognito-idp:*WebACL"],
             [f"{arn}:elasticloadbalancing:{region}:{acct}:loadbalancer/app/{p}-*",
              f"{arn}:wafv2:*:{acct}:*/webacl/{p}-*/*"]),
            ("OwnCloudFrontFunctions", ["cloudfront:UpdateFunction", "cloudfront:DeleteFunction",
                                        "cloudfront:PublishFunction", "cloudfront:TestFunction"],
             [f"{arn}:cloudfront::{acct}:function/{p}-*"]),
            ("OwnDashboards", ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
             [f"{arn}:cloudwatch::{acct}:dashboard/{p}",
              f"{arn}:cloudwatch::{acct}:dashboard/{p}-*"]),
        ]


def _document(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}
