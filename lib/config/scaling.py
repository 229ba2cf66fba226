"""Scaling on what the application experiences (a `[[services]]` entry's `scale_on_metric` and
`scale_on_latency_p99_ms`), and its rules: ECS services only, a web service's load balancer for
latency, at least one task to scale from, Container Insights for a per-task metric, and the
names and sizes CloudWatch accepts for a metric the application publishes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field

from lib.config.fields import Section

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig
    from lib.config.services import ServiceConfig

# Amazon CloudWatch API Reference, "Metric" and "Dimension": a namespace and a metric name are
# 1-255 characters (a namespace not starting with ":"), a metric has up to 30 dimensions, a
# dimension's name is 1-255 ASCII characters not starting with ":", its value 1-1024.
NAME_MAX = 255
DIMENSIONS_MAX = 30
DIMENSION_VALUE_MAX = 1024
# PutMetricData: "You cannot specify a namespace that begins with AWS/" (reserved for AWS).
AWS_NAMESPACE_PREFIX = "AWS/"


def _cloudwatch_text(value: str, most: int, what: str) -> str | None:
    """Why `value` is not a CloudWatch name of at most `most` characters; None when it is."""
    if not 1 <= len(value) <= most:
        return f"a {what} is 1-{most} characters (got {len(value)})"
    if not value.isascii() or not value.isprintable() or not value.strip():
        return f"a {what} is printable ASCII with at least one non-space character"
    return None


def _namespace(value: str) -> str:
    problem = _cloudwatch_text(value, NAME_MAX, "namespace")
    if problem is None and value.startswith(":"):
        problem = "a namespace cannot start with ':'"
    if problem is None and value.startswith(AWS_NAMESPACE_PREFIX):
        problem = (f"'{value}': namespaces starting with {AWS_NAMESPACE_PREFIX} are AWS's own, "
                   "and PutMetricData refuses them; name the application's, e.g. \"BullMQ\"")
    if problem:
        raise ValueError(problem)
    return value


def _metric_name(value: str) -> str:
    problem = _cloudwatch_text(value, NAME_MAX, "metric name")
    if problem:
        raise ValueError(problem)
    return value


def _dimensions(value: dict[str, str]) -> dict[str, str]:
    if len(value) > DIMENSIONS_MAX:
        raise ValueError(f"{len(value)} dimensions; a CloudWatch metric has at most "
                         f"{DIMENSIONS_MAX}")
    for name, text in value.items():
        problem = _cloudwatch_text(name, NAME_MAX, "dimension name") or (
            "a dimension name cannot start with ':'" if name.startswith(":") else None) or \
            _cloudwatch_text(text, DIMENSION_VALUE_MAX, "dimension value")
        if problem:
            raise ValueError(f"{name!r}: {problem}")
    return value


class ScaleOnMetricConfig(Section):
    """Target tracking on a metric the application publishes to CloudWatch (README, "Scaling on
    the application's metric and on latency"). With `per_task` (the default) the policy tracks
    the metric divided by the service's running tasks, by metric math, so `target` is what one
    task should carry: AWS's guidance for queue-based scaling ("backlog per task"). The service's
    task role may publish in `namespace` only (cloudwatch:PutMetricData), and its containers get
    SCALING_METRIC_NAMESPACE, SCALING_METRIC_NAME and SCALING_METRIC_DIMENSIONS (JSON)."""

    namespace: Annotated[str, AfterValidator(_namespace)] = Field(
        description="The CloudWatch namespace the application publishes in, e.g. `\"BullMQ\"` "
                    "(not `AWS/...`: AWS's own).")
    metric: Annotated[str, AfterValidator(_metric_name)] = Field(
        description="The metric's name, e.g. `\"waiting\"` (a queue's waiting jobs).")
    dimensions: Annotated[dict[str, str], AfterValidator(_dimensions)] = Field(
        default={}, description="The dimensions it is published with, exactly (a metric is its "
                                "name and all its dimensions), e.g. `{ queue = \"emails\" }`; "
                                "at most 30.")
    statistic: Literal["Average", "Minimum", "Maximum", "SampleCount", "Sum"] = Field(
        default="Average", description="How a minute's data points are combined (several "
                                       "tasks publishing the same queue's depth: `Average` or "
                                       "`Maximum`).")
    target: float = Field(
        gt=0, description="The value to hold: per running task with `per_task` (e.g. 100 "
                          "waiting jobs a task), else the metric's own value.")
    per_task: bool = Field(
        default=True,
        description="Divide by the service's running tasks (Container Insights' "
                    "RunningTaskCount: `observability.container_insights` on). false: the "
                    "metric already falls as tasks are added (e.g. each task publishes its own "
                    "load, averaged).")


def scaling_problems(c: EnvironmentConfig, s: ServiceConfig,
                     where: str) -> list[tuple[str, str]]:
    """Target tracking on the application's metric or latency: where it can run."""
    keys = [key for key in ("scale_on_metric", "scale_on_latency_p99_ms")
            if getattr(s, key) is not None]
    if not keys or s.kind == "task":  # a task takes neither (services.py says so)
        return []
    if c.compute.platform != "ecs":
        return [(f"{where}.{key}", "target tracking on the application's metric or latency "
                                   "scales an ECS service; compute.platform is "
                                   f"\"{c.compute.platform}\" (Lambda scales per request, "
                                   "App Runner on concurrency)") for key in keys]
    problems = []
    if s.scale_on_latency_p99_ms is not None and s.kind != "web":
        problems.append((f"{where}.scale_on_latency_p99_ms",
                         "a worker has no load balancer, so no response time to track; scale "
                         "it on scale_on_metric (e.g. its queue's waiting jobs)"))
    if s.min_tasks == 0:
        # Target tracking sets capacity from the running tasks and the metric's ratio to the
        # target: from 0 tasks there is nothing to multiply, and a per-task metric has no data.
        problems.append((f"{where}.min_tasks",
                         f"0 cannot grow by {' or '.join(keys)}: target tracking scales the "
                         "running tasks, so from 0 it never starts one; use 1 or more (an SQS "
                         "`queue` worker scales from 0)"))
    metric = s.scale_on_metric
    if metric is not None and s.queue is not None:
        problems.append((f"{where}.scale_on_metric",
                         f"the worker already scales on its queue '{s.queue}' (step scaling), "
                         "which target tracking would fight; use one or the other"))
    if metric is not None and metric.per_task and not c.observability.container_insights:
        problems.append((f"{where}.scale_on_metric.per_task",
                         "true divides by the running tasks, which only Container Insights "
                         "publishes (ECS/ContainerInsights RunningTaskCount); set "
                         "observability.container_insights = true, or per_task = false"))
    return problems
