"""The data sections (`[database]`: RDS for PostgreSQL, `[cache]`: ElastiCache for Redis OSS
nodes, ElastiCache Serverless for Valkey, a Redis outside AWS, or none) and their rules: a
Multi-AZ database needs a second AZ, a read replica needs backups, so does a backup copy, which
goes to another Region of the partition, an RDS Proxy takes its own settings and engines only,
Redis failover needs a replica to promote, a cache takes the settings of its own kind only, and
no workload uses a cache that is not there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config import catalog
from lib.config.fields import (CacheNodeType, DailyWindow, Identifier, KnownRegion,
                               MaxmemoryPolicy, PerformanceInsightsRetention, PostgresVersion,
                               RdsInstanceClass, RedisVersion, RoleName, Section, TimeOfDay,
                               ValkeyMajor, WeeklyWindow, computed_default)

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


# The PostgreSQL majors RDS Proxy takes (AWS, "Supported Regions and DB engines for Amazon RDS
# Proxy", RDS for PostgreSQL). 18 is left out: its support could not be confirmed from here (as
# of pricing/aws-catalog.toml's date); add it once that page lists it.
PROXY_POSTGRES_MAJORS = (14, 15, 16, 17)
PROXY_ONLY = ("proxy_idle_client_timeout_seconds", "proxy_connection_borrow_timeout_seconds")
PROXY_USER_SUFFIX = "_proxy"  # <app_user>_proxy: the password role the proxy logs in as


class DatabaseConfig(Section):
    """RDS for PostgreSQL in the isolated tier. Windows are UTC; the read replica serves
    reporting-style reads."""

    engine_version: PostgresVersion = Field(
        default="16", description="A PostgreSQL major in RDS standard support "
        f"({', '.join(map(str, sorted(catalog.POSTGRES)))}; minor upgrades are automatic) or "
        "a minor RDS still creates, such as "
        f"`{catalog.newest_postgres_minor(16)}` (`pricing/aws-catalog.toml`, as of "
        f"{catalog.AS_OF}).")
    instance_class: RdsInstanceClass = Field(
        description="`db.<family>.<size>` of a current RDS PostgreSQL class "
                    "(`pricing/aws-catalog.toml`), e.g. `db.t4g.micro`.")
    allocated_storage_gb: int = Field(ge=20, le=65536, description="Storage in GB (gp3).")
    max_allocated_storage_gb: int | None = Field(
        default=None, ge=0, le=65536, json_schema_extra=computed_default("5x allocated"),
        description="Storage autoscaling ceiling in GB, above `allocated_storage_gb`; 0 turns "
                    "storage autoscaling off (a free-tier 20 GB database).")
    multi_az: bool = Field(description="A standby in a second AZ that takes over on failure; "
                                       "needs 2+ AZs.")
    read_replica: bool = Field(default=False, description="A read replica with the primary's "
                                                          "guards; needs backups on.")
    database_name: Identifier = Field(
        default="app", description="The database created with the instance: a lowercase "
                                   "letter, then up to 62 letters, digits or underscores; not a "
                                   "reserved word.")
    master_username: Identifier = Field(
        default="app_admin", description="The master user, as `database_name`; its password is "
                                         "generated and kept in Secrets Manager by RDS. For "
                                         "administration and break-glass only: no workload "
                                         "is given it.")
    app_user: RoleName = Field(
        default="app", description="The application's own PostgreSQL role: every service, "
                                   "function and scheduled task with `database` access connects "
                                   "as it with IAM authentication (a 15-minute token, no "
                                   "password) and TLS, and its role may `rds-db:connect` as this "
                                   "user only. As `database_name`, not starting with `pg_` or "
                                   "`rds`, not the master user. Created once by "
                                   "`sql/app-role.sql` (README, \"Database access\").")
    backup_retention_days: int = Field(default=7, ge=0, le=35,
                                       description="Days of automated backups (point-in-time "
                                                   "recovery); 0 turns them off.")
    backup_copy_region: KnownRegion | None = Field(
        default=None,
        description="A second Region that RDS replicates the primary's automated backups to "
                    "(snapshots and transaction logs), encrypted there with a key of its own: "
                    "a point-in-time restore in that Region when the stack's Region is down "
                    "(README, \"Data layer\"). Not the stack's Region; needs backups on "
                    "(`backup_retention_days` >= 1). Billed as backup storage in that Region "
                    "plus cross-Region transfer. Unset: no copy.")
    backup_copy_retention_days: int | None = Field(
        default=None, ge=1, le=35, json_schema_extra=computed_default("backup_retention_days"),
        description="Days the replicated backups are kept in `backup_copy_region` (the "
                    "restore window there). A change replaces the replication (README, "
                    "\"Data layer\"). Only with `backup_copy_region`.")
    backup_window: DailyWindow = Field(default="03:00-04:00",
                                       description="Daily backup window, UTC (`hh:mm-hh:mm`).")
    maintenance_window: WeeklyWindow = Field(
        default="mon:04:00-mon:05:00",
        description="Weekly maintenance window, UTC (`ddd:hh:mm-ddd:hh:mm`).")
    deletion_protection: bool = Field(description="Refuse to delete the database (dev can be "
                                                  "destroyed).")
    final_snapshot: bool = Field(description="Take a final snapshot when the database is "
                                             "destroyed.")
    slow_query_ms: int = Field(default=500, ge=-1, le=3_600_000,
                               description="`log_min_duration_statement` in milliseconds: slower "
                                           "statements are logged; -1 turns it off.")
    performance_insights_retention_days: PerformanceInsightsRetention = Field(
        default=7, description="Days: 7 (free), a multiple of 31 up to 713, or 731.")
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = Field(
        default=60, description="Enhanced monitoring interval in seconds; 0 turns it off.")
    proxy: bool = Field(
        default=False,
        description="An RDS Proxy in front of the primary, in the isolated subnets: services "
                    "connect to it (DATABASE_HOST) with TLS and an IAM token as `<app_user>_proxy`"
                    ", a role of its own whose password the proxy reads from the secret "
                    "`/<project>/<env>/database/proxy-user` (the operator puts both: README, "
                    "\"Database access\"); it pools their connections and follows a Multi-AZ "
                    "failover. The read replica stays direct, as `app_user`. Billed per vCPU of "
                    "the primary (at least 2). PostgreSQL "
                    f"{', '.join(map(str, PROXY_POSTGRES_MAJORS))} only.")
    proxy_idle_client_timeout_seconds: int = Field(
        default=1800, ge=1, le=28_800,
        description="Seconds a client connection to the proxy may stay idle before the proxy "
                    "closes it (its database connection goes back to the pool). Proxy only.")
    proxy_connection_borrow_timeout_seconds: int = Field(
        default=120, ge=0, le=300,
        description="Seconds a client waits for a pooled connection when the proxy has opened "
                    "all it may; 0 waits without limit. Proxy only.")

    @property
    def proxy_user(self) -> str:
        """The role workloads log in as through the proxy (sql/proxy-role.sql)."""
        return f"{self.app_user}{PROXY_USER_SUFFIX}"

    @property
    def copy_retention_days(self) -> int:
        return self.backup_copy_retention_days or self.backup_retention_days

    @property
    def storage_ceiling_gb(self) -> int:
        if self.max_allocated_storage_gb is None:
            return min(self.allocated_storage_gb * 5, 65536)
        return self.max_allocated_storage_gb


class CacheConfig(Section):
    """ElastiCache in the isolated tier, TLS and IAM authentication: a Redis OSS replication group
    of one shard (a primary and num_nodes - 1 replicas), or with `serverless = true` an
    ElastiCache Serverless cache for Valkey, billed by the data it holds and the requests it
    serves instead of by the node-hour. Or, with `external = true`, a Redis outside AWS whose URL
    the operator keeps in Secrets Manager; or, with `enabled = false`, no cache. Each kind takes
    its own settings only."""

    enabled: bool = Field(
        default=True,
        description="A cache for the services and functions with `access = [\"cache\"]`; "
                    "`false` builds none (no ElastiCache, no Redis egress rule, no cache "
                    "alarms or `redis_*` outputs), takes no other `[cache]` key, and refuses "
                    "`cache` in any `access`.")
    external: bool = Field(
        default=False,
        description="A Redis outside AWS (Upstash, Redis Cloud) instead of ElastiCache: one "
                    "empty Secrets Manager secret `/<project>/<env>/cache/url`, encrypted with "
                    "the secrets key, whose value (the `rediss://` URL with its password) the "
                    "operator puts (README, \"Data layer\"); it is never in config, the JSON or "
                    "the state. ECS and App Runner services with `cache` access get it injected "
                    "as REDIS_URL, functions as REDIS_URL_SECRET_ARN to read. Needs NAT (the "
                    "URL is on the internet); takes `external_port` only.")
    external_port: int = Field(
        default=6379, ge=1, le=65535,
        description="The outside Redis's TCP port (the one its console shows beside the "
                    "endpoint), which the application tier's security group opens towards the "
                    "internet. External caches only.")
    serverless: bool = Field(
        default=False,
        description="ElastiCache Serverless for Valkey instead of Redis OSS nodes: no node to "
                    "size, spread over the isolated subnets' AZs, billed per GB-hour stored (at "
                    "least 100 MB) and per ECPU; `max_data_storage_gb` and `max_ecpu_per_second` "
                    "cap the bill. Takes `valkey_version`, the two limits, "
                    "`daily_snapshot_time` and `snapshot_retention_days`; the node settings "
                    "(`engine_version` to `maintenance_window`) are refused with it. Serverless "
                    "Valkey evicts only keys with a TTL (volatile-lru); at the storage limit "
                    "other writes fail. A file that switches a profile's cache kind gets none of "
                    "the profile's `[cache]` keys.")
    engine_version: RedisVersion = Field(
        default="7.1", description="Redis OSS version "
        f"({', '.join(catalog.REDIS_VERSIONS)}): IAM authentication needs 7.0 or later "
        "(`pricing/aws-catalog.toml`). Node caches only.")
    node_type: CacheNodeType | None = Field(
        default=None, json_schema_extra=computed_default("required for node caches"),
        description="`cache.<family>.<size>` of a current ElastiCache node type "
                    "(`pricing/aws-catalog.toml`), e.g. `cache.t4g.micro`. Node caches only.")
    num_nodes: int | None = Field(
        default=None, ge=1, le=6, json_schema_extra=computed_default("required for node caches"),
        description="A primary and num_nodes - 1 replicas. Node caches only.")
    automatic_failover: bool | None = Field(
        default=None, json_schema_extra=computed_default("on with 2+ nodes"),
        description="Promote a replica when the primary fails; `true` needs 2+ nodes. Multi-AZ "
                    "follows it when the network has 2+ AZs. Node caches only.")
    maxmemory_policy: MaxmemoryPolicy = Field(
        default="allkeys-lru",
        description="What Redis evicts when memory is full. Node caches only.")
    snapshot_retention_days: int = Field(default=5, ge=0, le=35,
                                         description="Days of daily snapshots; 0 turns them off.")
    snapshot_window: DailyWindow = Field(default="03:00-05:00",
                                         description="Daily snapshot window, UTC. Node caches "
                                                     "only.")
    final_snapshot: bool | None = Field(
        default=None, json_schema_extra=computed_default("required for node caches"),
        description="Take a final snapshot `<project>-<env>-redis-final` when the replication "
                    "group is deleted or replaced (the daily snapshots are deleted with it). "
                    "Node caches only: the AWS provider cannot ask for a serverless cache's.")
    maintenance_window: WeeklyWindow = Field(default="mon:05:00-mon:06:00",
                                             description="Weekly maintenance window, UTC. Node "
                                                         "caches only.")
    valkey_version: ValkeyMajor = Field(
        default="8", description="Valkey major version of a serverless cache "
        f"({', '.join(catalog.VALKEY_MAJORS)}; 7 is Valkey 7.2): IAM authentication needs "
        "Valkey 7.2 or later (`pricing/aws-catalog.toml`). Serverless only.")
    max_data_storage_gb: int = Field(
        default=1, ge=1, le=5000,
        description="Usage limit: the most data a serverless cache may hold, in GB (1 GB of "
                    "Valkey is about $61 a month at most). Serverless only.")
    max_ecpu_per_second: int = Field(
        default=5000, ge=1000, le=15_000_000,
        description="Usage limit: the most ElastiCache Processing Units a serverless cache may "
                    "use per second (an ECPU is about one simple command on up to 1 KB; 5,000 "
                    "a second all month is about $30 of Valkey); above it commands are "
                    "throttled. Serverless only.")
    daily_snapshot_time: TimeOfDay = Field(
        default="03:00", description="When a serverless cache's daily snapshot starts, UTC "
                                     "(`hh:mm`). Serverless only.")

    @property
    def elasticache(self) -> bool:
        """Whether this environment builds an ElastiCache cache (of either kind)."""
        return self.enabled and not self.external

    @property
    def failover(self) -> bool:
        if self.automatic_failover is None:
            return (self.num_nodes or 1) >= 2
        return self.automatic_failover


# The settings of one kind of cache only, in the order the problems name them.
NODE_ONLY = ("engine_version", "node_type", "num_nodes", "automatic_failover", "maxmemory_policy",
             "snapshot_window", "final_snapshot", "maintenance_window")
SERVERLESS_ONLY = ("valkey_version", "max_data_storage_gb", "max_ecpu_per_second",
                   "daily_snapshot_time")
NODE_REQUIRED = ("node_type", "num_nodes", "final_snapshot")


def cache_problems(cache: CacheConfig) -> list[tuple[str, str]]:
    """A cache given the other kind's settings, or a node cache without its sizing."""
    given = cache.model_fields_set
    if not cache.enabled:
        return [(f"cache.{name}", "a cache setting, but enabled = false builds no cache; "
                                  "remove it") for name in CacheConfig.model_fields
                if name in given and name != "enabled"]
    if cache.external:
        return [(f"cache.{name}", "an ElastiCache setting, but external = true builds no "
                                  "ElastiCache (only external_port applies); remove it")
                for name in CacheConfig.model_fields
                if name in given and name not in ("enabled", "external", "external_port")]
    if "external_port" in given:
        return [("cache.external_port", "the port of an outside Redis: set external = true "
                                        "or remove it")]
    if cache.serverless:
        return [(f"cache.{name}", f"a node cache setting: with serverless = true only "
                                  f"{', '.join(SERVERLESS_ONLY)} and snapshot_retention_days "
                                  "apply; remove it") for name in NODE_ONLY if name in given]
    problems = [(f"cache.{name}", "a serverless cache setting: set serverless = true or remove "
                                  "it") for name in SERVERLESS_ONLY if name in given]
    problems += [(f"cache.{name}", "required for a node cache (serverless = false)")
                 for name in NODE_REQUIRED if getattr(cache, name) is None]
    if cache.automatic_failover and (cache.num_nodes or 1) < 2:
        problems.append(("cache.automatic_failover",
                         "failover needs a replica to promote; with automatic_failover = true "
                         "set num_nodes to 2 or more"))
    return problems


def data_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    net, db = c.network, c.database
    if net.az_count < 2 and db.multi_az:
        problems.append(("database.multi_az", "Multi-AZ needs a standby in a second AZ, but "
                                              "network.az_count is 1"))
    elif net.az_count < 2:
        problems.append(("network.az_count",
                         "1 AZ cannot host the database: an RDS subnet group spans at least 2 "
                         "AZs (set az_count = 2 or more)"))
    if db.max_allocated_storage_gb and db.max_allocated_storage_gb <= db.allocated_storage_gb:
        problems.append(("database.max_allocated_storage_gb",
                         f"{db.max_allocated_storage_gb} is not above allocated_storage_gb "
                         f"({db.allocated_storage_gb}); the autoscaling ceiling must be above "
                         "the allocated storage, or 0 to turn storage autoscaling off"))
    if db.app_user == db.master_username:
        problems.append(("database.app_user",
                         f"'{db.app_user}' is the master user; the application connects as a "
                         "role of its own (IAM authentication), the master user stays for "
                         "break-glass use: choose another name"))
    if db.read_replica and db.backup_retention_days == 0:
        problems.append(("database.read_replica", "a read replica needs automated backups on "
                                                  "the primary (backup_retention_days >= 1)"))
    return problems + _proxy_problems(db) + _backup_copy_problems(c) + cache_problems(c.cache) + \
        _cache_user_problems(c)


def _proxy_problems(db: DatabaseConfig) -> list[tuple[str, str]]:
    """Proxy settings without a proxy, and a proxy in front of an engine it does not take. (Its
    two subnets in different AZs, AWS, "Setting up network prerequisites for RDS Proxy", are the
    database's: one AZ is refused above.)"""
    if not db.proxy:
        return [(f"database.{name}", "a proxy setting, but proxy = false builds no proxy; "
                                     "remove it or set proxy = true")
                for name in PROXY_ONLY if name in db.model_fields_set]
    problems = []
    major = int(db.engine_version.split(".")[0])
    if major not in PROXY_POSTGRES_MAJORS:
        problems.append(("database.proxy", f"RDS Proxy does not take PostgreSQL {major} (it "
                                           f"takes {', '.join(map(str, PROXY_POSTGRES_MAJORS))})"
                                           "; choose one of those engine_version majors or "
                                           "remove proxy"))
    if len(db.proxy_user) > 63:
        problems.append(("database.app_user", f"'{db.app_user}' is too long for a proxy: "
                                              f"'{db.proxy_user}', the role workloads log in as "
                                              "through it, would pass PostgreSQL's 63 "
                                              "characters; shorten app_user"))
    return problems


def _backup_copy_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """RDS User Guide, "Replicating automated backups to another AWS Region": the copy goes to
    another Region of the same partition, from an instance whose automated backups are on."""
    db, region = c.database, c.database.backup_copy_region
    if region is None:
        return [("database.backup_copy_retention_days",
                 "the retention of backup copies, but backup_copy_region is not set; set it or "
                 "remove this")] if db.backup_copy_retention_days is not None else []
    if region == c.region:
        return [("database.backup_copy_region",
                 f"{region} is the stack's own Region; a copy in the same Region survives "
                 "nothing the primary's backups do not: choose another Region")]
    if catalog.partition(region) != catalog.partition(c.region):
        return [("database.backup_copy_region",
                 f"{region} is in another partition than {c.region}; RDS replicates backups "
                 "within a partition only")]
    if db.backup_retention_days == 0:
        return [("database.backup_copy_region",
                 "RDS replicates automated backups, which backup_retention_days = 0 turns off; "
                 "set it to 1 or more")]
    return []


def _cache_user_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """No workload uses a cache that is not built; an outside Redis is reached through NAT."""
    if not c.cache.enabled:
        users = [f"services.{s.name}.access" for s in c.services if "cache" in s.access]
        if c.api.enabled and "cache" in c.api.access:
            users.append("api.access")
        return [(field, "'cache', but cache.enabled = false builds no cache; remove it from "
                        "access or turn the cache on") for field in users]
    if not c.cache.external:
        return []
    problems = [(f"secrets[{i}].name", f"/{c.project}/{c.environment}/cache/url is the outside "
                                       "Redis's URL (cache.external); rename it")
                for i, s in enumerate(c.secrets) if (s.service, s.name) == ("cache", "url")]
    if c.network.nat == "none":
        problems.insert(0, ("cache.external", "an outside Redis is on the internet, which a VPC "
                                              "without NAT cannot reach; set network.nat, or "
                                              "use ElastiCache (remove external)"))
    return problems
