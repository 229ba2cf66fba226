"""The observability sections: `[logs]` (retention), `[observability]` (alarm thresholds, the
dashboard, Container Insights, the OpenTelemetry sidecar) and `[cost]` (the budget `make cost`
checks). No rule here spans sections.
"""

from pydantic import Field

from lib.config.fields import LogRetentionDays, Section


class CostConfig(Section):
    """`make cost` fails when this environment's estimate is over its budget."""

    monthly_budget_usd: float | None = Field(default=None, gt=0)


class LogsConfig(Section):
    retention_days: LogRetentionDays = 30


class AlarmThresholds(Section):
    cpu_percent: int = Field(default=80, ge=1, le=100)
    memory_percent: int = Field(default=80, ge=1, le=100)
    target_5xx_per_minute: int = Field(default=10, ge=1, le=1_000_000)
    p99_latency_seconds: float = Field(default=2.0, gt=0, le=60)
    database_connections: int = Field(default=80, ge=1, le=100_000)
    free_storage_percent: int = Field(default=10, ge=1, le=99)
    replica_lag_seconds: int = Field(default=60, ge=1, le=86400)
    redis_memory_percent: int = Field(default=80, ge=1, le=100)
    redis_evictions: int = Field(default=100, ge=1, le=10_000_000)
    oldest_message_seconds: int = Field(default=300, ge=1, le=1_209_600)
    api_5xx_per_minute: int = Field(default=5, ge=1, le=1_000_000)
    # The account's concurrent Lambda executions (regional limit 1,000 by default); 0: no alarm.
    lambda_concurrent_executions: int = Field(default=0, ge=0, le=1_000_000)


class ObservabilityConfig(Section):
    alarms: AlarmThresholds = AlarmThresholds()
    dashboard: bool = True
    # Container Insights: per-task CPU/memory/network metrics, billed as custom metrics. The alarms
    # use the free AWS/ECS service metrics, so dev can run without it.
    container_insights: bool = True
    otel_sidecar: bool = False  # an AWS Distro for OpenTelemetry collector in every task
