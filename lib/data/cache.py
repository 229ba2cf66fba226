"""ElastiCache for Redis OSS: TLS, encrypted at rest, IAM authentication, reachable only from the
security groups it is given."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.access import CacheAccess
from lib.core.naming import Naming
from lib.core.security_group import port_only_from_groups

PORT = 6379
LOG_TYPES = ("slow-log", "engine-log")
# Everything but administration and wiping the whole keyspace (BullMQ needs Lua, INFO, streams).
APP_ACCESS = "on ~* &* +@all -@admin -flushall -flushdb"


@dataclass(frozen=True)
class CacheSettings:
    """The replication group itself (the `[cache]` section of an environment file documents each)."""

    engine_version: str  # 7.0 or 7.1: IAM authentication needs 7.0+
    node_type: str  # cache.<family>.<size>
    num_nodes: int  # a primary and num_nodes - 1 replicas
    automatic_failover: bool  # needs 2+ nodes; Multi-AZ follows it where the subnets span 2+ AZs
    maxmemory_policy: str
    snapshot_retention_days: int  # 0-35
    snapshot_window: str  # hh:mm-hh:mm, UTC
    maintenance_window: str  # ddd:hh:mm-ddd:hh:mm, UTC
    final_snapshot: bool  # a snapshot <group id>-final when the group is deleted or replaced


@dataclass(frozen=True)
class CacheProps:
    naming: Naming
    settings: CacheSettings
    vpc_id: str
    subnet_ids: list[str]  # the isolated tier
    multi_az_capable: bool  # the subnets span 2+ AZs
    allowed_security_group_ids: list[str]  # the only sources admitted on 6379
    storage_key_arn: str
    log_key_arn: str
    log_retention_days: int


class Cache(Construct):
    """A Redis replication group (one shard: a primary and `num_nodes - 1` replicas).

    Authentication: Redis RBAC with IAM. The group's only enabled user, `<project>-<env>-app`,
    authenticates with a short-lived IAM token (SigV4, `elasticache:Connect`), so no password or
    AUTH token exists anywhere: not in config, not in the synthesized JSON, not in Terraform state.
    The mandatory `default` user is switched off. Clients connect with TLS, user name
    `app_user_name` and a token signed by a role that holds `elasticache:Connect` on
    `replication_group_arn` and `app_user_arn` (the compute layer grants it to the services).

    Also: TLS required in transit, encryption at rest with `storage_key_arn`, automatic failover and
    Multi-AZ whenever there are 2+ nodes in 2+ AZs, the configured eviction policy, daily snapshots,
    a final snapshot `<group id>-final` where `final_snapshot` is on, slow and engine logs to
    KMS-encrypted log groups.

    Outputs: `primary_endpoint`, `reader_endpoint`, `port`, `security_group_id`,
    `replication_group_arn`, `app_user_name`, `app_user_arn`, `access` (what a service that uses
    Redis needs: CacheAccess), `member_ids` (the literal `<group>-001`, `-002`... of its nodes,
    which per-node alarms name).
    """

    def __init__(self, scope: Construct, id: str, props: CacheProps):
        super().__init__(scope, id)
        n, cfg = props.naming, props.settings
        self.security_group_id: str = port_only_from_groups(
            self, n, "redis", props.vpc_id, PORT, props.allowed_security_group_ids,
            "Redis: only from the application tier")
        subnets = aws.elasticache_subnet_group.ElasticacheSubnetGroup(
            self, "subnets", name=n.name("redis"), subnet_ids=props.subnet_ids,
            description="Isolated subnets: no route out of the VPC", tags=n.tags("redis"))
        major = cfg.engine_version.split(".")[0]
        parameters = aws.elasticache_parameter_group.ElasticacheParameterGroup(
            self, "parameters", name=n.name("redis", f"redis{major}"), family=f"redis{major}",
            description=f"maxmemory-policy {cfg.maxmemory_policy}",
            parameter=[aws.elasticache_parameter_group.ElasticacheParameterGroupParameter(
                name="maxmemory-policy", value=cfg.maxmemory_policy)],
            tags=n.tags("redis"))
        iam = iam_users(self, n, "redis", "redis")
        users = iam.user_group
        self.app_user_name: str = iam.app_user_name
        self.app_user_arn: str = iam.app_user_arn
        self.user_group_id: str = iam.user_group_id

        log_groups = {kind: aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, f"{kind}-logs", name=n.log_group("redis", kind),
            retention_in_days=props.log_retention_days, kms_key_id=props.log_key_arn,
            tags=n.tags("redis", kind)) for kind in LOG_TYPES}

        failover = cfg.automatic_failover
        group = aws.elasticache_replication_group.ElasticacheReplicationGroup(
            self, "group",
            replication_group_id=n.name("redis"),
            description=f"{n.prefix} Redis",
            engine="redis",
            engine_version=cfg.engine_version,
            node_type=cfg.node_type,
            num_cache_clusters=cfg.num_nodes,
            port=PORT,
            parameter_group_name=parameters.name,
            subnet_group_name=subnets.name,
            security_group_ids=[self.security_group_id],
            at_rest_encryption_enabled="true",
            kms_key_id=props.storage_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            # The id by name, ordered by depends_on: the group exists only through this stack.
            user_group_ids=[self.user_group_id], depends_on=[users],
            automatic_failover_enabled=failover,
            multi_az_enabled=failover and props.multi_az_capable,
            snapshot_retention_limit=cfg.snapshot_retention_days,
            snapshot_window=cfg.snapshot_window,
            # Deleting a group deletes its daily snapshots, and a replacement is a delete: only a
            # final snapshot keeps the data. The name is fixed, so a second deletion finds the
            # first one's snapshot and fails, leaving the group in place (ElastiCache overwrites
            # no snapshot): rename or delete the old snapshot first. The provider sends it only
            # on DeleteReplicationGroup, which needs elasticache:CreateSnapshot.
            final_snapshot_identifier=f"{n.name('redis')}-final" if cfg.final_snapshot else None,
            maintenance_window=cfg.maintenance_window,
            auto_minor_version_upgrade="true",
            apply_immediately=False,
            log_delivery_configuration=[
                aws.elasticache_replication_group.ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=log_groups[kind].name, destination_type="cloudwatch-logs",
                    log_format="json", log_type=kind) for kind in LOG_TYPES],
            tags=n.tags("redis"),
        )
        self.primary_endpoint: str = group.primary_endpoint_address
        self.reader_endpoint: str = group.reader_endpoint_address
        self.port: int = PORT
        self.replication_group_arn: str = group.arn
        # ElastiCache names a replication group's member clusters <group id>-001, -002, ...
        self.member_ids: list[str] = [f"{n.name('redis')}-{i:03d}"
                                      for i in range(1, cfg.num_nodes + 1)]
        self.access = CacheAccess(endpoint=self.primary_endpoint, port=PORT,
                                  user_name=self.app_user_name, name=n.name("redis"),
                                  serverless=False, cache_arn=self.replication_group_arn,
                                  user_arn=self.app_user_arn)


@dataclass(frozen=True)
class IamUsers:
    user_group: aws.elasticache_user_group.ElasticacheUserGroup
    user_group_id: str
    app_user_name: str
    app_user_arn: str


def iam_users(scope: Construct, n: Naming, component: str, engine: str) -> IamUsers:
    """The user group a cache authenticates against: `default`, which can do nothing, and the
    application's user, which authenticates with IAM only (`engine`: redis or valkey)."""
    # Every user group must hold a user named "default" ("Role-Based Access Control (RBAC) -
    # Amazon ElastiCache"); this one can do nothing.
    default = aws.elasticache_user.ElasticacheUser(
        scope, "default-user", user_id=n.name(component, "default"), user_name="default",
        engine=engine, access_string="off -@all",
        authentication_mode=aws.elasticache_user.ElasticacheUserAuthenticationMode(
            type="no-password-required"),
        tags=n.tags(component, "default"))
    # IAM authentication requires user_id == user_name.
    app_user = n.name("app")
    app = aws.elasticache_user.ElasticacheUser(
        scope, "app-user", user_id=app_user, user_name=app_user, engine=engine,
        access_string=APP_ACCESS,
        authentication_mode=aws.elasticache_user.ElasticacheUserAuthenticationMode(type="iam"),
        tags=n.tags(component, "app"))
    group_id = n.name(component, "users")
    group = aws.elasticache_user_group.ElasticacheUserGroup(
        scope, "users", user_group_id=group_id, engine=engine,
        user_ids=[default.user_id, app.user_id], tags=n.tags(component, "users"))
    return IamUsers(group, group_id, app_user, app.arn)
