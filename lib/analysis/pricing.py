"""The price side of the cost estimate: the dated price file (pricing/us-east-1.toml) and which
resource types cost nothing by themselves, or nothing inside a free allowance (lib/analysis/cost.py
prices the rest)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).resolve().parents[2] / "pricing" / "us-east-1.toml"

# Resource types AWS does not charge for by themselves (their cost, if any, is priced on the
# resource they configure, e.g. a listener on its load balancer).
FREE_TYPES = frozenset({
    "aws_vpc", "aws_subnet", "aws_route_table", "aws_route", "aws_route_table_association",
    "aws_internet_gateway", "aws_network_acl", "aws_default_network_acl",
    "aws_default_security_group", "aws_security_group", "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule", "aws_flow_log", "aws_iam_role", "aws_iam_role_policy",
    "aws_iam_role_policy_attachment", "aws_iam_policy", "aws_iam_instance_profile",
    "aws_iam_openid_connect_provider", "aws_kms_alias", "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_logging", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning", "aws_s3_bucket_cors_configuration", "aws_lb_listener",
    "aws_lb_listener_rule", "aws_lb_target_group", "aws_ecs_cluster_capacity_providers",
    "aws_ecs_capacity_provider", "aws_ecs_task_definition", "aws_appautoscaling_target",
    "aws_db_parameter_group", "aws_db_subnet_group",
    # An RDS Proxy is priced on its target (the instance's vCPUs): lib/analysis/cost.py.
    "aws_db_proxy", "aws_db_proxy_default_target_group",
    "aws_elasticache_parameter_group", "aws_elasticache_subnet_group", "aws_elasticache_user",
    "aws_elasticache_user_group", "aws_ecr_lifecycle_policy", "aws_apigatewayv2_integration",
    "aws_apigatewayv2_route", "aws_apigatewayv2_stage", "aws_apigatewayv2_domain_name",
    "aws_apigatewayv2_api_mapping", "aws_lambda_permission", "aws_lambda_event_source_mapping",
    "aws_lambda_alias", "aws_ecr_repository_policy",
    "aws_cognito_user_pool_client", "aws_cognito_user_pool_domain", "aws_acm_certificate",
    "aws_acm_certificate_validation", "aws_route53_record", "aws_cloudfront_origin_access_control",
    "aws_cloudfront_response_headers_policy", "aws_cloudwatch_log_delivery",
    "aws_cloudwatch_log_delivery_destination", "aws_cloudwatch_log_delivery_source",
    "aws_sqs_queue_policy", "aws_sns_topic_subscription", "aws_sns_topic_policy",
    "aws_wafv2_web_acl_association", "aws_wafv2_web_acl_logging_configuration",
    "aws_launch_template", "aws_apprunner_auto_scaling_configuration_version",
    "aws_apprunner_vpc_connector", "aws_ssm_document", "aws_config_delivery_channel",
    "aws_config_configuration_recorder_status", "aws_vpc_endpoint_route_table_association",
    "aws_cloudwatch_event_target", "aws_s3_bucket_object_lock_configuration",
    # "There is no additional cost for using VPC origins with CloudFront" ("Protecting your
    # origin (BP1, BP5)", AWS Best Practices for DDoS Resiliency); its network interfaces' private
    # addresses cost nothing either ("Restrict access with VPC origins", CloudFront Developer
    # Guide).
    "aws_cloudfront_vpc_origin",
    "aws_ec2_client_vpn_authorization_rule",
})
# Charged per request or GB with a monthly always-free allowance that a small platform stays
# inside: priced at $0 with that assumption stated, not silently dropped.
FREE_TIER_TYPES = {
    "aws_sqs_queue": "SQS queue (1M requests a month are free)",
    "aws_sns_topic": "SNS topic (1M publishes a month are free)",
    "aws_scheduler_schedule": "EventBridge Scheduler job (14M invocations a month are free)",
    "aws_cloudfront_distribution": "CloudFront distribution (no monthly fee; 1 TB out free)",
    "aws_cloudfront_function": "CloudFront Function (per invocation, $0.10 per million; 2M a "
                               "month are free)",
    "aws_dynamodb_table": "DynamoDB on-demand table (25 GB free; pennies of lock writes)",
    "aws_chatbot_slack_channel_configuration": "AWS Chatbot Slack channel (Chatbot itself is "
                                               "free; its HTTPS deliveries are the topic's)",
}

@dataclass(frozen=True)
class Prices:
    """The price file: `table` is its TOML content."""

    table: dict[str, Any]

    @property
    def hours(self) -> float:
        return float(self.table["hours_per_month"])

    @property
    def usage(self) -> dict[str, float]:
        return self.table["usage"]

    def __getitem__(self, dotted: str) -> Any:
        value: Any = self.table
        for part in dotted.split("."):
            value = value[part]
        return value

    def rate(self, table: str, key: str) -> float | None:
        """A price keyed by a name that contains dots, e.g. rate("rds.instance_hour",
        "db.t4g.micro"); None when the file has no price for it."""
        return self[table].get(key)


def load_prices(path: Path = PRICES_FILE) -> Prices:
    return Prices(tomllib.loads(path.read_text(encoding="utf-8")))

