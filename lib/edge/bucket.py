"""S3 buckets that are private, encrypted and TLS-only whatever they hold."""

import json
from dataclasses import dataclass, field

from lib.core.cdk import TerraformResource
from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming

# Regions that predate the log-delivery service principal: ALB access logs there are written by
# the regional Elastic Load Balancing account (AWS docs, "Enable access logs for your ALB").
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-south-1": "718504428378", "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580", "ca-central-1": "985666609251",
    "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
    "eu-west-3": "009996457667", "eu-south-1": "635631232127", "eu-north-1": "897822967062",
    "me-south-1": "076674570225", "sa-east-1": "507241528517",
}


@dataclass(frozen=True)
class LifecycleRule:
    id: str
    expire_days: int | None = None
    # (days, storage class) pairs, e.g. [(30, "STANDARD_IA"), (90, "GLACIER")]
    transitions: list[tuple[int, str]] = field(default_factory=list)
    noncurrent_expire_days: int | None = 90


@dataclass(frozen=True)
class ObjectLock:
    """S3 Object Lock default retention: every new object version is locked for `days`."""

    mode: str  # GOVERNANCE (s3:BypassGovernanceRetention may lift it) or COMPLIANCE (nobody may)
    days: int


@dataclass(frozen=True)
class BucketProps:
    naming: Naming
    component: str  # names the bucket: Naming.bucket(component), unless `name` is given
    kms_key_arn: str | None  # None: SSE-S3 (AES256), for writers that cannot use KMS (ALB logs)
    name: str | None = None
    versioned: bool = True
    lifecycle: list[LifecycleRule] = field(default_factory=list)
    extra_policy_statements: list[dict] = field(default_factory=list)
    force_destroy: bool = False  # a disposable environment may delete non-empty buckets
    # The policy needs an ARN that exists only later (a CloudFront distribution): the owner calls
    # attach_policy() once it has it. Every bucket gets exactly one policy either way.
    defer_policy: bool = False
    cors_origins: list[str] = field(default_factory=list)  # browsers may GET/PUT from these
    access_log_bucket: str | None = None  # S3 server access logs go there, under s3/<component>/
    # That bucket's aws_s3_bucket_policy (it admits S3 logging): the logging configuration waits.
    access_log_bucket_policy: TerraformResource | None = None
    # Needs `versioned`. Such a bucket cannot receive S3 server access logs (S3 User Guide,
    # "Configuring S3 Object Lock") nor AWS Config deliveries (AWS Config API Reference,
    # PutDeliveryChannel).
    object_lock: ObjectLock | None = None


class Bucket(Construct):
    """An S3 bucket with public access blocked, server-side encryption (KMS or SSE-S3), ACLs
    disabled (bucket owner enforced), a policy that denies any request not made over TLS, optional
    versioning, lifecycle rules and CORS, and aborted multipart uploads cleaned up after 7 days.

    Outputs: `name`, `arn`, `domain_name` (regional), `policy` (the aws_s3_bucket_policy, once
    attached: what a service that writes here on its own, such as CloudTrail or a load balancer's
    access logs, must depend on).
    """

    def __init__(self, scope: Construct, id: str, props: BucketProps):
        super().__init__(scope, id)
        n = props.naming
        bucket = aws.s3_bucket.S3Bucket(self, "bucket",
                                        bucket=props.name or n.bucket(props.component),
                                        force_destroy=props.force_destroy,
                                        tags=n.tags(props.component))
        bucket_id: str = bucket.id
        aws.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            self, "public-access-block", bucket=bucket_id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
        aws.s3_bucket_ownership_controls.S3BucketOwnershipControls(
            self, "ownership", bucket=bucket_id,
            rule=aws.s3_bucket_ownership_controls.S3BucketOwnershipControlsRule(
                object_ownership="BucketOwnerEnforced"))
        sse = aws.s3_bucket_server_side_encryption_configuration
        default = sse.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="aws:kms" if props.kms_key_arn else "AES256",
            kms_master_key_id=props.kms_key_arn)
        sse.S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=bucket_id,
            rule=[sse.S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=default,
                bucket_key_enabled=bool(props.kms_key_arn))])
        versioning = None
        if props.versioned:
            versioning = aws.s3_bucket_versioning.S3BucketVersioningA(
                self, "versioning", bucket=bucket_id,
                versioning_configuration=aws.s3_bucket_versioning.
                S3BucketVersioningVersioningConfiguration(status="Enabled"))
        if props.object_lock:
            if versioning is None:
                raise ValueError(f"{props.component}: S3 Object Lock needs a versioned bucket")
            # Not aws_s3_bucket.object_lock_enabled: it forces a new bucket, and the bucket of an
            # existing account would be replaced. PutObjectLockConfiguration turns Object Lock on
            # in place once versioning is on (S3 API Reference: "You can enable Object Lock for
            # new or existing buckets"); the bucket's own attribute is computed, so it follows.
            lock = aws.s3_bucket_object_lock_configuration
            lock.S3BucketObjectLockConfigurationA(
                self, "object-lock", bucket=bucket_id, object_lock_enabled="Enabled",
                rule=lock.S3BucketObjectLockConfigurationRuleA(
                    default_retention=lock.S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode=props.object_lock.mode, days=props.object_lock.days)),
                depends_on=[versioning])
        self._lifecycle(bucket_id, props)
        if props.cors_origins:
            cors = aws.s3_bucket_cors_configuration
            cors.S3BucketCorsConfiguration(
                self, "cors", bucket=bucket_id, cors_rule=[cors.S3BucketCorsConfigurationCorsRule(
                    allowed_methods=["GET", "HEAD", "PUT"], allowed_origins=props.cors_origins,
                    allowed_headers=["*"], expose_headers=["ETag"], max_age_seconds=3000)])
        if props.access_log_bucket:
            aws.s3_bucket_logging.S3BucketLoggingA(
                self, "access-logs", bucket=bucket_id, target_bucket=props.access_log_bucket,
                target_prefix=f"s3/{props.component}/",
                depends_on=[props.access_log_bucket_policy] if props.access_log_bucket_policy
                else None)
        self._bucket_id = bucket_id
        self.name: str = bucket.bucket
        self.arn: str = bucket.arn
        self.domain_name: str = bucket.bucket_regional_domain_name
        self.policy = None
        if not props.defer_policy:
            self.attach_policy(props.extra_policy_statements)

    def attach_policy(self, statements: list[dict]) -> None:
        """The bucket policy: deny every request made without TLS, plus `statements`."""
        tls_only = {
            "Sid": "DenyRequestsWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [self.arn, f"{self.arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        self.policy = aws.s3_bucket_policy.S3BucketPolicy(
            self, "policy", bucket=self._bucket_id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [tls_only, *statements]}))

    def _lifecycle(self, bucket_id: str, props: BucketProps) -> None:
        lc = aws.s3_bucket_lifecycle_configuration
        rules = [lc.S3BucketLifecycleConfigurationRule(
            id="abort-incomplete-uploads", status="Enabled",
            filter=[lc.S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            abort_incomplete_multipart_upload=[
                lc.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=7)])]
        for rule in props.lifecycle:
            rules.append(lc.S3BucketLifecycleConfigurationRule(
                id=rule.id, status="Enabled",
                filter=[lc.S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[lc.S3BucketLifecycleConfigurationRuleExpiration(
                    days=rule.expire_days)] if rule.expire_days else None,
                transition=[lc.S3BucketLifecycleConfigurationRuleTransition(
                    days=days, storage_class=storage) for days, storage in rule.transitions]
                or None,
                noncurrent_version_expiration=[
                    lc.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=rule.noncurrent_expire_days)]
                if props.versioned and rule.noncurrent_expire_days else None))
        lc.S3BucketLifecycleConfiguration(self, "lifecycle", bucket=bucket_id, rule=rules)


def alb_log_delivery_statement(naming: Naming, bucket_arn: str, prefix: str) -> dict:
    """Lets the region's load balancers write access logs under `<prefix>/AWSLogs/<account>/`
    (`bucket_arn` from Naming.bucket_arn: the policy is written with the bucket)."""
    account = ELB_LOG_ACCOUNTS.get(naming.region)
    principal = ({"AWS": f"arn:{naming.partition}:iam::{account}:root"} if account
                 else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"})
    return {
        "Sid": "LoadBalancerAccessLogs",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/{prefix}/AWSLogs/{naming.account_id}/*",
    }


def log_delivery_statements(naming: Naming, bucket_arn: str) -> list[dict]:
    """Lets CloudWatch Logs deliveries of this account (CloudFront access logs, v2) write here."""
    account = {"StringEquals": {"aws:SourceAccount": naming.account_id}}
    return [
        {"Sid": "LogDeliveryWrite", "Effect": "Allow",
         "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"{bucket_arn}/AWSLogs/{naming.account_id}/*",
         "Condition": {"StringEquals": {"aws:SourceAccount": naming.account_id,
                                        "s3:x-amz-acl": "bucket-owner-full-control"}}},
        {"Sid": "LogDeliveryCheck", "Effect": "Allow",
         "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": bucket_arn, "Condition": account},
    ]


def s3_access_log_statement(naming: Naming, bucket_arn: str) -> dict:
    """Lets S3 server access logging of this account's buckets write under `s3/`."""
    return {"Sid": "S3ServerAccessLogs", "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/s3/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": naming.account_id}}}
