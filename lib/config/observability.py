"""The observability sections: `[logs]` (retention), `[observability]` (alarm thresholds, the
dashboard, Container Insights, the OpenTelemetry sidecar) and `[cost]` (the budget `make cost`
checks), and their rule: staging and prod keep their security logs a year or more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from lib.config import catalog
from lib.config.fields import LogRetentionDays, Section

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig

# Days staging and prod keep the logs an investigation reads long after the fact (who reached
# what, what was blocked): a year, as the account's audit bucket keeps its trail by default.
SECURITY_LOG_FLOOR_DAYS = 365


class CostConfig(Section):
    """`make cost` fails when this environment's estimate is over its budget. Every environment
    has one (its profile's, profiles.py), so replacing a file never drops the check."""

    monthly_budget_usd: float = Field(
        gt=0, description="USD a month: `make cost` exits 1 when the stack's estimate is above "
                          "it. dev 80 and lean 30 are the product's targets; staging 350 and "
                          "prod 650 are the shipped staging and prod estimates ($285 and $511 "
                          "with the prices of pricing/us-east-1.toml) with about a quarter's "
                          "headroom. A preset that costs more sets its own (examples/).")


class LogsConfig(Section):
    """CloudWatch Logs retention of the environment's log groups."""

    retention_days: LogRetentionDays = Field(
        default=30, description="Days: a CloudWatch Logs retention "
        f"({', '.join(map(str, catalog.LOG_RETENTION_DAYS))}).")
    security_retention_days: LogRetentionDays = Field(
        default=SECURITY_LOG_FLOOR_DAYS,
        description="Days the security logs are kept: the VPC flow logs and the WAF logs "
                    "(`aws-waf-logs-*`), a CloudWatch Logs retention as `retention_days`. "
                    f"staging and prod refuse less than {SECURITY_LOG_FLOOR_DAYS}. The account's "
                    "CloudTrail, AWS Config and Session Manager logs follow the account file's "
                    "`log_retention_days`.")


class AlarmThresholds(Section):
    """Where each metric alarm fires; every alarm notifies the `alerts` topic."""

    cpu_percent: int = Field(default=80, ge=1, le=100,
                             description="CPU of a service, the database or Redis, percent (a "
                                         "serverless cache: ECPUs, percent of its "
                                         "`max_ecpu_per_second`).")
    memory_percent: int = Field(default=80, ge=1, le=100,
                                description="Memory of a service, percent.")
    target_5xx_per_minute: int = Field(default=10, ge=1, le=1_000_000,
                                       description="5xx responses of a web service's targets "
                                                   "per minute.")
    p99_latency_seconds: float = Field(default=2.0, gt=0, le=60,
                                       description="p99 response time of a web service's "
                                                   "targets, seconds.")
    database_connections: int = Field(default=80, ge=1, le=100_000,
                                      description="Database connections.")
    free_storage_percent: int = Field(default=10, ge=1, le=99,
                                      description="Free database storage, percent of the "
                                                  "allocated storage (alarms below it).")
    replica_lag_seconds: int = Field(default=60, ge=1, le=86400,
                                     description="Read replica lag, seconds.")
    redis_memory_percent: int = Field(default=80, ge=1, le=100,
                                      description="Redis memory used, percent (a serverless "
                                                  "cache: stored data, percent of its "
                                                  "`max_data_storage_gb`).")
    redis_evictions: int = Field(default=100, ge=1, le=10_000_000,
                                 description="Redis evictions per minute.")
    oldest_message_seconds: int = Field(default=300, ge=1, le=1_209_600,
                                        description="Age of a queue's oldest message, seconds "
                                                    "(any message in a dead-letter queue alarms "
                                                    "too).")
    api_5xx_per_minute: int = Field(default=5, ge=1, le=1_000_000,
                                    description="5xx responses of the HTTP API per minute.")
    lambda_concurrent_executions: int = Field(
        default=0, ge=0, le=1_000_000,
        description="The account's concurrent Lambda executions in the region (the limit is "
                    "1,000 by default); 0: no alarm.")


class ObservabilityConfig(Section):
    """Alarms, the dashboard and per-task metrics."""

    alarms: AlarmThresholds = Field(default=AlarmThresholds(),
                                    description="Alarm thresholds (`[observability.alarms]`).")
    dashboard: bool = Field(default=True, description="A CloudWatch dashboard `<project>-<env>`.")
    container_insights: bool = Field(
        default=True,
        description="Per-task ECS CPU/memory/network metrics, billed as custom metrics (~$12 a "
                    "month for two services); the alarms use the free AWS/ECS metrics either "
                    "way.")
    otel_sidecar: bool = Field(default=False,
                               description="An AWS Distro for OpenTelemetry collector in every "
                                           "task (OTLP on localhost:4317, X-Ray; metrics as "
                                           "EMF logs in `/aws/ecs/application/metrics`, "
                                           "which the collector creates).")


def logs_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    days = c.logs.security_retention_days
    if c.profile in ("staging", "prod") and days < SECURITY_LOG_FLOOR_DAYS:
        allowed = ", ".join(str(d) for d in catalog.LOG_RETENTION_DAYS
                            if d >= SECURITY_LOG_FLOOR_DAYS)
        return [("logs.security_retention_days",
                 f"{days} is less than the {SECURITY_LOG_FLOOR_DAYS} days a {c.profile} "
                 f"environment keeps its flow and WAF logs; use one of {allowed}")]
    return []
