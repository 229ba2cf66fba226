"""The environment's buckets: logs, media uploads, static assets per frontend surface, artifacts."""

from dataclasses import dataclass

from constructs import Construct

from lib.core.access import BucketAccess
from lib.core.naming import Naming
from lib.edge.bucket import (Bucket, BucketProps, LifecycleRule, alb_log_delivery_statement,
                             log_delivery_statements, s3_access_log_statement)


@dataclass(frozen=True)
class StorageProps:
    naming: Naming
    media: bool  # the uploads bucket
    media_cors_origins: list[str]  # browser origins allowed to GET/PUT media
    surfaces: list[str]  # one static-asset bucket per frontend surface
    artifacts: bool  # the build artifacts bucket
    data_key_arn: str
    alb_log_prefix: str | None  # None: no load balancer writes here
    cloudfront_logs: bool  # CloudWatch Logs deliveries (CloudFront access logs) write here
    disposable: bool  # dev: buckets may be deleted with their objects


class Storage(Construct):
    """Buckets named `<project>-<env>-<name>-<account id>`, all private, encrypted, TLS-only:
    - `logs`: SSE-S3 (load balancers cannot write to KMS buckets), 30-day expiry, writable by the
      region's load balancers, CloudWatch Logs deliveries of this account and S3 server access
      logging, which every other bucket sends here under `s3/<bucket component>/`;
    - `media`: uploads, KMS, versioned, Infrequent Access after 30 days, Glacier after 90, CORS for
      the configured origins;
    - `<surface>-assets` per frontend surface: KMS, versioned; its policy is attached by the
      distribution that serves it (origin access control);
    - `artifacts`: KMS, versioned, old versions expire after 90 days.

    Outputs: `logs`, `media`, `artifacts` (Bucket or None), `static` (surface -> Bucket),
    `buckets` (every bucket by its output name: logs, media, artifacts, <surface>_assets),
    `media_access` (what a service that uses the media bucket is given; None without it).
    """

    def __init__(self, scope: Construct, id: str, props: StorageProps):
        super().__init__(scope, id)
        n = props.naming
        log_writers = [s3_access_log_statement(n, n.bucket_arn("logs"))]
        if props.alb_log_prefix:
            log_writers.append(alb_log_delivery_statement(n, n.bucket_arn("logs"),
                                                          props.alb_log_prefix))
        if props.cloudfront_logs:
            log_writers += log_delivery_statements(n, n.bucket_arn("logs"))
        self.logs = Bucket(self, "logs", BucketProps(
            naming=n, component="logs", kms_key_arn=None,
            lifecycle=[LifecycleRule("expire-logs", expire_days=30, noncurrent_expire_days=7)],
            extra_policy_statements=log_writers, force_destroy=props.disposable))
        self.media = Bucket(self, "media", BucketProps(
            naming=n, component="media", kms_key_arn=props.data_key_arn,
            lifecycle=[LifecycleRule("tier-down", transitions=[(30, "STANDARD_IA"),
                                                               (90, "GLACIER")])],
            cors_origins=list(props.media_cors_origins), access_log_bucket=self.logs.name,
            access_log_bucket_policy=self.logs.policy,
            force_destroy=props.disposable)) \
            if props.media else None
        self.static = {surface: Bucket(self, f"{surface}-assets", BucketProps(
            naming=n, component=f"{surface}-assets", kms_key_arn=props.data_key_arn,
            lifecycle=[LifecycleRule("expire-old-versions", noncurrent_expire_days=30)],
            defer_policy=True, access_log_bucket=self.logs.name,
            access_log_bucket_policy=self.logs.policy, force_destroy=props.disposable))
            for surface in props.surfaces}
        self.artifacts = Bucket(self, "artifacts", BucketProps(
            naming=n, component="artifacts", kms_key_arn=props.data_key_arn,
            lifecycle=[LifecycleRule("expire-old-versions", noncurrent_expire_days=90)],
            access_log_bucket=self.logs.name,
            access_log_bucket_policy=self.logs.policy, force_destroy=props.disposable)) \
            if props.artifacts else None
        self.buckets: dict[str, Bucket] = {name: bucket for name, bucket in [
            ("logs", self.logs), ("media", self.media), ("artifacts", self.artifacts),
            *((f"{s}_assets", b) for s, b in self.static.items())] if bucket is not None}
        self.media_access: BucketAccess | None = BucketAccess(
            name=self.media.name, arn=self.media.arn, key_arn=props.data_key_arn,
            region=n.region) if self.media is not None else None
