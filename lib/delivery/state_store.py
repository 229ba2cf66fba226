"""The remote-state home: an S3 bucket and a DynamoDB lock table, both encrypted."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.edge.bucket import Bucket, BucketProps, LifecycleRule
from lib.core.naming import Naming


@dataclass(frozen=True)
class StateStoreProps:
    naming: Naming  # environment "tfstate": names read <project>-tfstate-...
    bucket_name: str
    lock_table_name: str
    kms_key_arn: str


class StateStore(Construct):
    """A versioned, KMS-encrypted, TLS-only state bucket with public access blocked and old state
    versions kept 90 days (enough to roll a bad apply back), and a pay-per-request lock table with
    point-in-time recovery and KMS encryption. Neither may be destroyed by accident. States lock
    with S3's lock file in the bucket; the table serves those still migrating from DynamoDB
    locking (deprecated by Terraform 1.11), which take both locks until they drop it.

    Outputs: `bucket_name`, `bucket_arn`, `lock_table_name`, `lock_table_arn`.
    """

    def __init__(self, scope: Construct, id: str, props: StateStoreProps):
        super().__init__(scope, id)
        n = props.naming
        bucket = Bucket(self, "bucket", BucketProps(
            naming=n, component="state", kms_key_arn=props.kms_key_arn, name=props.bucket_name,
            lifecycle=[LifecycleRule("keep-old-state-90-days", noncurrent_expire_days=90)]))
        table = aws.dynamodb_table.DynamodbTable(
            self, "lock-table", name=props.lock_table_name, billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[aws.dynamodb_table.DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=aws.dynamodb_table.DynamodbTablePointInTimeRecovery(
                enabled=True),
            server_side_encryption=aws.dynamodb_table.DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=props.kms_key_arn),
            deletion_protection_enabled=True, tags=n.tags("lock"))
        self.bucket_name: str = bucket.name
        self.bucket_arn: str = bucket.arn
        self.lock_table_name: str = table.name
        self.lock_table_arn: str = table.arn
