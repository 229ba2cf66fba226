"""The account's security baseline: CloudTrail (to S3 and to CloudWatch Logs), GuardDuty, AWS Config,
Session Manager logging."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.access import SessionLogAccess
from lib.edge.bucket import Bucket, BucketProps, LifecycleRule, ObjectLock
from lib.core.iam import service_role_with_policies
from lib.core.naming import Naming

CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
ACCOUNT_ENVIRONMENT = "account"  # the bootstrap stack names its resources <project>-account-...
AUDIT = "audit"  # the audit bucket's component and the audit key's purpose
CONFIG = "config"  # AWS Config's own bucket: it cannot deliver into an Object Lock bucket
TRAIL_LOGS = "cloudtrail"  # the trail's CloudWatch Logs group /<project>/account/cloudtrail
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


def trail_log_group_arn(naming: Naming) -> str:
    return naming.arn("logs", f"log-group:{naming.log_group(TRAIL_LOGS)}")


@dataclass(frozen=True)
class BaselineProps:
    naming: Naming
    # Its policy admits CloudTrail for `trail_arn(naming)` (EncryptionKey cloudtrail_trail_arns),
    # the AWS Config service principal (allow_services) and CloudWatch Logs (allow_cloudwatch_logs,
    # for the trail's log group); the Config role is granted it here.
    audit_key_arn: str
    # Audit and Config objects expire after this, and the trail's log group keeps events as long:
    # a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, ... 365, 400 ...).
    retention_days: int
    data_event_bucket_arns: tuple[str, ...] = ()  # object-level API calls recorded (state bucket)
    # Default retention of new audit objects (trail and session logs); None: no Object Lock. At
    # most `retention_days`, or the lifecycle would wait on locked versions.
    object_lock: ObjectLock | None = None


class Baseline(Construct):
    """- CloudTrail: all regions, global service events, log file validation, KMS encryption, into
      an audit bucket (private, versioned, TLS-only, Object Lock default retention, expiring after
      `retention_days`), and into the KMS-encrypted CloudWatch Logs group
      `/<project>/account/cloudtrail` through a role CloudTrail assumes (what the CIS metric
      filters read, lib/delivery/detection.py).
    - GuardDuty: a detector with 15-minute finding updates (the account region's; others and the
      findings' route to people are lib/delivery/detection.py).
    - AWS Config: a recorder of all resources (global ones included) delivering to its own bucket
      (AWS Config cannot deliver into an Object Lock bucket), switched on.
    - Session Manager: sessions encrypted with the audit key and logged to the audit bucket (the
      account-wide `SSM-SessionManagerRunShell` preferences document; see README if the account
      already has one). Instance roles need `session_log_access()` to start sessions.

    Outputs: `trail_arn`, `trail_log_group_name`, `audit_bucket_name`, `config_bucket_name`,
    `detector_id`.
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
        # S3 User Guide, "Object Lock considerations": lifecycle rules keep working on locked
        # objects (expiring a current version adds a delete marker), but no lifecycle rule deletes
        # a version while its lock lasts; with the lock no longer than the retention, the audit
        # lifecycle never waits on one.
        audit = Bucket(self, "audit-bucket", BucketProps(
            naming=n, component=AUDIT, kms_key_arn=props.audit_key_arn,
            lifecycle=[LifecycleRule("expire-audit", expire_days=props.retention_days)],
            object_lock=props.object_lock,
            extra_policy_statements=[
                {"Sid": "CloudTrailChecksTheBucket", "Effect": "Allow",
                 "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:GetBucketAcl", "Resource": bucket_arn, "Condition": trail_writes},
                {"Sid": "CloudTrailWrites", "Effect": "Allow",
                 "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": f"{logs}/*",
                 "Condition": {"StringEquals": {**trail_writes["StringEquals"],
                                                **owner_full_control}}}]))
        # AWS CloudFormation / AWS Config API Reference, DeliveryChannel: "AWS Config does not
        # support the delivery channel to an Amazon S3 bucket where object lock is enabled". Its
        # history before this bucket existed stays in the audit bucket until it expires.
        config_arn = n.bucket_arn(CONFIG)
        config_logs = f"{config_arn}/AWSLogs/{n.account_id}"
        config_bucket = Bucket(self, "config-bucket", BucketProps(
            naming=n, component=CONFIG, kms_key_arn=props.audit_key_arn,
            lifecycle=[LifecycleRule("expire-config", expire_days=props.retention_days)],
            extra_policy_statements=[
                {"Sid": "ConfigChecksTheBucket", "Effect": "Allow",
                 "Principal": {"Service": "config.amazonaws.com"},
                 "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": config_arn,
                 "Condition": config_writes},
                {"Sid": "ConfigWrites", "Effect": "Allow",
                 "Principal": {"Service": "config.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": f"{config_logs}/Config/*",
                 "Condition": {"StringEquals": {**config_writes["StringEquals"],
                                                **owner_full_control}}}]))
        group, writer = self._trail_log_group(props)
        # The trail's creation checks the bucket policy (InsufficientS3BucketPolicyException) and
        # that the role may write to the group: it waits for both, not only for the constructs.
        cloudtrail = aws.cloudtrail.Cloudtrail(
            self, "trail", name=trail_name, s3_bucket_name=audit.name,
            is_multi_region_trail=True, include_global_service_events=True,
            enable_log_file_validation=True, kms_key_id=props.audit_key_arn,
            # CloudTrail wants the group's ARN with its log-stream wildcard.
            cloud_watch_logs_group_arn=f"{group.arn}:*", cloud_watch_logs_role_arn=writer.arn,
            event_selector=[aws.cloudtrail.CloudtrailEventSelector(
                read_write_type="All", include_management_events=True,
                data_resource=[aws.cloudtrail.CloudtrailEventSelectorDataResource(
                    type="AWS::S3::Object", values=[f"{b}/" for b in props.data_event_bucket_arns])])]
            if props.data_event_bucket_arns else None,
            depends_on=[audit.policy, *self._writer_grants], tags=n.tags("trail"))
        detector = aws.guardduty_detector.GuarddutyDetector(
            self, "guardduty", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES",
            tags=n.tags("guardduty"))
        # AWS Config Developer Guide, "Permissions for the IAM Role Assigned to AWS Config": the
        # recorder reads configurations through AWS_ConfigRole, and delivers as this role (same
        # account) to the bucket and with the key named here.
        role, grants = service_role_with_policies(
            self, "config-role", n, "config", "config.amazonaws.com", [
                {"Sid": "DeliverConfigurationItems", "Effect": "Allow",
                 "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                 "Resource": f"{config_logs}/Config/*",
                 "Condition": {"StringLike": owner_full_control}},
                {"Sid": "CheckTheBucketAcl", "Effect": "Allow", "Action": "s3:GetBucketAcl",
                 "Resource": config_arn},
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
            self, "config-delivery", name=n.name("config"), s3_bucket_name=config_bucket.name,
            s3_kms_key_arn=props.audit_key_arn,
            depends_on=[recorder, *grants, config_bucket.policy])
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
        self.trail_log_group_name: str = group.name
        self.audit_bucket_name: str = audit.name
        self.config_bucket_name: str = config_bucket.name
        self.detector_id: str = detector.id

    def _trail_log_group(self, props: BaselineProps):
        """The trail's CloudWatch Logs group and the role CloudTrail writes to it with (CloudTrail
        User Guide, "Role policy document for CloudTrail to use CloudWatch Logs for monitoring":
        logs:CreateLogStream and logs:PutLogEvents on its streams, which CloudTrail names
        `<account id>_CloudTrail_<region>[_<n>]`, "CloudWatch log group and log stream naming for
        CloudTrail")."""
        n = props.naming
        group = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "trail-log-group", name=n.log_group(TRAIL_LOGS),
            retention_in_days=props.retention_days, kms_key_id=props.audit_key_arn,
            tags=n.tags(TRAIL_LOGS))
        streams = f"{trail_log_group_arn(n)}:log-stream:{n.account_id}_CloudTrail_*"
        # The trust CloudTrail's guide documents: no aws:SourceAccount condition, which CloudTrail
        # is not documented to send when it assumes the role. The role can only append to the
        # trail's own streams.
        role = aws.iam_role.IamRole(
            self, "trail-logs-role", name=n.name("cloudtrail-logs"),
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}),
            tags=n.tags("cloudtrail-logs"))
        self._writer_grants = [aws.iam_role_policy.IamRolePolicy(
            self, "trail-logs-policy", role=role.id, name="cloudtrail-logs",
            policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "WriteTheTrailsStreams", "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": streams}]}))]
        return group, role
