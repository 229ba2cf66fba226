"""Delivery contracts: every AWS service that writes somewhere on the platform's behalf has what the
destination requires (the role's permissions, the bucket policy, the key policy), in every stack the
project synthesizes (environments, bootstrap, presets, test fixtures).

The rules (tests/delivery_rules.py) walk every resource of their kind, so a new trail, load
balancer, log group or alarm is checked without a new test, and cite the AWS documentation page
they state. Each rule also has a test here that feeds it a hand-made broken stack and sees it fail.
"""

import base64
import json

import pytest

from contracts import FakeStack, assert_clean, listed, policy, run
from delivery_rules import (ACL, CONFIG_ROLE_POLICY, ECS_INSTANCE_POLICY, FLOW_LOG_ROLE_ACTIONS,
                            OTEL_NAMESPACE, RULES, SSM_CORE_POLICY, alb_access_logs,
                            cloudtrail_delivers, config_delivers, ecs_container_instances,
                            encrypted_log_groups, flow_logs_deliver, log_deliveries,
                            otel_collector, publishers_to_encrypted_topics, session_manager_logs,
                            waf_logs)
from detection_rules import (cloudtrail_to_cloudwatch_logs, object_lock_buckets,
                             topic_policies_admit_publishers)

# Open problems, by rule, each with its reason and owner. A fixed gap fails the test until its
# line goes (contracts.assert_clean).
KNOWN_GAPS: dict = {}  # none open


# --- every rule over every stack -----------------------------------------------------------------

@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_delivery_contract_holds_in_every_stack(rule, every_stack):
    # One account and Region for all of them (123456789012, us-east-1): account-wide rules (the
    # Session Manager preferences) see the bootstrap stack together with every environment.
    report = run(rule, every_stack)
    assert_clean(report, KNOWN_GAPS.get(rule))


def test_every_kind_of_delivery_is_present_somewhere(every_stack):
    """A rule that checks nothing proves nothing: each one has something to walk."""
    empty = [rule.__name__ for rule in RULES
             if not run(rule, every_stack).checked]
    assert empty == []


# --- each rule fails on a broken stack -----------------------------------------------------------

ACCOUNT = "123456789012"
ROOT = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
        "Resource": "*"}


def trust(service: str) -> str:
    return policy({"Effect": "Allow", "Principal": {"Service": service},
                   "Action": "sts:AssumeRole"})


def bucket(name="audit-bucket", sse="aws:kms", key="${aws_kms_key.key.arn}", statements=()):
    return {
        "aws_s3_bucket": {"b": {"bucket": name}},
        "aws_s3_bucket_policy": {"p": {"bucket": "${aws_s3_bucket.b.id}",
                                       "policy": policy(*statements)}},
        "aws_s3_bucket_server_side_encryption_configuration": {"sse": {
            "bucket": "${aws_s3_bucket.b.id}", "rule": [{
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": sse,
                    **({"kms_master_key_id": key} if sse == "aws:kms" else {})},
                "bucket_key_enabled": sse == "aws:kms"}]}}}


def problems(rule, **resources) -> list[str]:
    merged: dict = {}
    for group in resources.values():
        for type_, found in group.items():
            merged.setdefault(type_, {}).update(found)
    return run(rule, [FakeStack(merged)]).problems


def config_stack(role_policy: dict | None):
    role = {"aws_iam_role": {"r": {"name": "config", "assume_role_policy": trust(
        "config.amazonaws.com")}},
        "aws_iam_role_policy_attachment": {"a": {"role": "${aws_iam_role.r.name}",
                                                 "policy_arn": CONFIG_ROLE_POLICY}},
        "aws_iam_role_policy": {"p": {"role": "${aws_iam_role.r.id}",
                                      "policy": policy(*(role_policy or []))}} if role_policy
        is not None else {},
        "aws_kms_key": {"key": {"policy": policy(ROOT)}},
        "aws_config_configuration_recorder": {"rec": {"role_arn": "${aws_iam_role.r.arn}"}},
        "aws_config_delivery_channel": {"ch": {"s3_bucket_name": "${aws_s3_bucket.b.bucket}",
                                               "s3_kms_key_arn": "${aws_kms_key.key.arn}"}}}
    return {"bucket": bucket(), "config": {k: v for k, v in role.items() if v}}


def test_config_rule_fails_when_the_role_cannot_write():
    assert any("s3:PutObject" in p for p in problems(config_delivers, **config_stack(None)))
    good = [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl"],
             "Resource": "arn:aws:s3:::audit-bucket/AWSLogs/123456789012/Config/*",
             "Condition": {"StringEquals": ACL}},
            {"Effect": "Allow", "Action": "s3:GetBucketAcl",
             "Resource": "arn:aws:s3:::audit-bucket"},
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": "${aws_kms_key.key.arn}"}]
    assert problems(config_delivers, **config_stack(good)) == []
    no_key = [s for s in good if "kms:Decrypt" not in listed(s["Action"])]
    assert any("kms:" in p for p in problems(config_delivers, **config_stack(no_key)))


def trail_stack(key_statements, bucket_statements_):
    return {"bucket": bucket(statements=bucket_statements_), "trail": {
        "aws_kms_key": {"key": {"policy": policy(ROOT, *key_statements)}},
        "aws_cloudtrail": {"t": {"name": "trail", "s3_bucket_name": "${aws_s3_bucket.b.bucket}",
                                 "kms_key_id": "${aws_kms_key.key.arn}"}}}}


TRAIL = {"Service": "cloudtrail.amazonaws.com"}
TRAIL_BUCKET = [
    {"Effect": "Allow", "Principal": TRAIL, "Action": "s3:GetBucketAcl",
     "Resource": "arn:aws:s3:::audit-bucket"},
    {"Effect": "Allow", "Principal": TRAIL, "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::audit-bucket/AWSLogs/123456789012/*",
     "Condition": {"StringEquals": ACL}}]
TRAIL_KEY = [{"Effect": "Allow", "Principal": TRAIL, "Action": ["kms:GenerateDataKey*",
                                                                "kms:Decrypt"], "Resource": "*"}]


def test_cloudtrail_rule_fails_without_describe_key_or_bucket_policy():
    found = problems(cloudtrail_delivers, **trail_stack(TRAIL_KEY, TRAIL_BUCKET))
    assert found and all("kms:DescribeKey" in p for p in found)
    with_describe = [*TRAIL_KEY, {"Effect": "Allow", "Principal": TRAIL,
                                  "Action": "kms:DescribeKey", "Resource": "*"}]
    assert problems(cloudtrail_delivers, **trail_stack(with_describe, TRAIL_BUCKET)) == []
    assert any("PutObject" in p for p in problems(cloudtrail_delivers,
                                                  **trail_stack(with_describe, TRAIL_BUCKET[:1])))


def lb_stack(sse, statements):
    return {"bucket": bucket("alb-logs", sse=sse, statements=statements), "lb": {"aws_lb": {
        "alb": {"access_logs": {"bucket": "${aws_s3_bucket.b.bucket}", "prefix": "alb",
                                "enabled": True}}}}}


def test_alb_rule_fails_on_a_kms_bucket_or_a_missing_statement():
    elb = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::127311923021:root"},
           "Action": "s3:PutObject", "Resource": "arn:aws:s3:::alb-logs/alb/AWSLogs/123456789012/*"}
    assert problems(alb_access_logs, **lb_stack("AES256", [elb])) == []
    assert any("SSE-S3" in p for p in problems(alb_access_logs, **lb_stack("aws:kms", [elb])))
    assert any("PutObject" in p for p in problems(alb_access_logs, **lb_stack("AES256", [])))


def flow_stack(actions):
    return {"flow": {
        "aws_cloudwatch_log_group": {"g": {"name": "/flow"}},
        "aws_iam_role": {"r": {"name": "flow", "assume_role_policy": trust(
            "vpc-flow-logs.amazonaws.com")}},
        "aws_iam_role_policy": {"p": {"role": "${aws_iam_role.r.id}", "policy": policy(
            {"Effect": "Allow", "Action": list(actions), "Resource": "*"})}},
        "aws_flow_log": {"f": {"log_destination": "${aws_cloudwatch_log_group.g.arn}",
                               "log_destination_type": "cloud-watch-logs",
                               "iam_role_arn": "${aws_iam_role.r.arn}"}}}}


def test_flow_log_rule_fails_when_the_role_misses_an_action():
    assert problems(flow_logs_deliver, **flow_stack(FLOW_LOG_ROLE_ACTIONS)) == []
    assert problems(flow_logs_deliver, **flow_stack(FLOW_LOG_ROLE_ACTIONS[:3])) == [
        "fake-stack: aws_flow_log f: role may not logs:DescribeLogStreams "
        "(arn:aws:logs:us-east-1:123456789012:log-group:/flow:log-stream:*)"]


def delivery_stack(statements):
    return {"bucket": bucket("logs", sse="AES256", statements=statements), "delivery": {
        "aws_cloudwatch_log_delivery_destination": {"d": {"delivery_destination_configuration": [
            {"destination_resource_arn": "${aws_s3_bucket.b.arn}"}]}},
        "aws_cloudwatch_log_delivery": {"x": {
            "delivery_destination_arn": "${aws_cloudwatch_log_delivery_destination.d.arn}"}}}}


def test_log_delivery_rule_fails_without_the_delivery_statements():
    principal = {"Service": "delivery.logs.amazonaws.com"}
    good = [{"Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::logs/AWSLogs/123456789012/*",
             "Condition": {"StringEquals": {**ACL, "aws:SourceAccount": ACCOUNT}}},
            {"Effect": "Allow", "Principal": principal, "Action": "s3:GetBucketAcl",
             "Resource": "arn:aws:s3:::logs"}]
    assert problems(log_deliveries, **delivery_stack(good)) == []
    assert len(problems(log_deliveries, **delivery_stack([]))) == 2


def waf_stack(name, provider=None):
    return {"waf": {"aws_wafv2_web_acl": {"acl": {}},
                    "aws_cloudwatch_log_group": {"g": {"name": name, **(
                        {"provider": provider} if provider else {})}},
                    "aws_wafv2_web_acl_logging_configuration": {"l": {
                        "resource_arn": "${aws_wafv2_web_acl.acl.arn}",
                        "log_destination_configs": ["${aws_cloudwatch_log_group.g.arn}"]}}}}


def test_waf_rule_fails_on_the_name_or_the_region():
    assert problems(waf_logs, **waf_stack("aws-waf-logs-x")) == []
    assert problems(waf_logs, **waf_stack("/waf/x"))
    stack = FakeStack(waf_stack("aws-waf-logs-x", "aws.us_east_1")["waf"], region="eu-west-1")
    assert run(waf_logs, [stack]).problems


def log_group_stack(principal_region, group_provider=None):
    return {"logs": {
        "aws_kms_key": {"key": {"policy": policy(ROOT, {
            "Effect": "Allow", "Principal": {"Service": f"logs.{principal_region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                       "kms:Describe*"], "Resource": "*",
            "Condition": {"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn":
                    f"arn:aws:logs:{principal_region}:{ACCOUNT}:log-group:*"}}})}},
        "aws_cloudwatch_log_group": {"g": {"name": "/app", "kms_key_id": "${aws_kms_key.key.arn}",
                                           **({"provider": group_provider}
                                              if group_provider else {})}}}}


def test_log_group_rule_fails_for_another_regions_key_or_principal():
    assert problems(encrypted_log_groups, **log_group_stack("us-east-1")) == []
    assert problems(encrypted_log_groups, **log_group_stack("eu-west-1"))
    stack = FakeStack(log_group_stack("eu-west-1", "aws.us_east_1")["logs"], region="eu-west-1")
    assert any("key in eu-west-1" in p for p in run(encrypted_log_groups, [stack]).problems)


def alarm_stack(services):
    return {"sns": {
        "aws_kms_key": {"key": {"policy": policy(ROOT, {
            "Effect": "Allow", "Principal": {"Service": services},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})}},
        "aws_sns_topic": {"t": {"name": "alerts", "kms_master_key_id": "${aws_kms_key.key.arn}"}},
        "aws_cloudwatch_metric_alarm": {"a": {"alarm_name": "cpu",
                                              "alarm_actions": ["${aws_sns_topic.t.arn}"]}}}}


def test_publisher_rule_fails_when_the_key_ignores_cloudwatch():
    assert problems(publishers_to_encrypted_topics,
                    **alarm_stack(["cloudwatch.amazonaws.com"])) == []
    assert len(problems(publishers_to_encrypted_topics,
                        **alarm_stack(["events.amazonaws.com"]))) == 2


def event_stack(condition):
    stack = alarm_stack(["events.amazonaws.com"])["sns"]
    del stack["aws_cloudwatch_metric_alarm"]
    key = json.loads(stack["aws_kms_key"]["key"]["policy"])
    key["Statement"][1]["Condition"] = {"StringEquals": condition}
    stack["aws_kms_key"]["key"]["policy"] = json.dumps(key)
    stack["aws_cloudwatch_event_rule"] = {"r": {"name": "findings"}}
    stack["aws_cloudwatch_event_target"] = {"e": {"rule": "${aws_cloudwatch_event_rule.r.name}",
                                                  "arn": "${aws_sns_topic.t.arn}"}}
    return {"sns": stack}


def test_publisher_rule_fails_when_the_key_asks_eventbridge_for_the_source_account():
    # EventBridge's delivery to an encrypted topic brings no aws:SourceAccount to KMS: a key
    # scoped that way drops every event; one scoped by the topic (SNS's encryption context)
    # admits them.
    assert len(problems(publishers_to_encrypted_topics,
                        **event_stack({"aws:SourceAccount": ACCOUNT}))) == 2
    assert problems(publishers_to_encrypted_topics, **event_stack(
        {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:us-east-1:123456789012:alerts"})
                    ) == []


def otel_stack(statements):
    return {"ecs": {
        "aws_iam_role": {"r": {"name": "task", "assume_role_policy": trust(
            "ecs-tasks.amazonaws.com")}},
        "aws_iam_role_policy": {"p": {"role": "${aws_iam_role.r.id}", "policy": policy(
            *statements)}},
        "aws_ecs_task_definition": {"t": {"task_role_arn": "${aws_iam_role.r.arn}",
                                          "container_definitions": json.dumps([
                                              {"name": "app", "image": "app"},
                                              {"name": "otel", "image": "public.ecr.aws/aws-"
                                               "observability/aws-otel-collector:v0.43.3"}])}}}}


def test_otel_rule_fails_on_put_metric_data_alone_or_unscoped():
    metrics = {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}
    logs = {"Effect": "Allow", "Resource": "*", "Action": [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        "logs:DescribeLogStreams", "xray:PutTraceSegments", "xray:PutTelemetryRecords"]}
    scoped = {**metrics, "Condition": {"StringEquals": {"cloudwatch:namespace": OTEL_NAMESPACE}}}
    assert problems(otel_collector, **otel_stack([logs, scoped])) == []
    assert any("logs:PutLogEvents" in p for p in problems(otel_collector, **otel_stack([scoped])))
    assert any("namespace" in p for p in problems(otel_collector, **otel_stack([logs, metrics])))


def instance_stack(policies):
    user_data = base64.b64encode(b"#!/bin/bash\necho ECS_CLUSTER=c >> /etc/ecs/ecs.config\n")
    return {"ec2": {
        "aws_iam_role": {"r": {"name": "instance", "assume_role_policy": trust(
            "ec2.amazonaws.com")}},
        "aws_iam_role_policy_attachment": {f"a{i}": {"role": "${aws_iam_role.r.name}",
                                                     "policy_arn": arn}
                                           for i, arn in enumerate(policies)},
        "aws_iam_instance_profile": {"ip": {"name": "instance", "role": "${aws_iam_role.r.name}"}},
        "aws_launch_template": {"lt": {"user_data": user_data.decode(), "iam_instance_profile": {
            "arn": "${aws_iam_instance_profile.ip.arn}"}}}}}


def test_container_instance_rule_fails_without_the_ecs_policy():
    assert problems(ecs_container_instances, **instance_stack([ECS_INSTANCE_POLICY])) == []
    assert problems(ecs_container_instances, **instance_stack([SSM_CORE_POLICY]))


def test_session_manager_rule_fails_when_instances_cannot_log():
    document = {"aws_kms_key": {"key": {"policy": policy(ROOT)}},
                "aws_ssm_document": {"d": {"document_type": "Session", "content": json.dumps({
                    "inputs": {"s3BucketName": "${aws_s3_bucket.b.bucket}",
                               "s3KeyPrefix": "session-manager",
                               "kmsKeyId": "${aws_kms_key.key.arn}"}})}}}
    instance = instance_stack([ECS_INSTANCE_POLICY, SSM_CORE_POLICY])
    assert len(problems(session_manager_logs, bucket=bucket(), document=document, **instance)) == 4
    grants = {"aws_iam_role_policy": {"p": {"role": "${aws_iam_role.r.id}", "policy": policy(
        {"Effect": "Allow", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::audit-bucket/session-manager/*"},
        {"Effect": "Allow", "Action": "s3:GetEncryptionConfiguration",
         "Resource": "arn:aws:s3:::audit-bucket"},
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": "*"})}}}
    assert problems(session_manager_logs, bucket=bucket(), document=document, grants=grants,
                    **instance) == []


def trail_logs_stack(actions, waits=True):
    grant = {"aws_iam_role_policy": {"p": {"role": "${aws_iam_role.r.id}", "policy": policy(
        {"Effect": "Allow", "Action": list(actions),
         "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/trail:log-stream:"
                     "123456789012_CloudTrail_*"})}}}
    return {"trail": {
        "aws_cloudwatch_log_group": {"g": {"name": "/trail"}},
        "aws_iam_role": {"r": {"name": "trail-logs", "assume_role_policy": trust(
            "cloudtrail.amazonaws.com")}},
        **grant,
        "aws_cloudtrail": {"t": {"name": "trail", "s3_bucket_name": "audit",
                                 "cloud_watch_logs_group_arn": "${aws_cloudwatch_log_group.g.arn}:*",
                                 "cloud_watch_logs_role_arn": "${aws_iam_role.r.arn}",
                                 **({"depends_on": ["aws_iam_role_policy.p"]} if waits else {})}}}}


def test_trail_to_logs_rule_fails_without_the_streams_or_the_wait():
    both = ("logs:CreateLogStream", "logs:PutLogEvents")
    assert problems(cloudtrail_to_cloudwatch_logs, **trail_logs_stack(both)) == []
    missing = problems(cloudtrail_to_cloudwatch_logs, **trail_logs_stack(both[:1]))
    assert missing and all("logs:PutLogEvents" in p for p in missing)
    assert any("does not wait" in p for p in problems(
        cloudtrail_to_cloudwatch_logs, **trail_logs_stack(both, waits=False)))


def topic_stack(events_statement, role_arn=None):
    topic = "arn:aws:sns:us-east-1:123456789012:alerts"
    owner = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Publish",
             "Resource": topic, "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}}
    return {"sns": {
        "aws_sns_topic": {"t": {"name": "alerts"}},
        "aws_sns_topic_policy": {"p": {"arn": "${aws_sns_topic.t.arn}",
                                       "policy": policy(owner, *events_statement)}},
        "aws_cloudwatch_event_rule": {"r": {"name": "findings"}},
        "aws_cloudwatch_event_target": {"x": {"rule": "${aws_cloudwatch_event_rule.r.name}",
                                              "arn": "${aws_sns_topic.t.arn}",
                                              **({"role_arn": role_arn} if role_arn else {})}},
        "aws_cloudwatch_metric_alarm": {"a": {"alarm_name": "root",
                                              "alarm_actions": ["${aws_sns_topic.t.arn}"]}}}}


def test_topic_policy_rule_fails_on_a_condition_for_eventbridge_or_a_role():
    events = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
              "Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:123456789012:alerts"}
    assert problems(topic_policies_admit_publishers, **topic_stack([events])) == []
    # EventBridge User Guide: "You can't use Condition blocks in Amazon SNS topic policies for
    # EventBridge": a rule ARN condition would never match its deliveries.
    conditioned = {**events, "Condition": {"ArnEquals": {
        "aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/findings"}}}
    assert problems(topic_policies_admit_publishers, **topic_stack([conditioned]))
    assert problems(topic_policies_admit_publishers, **topic_stack([]))
    assert any("RoleArn" in p for p in problems(
        topic_policies_admit_publishers, **topic_stack([events], role_arn="arn:aws:iam::1:role/x")))


def lock_stack(versioned=True, config=False, expire_days=365, lock_days=365):
    stack = bucket(statements=())
    stack["aws_s3_bucket_object_lock_configuration"] = {"l": {
        "bucket": "${aws_s3_bucket.b.id}", "rule": {"default_retention": {
            "mode": "GOVERNANCE", "days": lock_days}},
        **({"depends_on": ["aws_s3_bucket_versioning.v"]} if versioned else {})}}
    stack["aws_s3_bucket_lifecycle_configuration"] = {"lc": {
        "bucket": "${aws_s3_bucket.b.id}", "rule": [{"id": "expire", "status": "Enabled",
                                                     "expiration": [{"days": expire_days}]}]}}
    if versioned:
        stack["aws_s3_bucket_versioning"] = {"v": {"bucket": "${aws_s3_bucket.b.id}"}}
    if config:
        stack["aws_config_delivery_channel"] = {"c": {
            "s3_bucket_name": "${aws_s3_bucket.b.bucket}"}}
    return {"lock": stack}


def test_object_lock_rule_fails_without_versioning_with_config_or_a_shorter_retention():
    assert problems(object_lock_buckets, **lock_stack()) == []
    assert any("versioning" in p for p in problems(object_lock_buckets,
                                                    **lock_stack(versioned=False)))
    assert any("AWS Config" in p for p in problems(object_lock_buckets, **lock_stack(config=True)))
    assert any("stay locked" in p for p in problems(object_lock_buckets,
                                                     **lock_stack(expire_days=90)))
