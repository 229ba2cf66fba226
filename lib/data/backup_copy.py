"""The primary's automated backups replicated to a second Region, where a point-in-time restore can
start when the stack's Region cannot."""

from dataclasses import dataclass

from lib.core.cdk import TerraformProvider
from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming
from lib.identity.kms import EncryptionKey, EncryptionKeyProps

PURPOSE = "backups"  # names the key's alias: alias/<project>-<env>-backups


@dataclass(frozen=True)
class BackupCopyProps:
    naming: Naming
    source_instance_arn: str  # the primary, with automated backups on
    region: str  # where the copies go: another Region of the stack's partition
    provider: TerraformProvider  # an AWS provider for `region`
    retention_days: int  # 1-35: the restore window in `region`
    key_deletion_window_days: int  # 7-30


class BackupCopy(Construct):
    """- A KMS key `alias/<project>-<env>-backups` in `region`, rotating: RDS User Guide,
      "Replicating automated backups to another AWS Region": an encrypted instance's copies are
      encrypted with a key of the destination Region (a key never leaves its Region). Its policy
      lets this account's principals use it through RDS in that Region (kms:ViaService).
    - The replication, created in `region` (the StartDBInstanceAutomatedBackupsReplication call
      is made to the destination; outside GovCloud RDS needs no presigned URL): every snapshot
      and transaction log of the source, as soon as it is ready, kept `retention_days`.
      Removing it stops the replication; the copies made so far stay until their retention ends.

    Outputs: `arn` (the replicated backups' ARN, in `region`: what a restore there names),
    `key_arn`, `region`.
    """

    def __init__(self, scope: Construct, id: str, props: BackupCopyProps):
        super().__init__(scope, id)
        n = props.naming
        key = EncryptionKey(self, "key", EncryptionKeyProps(
            naming=n, purpose=PURPOSE,
            description=f"{n.prefix}: RDS automated backups replicated to {props.region}",
            used_through=(f"rds.{props.region}.amazonaws.com",),
            deletion_window_days=props.key_deletion_window_days, provider=props.provider))
        replication = aws.db_instance_automated_backups_replication \
            .DbInstanceAutomatedBackupsReplication(
                self, "replication", source_db_instance_arn=props.source_instance_arn,
                kms_key_id=key.arn, retention_period=props.retention_days,
                provider=props.provider)
        self.arn: str = replication.id
        self.key_arn: str = key.arn
        self.region: str = props.region
