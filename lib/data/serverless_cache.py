"""ElastiCache Serverless for Valkey: TLS, encrypted at rest, IAM authentication, usage limits that
cap the bill, reachable only from the security groups it is given."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.access import CacheAccess
from lib.core.naming import Naming
from lib.core.security_group import port_only_from_groups
from lib.data.cache import iam_users

# A serverless cache serves reads and writes on 6379 and reads from replicas (READONLY) on 6380,
# on the same host name ("Valkey and Redis OSS configuration and limits - Amazon ElastiCache",
# Serverless caches: port). Only 6379 is admitted, as for the node cache: the app tier's egress
# and the isolated tier's NACLs open 6379 alone (lib/network), and every command works on it.
PORT = 6379
COMPONENT = "valkey"


@dataclass(frozen=True)
class ServerlessCacheSettings:
    """The serverless cache itself (the `[cache]` section of an environment file documents each)."""

    valkey_version: str  # the major: 7 (Valkey 7.2) or 8
    max_data_storage_gb: int
    max_ecpu_per_second: int
    daily_snapshot_time: str  # hh:mm, UTC
    snapshot_retention_days: int  # 0 turns the daily snapshots off


@dataclass(frozen=True)
class ServerlessCacheProps:
    naming: Naming
    settings: ServerlessCacheSettings
    vpc_id: str
    subnet_ids: list[str]  # the isolated tier, one subnet per AZ
    allowed_security_group_ids: list[str]  # the only sources admitted on 6379
    storage_key_arn: str


class ServerlessCache(Construct):
    """A Valkey serverless cache `<project>-<env>-valkey` in the given subnets.

    Authentication as the node cache's (lib/data/cache.py): the user group's only enabled user,
    `<project>-<env>-app`, authenticates with an IAM token signed by a role that holds
    `elasticache:Connect` on `cache_arn` and `app_user_arn`; `default` is switched off. A
    serverless cache always requires TLS, so there is no switch for it.

    Also: encryption at rest with `storage_key_arn`, usage limits on stored data and ECPUs per
    second (above them ElastiCache refuses writes or throttles commands instead of billing more),
    daily snapshots kept `snapshot_retention_days` days. No parameter group (serverless caches
    take none), no log delivery (serverless caches offer none).

    Outputs: `endpoint`, `port`, `security_group_id`, `name`, `cache_arn`,
    `app_user_name`, `app_user_arn`, `access` (CacheAccess, as the node cache's).
    """

    def __init__(self, scope: Construct, id: str, props: ServerlessCacheProps):
        super().__init__(scope, id)
        n, cfg = props.naming, props.settings
        self.security_group_id: str = port_only_from_groups(
            self, n, COMPONENT, props.vpc_id, PORT, props.allowed_security_group_ids,
            "Valkey: only from the application tier")
        users = iam_users(self, n, COMPONENT, "valkey")
        limits = aws.elasticache_serverless_cache
        snapshots = cfg.snapshot_retention_days > 0
        self.name: str = n.name(COMPONENT)
        cache = limits.ElasticacheServerlessCache(
            self, "cache",
            name=self.name,
            description=f"{n.prefix} Valkey",
            engine="valkey",
            major_engine_version=cfg.valkey_version,
            subnet_ids=props.subnet_ids,
            security_group_ids=[self.security_group_id],
            kms_key_id=props.storage_key_arn,
            # The id by name, ordered by depends_on: the group exists only through this stack.
            user_group_id=users.user_group_id, depends_on=[users.user_group],
            cache_usage_limits=[limits.ElasticacheServerlessCacheCacheUsageLimits(
                data_storage=[limits.ElasticacheServerlessCacheCacheUsageLimitsDataStorage(
                    maximum=cfg.max_data_storage_gb, unit="GB")],
                ecpu_per_second=[limits.ElasticacheServerlessCacheCacheUsageLimitsEcpuPerSecond(
                    maximum=cfg.max_ecpu_per_second)])],
            snapshot_retention_limit=cfg.snapshot_retention_days,
            daily_snapshot_time=cfg.daily_snapshot_time if snapshots else None,
            tags=n.tags(COMPONENT),
        )
        self.endpoint: str = cache.endpoint.get(0).address
        self.port: int = PORT
        self.cache_arn: str = cache.arn
        self.app_user_name: str = users.app_user_name
        self.app_user_arn: str = users.app_user_arn
        self.access = CacheAccess(endpoint=self.endpoint, port=PORT,
                                  user_name=self.app_user_name, name=self.name,
                                  serverless=True, cache_arn=self.cache_arn,
                                  user_arn=self.app_user_arn)
