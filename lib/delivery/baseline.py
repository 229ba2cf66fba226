"""The account's security baseline: CloudTrail, GuardDuty, AWS Config, Session Manager logging."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.edge.bucket import Bucket, BucketProps, LifecycleRule
from lib.core.iam import service_role
from lib.core.naming import Naming

CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"


@dataclass(frozen=True)
class BaselineProps:
    naming: Naming
    audit_key_arn: str  # its policy admits cloudtrail and config (EncryptionKey allow_services)
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
      already has one).

    Outputs: `trail_arn`, `audit_bucket_name`, `detector_id`.
    """

    def __init__(self, scope: Construct, id: str, props: BaselineProps):
        super().__init__(scope, id)
        n = props.naming
        trail_name = n.name("trail")
        bucket_arn = n.bucket_arn("audit")
        source = {"StringEquals": {"aws:SourceAccount": n.account_id}}
        audit = Bucket(self, "audit-bucket", BucketProps(
            naming=n, component="audit", kms_key_arn=props.audit_key_arn,
            lifecycle=[LifecycleRule("expire-audit", expire_days=props.retention_days)],
            extra_policy_statements=[
                {"Sid": "AuditServicesCheckTheBucket", "Effect": "Allow",
                 "Principal": {"Service": ["cloudtrail.amazonaws.com", "config.amazonaws.com"]},
                 "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": bucket_arn,
                 "Condition": source},
                {"Sid": "AuditServicesWrite", "Effect": "Allow",
                 "Principal": {"Service": ["cloudtrail.amazonaws.com", "config.amazonaws.com"]},
                 "Action": "s3:PutObject", "Resource": f"{bucket_arn}/AWSLogs/{n.account_id}/*",
                 "Condition": {"StringEquals": {"aws:SourceAccount": n.account_id,
                                                "s3:x-amz-acl": "bucket-owner-full-control"}}}]))
        trail = aws.cloudtrail.Cloudtrail(
            self, "trail", name=trail_name, s3_bucket_name=audit.name,
            is_multi_region_trail=True, include_global_service_events=True,
            enable_log_file_validation=True, kms_key_id=props.audit_key_arn,
            event_selector=[aws.cloudtrail.CloudtrailEventSelector(
                read_write_type="All", include_management_events=True,
                data_resource=[aws.cloudtrail.CloudtrailEventSelectorDataResource(
                    type="AWS::S3::Object", values=[f"{b}/" for b in props.data_event_bucket_arns])])]
            if props.data_event_bucket_arns else None,
            depends_on=[audit], tags=n.tags("trail"))
        detector = aws.guardduty_detector.GuarddutyDetector(
            self, "guardduty", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES",
            tags=n.tags("guardduty"))
        role = service_role(self, "config-role", n, "config", "config.amazonaws.com",
                            managed_policy_arns=[CONFIG_ROLE_POLICY])
        recorder = aws.config_configuration_recorder.ConfigConfigurationRecorder(
            self, "config-recorder", name=n.name("config"), role_arn=role.arn,
            recording_group=aws.config_configuration_recorder.
            ConfigConfigurationRecorderRecordingGroup(all_supported=True,
                                                      include_global_resource_types=True))
        channel = aws.config_delivery_channel.ConfigDeliveryChannel(
            self, "config-delivery", name=n.name("config"), s3_bucket_name=audit.name,
            s3_kms_key_arn=props.audit_key_arn, depends_on=[recorder])
        aws.config_configuration_recorder_status.ConfigConfigurationRecorderStatus(
            self, "config-on", name=recorder.name, is_enabled=True, depends_on=[channel])
        aws.ssm_document.SsmDocument(
            self, "session-preferences", name="SSM-SessionManagerRunShell",
            document_type="Session", document_format="JSON",
            content=json.dumps({
                "schemaVersion": "1.0", "description": f"{n.project}: encrypted, logged sessions",
                "sessionType": "Standard_Stream",
                "inputs": {"s3BucketName": audit.name, "s3KeyPrefix": "session-manager",
                           "s3EncryptionEnabled": True, "kmsKeyId": props.audit_key_arn,
                           "cloudWatchLogGroupName": "", "runAsEnabled": False,
                           "idleSessionTimeout": "20"}}),
            tags=n.tags("session-manager"))
        self.trail_arn: str = trail.arn
        self.audit_bucket_name: str = audit.name
        self.detector_id: str = detector.id
