"""Target tracking on what the application experiences, beside the CPU, memory and request
policies of lib/compute/container_service.py: a metric the application publishes to CloudWatch
(per running task, or as published) and a web service's p99 response time at the load balancer.

Both are target tracking with a customized metric in its metric-math form (a list of queries,
one of them returned): Application Auto Scaling, "Create a target tracking scaling policy for
Application Auto Scaling using metric math". That form is also the only one that takes a
percentile: a query's `Stat` "can include any CloudWatch statistic or extended statistic"
(API reference, TargetTrackingMetricStat), while the plain form's `Statistic` is one of Average,
Minimum, Maximum, SampleCount, Sum.

- Backlog per task: the application's metric divided by Container Insights' RunningTaskCount, as
  AWS's SQS example does; the target is what one task should carry, and the policy adds tasks in
  proportion to the excess. Target tracking does not scale on missing data, so a metric the
  application stops publishing holds the service where it is rather than shedding it.
- p99 latency: TargetResponseTime at p99 for the service's target group, with minutes without
  requests read as 0 (FILL): the load balancer publishes nothing then ("CloudWatch metrics for
  your Application Load Balancer"), and a policy without data would never let the service scale
  in (Application Auto Scaling scales in only when every policy agrees).

`TrackedMetric` is what a policy holds at its target, as queries the dashboard draws too
(lib/observability/alarms.py), so the graph shows exactly what the policy tracks.
"""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.compute.service_spec import AppMetric
from lib.core import aws
from lib.core.naming import Naming

# A task takes a minute or two to start and pass its health checks, so these signals answer a
# scale-out late: grow each minute, but shed a task only after five quiet minutes (Application
# Auto Scaling's default scale-in cooldown for an ECS service), so a drained spike keeps its
# tasks a while.
SCALE_OUT_COOLDOWN = 60
SCALE_IN_COOLDOWN = 300


@dataclass(frozen=True)
class MetricQuery:
    """One query of a metric-math metric: a metric with its statistic, or an expression over
    other queries' ids."""

    id: str
    label: str
    namespace: str = ""
    metric: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()
    stat: str = ""
    expression: str = ""
    returned: bool = False  # the one value the policy tracks


@dataclass(frozen=True)
class TrackedMetric:
    """What one target tracking policy holds at `target`."""

    name: str  # names the policy <project>-<env>-<service>-<name>
    label: str  # what it tracks, in words
    queries: tuple[MetricQuery, ...]
    target: float


def app_metric(m: AppMetric, cluster_name: str, service_name: str) -> TrackedMetric:
    published = MetricQuery("m1", f"{m.namespace} {m.metric}", m.namespace, m.metric,
                            tuple(sorted(m.dimensions.items())), m.statistic,
                            returned=not m.per_task)
    if not m.per_task:
        return TrackedMetric("metric", published.label, (published,), m.target)
    tasks = MetricQuery("m2", "running tasks", "ECS/ContainerInsights", "RunningTaskCount",
                        (("ClusterName", cluster_name), ("ServiceName", service_name)),
                        "Average")
    per_task = MetricQuery("e1", f"{published.label} per task", expression="m1 / m2",
                           returned=True)
    return TrackedMetric("metric", per_task.label, (published, tasks, per_task), m.target)


def latency_p99(target_ms: int, load_balancer_suffix: str,
                target_group_suffix: str) -> TrackedMetric:
    """The target group's p99 TargetResponseTime (seconds), 0 in minutes without requests."""
    dimensions = (("LoadBalancer", load_balancer_suffix), ("TargetGroup", target_group_suffix))
    p99 = MetricQuery("m1", "TargetResponseTime p99 (s)", "AWS/ApplicationELB",
                      "TargetResponseTime", dimensions, "p99")
    filled = MetricQuery("e1", "p99 response time (s)", expression="FILL(m1, 0)", returned=True)
    return TrackedMetric("latency-p99", "p99 response time", (p99, filled), target_ms / 1000)


def track(scope: Construct, naming: Naming, service: str, resource_id: str,
          scalable_dimension: str, tracked: TrackedMetric) -> None:
    """One target tracking policy on `tracked`, for the scalable target of `service`."""
    policy = aws.appautoscaling_policy
    config = policy.AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration
    custom, query, stat, metric, dimension = (_block(name) for name in (
        "", "Metrics", "MetricsMetricStat", "MetricsMetricStatMetric",
        "MetricsMetricStatMetricDimensions"))
    policy.AppautoscalingPolicy(
        scope, f"scale-on-{tracked.name}", name=naming.name(service, tracked.name),
        policy_type="TargetTrackingScaling", service_namespace="ecs", resource_id=resource_id,
        scalable_dimension=scalable_dimension,
        target_tracking_scaling_policy_configuration=config(
            target_value=tracked.target, scale_in_cooldown=SCALE_IN_COOLDOWN,
            scale_out_cooldown=SCALE_OUT_COOLDOWN,
            customized_metric_specification=custom(metrics=[query(
                id=q.id, label=q.label, return_data=q.returned,
                expression=q.expression or None,
                metric_stat=None if q.expression else stat(stat=q.stat, metric=metric(
                    namespace=q.namespace, metric_name=q.metric,
                    dimensions=[dimension(name=k, value=v) for k, v in q.dimensions] or None)))
                for q in tracked.queries])))


def _block(name: str) -> type:
    """A block of the customized metric specification (their class names pass 100 characters)."""
    return getattr(aws.appautoscaling_policy, "AppautoscalingPolicyTargetTrackingScalingPolicy"
                                              f"ConfigurationCustomizedMetricSpecification{name}")


def publish_statement(namespace: str) -> dict:
    """PutMetricData in the application's namespace only (Amazon CloudWatch User Guide, "Using
    condition keys to limit access to CloudWatch namespaces"); the action takes no resource."""
    return {"Sid": "PublishScalingMetric", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
            "Resource": "*", "Condition": {"StringEquals": {"cloudwatch:namespace": namespace}}}


def metric_environment(m: AppMetric) -> dict[str, str]:
    """What the application publishes, so its code and the policy cannot drift apart."""
    return {"SCALING_METRIC_NAMESPACE": m.namespace, "SCALING_METRIC_NAME": m.metric,
            "SCALING_METRIC_DIMENSIONS": json.dumps(dict(sorted(m.dimensions.items())))}
