"""Customer-managed KMS keys: one per environment and purpose, rotation on, with an alias."""

import json
from dataclasses import dataclass

from lib.core.cdk import TerraformProvider
from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming


@dataclass(frozen=True)
class EncryptionKeyProps:
    naming: Naming
    purpose: str  # a word: "logs", "data", "secrets"; names the alias alias/<project>-<env>-<purpose>
    description: str
    # Lets CloudWatch Logs in this account and region encrypt log groups with the key.
    allow_cloudwatch_logs: bool = False
    # AWS services that publish into resources the key encrypts (e.g. CloudWatch alarms and
    # EventBridge into an encrypted SNS topic): they may generate data keys and decrypt.
    allow_services: tuple[str, ...] = ()
    # AWS services that publish to SNS topics the key encrypts (CloudWatch alarms, EventBridge
    # rules), scoped to `topic_arns` through SNS's encryption context (aws:sns:topicArn) rather
    # than aws:SourceAccount: EventBridge is not documented to send that key with its deliveries,
    # and a condition it does not meet would drop every finding without an error.
    topic_publishers: tuple[str, ...] = ()
    topic_arns: tuple[str, ...] = ()
    # Trails that encrypt their logs with the key: CloudTrail may generate data keys for them,
    # describe the key and decrypt (an S3 Bucket Key), each only on behalf of these trails.
    cloudtrail_trail_arns: tuple[str, ...] = ()
    # Services, by their kms:ViaService name (rds.us-west-2.amazonaws.com), through which the
    # account's principals use the key, as with the AWS managed aws/rds key.
    used_through: tuple[str, ...] = ()
    # 7-30 days; a short window lets a disposable environment be torn down and rebuilt.
    deletion_window_days: int = 30
    # Another Region's AWS provider, for a key there (a key never leaves its Region).
    provider: TerraformProvider | None = None


class EncryptionKey(Construct):
    """A symmetric KMS key with annual rotation and an alias.

    The key policy gives the account (and so IAM policies) administration of the key, and, where
    asked, the CloudWatch Logs service the use of it scoped to this account's log groups, other
    services the data-key use they publish with, CloudTrail what its trails need, and the
    account's principals its use through named services (`used_through`). With `provider`, the
    key and its alias are created in that provider's Region.

    Outputs: `arn`, `key_id`, `alias_name`.
    """

    def __init__(self, scope: Construct, id: str, props: EncryptionKeyProps):
        super().__init__(scope, id)
        n = props.naming
        statements = [{
            "Sid": "AccountAdministersTheKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": n.account_root_arn},
            "Action": "kms:*",
            "Resource": "*",
        }]
        if props.allow_cloudwatch_logs:
            statements.append({
                "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{n.region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
                           "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": n.arn("logs", "log-group:*")}},
            })
        if props.allow_services:
            statements.append(_publishers(
                "AwsServicesPublishIntoEncryptedResources", props.allow_services,
                {"aws:SourceAccount": n.account_id}))
        if props.topic_publishers:
            statements.append(_publishers(
                "AwsServicesPublishToTheseTopics", props.topic_publishers,
                {"kms:EncryptionContext:aws:sns:topicArn": list(props.topic_arns)}))
        if props.cloudtrail_trail_arns:
            statements += cloudtrail_statements(n, props.cloudtrail_trail_arns)
        if props.used_through:
            # AWS KMS Developer Guide, "kms:ViaService" and "kms:CallerAccount": this account's
            # principals, through these services only (the key policy of aws/rds, narrowed to
            # the account); what each principal may do is still its IAM policy's to say.
            statements.append({
                "Sid": "AccountUsesTheKeyThroughServices",
                "Effect": "Allow",
                "Principal": {"AWS": n.account_root_arn},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                           "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": list(props.used_through),
                                               "kms:CallerAccount": n.account_id}},
            })
        key = aws.kms_key.KmsKey(
            self, "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
            policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            tags=n.tags(props.purpose),
            provider=props.provider,
        )
        self.key_id: str = key.key_id
        alias = aws.kms_alias.KmsAlias(
            self, "alias", name=f"alias/{n.name(props.purpose)}", target_key_id=self.key_id,
            provider=props.provider,
        )
        self.arn: str = key.arn
        self.alias_name: str = alias.name


def cloudtrail_statements(n: Naming, trail_arns: tuple[str, ...]) -> list[dict]:
    """CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail": encrypt (the
    aws:cloudtrail:arn encryption context of this account's trails), describe the key, and decrypt
    (required to create a trail whose bucket uses an S3 Bucket Key), each limited by aws:SourceArn
    to the given trails."""
    service = {"Service": "cloudtrail.amazonaws.com"}
    for_trails = {"aws:SourceArn": list(trail_arns)}
    return [
        {"Sid": "CloudTrailEncryptsLogs", "Effect": "Allow", "Principal": service,
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                      f"arn:{n.partition}:cloudtrail:*:{n.account_id}:trail/*"},
                       "StringEquals": for_trails}},
        {"Sid": "CloudTrailDescribesTheKey", "Effect": "Allow", "Principal": service,
         "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"StringEquals": for_trails}},
        {"Sid": "CloudTrailDecryptsThroughTheBucketKey", "Effect": "Allow", "Principal": service,
         "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": for_trails}},
    ]


def _publishers(sid: str, services: tuple[str, ...], equals: dict) -> dict:
    """AWS services that write into what the key encrypts: data keys and decryption, only where
    `equals` holds (StringEquals)."""
    return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": list(services)},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
            "Condition": {"StringEquals": equals}}
