"""RDS for PostgreSQL: encrypted, private, reachable only from the security groups it is given."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.access import DatabaseAccess
from lib.core.iam import service_role
from lib.core.naming import Naming
from lib.core.security_group import port_only_from_groups

PORT = 5432
LOG_EXPORTS = ["postgresql", "upgrade"]
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


@dataclass(frozen=True)
class DatabaseSettings:
    """The instance itself (the `[database]` section of an environment file documents each)."""

    engine_version: str  # a major ("16") or major.minor ("16.4")
    instance_class: str  # db.<family>.<size>
    allocated_storage_gb: int  # gp3, 20-65536
    max_allocated_storage_gb: int  # storage autoscaling ceiling; 0 turns autoscaling off
    multi_az: bool
    read_replica: bool  # one replica with the primary's settings
    database_name: str
    master_username: str  # administration and break-glass only: no workload gets its secret
    app_user: str  # the role workloads connect as, with IAM authentication
    backup_retention_days: int  # 0-35
    backup_window: str  # hh:mm-hh:mm, UTC
    maintenance_window: str  # ddd:hh:mm-ddd:hh:mm, UTC
    deletion_protection: bool
    final_snapshot: bool
    slow_query_ms: int  # log_min_duration_statement; -1 turns it off
    performance_insights_retention_days: int  # 7, multiples of 31 up to 713, or 731
    monitoring_interval_seconds: int  # enhanced monitoring; 0 turns it off


@dataclass(frozen=True)
class DatabaseProps:
    naming: Naming
    settings: DatabaseSettings
    vpc_id: str
    subnet_ids: list[str]  # the isolated tier
    allowed_security_group_ids: list[str]  # the only sources admitted on 5432
    storage_key_arn: str  # storage, snapshots, Performance Insights
    secret_key_arn: str  # the master password secret RDS manages
    log_key_arn: str
    log_retention_days: int


class Database(Construct):
    """A PostgreSQL instance (and optional read replica) in the isolated subnets.

    - Security group: 5432 from `allowed_security_group_ids` only; never publicly accessible.
    - Encryption: storage, snapshots and Performance Insights with `storage_key_arn`; TLS enforced
      by the parameter group (`rds.force_ssl`).
    - Credentials: RDS generates and rotates the master password in Secrets Manager (encrypted with
      `secret_key_arn`), so no password exists in config, JSON or Terraform state; that user is
      for administration and break-glass use. IAM database authentication is on (primary and
      replica): workloads connect as `app_user` with a token, and `access` carries the
      `rds-db:connect` ARN of that user on each instance.
    - Parameter group: pg_stat_statements, slow-query log, idle-transaction timeout and TCP
      keepalives suited to an ORM connection pool (Prisma).
    - Operations: backups and windows from config, copy tags to snapshots, automatic minor
      upgrades, enhanced monitoring with its role, log exports to KMS-encrypted log groups with
      the environment's retention; deletion protection and a final snapshot where configured.

    Outputs: `endpoint`, `port`, `secret_arn` (the master user's, break-glass), `security_group_id`,
    `identifier`, `arn` (the primary's), `resource_id`, `reader_endpoint` (None without a replica), `access` (what a
    service that uses the database needs: DatabaseAccess), and the literal `instance_name` and
    `replica_name` (None without a replica) that alarms name.
    """

    def __init__(self, scope: Construct, id: str, props: DatabaseProps):
        super().__init__(scope, id)
        n, cfg = props.naming, props.settings
        identifier = self.instance_name = n.name("db")
        self.replica_name: str | None = None

        self.security_group_id: str = port_only_from_groups(
            self, n, "db", props.vpc_id, PORT, props.allowed_security_group_ids,
            "PostgreSQL: only from the application tier")
        subnets = aws.db_subnet_group.DbSubnetGroup(
            self, "subnets", name=n.name("db"), subnet_ids=props.subnet_ids,
            description="Isolated subnets: no route out of the VPC", tags=n.tags("db"))
        parameters = self._parameter_group(n, cfg)
        monitoring_role = self._monitoring_role(n) if cfg.monitoring_interval_seconds else None

        common = dict(
            instance_class=cfg.instance_class,
            storage_encrypted=True,
            kms_key_id=props.storage_key_arn,
            vpc_security_group_ids=[self.security_group_id],
            publicly_accessible=False,
            parameter_group_name=parameters.name,
            iam_database_authentication_enabled=True,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=props.storage_key_arn,
            performance_insights_retention_period=cfg.performance_insights_retention_days,
            monitoring_interval=cfg.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            deletion_protection=cfg.deletion_protection,
            ca_cert_identifier="rds-ca-rsa2048-g1",
        )
        primary_logs = self._log_groups("primary", identifier, props)
        primary = aws.db_instance.DbInstance(
            self, "primary",
            identifier=identifier,
            engine="postgres",
            engine_version=cfg.engine_version,
            allocated_storage=cfg.allocated_storage_gb,
            max_allocated_storage=cfg.max_allocated_storage_gb,
            storage_type="gp3",
            db_name=cfg.database_name,
            username=cfg.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=props.secret_key_arn,
            db_subnet_group_name=subnets.name,
            multi_az=cfg.multi_az,
            backup_retention_period=cfg.backup_retention_days,
            backup_window=cfg.backup_window,
            maintenance_window=cfg.maintenance_window,
            skip_final_snapshot=not cfg.final_snapshot,
            final_snapshot_identifier=f"{identifier}-final" if cfg.final_snapshot else None,
            depends_on=primary_logs,
            tags=n.tags("db"),
            **common,
        )
        self.identifier: str = primary.identifier
        self.arn: str = primary.arn
        self.endpoint: str = primary.address
        self.port: int = PORT
        self.resource_id: str = primary.resource_id
        self.secret_arn: str = primary.master_user_secret.get(0).secret_arn

        self.reader_endpoint: str | None = None
        reader_user_arn: str | None = None
        if cfg.read_replica:
            replica_id = self.replica_name = n.name("db", "replica")
            replica = aws.db_instance.DbInstance(
                self, "replica",
                identifier=replica_id,
                replicate_source_db=primary.identifier,
                skip_final_snapshot=True,  # a replica has nothing the primary's backups lack
                depends_on=self._log_groups("replica", replica_id, props),
                tags=n.tags("db", "replica"),
                **common,
            )
            self.reader_endpoint = replica.address
            reader_user_arn = self._user_arn(n, replica.resource_id, cfg.app_user)
        self.access = DatabaseAccess(
            endpoint=self.endpoint, port=PORT, name=cfg.database_name, user=cfg.app_user,
            user_arn=self._user_arn(n, self.resource_id, cfg.app_user),
            reader_endpoint=self.reader_endpoint, reader_user_arn=reader_user_arn)

    @staticmethod
    def _user_arn(n: Naming, resource_id: str, user: str) -> str:
        """What `rds-db:connect` names: one database user of one instance, by the instance's
        DbiResourceId (Terraform's `resource_id`; each instance, a replica too, has its own),
        never by its identifier (Service Authorization Reference, "Actions, resources, and
        condition keys for Amazon RDS IAM Authentication": db-user)."""
        return n.arn("rds-db", f"dbuser:{resource_id}/{user}")

    def _parameter_group(self, n: Naming, cfg: DatabaseSettings):
        major = cfg.engine_version.split(".")[0]
        # (name, value, apply_method): static parameters only take effect after a reboot.
        parameters = [
            ("rds.force_ssl", "1", "immediate"),
            ("shared_preload_libraries", "pg_stat_statements", "pending-reboot"),
            ("log_min_duration_statement", str(cfg.slow_query_ms), "immediate"),
            ("log_lock_waits", "1", "immediate"),
            # A pooled ORM connection left inside an open transaction holds locks forever.
            ("idle_in_transaction_session_timeout", "60000", "immediate"),
            # Pools keep connections idle for long; keepalives find dead peers behind NAT/LB.
            ("tcp_keepalives_idle", "60", "immediate"),
            ("tcp_keepalives_interval", "10", "immediate"),
            ("tcp_keepalives_count", "6", "immediate"),
        ]
        return aws.db_parameter_group.DbParameterGroup(
            self, "parameters", name=n.name("db", f"postgres{major}"), family=f"postgres{major}",
            description="TLS only, pg_stat_statements, slow queries, ORM pool settings",
            parameter=[aws.db_parameter_group.DbParameterGroupParameter(
                name=name, value=value, apply_method=method) for name, value, method in parameters],
            tags=n.tags("db"))

    def _monitoring_role(self, n: Naming):
        return service_role(self, "monitoring-role", n, "db-monitoring",
                            "monitoring.rds.amazonaws.com",
                            managed_policy_arns=[MONITORING_POLICY])

    def _log_groups(self, which: str, identifier: str, props: DatabaseProps) -> list:
        """Created before the instance so RDS does not create them unencrypted and kept forever."""
        return [aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, f"{which}-{export}-logs", name=f"/aws/rds/instance/{identifier}/{export}",
            retention_in_days=props.log_retention_days, kms_key_id=props.log_key_arn,
            tags=props.naming.tags("db", export)) for export in LOG_EXPORTS]
