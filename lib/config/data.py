"""The data sections (`[database]`: RDS for PostgreSQL, `[cache]`: ElastiCache for Redis OSS) and
their rules: a Multi-AZ database needs a second AZ, a read replica needs backups, Redis failover
needs a replica to promote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import (CacheNodeType, DailyWindow, Identifier, MaxmemoryPolicy,
                               PerformanceInsightsRetention, PostgresVersion, RdsInstanceClass,
                               Section, WeeklyWindow)

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class DatabaseConfig(Section):
    """RDS for PostgreSQL. Windows are UTC; the read replica serves reporting-style reads."""

    engine_version: PostgresVersion = "16"  # a major (minor upgrades are automatic) or major.minor
    instance_class: RdsInstanceClass
    allocated_storage_gb: int = Field(ge=20, le=65536)
    # storage autoscaling ceiling; default 5x allocated; 0 turns autoscaling off (free tier)
    max_allocated_storage_gb: int | None = Field(default=None, ge=0, le=65536)
    multi_az: bool
    read_replica: bool = False
    database_name: Identifier = "app"
    master_username: Identifier = "app_admin"
    backup_retention_days: int = Field(default=7, ge=0, le=35)
    backup_window: DailyWindow = "03:00-04:00"
    maintenance_window: WeeklyWindow = "mon:04:00-mon:05:00"
    deletion_protection: bool
    final_snapshot: bool
    slow_query_ms: int = Field(default=500, ge=-1, le=3_600_000)  # -1 turns slow-query logging off
    performance_insights_retention_days: PerformanceInsightsRetention = 7
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = 60

    @property
    def storage_ceiling_gb(self) -> int:
        if self.max_allocated_storage_gb is None:
            return min(self.allocated_storage_gb * 5, 65536)
        return self.max_allocated_storage_gb


class CacheConfig(Section):
    """ElastiCache for Redis OSS, one shard: a primary and num_nodes - 1 replicas."""

    engine_version: Literal["7.0", "7.1"] = "7.1"  # IAM authentication needs 7.0 or later
    node_type: CacheNodeType
    num_nodes: int = Field(ge=1, le=6)
    automatic_failover: bool | None = None  # default: on whenever there are 2 or more nodes
    maxmemory_policy: MaxmemoryPolicy = "allkeys-lru"
    snapshot_retention_days: int = Field(default=5, ge=0, le=35)
    snapshot_window: DailyWindow = "03:00-05:00"
    maintenance_window: WeeklyWindow = "mon:05:00-mon:06:00"

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
    if db.read_replica and db.backup_retention_days == 0:
        problems.append(("database.read_replica", "a read replica needs automated backups on "
                                                  "the primary (backup_retention_days >= 1)"))
    if cache.automatic_failover and cache.num_nodes < 2:
        problems.append(("cache.automatic_failover",
                         "failover needs a replica to promote; with automatic_failover = true "
                         "set num_nodes to 2 or more"))
    return problems
