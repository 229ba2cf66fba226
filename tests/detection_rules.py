"""The delivery contracts of the account's detection (tests/delivery_rules.py has the rest, and
runs these with them): the trail's copy in CloudWatch Logs, what may publish to the alerts topic,
findings forwarded between regions, and the audit bucket's Object Lock. Each rule cites the AWS
documentation page it states; tests/test_contracts_delivery.py and tests/test_detection.py feed
each one a broken stack.
"""

from contracts import (Report, allows, bucket_named, each, listed, role_policy_resources,
                       role_statements, topic_named, trusts)


# --- CloudTrail to CloudWatch Logs ---------------------------------------------------------------

def cloudtrail_to_cloudwatch_logs(gs, report: Report) -> None:
    """CloudTrail User Guide, "Sending events to CloudWatch Logs" (the trail names the group's ARN
    with its `:*` log-stream wildcard and a role CloudTrail assumes), "Role policy document for
    CloudTrail to use CloudWatch Logs for monitoring" (logs:CreateLogStream and logs:PutLogEvents
    on the group's streams) and "CloudWatch log group and log stream naming for CloudTrail"
    (streams `<account id>_CloudTrail_<region>`, with `_<n>` when there are several)."""
    for trail in each(gs, "aws_cloudtrail"):
        if not trail.body.get("cloud_watch_logs_group_arn"):
            continue
        g = trail.graph
        group_arn = trail.body["cloud_watch_logs_group_arn"]
        group, role = g.ref(group_arn), g.ref(trail.body.get("cloud_watch_logs_role_arn"))
        report.check(trail, group_arn.endswith(":*"), "log group ARN lacks the :* stream wildcard")
        if not report.check(trail, group is not None and role is not None,
                            "trail log group or role not in the stack"):
            continue
        report.check(trail, group.region == trail.region,
                     f"log group in {group.region}, trail in {trail.region}")
        report.check(trail, trusts(role, "cloudtrail.amazonaws.com"),
                     "role does not trust cloudtrail.amazonaws.com")
        statements = role_statements(role)
        for stream in (f"{g.account}_CloudTrail_{trail.region}",
                       f"{g.account}_CloudTrail_{trail.region}_2"):
            resource = f"{group.attr('arn')}:log-stream:{stream}"
            for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                report.check(trail, allows(statements, action, resource),
                             f"role may not {action} on {resource}")
        report.check(trail, any(r.address in g.depends(trail) for r in role_policy_resources(role)),
                     "the trail does not wait for its role's policy (CreateTrail checks it)")


# --- publishers to the alerts topic ------------------------------------------------------------

def topic_policies_admit_publishers(gs, report: Report) -> None:
    """The topic policy, where a topic has one, admits its publishers. EventBridge User Guide,
    "Using resource-based policies for Amazon EventBridge", "Amazon SNS permissions": sns:Publish
    for events.amazonaws.com, and "You can't use Condition blocks in Amazon SNS topic policies for
    EventBridge" (so it is checked with no condition keys at all), and no RoleArn on an SNS
    target. CloudWatch alarms publish as the account (Amazon SNS Developer Guide, the default
    topic policy: AWS:SourceOwner is the account)."""
    for target in each(gs, "aws_cloudwatch_event_target"):
        topic = topic_named(target.graph, target.body.get("arn"))
        if topic is None:
            continue
        report.check(target, not target.body.get("role_arn"),
                     "an SNS target with a RoleArn (EventBridge delivers through the topic policy)")
        statements = _topic_statements(topic)
        report.check(target, statements is not None and allows(
            statements, "sns:Publish", topic.attr("arn"), ("Service", "events.amazonaws.com"), {}),
            f"topic policy of {topic.body['name']}: events.amazonaws.com may not sns:Publish "
            "(without conditions)")
    for alarm in each(gs, "aws_cloudwatch_metric_alarm"):
        g = alarm.graph
        for action in listed(alarm.body.get("alarm_actions")):
            topic = topic_named(g, action)
            statements = _topic_statements(topic) if topic is not None else None
            if statements is None:
                continue  # no policy: SNS's default admits the account's own alarms
            context = {"aws:SourceOwner": g.account, "aws:SourceAccount": g.account,
                       "aws:SourceArn": alarm.attr("arn")}
            report.check(alarm, allows(statements, "sns:Publish", topic.attr("arn"),
                                       ("Service", "cloudwatch.amazonaws.com"), context),
                         f"topic policy of {topic.body['name']}: CloudWatch may not sns:Publish")


def _topic_statements(topic) -> list[dict] | None:
    g = topic.graph
    policies = [p for p in g.of_type("aws_sns_topic_policy") if g.ref(p.body.get("arn")) == topic]
    return g.statements(policies[0].body["policy"]) if policies else None


def event_bus_targets(gs, report: Report) -> None:
    """EventBridge User Guide, "Sending and receiving events between AWS Regions in Amazon
    EventBridge": a rule whose target is another region's event bus names a role that trusts
    events.amazonaws.com and may events:PutEvents on that bus."""
    for target in each(gs, "aws_cloudwatch_event_target"):
        arn = target.graph.value(target.body.get("arn", ""))
        if ":event-bus/" not in arn:
            continue
        role = target.graph.ref(target.body.get("role_arn"))
        if not report.check(target, role is not None, "event bus target without a role"):
            continue
        report.check(target, trusts(role, "events.amazonaws.com"),
                     "role does not trust events.amazonaws.com")
        report.check(target, allows(role_statements(role), "events:PutEvents", arn),
                     f"role may not events:PutEvents on {arn}")


# --- Object Lock --------------------------------------------------------------------------------

def object_lock_buckets(gs, report: Report) -> None:
    """S3 User Guide, "Configuring S3 Object Lock": Object Lock needs versioning (enabled first:
    PutObjectLockConfiguration on a bucket without it fails), and a bucket with it "can't be used
    as a destination for server access logs"; AWS Config API Reference, DeliveryChannel: Config
    does not deliver to an Object Lock bucket; "Object Lock considerations": no lifecycle rule
    deletes a locked version, so objects expire no sooner than their lock runs out."""
    for lock in each(gs, "aws_s3_bucket_object_lock_configuration"):
        g = lock.graph
        bucket = bucket_named(g, lock.body["bucket"])
        if not report.check(lock, bucket is not None, "bucket not in the stack"):
            continue
        versioning = [v for v in g.of_type("aws_s3_bucket_versioning")
                      if bucket_named(g, v.body.get("bucket")) == bucket]
        report.check(lock, bool(versioning) and all(v.address in g.depends(lock)
                                                    for v in versioning),
                     "no versioning, or the lock does not wait for it")
        names = {bucket.attr("bucket"), bucket.attr("arn")}
        report.check(lock, not any(bucket_named(g, x.body.get("target_bucket")) == bucket
                                   for x in g.of_type("aws_s3_bucket_logging")),
                     "the bucket receives S3 server access logs")
        report.check(lock, not any(bucket_named(g, c.body.get("s3_bucket_name")) == bucket
                                   for c in g.of_type("aws_config_delivery_channel")),
                     f"AWS Config delivers to {sorted(names)[0]}")
        days = [d for rule in listed(lock.body.get("rule"))
                for r in listed(rule.get("default_retention")) for d in [r.get("days")] if d]
        expiries = [e["days"] for lc in g.of_type("aws_s3_bucket_lifecycle_configuration")
                    if bucket_named(g, lc.body.get("bucket")) == bucket
                    for rule in listed(lc.body.get("rule"))
                    for e in listed(rule.get("expiration")) if e.get("days")]
        report.check(lock, all(e >= d for d in days for e in expiries),
                     f"objects expire after {expiries} days but stay locked {days}")
