"""The data sections (`[database]`: RDS for PostgreSQL, `[cache]`: ElastiCache for Redis OSS) and
their rules: a Multi-AZ database needs a second AZ, a read replica needs backups, Redis failover
needs a replica to promote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config import catalog
from lib.config.fields import (CacheNodeType, DailyWindow, Identifier, MaxmemoryPolicy,
                               PerformanceInsightsRetention, PostgresVersion, RdsInstanceClass,
                               RedisVersion, RoleName, Section, WeeklyWindow, computed_default)

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


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

    @property
    def storage_ceiling_gb(self) -> int:
        if self.max_allocated_storage_gb is None:
            return min(self.allocated_storage_gb * 5, 65536)
        return self.max_allocated_storage_gb


class CacheConfig(Section):
    """ElastiCache for Redis OSS in the isolated tier, one shard: a primary and num_nodes - 1
    replicas, TLS and IAM authentication."""

    engine_version: RedisVersion = Field(
        default="7.1", description="Redis OSS version "
        f"({', '.join(catalog.REDIS_VERSIONS)}): IAM authentication needs 7.0 or later "
        "(`pricing/aws-catalog.toml`).")
    node_type: CacheNodeType = Field(description="`cache.<family>.<size>` of a current "
                                                 "ElastiCache node type "
                                                 "(`pricing/aws-catalog.toml`), e.g. "
                                                 "`cache.t4g.micro`.")
    num_nodes: int = Field(ge=1, le=6, description="A primary and num_nodes - 1 replicas.")
    automatic_failover: bool | None = Field(
        default=None, json_schema_extra=computed_default("on with 2+ nodes"),
        description="Promote a replica when the primary fails; `true` needs 2+ nodes. Multi-AZ "
                    "follows it when the network has 2+ AZs.")
    maxmemory_policy: MaxmemoryPolicy = Field(default="allkeys-lru",
                                              description="What Redis evicts when memory is full.")
    snapshot_retention_days: int = Field(default=5, ge=0, le=35,
                                         description="Days of daily snapshots; 0 turns them off.")
    snapshot_window: DailyWindow = Field(default="03:00-05:00",
                                         description="Daily snapshot window, UTC.")
    final_snapshot: bool = Field(
        description="Take a final snapshot `<project>-<env>-redis-final` when the replication "
                    "group is deleted or replaced (the daily snapshots are deleted with it).")
    maintenance_window: WeeklyWindow = Field(default="mon:05:00-mon:06:00",
                                             description="Weekly maintenance window, UTC.")

    @property
    def failover(self) -> bool:
        return self.num_nodes >= 2 if self.automatic_failover is None else self.automatic_failover


def data_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    net, db, cache = c.network, c.database, c.cache
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
    if cache.automatic_failover and cache.num_nodes < 2:
        problems.append(("cache.automatic_failover",
                         "failover needs a replica to promote; with automatic_failover = true "
                         "set num_nodes to 2 or more"))
    return problems
