"""The delivery contracts' rules: every AWS service that writes somewhere on the platform's behalf
has what the destination requires (the role's permissions, the bucket or key policy). Each rule is
`rule(graphs, report)` over synthesized stacks (tests/contracts.py), cites the AWS documentation
page it states, and walks every resource of its kind; tests/test_contracts_delivery.py runs them
over every stack and feeds each a broken one.
"""

import base64
import json

from contracts import (Report, allows, bucket_encryption, bucket_named, bucket_statements, decide,
                       each, key_admits_service, key_named, listed, managed_policies,
                       role_may_use_key, role_statements, topic_named, trusts)
from detection_rules import (cloudtrail_to_cloudwatch_logs, event_bus_targets, object_lock_buckets,
                             topic_policies_admit_publishers)
from lib.edge.bucket import ELB_LOG_ACCOUNTS

ACL = {"s3:x-amz-acl": "bucket-owner-full-control"}
TLS = {"aws:SecureTransport": "true"}
CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def _no_deny(statements, action, resource, principal, context) -> bool:
    return decide(statements, action, resource, principal, context) != "deny"


# --- AWS Config ----------------------------------------------------------------------------------

def config_delivers(gs, report: Report) -> None:
    """AWS Config Developer Guide, "Permissions for the IAM Role Assigned to AWS Config" (trust,
    AWS_ConfigRole, "IAM Role Policy for your S3 Bucket": s3:PutObject(+Acl) under
    AWSLogs/<account>/ with x-amz-acl bucket-owner-full-control and s3:GetBucketAcl; "IAM Role
    Policy for KMS Key": kms:Decrypt and kms:GenerateDataKey). "Permissions for the Amazon S3
    Bucket": a same-account delivery uses the role; the bucket policy must only not deny it."""
    for channel in each(gs, "aws_config_delivery_channel"):
        g = channel.graph
        recorders = g.of_type("aws_config_configuration_recorder")
        if not report.check(channel, len(recorders) == 1, "needs the region's one recorder"):
            continue
        role = g.ref(recorders[0].body["role_arn"])
        if not report.check(channel, role is not None, "recorder role not in the stack"):
            continue
        report.check(channel, trusts(role, "config.amazonaws.com"), "role does not trust Config")
        report.check(channel, CONFIG_ROLE_POLICY in managed_policies(role),
                     "role lacks the AWS_ConfigRole managed policy")
        bucket = bucket_named(g, channel.body["s3_bucket_name"])
        if not report.check(channel, bucket is not None, "delivery bucket not in the stack"):
            continue
        prefix = f"{channel.body['s3_key_prefix']}/" if channel.body.get("s3_key_prefix") else ""
        obj = f"{bucket.attr('arn')}/{prefix}AWSLogs/{g.account}/Config/{channel.region}/x.json.gz"
        statements, principal = role_statements(role), ("AWS", role.attr("arn"))
        report.check(channel, allows(statements, "s3:PutObject", obj, None, ACL)
                     and _no_deny(bucket_statements(bucket), "s3:PutObject", obj, principal,
                                  {**ACL, **TLS}),
                     f"role may not s3:PutObject {obj}")
        report.check(channel, allows(statements, "s3:GetBucketAcl", bucket.attr("arn")),
                     "role may not s3:GetBucketAcl the bucket")
        if channel.body.get("s3_kms_key_arn"):
            key = key_named(g, channel.body["s3_kms_key_arn"])
            if report.check(channel, key is not None, "delivery key not in the stack"):
                for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                    report.check(channel, role_may_use_key(role, key, action, {}, statements),
                                 f"role may not {action} with the delivery key")


# --- CloudTrail ----------------------------------------------------------------------------------

def cloudtrail_delivers(gs, report: Report) -> None:
    """CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail" (s3:GetBucketAcl on the
    bucket, s3:PutObject under [prefix/]AWSLogs/<account>/ with bucket-owner-full-control) and
    "Configure AWS KMS key policies for CloudTrail" (kms:GenerateDataKey* with the
    aws:cloudtrail:arn encryption context, kms:DescribeKey, and kms:Decrypt when the bucket uses
    an S3 Bucket Key; aws:SourceArn is the trail's ARN)."""
    principal = ("Service", "cloudtrail.amazonaws.com")
    for trail in each(gs, "aws_cloudtrail"):
        g = trail.graph
        arn = trail.attr("arn")
        source = {"aws:SourceArn": arn, "aws:SourceAccount": g.account}
        bucket = bucket_named(g, trail.body["s3_bucket_name"])
        if not report.check(trail, bucket is not None, "trail bucket not in the stack"):
            continue
        statements = bucket_statements(bucket)
        prefix = f"{trail.body['s3_key_prefix']}/" if trail.body.get("s3_key_prefix") else ""
        obj = f"{bucket.attr('arn')}/{prefix}AWSLogs/{g.account}/CloudTrail/x.json.gz"
        report.check(trail, allows(statements, "s3:GetBucketAcl", bucket.attr("arn"), principal,
                                   {**source, **TLS}), "bucket policy: no s3:GetBucketAcl")
        report.check(trail, allows(statements, "s3:PutObject", obj, principal,
                                   {**source, **ACL, **TLS}), f"bucket policy: no PutObject {obj}")
        if not trail.body.get("kms_key_id"):
            continue
        key = key_named(g, trail.body["kms_key_id"])
        if not report.check(trail, key is not None, "trail key not in the stack"):
            continue
        context = {**source, "kms:EncryptionContext:aws:cloudtrail:arn": arn}
        report.check(trail, key_admits_service(key, principal[1], "kms:GenerateDataKey", context),
                     "key policy: CloudTrail may not kms:GenerateDataKey*")
        report.check(trail, key_admits_service(key, principal[1], "kms:DescribeKey", source),
                     "key policy: CloudTrail may not kms:DescribeKey")
        if bucket_encryption(bucket).get("bucket_key_enabled"):
            report.check(trail, key_admits_service(key, principal[1], "kms:Decrypt", source),
                         "key policy: CloudTrail may not kms:Decrypt (the bucket's Bucket Key)")


# --- load balancer access logs -------------------------------------------------------------------

def alb_access_logs(gs, report: Report) -> None:
    """Elastic Load Balancing, "Enable access logs for your Application Load Balancer": the bucket
    is in the load balancer's region, encrypted with SSE-S3 only, and its policy lets the region's
    Elastic Load Balancing account (Regions available before August 2022) or the
    logdelivery.elasticloadbalancing.amazonaws.com principal put objects under
    <prefix>/AWSLogs/<account>/."""
    for lb in each(gs, "aws_lb"):
        logs = listed(lb.body.get("access_logs"))
        if not logs or not logs[0].get("enabled"):
            continue
        g = lb.graph
        bucket = bucket_named(g, logs[0]["bucket"])
        if not report.check(lb, bucket is not None, "access log bucket not in the stack"):
            continue
        report.check(lb, bucket.region == lb.region, "bucket in another region")
        report.check(lb, bucket_encryption(bucket).get("sse_algorithm") == "AES256",
                     "access log bucket is not SSE-S3 (AES256)")
        prefix = f"{logs[0]['prefix']}/" if logs[0].get("prefix") else ""
        obj = (f"{bucket.attr('arn')}/{prefix}AWSLogs/{g.account}/elasticloadbalancing/"
               f"{lb.region}/x.log.gz")
        account = ELB_LOG_ACCOUNTS.get(lb.region)
        principal = (("AWS", f"arn:aws:iam::{account}:root") if account
                     else ("Service", "logdelivery.elasticloadbalancing.amazonaws.com"))
        report.check(lb, allows(bucket_statements(bucket), "s3:PutObject", obj, principal,
                                {"aws:SourceAccount": g.account, **TLS}),
                     f"bucket policy: {principal[1]} may not PutObject {obj}")


# --- VPC flow logs -------------------------------------------------------------------------------

FLOW_LOG_ROLE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
                         "logs:DescribeLogStreams")


def flow_logs_deliver(gs, report: Report) -> None:
    """Amazon VPC User Guide, "Publish flow logs to CloudWatch Logs" ("IAM role for publishing flow
    logs to CloudWatch Logs": trust vpc-flow-logs.amazonaws.com; at least logs:CreateLogGroup,
    CreateLogStream, PutLogEvents, DescribeLogGroups and DescribeLogStreams; CreateLogGroup is only
    needed when the group does not exist, and here the group is a managed resource). To S3:
    "Enabling logging from AWS services", the delivery.logs.amazonaws.com bucket policy."""
    for flow in each(gs, "aws_flow_log"):
        g = flow.graph
        if flow.body.get("log_destination_type", "cloud-watch-logs") == "s3":
            bucket = bucket_named(g, flow.body["log_destination"])
            if report.check(flow, bucket is not None, "flow log bucket not in the stack"):
                obj = f"{bucket.attr('arn')}/AWSLogs/{g.account}/vpcflowlogs/x.log.gz"
                report.check(flow, allows(bucket_statements(bucket), "s3:PutObject", obj,
                                          ("Service", "delivery.logs.amazonaws.com"),
                                          {"aws:SourceAccount": g.account, **ACL, **TLS}),
                             "bucket policy: log delivery may not PutObject")
            continue
        role = g.ref(flow.body.get("iam_role_arn"))
        group = g.ref(flow.body.get("log_destination"))
        if not report.check(flow, role is not None and group is not None,
                            "flow log role or log group not in the stack"):
            continue
        report.check(flow, trusts(role, "vpc-flow-logs.amazonaws.com"),
                     "role does not trust vpc-flow-logs.amazonaws.com")
        arn, statements = group.attr("arn"), role_statements(role)
        targets = {"logs:CreateLogStream": f"{arn}:log-stream:eni-1",
                   "logs:PutLogEvents": f"{arn}:log-stream:eni-1",
                   "logs:DescribeLogStreams": f"{arn}:log-stream:*",
                   "logs:DescribeLogGroups": f"arn:aws:logs:{group.region}:{g.account}:log-group:*"}
        for action in FLOW_LOG_ROLE_ACTIONS:
            report.check(flow, allows(statements, action, targets[action]),
                         f"role may not {action} ({targets[action]})")


# --- CloudWatch Logs vended deliveries (CloudFront standard logging v2) ---------------------------

def log_deliveries(gs, report: Report) -> None:
    """CloudWatch Logs User Guide, "Enabling logging from AWS services", "Logs sent to Amazon S3":
    the bucket policy lets delivery.logs.amazonaws.com s3:GetBucketAcl and s3:PutObject under
    AWSLogs/<account>/ (bucket-owner-full-control, aws:SourceAccount); an SSE-KMS bucket's key
    lets it kms:GenerateDataKey*. CloudFront's are in us-east-1 ("Standard logging (v2)")."""
    principal = ("Service", "delivery.logs.amazonaws.com")
    for delivery in each(gs, "aws_cloudwatch_log_delivery"):
        g = delivery.graph
        destination = g.ref(delivery.body["delivery_destination_arn"])
        if not report.check(delivery, destination is not None, "destination not in the stack"):
            continue
        config = listed(destination.body.get("delivery_destination_configuration"))
        target = config[0]["destination_resource_arn"] if config else None
        bucket = bucket_named(g, target)
        if bucket is None:
            report.check(delivery, g.ref(target) is not None, "destination resource unknown")
            continue
        source = {"aws:SourceAccount": g.account,
                  "aws:SourceArn": f"arn:aws:logs:{delivery.region}:{g.account}:delivery-source:x"}
        statements = bucket_statements(bucket)
        obj = f"{bucket.attr('arn')}/AWSLogs/{g.account}/CloudFront/x.log.gz"
        report.check(delivery, allows(statements, "s3:PutObject", obj, principal,
                                      {**source, **ACL, **TLS}), "bucket policy: no PutObject")
        report.check(delivery, allows(statements, "s3:GetBucketAcl", bucket.attr("arn"), principal,
                                      {**source, **TLS}), "bucket policy: no GetBucketAcl")
        sse = bucket_encryption(bucket)
        if sse.get("sse_algorithm") == "aws:kms":
            key = key_named(g, sse.get("kms_master_key_id"))
            report.check(delivery, key is not None and key_admits_service(
                key, principal[1], "kms:GenerateDataKey", source),
                "bucket key does not admit delivery.logs.amazonaws.com")


# --- WAF logs ------------------------------------------------------------------------------------

def waf_logs(gs, report: Report) -> None:
    """AWS WAF Developer Guide, "Sending web ACL traffic logs to an Amazon CloudWatch Logs log
    group": the group's name starts with aws-waf-logs-, it is in the web ACL's Region (us-east-1
    for CloudFront), and WAF writes through the log group resource policy it creates
    (CloudWatch Logs, "Logs sent to CloudWatch Logs"; the deploy role's rights are
    tests/test_delivery.py)."""
    for logging in each(gs, "aws_wafv2_web_acl_logging_configuration"):
        g = logging.graph
        acl = g.ref(logging.body["resource_arn"])
        for destination in listed(logging.body.get("log_destination_configs")):
            group = g.ref(destination)
            if group is None or group.type != "aws_cloudwatch_log_group":
                report.check(logging, group is not None, f"destination {destination} unknown")
                continue
            report.check(logging, group.body["name"].startswith("aws-waf-logs-"),
                         f"log group {group.body['name']} lacks the aws-waf-logs- prefix")
            report.check(logging, acl is not None and group.region == acl.region == logging.region,
                         "log group, web ACL and logging configuration not in one region")


# --- encrypted log groups ------------------------------------------------------------------------

LOGS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey")


def encrypted_log_groups(gs, report: Report) -> None:
    """CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS Key Management
    Service": the key is in the log group's Region and its policy admits
    logs.<region>.amazonaws.com (kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*,
    Describe*) for the kms:EncryptionContext:aws:logs:arn of the group."""
    for group in each(gs, "aws_cloudwatch_log_group"):
        if not group.body.get("kms_key_id"):
            continue
        key = key_named(group.graph, group.body["kms_key_id"])
        if not report.check(group, key is not None, "log group key not in the stack"):
            continue
        report.check(group, key.region == group.region,
                     f"key in {key.region}, log group in {group.region}")
        context = {"kms:EncryptionContext:aws:logs:arn": group.attr("arn")}
        for action in LOGS_KEY_ACTIONS:
            report.check(group, key_admits_service(
                key, f"logs.{group.region}.amazonaws.com", action, context),
                f"key policy: logs.{group.region}.amazonaws.com may not {action}")


# --- encrypted SNS topics and the services that publish to them ----------------------------------

def publishers_to_encrypted_topics(gs, report: Report) -> None:
    """Amazon SNS Developer Guide, "Key management", "Enable compatibility between event sources
    from AWS services and encrypted topics": the topic's customer managed key lets the publishing
    service (cloudwatch.amazonaws.com for alarms, events.amazonaws.com for EventBridge rules)
    kms:GenerateDataKey* and kms:Decrypt. SNS always names the topic in the encryption context
    (aws:sns:topicArn); CloudWatch alarms also bring aws:SourceAccount and aws:SourceArn, but
    EventBridge's delivery brings neither, so a key policy that asks EventBridge for them
    drops every event without an error (the SNS guide's compatibility section, as AWS's Modern
    Data Architecture Accelerator states it for its grantCloudWatchAlarmsTopicAccess)."""
    publishers = [("aws_cloudwatch_metric_alarm", "cloudwatch.amazonaws.com",
                   ("alarm_actions", "ok_actions", "insufficient_data_actions"), True),
                  ("aws_cloudwatch_event_target", "events.amazonaws.com", ("arn",), False)]
    for type_, service, fields, brings_source in publishers:
        for publisher in each(gs, type_):
            g = publisher.graph
            topics = {t for f in fields for a in listed(publisher.body.get(f))
                      if (t := topic_named(g, a)) is not None}
            for topic in topics:
                if not topic.body.get("kms_master_key_id"):
                    continue
                key = key_named(g, topic.body["kms_master_key_id"])
                if not report.check(publisher, key is not None, "topic key not in the stack"):
                    continue
                context = {"kms:EncryptionContext:aws:sns:topicArn": topic.attr("arn")}
                if brings_source:
                    context.update({"aws:SourceAccount": g.account,
                                    "aws:SourceArn": publisher.attr("arn")})
                for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                    report.check(publisher, key_admits_service(key, service, action, context),
                                 f"key of {topic.body['name']}: {service} may not {action}")


# --- the OpenTelemetry collector -----------------------------------------------------------------

OTEL_NAMESPACE = "ECS/AWSOTel/Application"
OTEL_LOG_GROUP = "/aws/ecs/application/metrics"


def otel_collector(gs, report: Report) -> None:
    """Amazon ECS Developer Guide, "Exporting application metrics to Amazon CloudWatch": the ADOT
    collector's default ECS configuration exports metrics as embedded metric format to the
    CloudWatch Logs group /aws/ecs/application/metrics, namespace ECS/AWSOTel/Application; the
    task role needs what the ADOT "Configuring Permissions" page lists: logs:CreateLogGroup,
    CreateLogStream, PutLogEvents, DescribeLogStreams, and X-Ray's PutTraceSegments and
    PutTelemetryRecords. Any cloudwatch:PutMetricData stays within that namespace."""
    for task in each(gs, "aws_ecs_task_definition"):
        containers = json.loads(task.body["container_definitions"])
        if not any("aws-otel-collector" in c.get("image", "") for c in containers):
            continue
        g = task.graph
        role = g.ref(task.body.get("task_role_arn"))
        if not report.check(task, role is not None, "collector without a task role"):
            continue
        statements = role_statements(role)
        group = f"arn:aws:logs:{task.region}:{g.account}:log-group:{OTEL_LOG_GROUP}"
        needs = {"logs:CreateLogGroup": group, "logs:DescribeLogStreams": f"{group}:log-stream:*",
                 "logs:CreateLogStream": f"{group}:log-stream:task-1",
                 "logs:PutLogEvents": f"{group}:log-stream:task-1",
                 "xray:PutTraceSegments": "*", "xray:PutTelemetryRecords": "*"}
        for action, resource in needs.items():
            report.check(task, allows(statements, action, resource),
                         f"task role may not {action} on {resource}")
        if allows(statements, "cloudwatch:PutMetricData", "*",
                  context={"cloudwatch:namespace": OTEL_NAMESPACE}):
            report.check(task, not allows(statements, "cloudwatch:PutMetricData", "*",
                                          context={"cloudwatch:namespace": "AWS/EC2"}),
                         "cloudwatch:PutMetricData not limited to the collector's namespace")


# --- ECS container instances ---------------------------------------------------------------------

def ecs_container_instances(gs, report: Report) -> None:
    """Amazon ECS Developer Guide, "Amazon ECS container instance IAM role": the instance profile's
    role trusts ec2.amazonaws.com and has AmazonEC2ContainerServiceforEC2Role, which the ECS agent
    needs to register the instance and pull images (every launch template that joins a cluster
    through ECS_CLUSTER in its user data)."""
    for template in each(gs, "aws_launch_template"):
        user_data = template.body.get("user_data") or ""
        try:
            user_data = base64.b64decode(user_data).decode()
        except ValueError:
            pass
        if "ECS_CLUSTER=" not in user_data:
            continue
        role = _instance_role(template)
        if not report.check(template, role is not None, "no instance profile role in the stack"):
            continue
        report.check(template, trusts(role, "ec2.amazonaws.com"), "role does not trust EC2")
        report.check(template, ECS_INSTANCE_POLICY in managed_policies(role),
                     "role lacks AmazonEC2ContainerServiceforEC2Role")


def _instance_role(template):
    g = template.graph
    profile = next((g.ref(p.get("arn") or p.get("name"))
                    for p in listed(template.body.get("iam_instance_profile"))), None)
    return g.ref(profile.body["role"]) if profile is not None else None


# --- Session Manager session logs ----------------------------------------------------------------

def session_manager_logs(gs, report: Report) -> None:
    """AWS Systems Manager User Guide, "Create a custom IAM instance profile for Session Manager":
    with session logs in S3 and KMS session encryption, every managed node's instance profile
    needs s3:PutObject under the bucket's prefix, s3:GetEncryptionConfiguration,
    kms:GenerateDataKey (the SSE-KMS bucket's key) and kms:Decrypt (the session key). The
    preferences document is per account and Region, so it binds every EC2 role with
    AmazonSSMManagedInstanceCore in stacks of that account and Region."""
    for document in each(gs, "aws_ssm_document"):
        if document.body.get("document_type") != "Session":
            continue
        g = document.graph
        inputs = json.loads(g.value(document.body["content"])).get("inputs", {})
        bucket = bucket_named(g, inputs.get("s3BucketName")) if inputs.get("s3BucketName") else None
        key = key_named(g, inputs.get("kmsKeyId")) if inputs.get("kmsKeyId") else None
        prefix = f"{inputs['s3KeyPrefix']}/" if inputs.get("s3KeyPrefix") else ""
        roles = [r for other in gs if (other.account, other.region(None)) ==
                 (g.account, document.region) for r in other.of_type("aws_iam_role")
                 if trusts(r, "ec2.amazonaws.com") and SSM_CORE_POLICY in managed_policies(r)]
        for role in roles:
            statements = role_statements(role)
            where = f"{role.graph.name}: role {role.body['name']}"
            if bucket is not None:
                obj = f"{bucket.attr('arn')}/{prefix}i-0123456789abcdef0.log"
                owner = {"s3:ResourceAccount": g.account}
                report.check(document, allows(statements, "s3:PutObject", obj, None, owner),
                             f"{where} may not s3:PutObject {obj}")
                report.check(document, allows(statements, "s3:GetEncryptionConfiguration",
                                              bucket.attr("arn"), None, owner),
                             f"{where} may not s3:GetEncryptionConfiguration")
                bucket_key = key_named(g, bucket_encryption(bucket).get("kms_master_key_id"))
                if bucket_key is not None:
                    report.check(document, role_may_use_key(role, bucket_key, "kms:GenerateDataKey",
                                                            {}, statements),
                                 f"{where} may not kms:GenerateDataKey with the bucket's key")
            if key is not None:
                report.check(document, role_may_use_key(role, key, "kms:Decrypt", {}, statements),
                             f"{where} may not kms:Decrypt with the session key")


RULES = [config_delivers, cloudtrail_delivers, cloudtrail_to_cloudwatch_logs, alb_access_logs,
         flow_logs_deliver, log_deliveries, waf_logs, encrypted_log_groups,
         publishers_to_encrypted_topics, topic_policies_admit_publishers, object_lock_buckets,
         otel_collector, ecs_container_instances, session_manager_logs]
# Walked by tests/test_detection.py over an account with detectors in more regions: the shipped
# account file has none, so no stack of every_stack holds one.
MULTI_REGION_RULES = [event_bus_targets]
