"""The cost of scaling policies: a target tracking policy is free itself, but Application Auto
Scaling creates two CloudWatch alarms for it (AlarmHigh and AlarmLow: Application Auto Scaling
User Guide, "Create a target tracking scaling policy for Application Auto Scaling using metric
math"), billed per metric each alarm evaluates; a metric the application publishes for it is a
custom metric, and each publication a PutMetricData request. A step scaling policy's alarms are
the stack's own aws_cloudwatch_metric_alarm resources, priced there. Pricers as
lib/analysis/cost.py calls them: `pricer(body, stack, prices, add)`.
"""

from __future__ import annotations

from typing import Any, Callable

TARGET_TRACKING_ALARMS = 2
# Namespaces whose metrics the application does not publish: AWS's, and Container Insights'
# (priced on the cluster, lib/analysis/cost.py).
VENDED_NAMESPACES = ("AWS/", "ECS/ContainerInsights")


def scaling_policy(body: dict, stack: Any, p: Any, add: Callable) -> None:
    config = body.get("target_tracking_scaling_policy_configuration")
    if body.get("policy_type") != "TargetTrackingScaling" or not config:
        return
    custom = config.get("customized_metric_specification") or {}
    # The metric-math form lists its metrics; the plain form and a predefined metric are one.
    metrics = [q["metric_stat"]["metric"] for q in custom.get("metrics", [])
               if q.get("metric_stat")] or [custom]
    alarms = TARGET_TRACKING_ALARMS * len(metrics)
    add("CloudWatch alarm (target tracking, per metric)", alarms, "alarm-metric-month",
        alarms * p["cloudwatch.alarm_month"])
    for metric in metrics:
        if metric.get("namespace", "AWS/").startswith(VENDED_NAMESPACES):  # none: predefined
            continue
        add("CloudWatch custom metric (the application publishes)", 1, "metric-month",
            p["cloudwatch.custom_metric_month"])
        puts = p.usage["app_metric_puts"]
        add("CloudWatch PutMetricData requests", puts, "requests",
            puts / 1000 * p["cloudwatch.api_requests_1000"],
            f"{puts:,.0f} a month per published metric (one a minute)")


PRICERS = {"aws_appautoscaling_policy": scaling_policy}
