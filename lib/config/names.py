"""AWS's name limits, in one table, and the names this project builds from config values.

`LIMITS` holds, per resource type and name attribute, the longest name AWS takes, the characters
it allows and the documentation page that says so. `generated_names` lists every name an
environment's stacks will carry that a config value is part of (`<project>-<env>-<service>`,
`<project>-<env>-<queue>-dlq`...), mirroring the constructs' naming (tests/test_contracts_limits.py
checks each predicted name really is in the synthesized JSON, so the two cannot drift apart).
`name_problems` refuses the value that makes a name too long, one line per value, with how long
that value may be here: the limit minus what the code puts around it, worked out from the name
itself rather than written down per field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig

# Characters AWS allows, as patterns a whole name must match.
_ALNUM_HYPHEN = r"[A-Za-z0-9-]+"
_ELB = r"(?!-)(?!internal-)[A-Za-z0-9-]+(?<!-)"
_RDS = r"[A-Za-z](?!.*--)[A-Za-z0-9-]*(?<!-)"
_IAM = r"[\w+=,.@-]+"
_ECS = r"[A-Za-z0-9_-]+"
_APPRUNNER = r"[A-Za-z0-9][A-Za-z0-9_-]+"


@dataclass(frozen=True)
class NameLimit:
    """What AWS takes for one name attribute of one resource type. `max_length` None: the API
    reference documents no maximum (only the characters are checked)."""

    type: str
    attribute: str
    max_length: int | None
    pattern: str
    page: str
    min_length: int = 1


LIMITS: tuple[NameLimit, ...] = (
    NameLimit("aws_lb", "name", 32, _ELB, "CreateLoadBalancer - Elastic Load Balancing"),
    NameLimit("aws_lb_target_group", "name", 32, _ELB,
              "CreateTargetGroup - Elastic Load Balancing"),
    NameLimit("aws_iam_role", "name", 64, _IAM, "CreateRole - AWS Identity and Access Management; "
              "IAM and AWS STS quotas"),
    NameLimit("aws_iam_policy", "name", 128, _IAM, "CreatePolicy - AWS Identity and Access "
              "Management"),
    NameLimit("aws_iam_role_policy", "name", 128, _IAM, "PutRolePolicy - AWS Identity and Access "
              "Management"),
    NameLimit("aws_iam_instance_profile", "name", 128, _IAM, "CreateInstanceProfile - AWS "
              "Identity and Access Management"),
    NameLimit("aws_cloudwatch_log_group", "name", 512, r"[.\-_/#A-Za-z0-9]+",
              "CreateLogGroup - Amazon CloudWatch Logs"),
    NameLimit("aws_sqs_queue", "name", 80, r"[A-Za-z0-9_-]+", "CreateQueue - Amazon Simple "
              "Queue Service"),
    NameLimit("aws_sns_topic", "name", 256, r"[A-Za-z0-9_-]+", "CreateTopic - Amazon Simple "
              "Notification Service"),
    NameLimit("aws_s3_bucket", "bucket", 63, r"[a-z0-9](?!.*\.\.)[a-z0-9.-]*[a-z0-9]",
              "General purpose bucket naming rules - Amazon Simple Storage Service", 3),
    NameLimit("aws_elasticache_replication_group", "replication_group_id", 40, _RDS,
              "CreateReplicationGroup - Amazon ElastiCache"),
    # The API states no length; the console and CloudFormation take 40, as for a replication group.
    NameLimit("aws_elasticache_serverless_cache", "name", 40, _RDS,
              "CreateServerlessCache - Amazon ElastiCache"),
    NameLimit("aws_elasticache_subnet_group", "name", 255, _ALNUM_HYPHEN,
              "CreateCacheSubnetGroup - Amazon ElastiCache"),
    NameLimit("aws_elasticache_user", "user_id", None, r"[A-Za-z][A-Za-z0-9-]*",
              "CreateUser - Amazon ElastiCache"),
    NameLimit("aws_elasticache_user_group", "user_group_id", None, r"[A-Za-z][A-Za-z0-9-]*",
              "CreateUserGroup - Amazon ElastiCache"),
    NameLimit("aws_db_instance", "identifier", 63, _RDS, "CreateDBInstance - Amazon Relational "
              "Database Service"),
    NameLimit("aws_db_instance", "final_snapshot_identifier", 255, _RDS,
              "DeleteDBInstance - Amazon Relational Database Service"),
    # CreateDBProxy states the pattern but no length: RDS identifiers' 63 is assumed.
    NameLimit("aws_db_proxy", "name", 63, _RDS, "CreateDBProxy - Amazon Relational Database "
              "Service"),
    NameLimit("aws_db_parameter_group", "name", 255, _RDS, "CreateDBParameterGroup - Amazon "
              "Relational Database Service"),
    NameLimit("aws_db_subnet_group", "name", 255, r"[\w .-]+", "CreateDBSubnetGroup - Amazon "
              "Relational Database Service"),
    NameLimit("aws_ecs_cluster", "name", 255, _ECS, "CreateCluster - Amazon Elastic Container "
              "Service"),
    NameLimit("aws_ecs_service", "name", 255, _ECS, "CreateService - Amazon Elastic Container "
              "Service"),
    NameLimit("aws_ecs_task_definition", "family", 255, _ECS, "RegisterTaskDefinition - Amazon "
              "Elastic Container Service"),
    NameLimit("aws_ecs_capacity_provider", "name", 255, r"(?!aws|ecs|fargate)[A-Za-z0-9_-]+",
              "CreateCapacityProvider - Amazon Elastic Container Service"),
    NameLimit("aws_ecr_repository", "name", 256,
              r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
              "CreateRepository - Amazon Elastic Container Registry", 2),
    NameLimit("aws_lambda_function", "function_name", 64, r"[A-Za-z0-9_-]+",
              "CreateFunction - AWS Lambda"),
    NameLimit("aws_kms_alias", "name", 256, r"alias/(?!aws/)[A-Za-z0-9/_-]+",
              "CreateAlias - AWS Key Management Service"),
    NameLimit("aws_secretsmanager_secret", "name", 512, r"[A-Za-z0-9/_+=.@-]+",
              "CreateSecret - AWS Secrets Manager"),
    NameLimit("aws_wafv2_web_acl", "name", 128, r"[\w-]+", "CreateWebACL - AWS WAFV2"),
    NameLimit("aws_cognito_user_pool_domain", "domain", 63, r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
              "CreateUserPoolDomain - Amazon Cognito User Pools"),
    NameLimit("aws_cognito_user_pool", "name", 128, r"[\w\s+=,.@-]+",
              "CreateUserPool - Amazon Cognito User Pools"),
    NameLimit("aws_cognito_user_pool_client", "name", 128, r"[\w\s+=,.@-]+",
              "CreateUserPoolClient - Amazon Cognito User Pools"),
    NameLimit("aws_cloudwatch_metric_alarm", "alarm_name", 255, r"[^\x00-\x1f]+",
              "PutMetricAlarm - Amazon CloudWatch"),
    NameLimit("aws_cloudwatch_dashboard", "dashboard_name", 255, r"[A-Za-z0-9_-]+",
              "PutDashboard - Amazon CloudWatch"),
    NameLimit("aws_cloudwatch_log_metric_filter", "name", 512, r"[^:*]+",
              "PutMetricFilter - Amazon CloudWatch Logs"),
    NameLimit("aws_cloudwatch_event_rule", "name", 64, r"[.\-_A-Za-z0-9]+",
              "PutRule - Amazon EventBridge"),
    NameLimit("aws_security_group", "name", 255, r"(?!sg-)[ -~]+",
              "CreateSecurityGroup - Amazon Elastic Compute Cloud"),
    NameLimit("aws_appautoscaling_policy", "name", 256, r"[ -~]+",
              "PutScalingPolicy - Application Auto Scaling"),
    NameLimit("aws_scheduler_schedule", "name", 64, r"[0-9A-Za-z_.-]+",
              "CreateSchedule - Amazon EventBridge Scheduler"),
    NameLimit("aws_autoscaling_group", "name", 255, r"[ -~]+",
              "CreateAutoScalingGroup - Amazon EC2 Auto Scaling"),
    NameLimit("aws_launch_template", "name", 128, r"[A-Za-z0-9().\-/_]+",
              "CreateLaunchTemplate - Amazon Elastic Compute Cloud", 3),
    NameLimit("aws_apprunner_service", "service_name", 40, _APPRUNNER,
              "CreateService - AWS App Runner", 4),
    NameLimit("aws_apprunner_vpc_connector", "vpc_connector_name", 40, _APPRUNNER,
              "CreateVpcConnector - AWS App Runner", 4),
    NameLimit("aws_apprunner_auto_scaling_configuration_version",
              "auto_scaling_configuration_name", 32, _APPRUNNER,
              "CreateAutoScalingConfiguration - AWS App Runner", 4),
    NameLimit("aws_apigatewayv2_api", "name", 128, r"[ -~]+", "Amazon API Gateway quotas "
              "(HTTP API name)"),
    NameLimit("aws_cloudfront_origin_access_control", "name", 64, r"[ -~]+",
              "CreateOriginAccessControl - Amazon CloudFront"),
    NameLimit("aws_cloudfront_response_headers_policy", "name", None, r"[A-Za-z0-9_-]+",
              "CreateResponseHeadersPolicy - Amazon CloudFront"),
    NameLimit("aws_cloudfront_function", "name", 64, r"[A-Za-z0-9_-]+",
              "FunctionSummary - Amazon CloudFront (Name: 1-64, [a-zA-Z0-9-_])"),
    NameLimit("aws_cloudwatch_log_delivery_source", "name", 60, r"[\w-]+",
              "PutDeliverySource - Amazon CloudWatch Logs"),
    NameLimit("aws_cloudwatch_log_delivery_destination", "name", 60, r"[\w-]+",
              "PutDeliveryDestination - Amazon CloudWatch Logs"),
    NameLimit("aws_cloudtrail", "name", 128, r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?",
              "CreateTrail - AWS CloudTrail", 3),
    NameLimit("aws_config_configuration_recorder", "name", 256, r"[ -~]+",
              "PutConfigurationRecorder - AWS Config"),
    NameLimit("aws_config_delivery_channel", "name", 256, r"[ -~]+",
              "PutDeliveryChannel - AWS Config"),
    NameLimit("aws_dynamodb_table", "name", 255, r"[A-Za-z0-9_.-]+",
              "CreateTable - Amazon DynamoDB", 3),
)
LIMIT_BY_NAME: dict[tuple[str, str], NameLimit] = {(l.type, l.attribute): l for l in LIMITS}


def name_problem(type_: str, attribute: str, value: str) -> str | None:
    """What is wrong with `value` as `type_.attribute` under AWS's rules, or None."""
    limit = LIMIT_BY_NAME[(type_, attribute)]
    if limit.max_length is not None and not limit.min_length <= len(value) <= limit.max_length:
        return (f"'{value}' is {len(value)} characters; {type_}.{attribute} takes "
                f"{limit.min_length}-{limit.max_length} ({limit.page})")
    if not re.fullmatch(limit.pattern, value):
        return (f"'{value}' has characters or a form {type_}.{attribute} does not take "
                f"(pattern {limit.pattern}; {limit.page})")
    return None


@dataclass(frozen=True)
class GeneratedName:
    """A name the stacks will carry: `value`, of `type.attribute`, built around `part`, the value
    of the config `field` (in names that start `<project>-<environment>`, the environment: the
    project is at most 20 characters, which leaves every such name room for one)."""

    type: str
    attribute: str
    value: str
    field: str
    part: str


def generated_names(c: EnvironmentConfig) -> list[GeneratedName]:
    """Every name an environment's stack carries that a config value is part of."""
    p = f"{c.project}-{c.environment}"
    acct = c.account_id
    ecs = c.compute.platform == "ecs"
    names: list[GeneratedName] = []

    def add(type_: str, attribute: str, value: str, field: str, part: str) -> None:
        names.append(GeneratedName(type_, attribute, value, field, part))

    def prefixed(type_: str, attribute: str, *suffixes: str) -> None:
        for suffix in suffixes:
            add(type_, attribute, f"{p}{suffix}", "environment", c.environment)

    prefixed("aws_db_instance", "identifier", "-db", *(["-db-replica"]
                                                       if c.database.read_replica else []))
    if c.database.final_snapshot:
        prefixed("aws_db_instance", "final_snapshot_identifier", "-db-final")
    major = c.database.engine_version.split(".")[0]
    prefixed("aws_db_parameter_group", "name", f"-db-postgres{major}")
    prefixed("aws_db_subnet_group", "name", "-db")
    if c.database.proxy:
        prefixed("aws_db_proxy", "name", "-db-proxy")
    if c.cache.elasticache and c.cache.serverless:
        prefixed("aws_elasticache_serverless_cache", "name", "-valkey")
    elif c.cache.elasticache:
        prefixed("aws_elasticache_replication_group", "replication_group_id", "-redis")
        prefixed("aws_elasticache_subnet_group", "name", "-redis")
    for purpose in ("logs", "data", "secrets", "messaging"):
        add("aws_kms_alias", "name", f"alias/{p}-{purpose}", "environment", c.environment)
    if c.observability.dashboard and any(t.name == "alerts" for t in c.messaging.topics):
        prefixed("aws_cloudwatch_dashboard", "dashboard_name", "")
    prefixed("aws_iam_role", "name", "-vpc-flow-logs")
    prefixed("aws_s3_bucket", "bucket", f"-logs-{acct}",
             *([f"-media-{acct}"] if c.storage.media else []),
             *([f"-artifacts-{acct}"] if c.storage.artifacts else []))
    if ecs:
        prefixed("aws_lb", "name", "-alb")
        prefixed("aws_ecs_cluster", "name", "-cluster")
    if ecs and c.compute.ec2 is not None:
        prefixed("aws_launch_template", "name", "-ecs-instance")
        prefixed("aws_autoscaling_group", "name", "-ecs-instances")
        prefixed("aws_ecs_capacity_provider", "name", "-ec2")
    if c.compute.platform == "apprunner":
        prefixed("aws_apprunner_vpc_connector", "vpc_connector_name", "-apprunner")
    if c.auth.enabled:
        prefixed("aws_cognito_user_pool_domain", "domain", f"-{acct}")
        prefixed("aws_cognito_user_pool", "name", "-users")
        prefixed("aws_cognito_user_pool_client", "name", "-web")
    internal = ecs and c.ingress.internal  # the distribution in front of it, no regional ACL
    if c.edge.waf:
        prefixed("aws_wafv2_web_acl", "name", *([] if internal else ["-waf-regional"]),
                 *(["-waf-cloudfront"] if c.edge.cloudfront and c.storage.surfaces else []))
    if internal:
        prefixed("aws_cloudwatch_log_delivery_source", "name", "-ingress-cloudfront")
        prefixed("aws_cloudwatch_log_delivery_destination", "name", "-ingress-cloudfront-s3")
    if c.api.enabled or c.compute.platform == "lambda":
        prefixed("aws_apigatewayv2_api", "name", "-http-api")
    if c.api.enabled:
        functions = ["api"] + (["worker"] if c.api.worker_queue else [])
        prefixed("aws_lambda_function", "function_name", *[f"-{f}" for f in functions])
        prefixed("aws_iam_role", "name", *[f"-{f}-function" for f in functions])

    for s in c.services:
        field = f"services.{s.name}.name"

        def service(type_: str, attribute: str, value: str, name: str = s.name,
                    where: str = field) -> None:
            add(type_, attribute, value, where, name)

        if ecs:
            service("aws_cloudwatch_log_group", "name",
                    f"/{c.project}/{c.environment}/ecs/{s.name}")
            if s.kind != "task":  # a one-off task has no service
                service("aws_ecs_service", "name", f"{p}-{s.name}")
            service("aws_ecs_task_definition", "family", f"{p}-{s.name}")
            for role in ("execution", "task"):
                service("aws_iam_role", "name", f"{p}-{s.name}-{role}")
            if s.kind == "web":
                service("aws_lb_target_group", "name", f"{p}-{s.name}")
        elif c.compute.platform == "lambda":
            service("aws_lambda_function", "function_name", f"{p}-{s.name}")
            service("aws_iam_role", "name", f"{p}-{s.name}-function")
        else:
            service("aws_apprunner_service", "service_name", f"{p}-{s.name}")
            service("aws_apprunner_auto_scaling_configuration_version",
                    "auto_scaling_configuration_name", f"{p}-{s.name}")
            for role in ("instance", "ecr-access"):
                service("aws_iam_role", "name", f"{p}-{s.name}-{role}")
        if s.builds_image:
            service("aws_ecr_repository", "name", f"{p}/{s.name}")
    for q in c.messaging.queues:
        for suffix in ("", "-dlq"):
            add("aws_sqs_queue", "name", f"{p}-{q.name}{suffix}",
                f"messaging.queues.{q.name}.name", q.name)
    for t in c.messaging.topics:
        add("aws_sns_topic", "name", f"{p}-{t.name}", f"messaging.topics.{t.name}.name", t.name)
    for job in c.schedules:
        add("aws_scheduler_schedule", "name", f"{p}-{job.name}", f"schedules.{job.name}.name",
            job.name)
        add("aws_iam_role", "name", f"{p}-schedule-{job.name}", f"schedules.{job.name}.name",
            job.name)
    for secret in c.secrets:
        add("aws_secretsmanager_secret", "name",
            f"/{c.project}/{c.environment}/{secret.service}/{secret.name}",
            f"secrets.{secret.name}.name", secret.name)
    for surface in c.storage.surfaces:
        add("aws_s3_bucket", "bucket", f"{p}-{surface}-assets-{acct}", "storage.surfaces",
            surface)
        if c.edge.cloudfront:
            add("aws_cloudfront_origin_access_control", "name", f"{p}-{surface}",
                "storage.surfaces", surface)
            add("aws_cloudfront_function", "name", f"{p}-{surface}-spa-routes",
                "storage.surfaces", surface)
            add("aws_cloudwatch_log_delivery_source", "name", f"{p}-{surface}-cloudfront",
                "storage.surfaces", surface)
            add("aws_cloudwatch_log_delivery_destination", "name",
                f"{p}-{surface}-cloudfront-s3", "storage.surfaces", surface)
    return names


_NOUNS = {"environment": "an environment name (after this project)",
          "services": "a service name", "messaging": "this name", "schedules": "a schedule name",
          "secrets": "a secret name", "storage.surfaces": "a surface name"}


def name_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """(field, message) for each config value that makes a generated name longer than AWS
    allows: one line per value, about the name that leaves it the least room."""
    worst: dict[tuple[str, str], tuple[int, GeneratedName, NameLimit]] = {}
    for name in generated_names(c):
        limit = LIMIT_BY_NAME[(name.type, name.attribute)]
        if limit.max_length is None or len(name.value) <= limit.max_length:
            continue
        # The room this value has here: the limit minus what the code puts around it.
        room = limit.max_length - (len(name.value) - len(name.part))
        key = (name.field, name.part)
        if key not in worst or room < worst[key][0]:
            worst[key] = (room, name, limit)
    problems = []
    for (field, part), (room, name, limit) in worst.items():
        what = _NOUNS[field.split(".")[0] if field != "storage.surfaces" else field]
        problems.append((field, f"'{part}' makes the {name.type}.{name.attribute} "
                                f"'{name.value}' {len(name.value)} characters, over the "
                                f"{limit.max_length} AWS allows ({limit.page}); here {what} may "
                                f"be at most {max(room, 0)} characters"))
    return problems
