"""Alarms to the alerts topic and one CloudWatch dashboard per environment."""

import json
from dataclasses import dataclass, field

from constructs import Construct

from lib.compute.service_scaling import TrackedMetric
from lib.core import aws
from lib.core.naming import Naming

GIB = 1024 ** 3


@dataclass(frozen=True)
class AlarmThresholds:
    """Where each alarm fires (`[observability.alarms]` documents each and its range)."""

    cpu_percent: int  # services and the database
    memory_percent: int
    target_5xx_per_minute: int
    p99_latency_seconds: float
    database_connections: int
    free_storage_percent: int  # of the allocated storage
    replica_lag_seconds: int
    redis_memory_percent: int
    redis_evictions: int
    oldest_message_seconds: int
    api_5xx_per_minute: int
    lambda_concurrent_executions: int  # the account's regional concurrency; 0: no alarm


@dataclass(frozen=True)
class WebTarget:
    """A service behind the load balancer: its target group and the load balancer's suffixes."""

    load_balancer_suffix: str  # app/<name>/<id>
    target_group_suffix: str  # targetgroup/<name>/<id>


@dataclass(frozen=True)
class MonitoredService:
    name: str  # the ECS service name
    cluster: str
    web: WebTarget | None = None
    # Its target tracking policies on the application's metric or latency: a graph each.
    scaling: tuple[TrackedMetric, ...] = ()


@dataclass(frozen=True)
class MonitoredDatabase:
    identifier: str
    allocated_storage_gb: int
    replica_identifier: str | None = None


@dataclass(frozen=True)
class MonitoredCache:
    node_ids: list[str]  # <replication group id>-001, -002, ...


@dataclass(frozen=True)
class MonitoredServerlessCache:
    name: str  # the serverless cache's name
    max_data_storage_gb: int  # its usage limits
    max_ecpu_per_second: int


@dataclass(frozen=True)
class ObservabilityProps:
    naming: Naming
    thresholds: AlarmThresholds
    alerts_topic_arn: str
    dashboard: bool
    services: list[MonitoredService] = field(default_factory=list)
    database: MonitoredDatabase | None = None
    cache: MonitoredCache | MonitoredServerlessCache | None = None
    queues: list[str] = field(default_factory=list)  # queue names
    dead_letter_queues: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)  # function names
    api_id: str | None = None


class Observability(Construct):
    """One alarm per signal a reviewer expects, each notifying the alerts topic on alarm and on
    recovery (missing data is not breaching):

    - services: CPU and memory above the threshold for 2 minutes; web services also unhealthy
      targets, target 5xx per minute and p99 latency;
    - database: CPU, free storage below the threshold share of allocated storage, connections,
      replica lag when there is a replica;
    - Redis (per node): memory use, evictions, engine CPU;
    - a serverless cache: stored data and ECPUs per second above the threshold share of their
      usage limits (at the limit ElastiCache refuses writes or throttles), throttled commands;
    - queues: age of the oldest message; dead-letter queues: any message at all;
    - functions: errors and throttles; the HTTP API: 5xx per minute.

    And a dashboard `<project>-<env>` with the same metrics, and for each target tracking policy
    on the application's metric or latency what it tracks, with its target as a line.

    Outputs: `alarm_names`, `dashboard_name` (None without one).
    """

    def __init__(self, scope: Construct, id: str, props: ObservabilityProps):
        super().__init__(scope, id)
        self._props = props
        self.alarm_names: list[str] = []
        self._widgets: list[dict] = []
        t = props.thresholds
        for svc in props.services:
            dims = {"ClusterName": svc.cluster, "ServiceName": svc.name}
            self._alarm(f"{svc.name}-cpu", "AWS/ECS", "CPUUtilization", dims, t.cpu_percent)
            self._alarm(f"{svc.name}-memory", "AWS/ECS", "MemoryUtilization", dims,
                        t.memory_percent)
            metrics = [["AWS/ECS", "CPUUtilization", "ClusterName", svc.cluster, "ServiceName",
                        svc.name], [".", "MemoryUtilization", ".", ".", ".", "."]]
            if svc.web:
                tg = {"LoadBalancer": svc.web.load_balancer_suffix,
                      "TargetGroup": svc.web.target_group_suffix}
                self._alarm(f"{svc.name}-unhealthy", "AWS/ApplicationELB", "UnHealthyHostCount",
                            tg, 0, statistic="Maximum")
                self._alarm(f"{svc.name}-5xx", "AWS/ApplicationELB",
                            "HTTPCode_Target_5XX_Count", tg, t.target_5xx_per_minute,
                            statistic="Sum", periods=1)
                self._alarm(f"{svc.name}-p99", "AWS/ApplicationELB", "TargetResponseTime", tg,
                            t.p99_latency_seconds, statistic="p99")
                metrics.append(["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer",
                                svc.web.load_balancer_suffix, "TargetGroup",
                                svc.web.target_group_suffix, {"stat": "p99"}])
            self._widget(f"Service {svc.name}", metrics)
            for tracked in svc.scaling:
                self._scaling_widget(svc.name, tracked)

        db = props.database
        if db:
            dims = {"DBInstanceIdentifier": db.identifier}
            self._alarm("db-cpu", "AWS/RDS", "CPUUtilization", dims, t.cpu_percent)
            self._alarm("db-free-storage", "AWS/RDS", "FreeStorageSpace", dims,
                        db.allocated_storage_gb * GIB * t.free_storage_percent / 100,
                        comparison="LessThanThreshold", statistic="Minimum")
            self._alarm("db-connections", "AWS/RDS", "DatabaseConnections", dims,
                        t.database_connections, statistic="Maximum")
            metrics = [["AWS/RDS", m, "DBInstanceIdentifier", db.identifier] for m in
                       ("CPUUtilization", "FreeStorageSpace", "DatabaseConnections")]
            if db.replica_identifier:
                self._alarm("db-replica-lag", "AWS/RDS", "ReplicaLag",
                            {"DBInstanceIdentifier": db.replica_identifier},
                            t.replica_lag_seconds, statistic="Maximum")
                metrics.append(["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier",
                                db.replica_identifier])
            self._widget("Database", metrics)

        if isinstance(props.cache, MonitoredServerlessCache):
            self._serverless_cache(props.cache, t)
        elif props.cache:
            metrics = []
            for node in props.cache.node_ids:
                dims = {"CacheClusterId": node}
                self._alarm(f"{node}-memory", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage",
                            dims, t.redis_memory_percent)
                self._alarm(f"{node}-evictions", "AWS/ElastiCache", "Evictions", dims,
                            t.redis_evictions, statistic="Sum")
                self._alarm(f"{node}-cpu", "AWS/ElastiCache", "EngineCPUUtilization", dims,
                            t.cpu_percent)
                metrics += [["AWS/ElastiCache", m, "CacheClusterId", node] for m in
                            ("DatabaseMemoryUsagePercentage", "Evictions", "EngineCPUUtilization")]
            self._widget("Redis", metrics)

        for queue in props.queues:
            self._alarm(f"{queue}-oldest-message", "AWS/SQS", "ApproximateAgeOfOldestMessage",
                        {"QueueName": queue}, t.oldest_message_seconds, statistic="Maximum")
        for dlq in props.dead_letter_queues:
            self._alarm(f"{dlq}-not-empty", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                        {"QueueName": dlq}, 0, statistic="Maximum", periods=1)
        if props.queues:
            self._widget("Queues", [["AWS/SQS", m, "QueueName", q] for q in
                                    props.queues + props.dead_letter_queues for m in
                                    ("ApproximateAgeOfOldestMessage",
                                     "ApproximateNumberOfMessagesVisible")])
        for fn in props.functions:
            for metric in ("Errors", "Throttles"):
                self._alarm(f"{fn}-{metric.lower()}", "AWS/Lambda", metric, {"FunctionName": fn},
                            0, statistic="Sum", periods=1)
        if props.functions and t.lambda_concurrent_executions:
            self._alarm("lambda-concurrency", "AWS/Lambda", "ConcurrentExecutions", {},
                        t.lambda_concurrent_executions, statistic="Maximum", periods=1)
        if props.functions:
            self._widget("Functions", [["AWS/Lambda", m, "FunctionName", fn]
                                       for fn in props.functions
                                       for m in ("Invocations", "Errors", "Throttles", "Duration")])
        if props.api_id:
            self._alarm("http-api-5xx", "AWS/ApiGateway", "5xx", {"ApiId": props.api_id},
                        t.api_5xx_per_minute, statistic="Sum", periods=1)
            self._widget("HTTP API", [["AWS/ApiGateway", m, "ApiId", props.api_id]
                                      for m in ("Count", "4xx", "5xx", "Latency")])

        self.dashboard_name: str | None = None
        if props.dashboard:
            dashboard = aws.cloudwatch_dashboard.CloudwatchDashboard(
                self, "dashboard", dashboard_name=props.naming.prefix,
                dashboard_body=json.dumps({"widgets": self._widgets}))
            self.dashboard_name = dashboard.dashboard_name

    def _serverless_cache(self, cache: MonitoredServerlessCache, t: AlarmThresholds) -> None:
        # Serverless caches publish their metrics with the dimension clusterId = the cache's name
        # ("Serverless metrics and events for Valkey and Redis OSS - Amazon ElastiCache").
        dims = {"clusterId": cache.name}
        # The limit is in GB; read as 10^9 bytes the alarm fires no later than as GiB.
        self._alarm(f"{cache.name}-data", "AWS/ElastiCache", "BytesUsedForCache", dims,
                    cache.max_data_storage_gb * 10 ** 9 * t.redis_memory_percent / 100,
                    statistic="Maximum")
        # ElastiCacheProcessingUnits counts the ECPUs of the period: the limit is per second.
        self._alarm(f"{cache.name}-ecpu", "AWS/ElastiCache", "ElastiCacheProcessingUnits", dims,
                    cache.max_ecpu_per_second * 60 * t.cpu_percent / 100, statistic="Sum")
        self._alarm(f"{cache.name}-throttled", "AWS/ElastiCache", "ThrottledCmds", dims, 0,
                    statistic="Sum", periods=1)
        self._widget("Valkey", [["AWS/ElastiCache", m, "clusterId", cache.name] for m in
                                ("BytesUsedForCache", "ElastiCacheProcessingUnits",
                                 "ThrottledCmds")])

    def _alarm(self, name: str, namespace: str, metric: str, dimensions: dict[str, str],
               threshold: float, statistic: str = "Average", periods: int = 2,
               comparison: str = "GreaterThanThreshold") -> None:
        n = self._props.naming
        alarm_name = name if name.startswith(n.prefix) else n.name(name)
        percentile = statistic.startswith("p")
        aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
            self, f"alarm-{name}", alarm_name=alarm_name, namespace=namespace,
            metric_name=metric, dimensions=dimensions, period=60, evaluation_periods=periods,
            statistic=None if percentile else statistic,
            extended_statistic=statistic if percentile else None,
            threshold=threshold, comparison_operator=comparison, treat_missing_data="notBreaching",
            alarm_description=f"{namespace} {metric} {comparison} {threshold:g}",
            alarm_actions=[self._props.alerts_topic_arn],
            ok_actions=[self._props.alerts_topic_arn], tags=n.tags("alarm"))
        self.alarm_names.append(alarm_name)

    def _scaling_widget(self, service: str, tracked: TrackedMetric) -> None:
        """The policy's own queries, only the tracked value shown, and the target as a line.
        Target tracking's alarms (TargetTracking-...) are Application Auto Scaling's: they
        change capacity and notify no one."""
        rows: list[list] = []
        for q in tracked.queries:
            shown = {"id": q.id, "label": q.label, "visible": q.returned}
            if q.expression:
                rows.append([{"expression": q.expression, **shown}])
            else:
                dimensions = [part for dimension in q.dimensions for part in dimension]
                rows.append([q.namespace, q.metric, *dimensions, {"stat": q.stat, **shown}])
        self._widget(f"{service} scales on {tracked.label}", rows, annotations={
            "horizontal": [{"label": "target", "value": tracked.target}]})

    def _widget(self, title: str, metrics: list[list], annotations: dict | None = None) -> None:
        properties = {"title": title, "metrics": metrics, "period": 60, "stat": "Average",
                      "region": self._props.naming.region, "view": "timeSeries"}
        if annotations:
            properties["annotations"] = annotations
        self._widgets.append({
            "type": "metric", "width": 12, "height": 6,
            "x": 12 * (len(self._widgets) % 2), "y": 6 * (len(self._widgets) // 2),
            "properties": properties})
