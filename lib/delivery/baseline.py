"""The account's security baseline: CloudTrail, GuardDuty, AWS Config, Session Manager logging."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.access import SessionLogAccess
from lib.edge.bucket import Bucket, BucketProps, LifecycleRule
from lib.core.iam import service_role_with_policies
from lib.core.naming import Naming

CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
ACCOUNT_ENVIRONMENT = "account"  # the bootstrap stack names its resources <project>-account-...
AUDIT = "audit"  # the audit bucket's component and the audit key's purpose
SESSION_LOG_PREFIX = "session-manager"


def session_log_access(environment: Naming) -> SessionLogAccess:
    """Where the account baseline of any project in the environment's account and Region logs
    Session Manager sessions: what the environment's EC2 instance roles are granted, since the
    preferences document binds every managed node there (not only this project's)."""
    n = Naming("*", ACCOUNT_ENVIRONMENT, environment.account_id, environment.region)
    return SessionLogAccess(bucket_arn=n.bucket_arn(AUDIT), prefix=SESSION_LOG_PREFIX,
                            key_alias=f"alias/{n.name(AUDIT)}", account_id=n.account_id,
                            region=n.region)


def trail_arn(naming: Naming) -> str:
    """The ARN the account's trail will have: the audit key's policy names it before it exists."""
    return naming.arn("cloudtrail", f"trail/{naming.name('trail')}")


@dataclass(frozen=True)
class BaselineProps:
    naming: Naming
    # Its policy admits CloudTrail for `trail_arn(naming)` (EncryptionKey cloudtrail_trail_arns) and
    # the AWS Config service principal (allow_services); the Config role is granted it here.
    audit_key_arn: str
    retention_days: int  # audit objects expire after this
    data_event_bucket_arns: tuple[str, ...] = ()  # object-level API calls recorded (state bucket)


class Baseline(Construct):
    """- CloudTrail: all regions, global service events, log file validation, KMS encryption, into
      an audit bucket (private, versioned, TLS-only, expiring after `retention_days`).
    - GuardDuty: a detector with 15-minute finding updates.
    - AWS Config: a recorder of all resources (global ones included) delivering to the audit
      bucket, switched on.
    - Session Manager: sessions encrypted with the audit key and logged to the audit bucket (the
      account-wide `SSM-SessionManagerRunShell` preferences document; see README if the account
      already has one). Instance roles need `session_log_access()` to start sessions.

    Outputs: `trail_arn`, `audit_bucket_name`, `detector_id`.
    """

    def __init__(self, scope: Construct, id: str, props: BaselineProps):
        super().__init__(scope, id)
        n = props.naming
        trail_name, trail = n.name("trail"), trail_arn(n)
        bucket_arn = n.bucket_arn(AUDIT)
        logs = f"{bucket_arn}/AWSLogs/{n.account_id}"
        owner_full_control = {"s3:x-amz-acl": "bucket-owner-full-control"}
        # CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail" (aws:SourceArn: this
        # trail); AWS Config Developer Guide, "Permissions for the Amazon S3 Bucket": what Config
        # needs when it falls back from its role to its service principal.
        trail_writes = {"StringEquals": {"aws:SourceArn": trail}}
        config_writes = {"StringEquals": {"aws:SourceAccount": n.account_id}}
        audit = Bucket(self, "audit-bucket", BucketProps(
            naming=n, component=AUDIT, kms_key_arn=props.audit_key_arn,
            lifecycle=[LifecycleRule("expire-audit", expire_days=props.retention_days)],
            extra_policy_statements=[
                {"Sid": "CloudTrailChecksTheBucket", "Effect": "Allow",
                 "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:GetBucketAcl", "Resource": bucket_arn, "Condition": trail_writes},
                {"Sid": "CloudTrailWrites", "Effect": "Allow",
                 "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": f"{logs}/*",
                 "Condition": {"StringEquals": {**trail_writes["StringEquals"],
                                                **owner_full_control}}},
                {"Sid": "ConfigChecksTheBucket", "Effect": "Allow",
                 "Principal": {"Service": "config.amazonaws.com"},
                 "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": bucket_arn,
                 "Condition": config_writes},
                {"Sid": "ConfigWrites", "Effect": "Allow",
                 "Principal": {"Service": "config.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": f"{logs}/Config/*",
                 "Condition": {"StringEquals": {**config_writes["StringEquals"],
                                                **owner_full_control}}}]))
        # The trail's creation checks the bucket policy (InsufficientS3BucketPolicyException):
        # it waits for the policy itself, not for the bucket construct.
        cloudtrail = aws.cloudtrail.Cloudtrail(
            self, "trail", name=trail_name, s3_bucket_name=audit.name,
            is_multi_region_trail=True, include_global_service_events=True,
            enable_log_file_validation=True, kms_key_id=props.audit_key_arn,
            event_selector=[aws.cloudtrail.CloudtrailEventSelector(
                read_write_type="All", include_management_events=True,
                data_resource=[aws.cloudtrail.CloudtrailEventSelectorDataResource(
                    type="AWS::S3::Object", values=[f"{b}/" for b in props.data_event_bucket_arns])])]
            if props.data_event_bucket_arns else None,
            depends_on=[audit.policy], tags=n.tags("trail"))
        detector = aws.guardduty_detector.GuarddutyDetector(
            self, "guardduty", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES",
            tags=n.tags("guardduty"))
        # AWS Config Developer Guide, "Permissions for the IAM Role Assigned to AWS Config": the
        # recorder reads configurations through AWS_ConfigRole, and delivers as this role (same
        # account) to the bucket and with the key named here.
        role, grants = service_role_with_policies(
            self, "config-role", n, "config", "config.amazonaws.com", [
                {"Sid": "DeliverConfigurationItems", "Effect": "Allow",
                 "Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": f"{logs}/Config/*",
                 "Condition": {"StringLike": owner_full_control}},
                {"Sid": "CheckTheBucketAcl", "Effect": "Allow", "Action": "s3:GetBucketAcl",
                 "Resource": bucket_arn},
                {"Sid": "EncryptWithTheAuditKey", "Effect": "Allow",
                 "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                 "Resource": props.audit_key_arn}],
            managed_policy_arns=[CONFIG_ROLE_POLICY])
        recorder = aws.config_configuration_recorder.ConfigConfigurationRecorder(
            self, "config-recorder", name=n.name("config"), role_arn=role.arn,
            recording_group=aws.config_configuration_recorder.
            ConfigConfigurationRecorderRecordingGroup(all_supported=True,
                                                      include_global_resource_types=True),
            depends_on=grants)
        # PutDeliveryChannel checks that it can write (InsufficientDeliveryPolicyException): the
        # recorder, the role's grants and the bucket policy come first.
        channel = aws.config_delivery_channel.ConfigDeliveryChannel(
            self, "config-delivery", name=n.name("config"), s3_bucket_name=audit.name,
            s3_kms_key_arn=props.audit_key_arn, depends_on=[recorder, *grants, audit.policy])
        aws.config_configuration_recorder_status.ConfigConfigurationRecorderStatus(
            self, "config-on", name=recorder.name, is_enabled=True, depends_on=[channel])
        aws.ssm_document.SsmDocument(
            self, "session-preferences", name="SSM-SessionManagerRunShell",
            document_type="Session", document_format="JSON",
            content=json.dumps({
                "schemaVersion": "1.0", "description": f"{n.project}: encrypted, logged sessions",
                "sessionType": "Standard_Stream",
                "inputs": {"s3BucketName": audit.name, "s3KeyPrefix": SESSION_LOG_PREFIX,
                           "s3EncryptionEnabled": True, "kmsKeyId": props.audit_key_arn,
                           "cloudWatchLogGroupName": "", "runAsEnabled": False,
                           "idleSessionTimeout": "20"}}),
            tags=n.tags("session-manager"))
        self.trail_arn: str = cloudtrail.arn
        self.audit_bucket_name: str = audit.name
        self.detector_id: str = detector.id
