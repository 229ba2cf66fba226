"""Ordering contracts: what must exist before what, in every stack the project synthesizes.

Terraform orders resources by their references and `depends_on` only. A resource that needs
another's side effect (a bucket policy that lets a service write, a role's permissions that a
service checks when it is created, a log group that a service would otherwise create itself)
depends on it explicitly: an attribute reference that happens to order them today is luck. And a
`depends_on` that names nothing (a construct that is not a resource synthesizes to `[]`) orders
nothing. Each rule cites the AWS page that says what the service checks, walks every resource of
its kind, and has a test that feeds it a hand-made broken stack.
"""

import pytest

from contracts import (FakeStack, Report, Resource, assert_clean, bucket_named, bucket_policy,
                       listed, role_policy_resources, run)
from lib.edge.vpc_origin import SERVICE_GROUP_NAME


def explicit_dependencies(gs, report: Report) -> None:
    """Terraform, "The depends_on Meta-Argument": a list of resource addresses. An empty list or an
    address that is not in the stack orders nothing."""
    for g in gs:
        for resource in g.resources.values():
            if "depends_on" not in resource.body:
                continue
            named = resource.body["depends_on"]
            report.check(resource, bool(named), "depends_on is empty")
            missing = [a for a in named if a not in g.resources]
            report.check(resource, not missing, f"depends_on names no resource: {missing}")


def _writers_to_buckets(g):
    """(writer, the bucket it writes to) for every service that delivers into an S3 bucket."""
    for trail in g.of_type("aws_cloudtrail"):
        yield trail, trail.body["s3_bucket_name"]
    for channel in g.of_type("aws_config_delivery_channel"):
        yield channel, channel.body["s3_bucket_name"]
    for lb in g.of_type("aws_lb"):
        logs = listed(lb.body.get("access_logs"))
        if logs and logs[0].get("enabled"):
            yield lb, logs[0]["bucket"]
    for flow in g.of_type("aws_flow_log"):
        if flow.body.get("log_destination_type") == "s3":
            yield flow, flow.body["log_destination"]
    for delivery in g.of_type("aws_cloudwatch_log_delivery"):
        destination = g.ref(delivery.body["delivery_destination_arn"])
        for config in listed(destination.body.get("delivery_destination_configuration")
                             if destination else None):
            yield delivery, config["destination_resource_arn"]
    for logging in g.of_type("aws_s3_bucket_logging"):
        yield logging, logging.body["target_bucket"]


def bucket_writers_wait_for_the_bucket_policy(gs, report: Report) -> None:
    """CloudTrail ("Amazon S3 bucket policy for CloudTrail": CreateTrail fails with
    InsufficientS3BucketPolicyException), AWS Config ("Permissions for the Amazon S3 Bucket":
    PutDeliveryChannel fails with InsufficientDeliveryPolicyException), Elastic Load Balancing
    ("Enable access logs for your Application Load Balancer": the attribute change fails with
    "Access Denied for bucket"), CloudWatch Logs deliveries ("Enabling logging from AWS services":
    without the statement the delivery rewrites the bucket policy itself, racing Terraform's) and
    S3 server access logging ("Enable Amazon S3 server access logging": the target bucket policy
    grants logging.s3.amazonaws.com) all need the destination's bucket policy in place first."""
    for g in gs:
        for writer, destination in _writers_to_buckets(g):
            bucket = bucket_named(g, destination)
            if bucket is None:
                continue  # a bucket outside the stack: nothing here to wait for
            policy = bucket_policy(bucket)
            if not report.check(writer, policy is not None,
                                f"bucket {bucket.path} has no bucket policy"):
                continue
            report.check(writer, policy.address in g.depends(writer),
                         f"does not depend on the bucket policy {policy.path}")


def service_roles_are_granted_first(gs, report: Report) -> None:
    """AWS Config ("Permissions for the IAM Role Assigned to AWS Config": the recorder and the
    delivery channel act as the role), VPC flow logs ("Publish flow logs to CloudWatch Logs":
    the flow log delivers as its role) and Lambda (CreateFunction fails with
    InvalidParameterValueException when the execution role may not create the function's network
    interfaces, Lambda Developer Guide "Giving Lambda functions access to resources in an Amazon
    VPC", or send to its dead-letter queue, "Capturing records of Lambda asynchronous
    invocations") need the role's permissions, not only the role, before they are created; so
    does RDS Proxy, which reads its login secret as its role as soon as it is created ("Setting
    up database credentials for RDS Proxy": the role needs secretsmanager:GetSecretValue and
    kms:Decrypt, or the proxy's targets stay unavailable)."""
    for g in gs:
        users = [(r, r.body["role_arn"]) for r in g.of_type("aws_config_configuration_recorder")]
        recorders = g.of_type("aws_config_configuration_recorder")
        users += [(c, r.body["role_arn"]) for c in g.of_type("aws_config_delivery_channel")
                  for r in recorders]
        users += [(f, f.body["iam_role_arn"]) for f in g.of_type("aws_flow_log")
                  if f.body.get("iam_role_arn")]
        users += [(f, f.body["role"]) for f in g.of_type("aws_lambda_function")]
        users += [(p, p.body["role_arn"]) for p in g.of_type("aws_db_proxy")]
        for user, role_arn in users:
            role = g.ref(role_arn)
            if role is None:
                continue
            missing = [p.path for p in role_policy_resources(role)
                       if p.address not in g.depends(user)]
            report.check(user, not missing, f"does not depend on its role's grants {missing}")


def config_starts_after_its_channel(gs, report: Report) -> None:
    """AWS Config API Reference: PutDeliveryChannel needs a configuration recorder
    (NoAvailableConfigurationRecorderException), StartConfigurationRecorder a delivery channel
    (NoAvailableDeliveryChannelException)."""
    for g in gs:
        recorders = {r.address for r in g.of_type("aws_config_configuration_recorder")}
        channels = {c.address for c in g.of_type("aws_config_delivery_channel")}
        for channel in g.of_type("aws_config_delivery_channel"):
            report.check(channel, recorders <= g.depends(channel), "does not wait for the recorder")
        for status in g.of_type("aws_config_configuration_recorder_status"):
            report.check(status, bool(channels) and channels <= g.depends(status),
                         "recorder switched on before its delivery channel exists")


def log_deliveries_wait_for_the_log_resource_policy(gs, report: Report) -> None:
    """CloudWatch Logs User Guide, "Enabling logging from AWS services", "Logs sent to CloudWatch
    Logs": when a log group resource policy that admits delivery.logs.amazonaws.com is managed
    here, the delivery into the group (WAF logging, a log delivery) waits for it; otherwise the
    service writes its own policy (the deploy role may: tests/test_delivery.py)."""
    for g in gs:
        policies = g.of_type("aws_cloudwatch_log_resource_policy")
        deliveries = [(w, d) for w in g.of_type("aws_wafv2_web_acl_logging_configuration")
                      for d in listed(w.body.get("log_destination_configs"))]
        for delivery in g.of_type("aws_cloudwatch_log_delivery"):
            destination = g.ref(delivery.body["delivery_destination_arn"])
            deliveries += [(delivery, c["destination_resource_arn"]) for c in listed(
                destination.body.get("delivery_destination_configuration") if destination
                else None)]
        for writer, target in deliveries:
            group = g.ref(target)
            if group is None or group.type != "aws_cloudwatch_log_group":
                continue
            name = group.body["name"]
            for policy in policies:
                document = policy.body.get("policy_document", "")
                if "delivery.logs.amazonaws.com" in document and (
                        name in g.value(document) or "log-group:*" in document):
                    report.check(writer, policy.address in g.depends(writer),
                                 f"does not depend on the log resource policy {policy.path}")
            report.checked.add(str(writer))


def services_wait_for_the_resources_they_would_create(gs, report: Report) -> None:
    """A service that creates what the stack also creates fails the stack's create
    (ResourceAlreadyExistsException) or leaves it unencrypted and never expiring: Lambda's own log
    group ("Working with Lambda function logs": /aws/lambda/<function>), RDS's log exports
    ("Publishing database logs to Amazon CloudWatch Logs": /aws/rds/instance/<id>/<log>), and
    Amazon ECS, whose CreateService fails while the target group is not yet associated with a
    load balancer ("Use load balancing to distribute Amazon ECS service traffic")."""
    for g in gs:
        groups = {r.body["name"]: r for r in g.of_type("aws_cloudwatch_log_group")}
        for function in g.of_type("aws_lambda_function"):
            group = groups.get(f"/aws/lambda/{function.body.get('function_name')}")
            if group is not None:
                report.check(function, group.address in g.depends(function),
                             f"does not depend on its log group {group.path}")
        for db in g.of_type("aws_db_instance"):
            for export in listed(db.body.get("enabled_cloudwatch_logs_exports")):
                group = groups.get(f"/aws/rds/instance/{db.body.get('identifier')}/{export}")
                if group is not None:
                    report.check(db, group.address in g.depends(db),
                                 f"does not depend on its log group {group.path}")
        forwarding = {}
        for rule in g.of_type("aws_lb_listener_rule") + g.of_type("aws_lb_listener"):
            for action in listed(rule.body.get("action") or rule.body.get("default_action")):
                if action.get("target_group_arn"):
                    forwarding.setdefault(g.ref(action["target_group_arn"]), []).append(rule)
        for service in g.of_type("aws_ecs_service"):
            for lb in listed(service.body.get("load_balancer")):
                group = g.ref(lb.get("target_group_arn"))
                if group is None:
                    continue
                report.check(service, any(r.address in g.depends(service)
                                          for r in forwarding.get(group, [])),
                             f"does not wait for a listener that forwards to {group.path}")


def vpc_origins_come_between_their_load_balancer_and_its_group(gs, report: Report) -> None:
    """"Restrict access with VPC origins" (CloudFront Developer Guide): the load balancer must be
    Active before a VPC origin names it (the VPC origin references it, and the provider returns a
    new load balancer only once it is active), and CloudFront's service-managed group
    (`CloudFront-VPCOrigins-Service-SG`) exists only once a VPC origin does: a read of it that
    does not wait for the VPC origin fails on the first apply."""
    for g in gs:
        for origin in g.of_type("aws_cloudfront_vpc_origin"):
            for config in listed(origin.body.get("vpc_origin_endpoint_config")):
                target = g.ref(config.get("arn"))
                report.check(origin, target is not None and target.type == "aws_lb",
                             "does not reference a load balancer of the stack")
        for key, body in g.json.get("data", {}).get("aws_security_group", {}).items():
            names = [v for f in listed(body.get("filter")) if f.get("name") == "group-name"
                     for v in f.get("values", [])]
            if not any(n.startswith(SERVICE_GROUP_NAME) for n in names):
                continue
            waits = [a for a in body.get("depends_on", [])
                     if a.startswith("aws_cloudfront_vpc_origin.") and a in g.resources]
            report.check(Resource(g, "data.aws_security_group", key, body), bool(waits),
                         "reads CloudFront's VPC-origin group without waiting for a VPC origin")


RULES = [explicit_dependencies, bucket_writers_wait_for_the_bucket_policy,
         service_roles_are_granted_first, config_starts_after_its_channel,
         log_deliveries_wait_for_the_log_resource_policy,
         services_wait_for_the_resources_they_would_create,
         vpc_origins_come_between_their_load_balancer_and_its_group]

# Problems in files this change may not touch, by rule; each names its owner. A fixed gap fails
# the test until its line goes (contracts.assert_clean).
KNOWN_GAPS: dict = {}  # none open


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_ordering_contract_holds_in_every_stack(rule, every_stack):
    assert_clean(run(rule, every_stack), KNOWN_GAPS.get(rule))


def test_every_ordering_rule_has_something_to_check(every_stack):
    assert [r.__name__ for r in RULES if not run(r, every_stack).checked] == []


# --- each rule fails on a broken stack -----------------------------------------------------------

def problems(rule, resources: dict) -> list[str]:
    return run(rule, [FakeStack(resources)]).problems


BUCKET = {"aws_s3_bucket": {"b": {"bucket": "audit"}},
          "aws_s3_bucket_policy": {"p": {"bucket": "${aws_s3_bucket.b.id}", "policy": "{}"}}}


def test_empty_or_dangling_depends_on_fails():
    assert problems(explicit_dependencies, {"aws_cloudtrail": {"t": {"depends_on": []}}}) == [
        "fake-stack: aws_cloudtrail t: depends_on is empty"]
    assert problems(explicit_dependencies, {"aws_cloudtrail": {
        "t": {"depends_on": ["aws_s3_bucket_policy.gone"]}}})
    assert problems(explicit_dependencies, {**BUCKET, "aws_cloudtrail": {
        "t": {"depends_on": ["aws_s3_bucket_policy.p"]}}}) == []


@pytest.mark.parametrize("writer", [
    {"aws_cloudtrail": {"w": {"s3_bucket_name": "${aws_s3_bucket.b.bucket}"}}},
    {"aws_config_delivery_channel": {"w": {"s3_bucket_name": "${aws_s3_bucket.b.bucket}"}}},
    {"aws_lb": {"w": {"access_logs": {"bucket": "${aws_s3_bucket.b.bucket}", "enabled": True}}}},
    {"aws_s3_bucket_logging": {"w": {"bucket": "x", "target_bucket": "${aws_s3_bucket.b.id}"}}},
    {"aws_flow_log": {"w": {"log_destination_type": "s3",
                            "log_destination": "${aws_s3_bucket.b.arn}"}}},
], ids=lambda w: next(iter(w)))
def test_bucket_writer_without_the_policy_fails(writer):
    (type_, bodies), = writer.items()
    assert problems(bucket_writers_wait_for_the_bucket_policy, {**BUCKET, **writer}) == [
        f"fake-stack: {type_} w: does not depend on the bucket policy p"]
    waits = {type_: {"w": {**bodies["w"], "depends_on": ["aws_s3_bucket_policy.p"]}}}
    assert problems(bucket_writers_wait_for_the_bucket_policy, {**BUCKET, **waits}) == []


def test_a_trail_that_waits_for_a_non_resource_fails():
    """Issue 16: `depends_on=[<the Bucket construct>]` synthesized to `[]`."""
    trail = {"aws_cloudtrail": {"w": {"s3_bucket_name": "${aws_s3_bucket.b.bucket}",
                                      "depends_on": []}}}
    assert problems(bucket_writers_wait_for_the_bucket_policy, {**BUCKET, **trail})
    assert problems(explicit_dependencies, {**BUCKET, **trail})


def test_config_without_its_roles_grants_or_order_fails():
    stack = {"aws_iam_role": {"r": {"name": "config", "assume_role_policy": "{}"}},
             "aws_iam_role_policy_attachment": {"a": {"role": "${aws_iam_role.r.name}",
                                                      "policy_arn": "x"}},
             "aws_config_configuration_recorder": {"rec": {"role_arn": "${aws_iam_role.r.arn}"}},
             "aws_config_delivery_channel": {"ch": {"s3_bucket_name": "b"}},
             "aws_config_configuration_recorder_status": {"on": {}}}
    assert len(problems(service_roles_are_granted_first, stack)) == 2
    assert len(problems(config_starts_after_its_channel, stack)) == 2
    stack["aws_config_configuration_recorder"]["rec"]["depends_on"] = [
        "aws_iam_role_policy_attachment.a"]
    stack["aws_config_delivery_channel"]["ch"]["depends_on"] = [
        "aws_config_configuration_recorder.rec"]
    stack["aws_config_configuration_recorder_status"]["on"]["depends_on"] = [
        "aws_config_delivery_channel.ch"]
    assert problems(service_roles_are_granted_first, stack) == []
    assert problems(config_starts_after_its_channel, stack) == []


@pytest.mark.parametrize("user, role_attribute", [("aws_lambda_function", "role"),
                                                  ("aws_db_proxy", "role_arn")])
def test_a_service_created_before_its_roles_grants_fails(user, role_attribute):
    stack = {"aws_iam_role": {"r": {"name": "svc", "assume_role_policy": "{}"}},
             "aws_iam_role_policy": {"p": {"role": "${aws_iam_role.r.id}", "policy": "{}"}},
             user: {"u": {role_attribute: "${aws_iam_role.r.arn}"}}}
    assert problems(service_roles_are_granted_first, stack) == [
        f"fake-stack: {user} u: does not depend on its role's grants ['p']"]
    stack[user]["u"]["depends_on"] = ["aws_iam_role_policy.p"]
    assert problems(service_roles_are_granted_first, stack) == []


def test_a_delivery_that_ignores_a_managed_log_resource_policy_fails():
    stack = {"aws_cloudwatch_log_group": {"g": {"name": "aws-waf-logs-x"}},
             "aws_cloudwatch_log_resource_policy": {"p": {"policy_document": (
                 '{"Statement": [{"Principal": {"Service": "delivery.logs.amazonaws.com"}, '
                 '"Resource": "${aws_cloudwatch_log_group.g.arn}:*"}]}')}},
             "aws_wafv2_web_acl_logging_configuration": {"l": {
                 "log_destination_configs": ["${aws_cloudwatch_log_group.g.arn}"]}}}
    assert problems(log_deliveries_wait_for_the_log_resource_policy, stack)
    stack["aws_wafv2_web_acl_logging_configuration"]["l"]["depends_on"] = [
        "aws_cloudwatch_log_resource_policy.p"]
    assert problems(log_deliveries_wait_for_the_log_resource_policy, stack) == []


def test_services_that_would_create_what_the_stack_creates_fail():
    stack = {"aws_cloudwatch_log_group": {"g": {"name": "/aws/lambda/fn"},
                                          "pg": {"name": "/aws/rds/instance/db/postgresql"}},
             "aws_lambda_function": {"fn": {"function_name": "fn"}},
             "aws_db_instance": {"db": {"identifier": "db",
                                        "enabled_cloudwatch_logs_exports": ["postgresql"]}},
             "aws_lb_target_group": {"tg": {}},
             "aws_lb_listener_rule": {"rule": {"action": [
                 {"type": "forward", "target_group_arn": "${aws_lb_target_group.tg.arn}"}]}},
             "aws_ecs_service": {"svc": {"load_balancer": [
                 {"target_group_arn": "${aws_lb_target_group.tg.arn}"}]}}}
    assert len(problems(services_wait_for_the_resources_they_would_create, stack)) == 3
    stack["aws_lambda_function"]["fn"]["depends_on"] = ["aws_cloudwatch_log_group.g"]
    stack["aws_db_instance"]["db"]["depends_on"] = ["aws_cloudwatch_log_group.pg"]
    stack["aws_ecs_service"]["svc"]["depends_on"] = ["aws_lb_listener_rule.rule"]
    assert problems(services_wait_for_the_resources_they_would_create, stack) == []


def test_a_read_of_cloudfronts_group_before_its_vpc_origin_fails():
    origin = {"vpc_origin_endpoint_config": [{"arn": "${aws_lb.lb.arn}"}]}
    group = {"filter": [{"name": "group-name", "values": [f"{SERVICE_GROUP_NAME}*"]}]}
    stack = FakeStack({"aws_lb": {"lb": {"internal": True}},
                       "aws_cloudfront_vpc_origin": {"vo": origin}})

    class WithData:  # FakeStack has resources only; the rule also reads data sources
        name = stack.name

        def __init__(self, body: dict):
            self.json = {**stack.json, "data": {"aws_security_group": {"g": body}}}

    rule = vpc_origins_come_between_their_load_balancer_and_its_group
    assert run(rule, [WithData(group)]).problems == [
        "fake-stack: data.aws_security_group g: reads CloudFront's VPC-origin group "
        "without waiting for a VPC origin"]
    waiting = {**group, "depends_on": ["aws_cloudfront_vpc_origin.vo"]}
    assert run(rule, [WithData(waiting)]).problems == []
    origin["vpc_origin_endpoint_config"][0]["arn"] = "arn:aws:elasticloadbalancing:x"
    assert run(rule, [WithData(waiting)]).problems == [
        "fake-stack: aws_cloudfront_vpc_origin vo: does not reference a load balancer of the stack"]
