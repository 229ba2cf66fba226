"""Customer-managed KMS keys: one per environment and purpose, rotation on, with an alias."""

import json
from dataclasses import dataclass

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
    # 7-30 days; a short window lets a disposable environment be torn down and rebuilt.
    deletion_window_days: int = 30


class EncryptionKey(Construct):
    """A symmetric KMS key with annual rotation and an alias.

    The key policy gives the account (and so IAM policies) administration of the key, and, where
    asked, the CloudWatch Logs service the use of it scoped to this account's log groups.

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
            statements.append({
                "Sid": "AwsServicesPublishIntoEncryptedResources",
                "Effect": "Allow",
                "Principal": {"Service": list(props.allow_services)},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": n.account_id}},
            })
        key = aws.kms_key.KmsKey(
            self, "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
            policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            tags=n.tags(props.purpose),
        )
        self.key_id: str = key.key_id
        alias = aws.kms_alias.KmsAlias(
            self, "alias", name=f"alias/{n.name(props.purpose)}", target_key_id=self.key_id,
        )
        self.arn: str = key.arn
        self.alias_name: str = alias.name
