"""The cost of the account's security baseline and detection (the bootstrap stack): AWS Config,
CloudTrail and its copy in CloudWatch Logs, GuardDuty detectors and Runtime Monitoring, the CIS
metric filters' custom metrics and alarms, EventBridge rules. Pricers as lib/analysis/cost.py
calls them: `pricer(body, stack, prices, add)`, `stack` answering `of_type(type)` and
`follow(reference)`.
"""

from __future__ import annotations

from typing import Any, Callable

CIS_NAMESPACE = "LogMetrics"  # lib/observability/cis.py: the namespace of the CIS metrics


def config_recorder(body: dict, stack: Any, p: Any, add: Callable) -> None:
    items = p.usage["config_items"]
    add("AWS Config configuration items", items, "items", items * p["config.configuration_item"],
        f"{items:g} items recorded a month")


def guardduty(body: dict, stack: Any, p: Any, add: Callable) -> None:
    add("GuardDuty detector", 1, "detector-month", p.usage["guardduty_month"],
        "a small account's event volume in each detector's region")


def guardduty_feature(body: dict, stack: Any, p: Any, add: Callable) -> None:
    """Runtime Monitoring bills the vCPUs of what its agent watches, by the hour."""
    if body.get("name") != "RUNTIME_MONITORING" or body.get("status") != "ENABLED":
        return
    vcpus = p.usage["guardduty_runtime_vcpus"]
    hours = vcpus * p.hours
    add("GuardDuty Runtime Monitoring (ECS Fargate)", hours, "vCPU-hours",
        vcpus * p["guardduty.runtime_monitoring_vcpu_month"],
        f"{vcpus:g} vCPUs of Fargate tasks monitored around the clock, per detector")


def cloudtrail(body: dict, stack: Any, p: Any, add: Callable) -> None:
    units = p.usage["cloudtrail_data_events_100k"] if body.get("event_selector") else 0
    add("CloudTrail (first management trail free; S3 data events)", units, "100k events",
        units * p["cloudtrail.data_events_100k"], f"{units * 100_000:,.0f} data events a month")


def trail_log_group(body: dict, stack: Any, p: Any, add: Callable) -> bool:
    """The trail's CloudWatch Logs group, priced on the trail's volume; False for any other
    group (lib/analysis/cost.py prices those)."""
    if not any(_names(trail.get("cloud_watch_logs_group_arn"), body, stack)
               for trail in stack.of_type("aws_cloudtrail")):
        return False
    gb = p.usage["cloudtrail_log_gb"]
    add("CloudWatch Logs ingestion and storage of the trail", gb, "GB",
        gb * (p["cloudwatch.log_ingest_gb"] + p["cloudwatch.log_storage_gb_month"]),
        f"{gb:g} GB of management events a month")
    return True


def _names(reference: Any, body: dict, stack: Any) -> bool:
    if not isinstance(reference, str):
        return False
    return stack.follow(reference.removesuffix(":*")) is body


def metric_filter(body: dict, stack: Any, p: Any, add: Callable) -> None:
    """Each metric a filter publishes is a custom metric."""
    namespace = (body.get("metric_transformation") or {}).get("namespace")
    item = "CloudWatch custom metric (CIS metric filter)" if namespace == CIS_NAMESPACE \
        else "CloudWatch custom metric (log metric filter)"
    add(item, 1, "metric-month", p["cloudwatch.custom_metric_month"])


def metric_alarm(body: dict, stack: Any, p: Any, add: Callable) -> None:
    item = "CloudWatch alarm (CIS CloudWatch control)" if body.get("namespace") == CIS_NAMESPACE \
        else "CloudWatch alarm"
    add(item, 1, "alarm-month", p["cloudwatch.alarm_month"])


def event_rule(body: dict, stack: Any, p: Any, add: Callable) -> None:
    add("EventBridge rule on AWS service events", 1, "rule", 0.0,
        "events AWS services publish are matched and delivered free")


PRICERS: dict[str, Callable] = {
    "aws_config_configuration_recorder": config_recorder,
    "aws_guardduty_detector": guardduty,
    "aws_guardduty_detector_feature": guardduty_feature,
    "aws_cloudtrail": cloudtrail,
    "aws_cloudwatch_log_metric_filter": metric_filter,
    "aws_cloudwatch_metric_alarm": metric_alarm,
    "aws_cloudwatch_event_rule": event_rule,
}
