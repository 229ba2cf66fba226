"""The bootstrap stack's detection as lib/analysis/diagram.py draws it: the trail, its log group
with the CIS metric filters, GuardDuty, the EventBridge rules (by the severity they match) and the
alerts topic. `g` is that module's graph."""

from __future__ import annotations

import json
from typing import Any


def detection(g: Any, add) -> None:
    """The account's trail, its CloudWatch Logs copy with the metric filters on it, GuardDuty
    detectors, AWS Config and the EventBridge rules, with their counts (the bootstrap stack)."""
    for lid, trail in g.of_type("aws_cloudtrail").items():
        scope = "all regions" if trail.get("is_multi_region_trail") else "one region"
        add("aws_cloudtrail", lid, "account", f"CloudTrail {trail.get('name', '')} ({scope})")
    filters = g.of_type("aws_cloudwatch_log_metric_filter")
    for lid, group in g.of_type("aws_cloudwatch_log_group").items():
        on_group = [f for f in filters.values() if f.get("log_group_name") == group.get("name")
                    or ("aws_cloudwatch_log_group", lid) in g.refs(f.get("log_group_name"))]
        if on_group:
            add("aws_cloudwatch_log_group", lid, "account", f"CloudWatch Logs {group['name']}"
                f"<br/>{len(on_group)} metric filters")
    for lid, detector in g.of_type("aws_guardduty_detector").items():
        region = (detector.get("provider") or "").rpartition(".")[2].replace("_", "-")
        add("aws_guardduty_detector", lid, "account",
            f"GuardDuty detector{' ' + region if region else ''}")
    for lid, _ in g.of_type("aws_config_configuration_recorder").items():
        add("aws_config_configuration_recorder", lid, "account", "AWS Config recorder")
    for lid, rule in g.of_type("aws_cloudwatch_event_rule").items():
        add("aws_cloudwatch_event_rule", lid, "account", f"EventBridge rule {rule.get('name', '')}")


def detection_edges(g: Any, by_ref: dict, node) -> None:
    """Trail to its bucket and log group, log group to the topic its alarms notify, detectors to
    the findings rules, rules to their targets (another region's rule to the account region's),
    Config to its bucket, topics to their email subscribers."""
    for lid, trail in g.of_type("aws_cloudtrail").items():
        g.edge(by_ref.get(("aws_cloudtrail", lid)), node(trail.get("s3_bucket_name")),
               "log files")
        g.edge(by_ref.get(("aws_cloudtrail", lid)), node(trail.get("cloud_watch_logs_group_arn")),
               "events")
    filters = {(f.get("metric_transformation") or {}).get("name"): f
               for f in g.of_type("aws_cloudwatch_log_metric_filter").values()}
    groups = {group.get("name"): by_ref.get(("aws_cloudwatch_log_group", lid))
              for lid, group in g.of_type("aws_cloudwatch_log_group").items()}
    for alarm in g.of_type("aws_cloudwatch_metric_alarm").values():
        source = filters.get(alarm.get("metric_name"))
        if source is not None:
            group = node(source.get("log_group_name")) or groups.get(source.get("log_group_name"))
            g.edge(group, node(alarm.get("alarm_actions")), "alarms")
    rules = g.of_type("aws_cloudwatch_event_rule")
    home_rule = next((by_ref.get(("aws_cloudwatch_event_rule", i)) for i, r in rules.items()
                      if not r.get("provider")), None)
    for rule_id, rule in rules.items():
        pattern = json.loads(rule.get("event_pattern") or "{}")
        if "aws.guardduty" not in pattern.get("source", []):
            continue
        for lid, detector in g.of_type("aws_guardduty_detector").items():
            if detector.get("provider") == rule.get("provider"):
                g.edge(by_ref.get(("aws_guardduty_detector", lid)),
                       by_ref.get(("aws_cloudwatch_event_rule", rule_id)), _severity(pattern))
    for target in g.of_type("aws_cloudwatch_event_target").values():
        rule = next((by_ref.get(("aws_cloudwatch_event_rule", i)) for t, i in
                     g.refs(target.get("rule")) if t == "aws_cloudwatch_event_rule"), None)
        # Another region's rule targets the account region's event bus, where its rule picks up.
        g.edge(rule, node(target.get("arn")) or home_rule, "findings")
    recorder = next((by_ref.get(("aws_config_configuration_recorder", i))
                     for i in g.of_type("aws_config_configuration_recorder")), None)
    for channel in g.of_type("aws_config_delivery_channel").values():
        g.edge(recorder, node(channel.get("s3_bucket_name")), "configuration items")
    if not any(group == "account" for group, _, _ in g.nodes.values()):
        return  # environments: their topics' subscribers are not drawn
    for lid in g.of_type("aws_sns_topic"):
        emails = [s for s in g.of_type("aws_sns_topic_subscription").values()
                  if ("aws_sns_topic", lid) in g.refs(s.get("topic_arn"))
                  and s.get("protocol") == "email"]
        if emails:
            people = g.node("aws_people", f"email_{lid}", "outside",
                            f"{len(emails)} email subscriber{'s' if len(emails) != 1 else ''}",
                            "circle")
            g.edge(by_ref.get(("aws_sns_topic", lid)), people, "email")


def _severity(pattern: dict) -> str:
    numeric = [v for s in pattern.get("detail", {}).get("severity", []) if isinstance(s, dict)
               for v in [s.get("numeric")] if v]
    return f"severity {numeric[0][0]} {numeric[0][1]}" if numeric else "findings"
