"""The one place that imports the prebuilt AWS provider bindings: cdktf-cdktf-provider-aws, or
cdktn-provider-aws when the project is built with CDK Terrain (lib/core/cdk.py decides which).

Why: the documented import style, ``from cdktf_cdktf_provider_aws.vpc import Vpc``, costs about
13 s of every synth and every test process on a 2-core machine, twice over:
- Python: the package ``__init__`` imports all ~2,100 resource submodules (~11 s). This module
  registers the package without running its ``__init__``, loads its jsii assembly, and imports just
  the submodules listed at the bottom.
- Node.js: loading the assembly into the jsii kernel runs the npm package's ``lib/index.js``, which
  requires all ~2,100 JavaScript modules (~2.3 s). ``aws_lazy_index.js`` (preloaded into the kernel
  by ``lib/__init__.py``) turns that index's exports into getters that load on first use.

The fork's Python package is lazy itself (its ``__init__`` imports a submodule on first use),
its npm package is not: ``aws_lazy_index.js`` handles both packages' index styles.

Use it as ``from lib.core import aws`` and then ``aws.vpc.Vpc(...)``: the same classes and the same
synthesized JSON (``tests/test_fast_import.py`` proves the output is byte-identical to the
documented style; ``make bench`` measures both).

Reading a resource's attribute (``bucket.id``, ``role.arn``) is a round trip to the jsii kernel, as
is creating a resource, so constructs read each attribute once and reuse the value.

To use another resource type, add its submodule name (the package's module name, e.g.
``s3_bucket``) to the import list at the bottom of this file.
"""

import importlib
import importlib.util
import sys

from lib.core import cdk

_PACKAGE = cdk.BINDINGS


def _register_package_without_init() -> None:
    """Put an un-executed module object for the package into ``sys.modules``.

    If the package was already imported the documented way (its ``__init__`` ran), it is left
    alone, so both styles can share one process.
    """
    if _PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None:
        raise ImportError(f"{_PACKAGE} is not installed; run `make install`")
    sys.modules[_PACKAGE] = importlib.util.module_from_spec(spec)
    # The assembly must be loaded into the jsii kernel before any submodule defines its classes.
    importlib.import_module(f"{_PACKAGE}._jsii")


_register_package_without_init()

# Each name is a submodule of the bindings package; importing it loads only that one.
SUBMODULES = (
    "acm_certificate",
    "acm_certificate_validation",
    "apigatewayv2_api",
    "apigatewayv2_api_mapping",
    "apigatewayv2_domain_name",
    "apigatewayv2_integration",
    "apigatewayv2_route",
    "apigatewayv2_stage",
    "appautoscaling_policy",
    "appautoscaling_target",
    "apprunner_auto_scaling_configuration_version",
    "apprunner_service",
    "apprunner_vpc_connector",
    "autoscaling_group",
    "chatbot_slack_channel_configuration",
    "cloudfront_distribution",
    "cloudfront_function",
    "cloudfront_origin_access_control",
    "cloudfront_response_headers_policy",
    "cloudfront_vpc_origin",
    "cloudtrail",
    "cloudwatch_dashboard",
    "cloudwatch_event_rule",
    "cloudwatch_event_target",
    "cloudwatch_log_delivery",
    "cloudwatch_log_delivery_destination",
    "cloudwatch_log_delivery_source",
    "cloudwatch_log_group",
    "cloudwatch_log_metric_filter",
    "cloudwatch_metric_alarm",
    "cognito_user_pool",
    "cognito_user_pool_client",
    "cognito_user_pool_domain",
    "config_configuration_recorder",
    "config_configuration_recorder_status",
    "config_delivery_channel",
    "data_aws_availability_zone",
    "data_aws_security_group",
    "db_instance",
    "db_instance_automated_backups_replication",
    "db_parameter_group",
    "db_proxy",
    "db_proxy_default_target_group",
    "db_proxy_target",
    "db_subnet_group",
    "default_network_acl",
    "default_security_group",
    "dynamodb_table",
    "ec2_client_vpn_authorization_rule",
    "ec2_client_vpn_endpoint",
    "ec2_client_vpn_network_association",
    "ecr_lifecycle_policy",
    "ecr_repository",
    "ecr_repository_policy",
    "ecs_capacity_provider",
    "ecs_cluster",
    "ecs_cluster_capacity_providers",
    "ecs_service",
    "ecs_task_definition",
    "eip",
    "elasticache_parameter_group",
    "elasticache_replication_group",
    "elasticache_serverless_cache",
    "elasticache_subnet_group",
    "elasticache_user",
    "elasticache_user_group",
    "flow_log",
    "guardduty_detector",
    "guardduty_detector_feature",
    "iam_instance_profile",
    "iam_openid_connect_provider",
    "iam_policy",
    "iam_role",
    "iam_role_policy",
    "iam_role_policy_attachment",
    "instance",
    "internet_gateway",
    "kms_alias",
    "kms_key",
    "lambda_alias",
    "lambda_event_source_mapping",
    "lambda_function",
    "lambda_permission",
    "lambda_provisioned_concurrency_config",
    "launch_template",
    "lb",
    "lb_listener",
    "lb_listener_rule",
    "lb_target_group",
    "nat_gateway",
    "network_acl",
    "provider",
    "route",
    "route53_record",
    "route53_zone",
    "route_table",
    "route_table_association",
    "s3_bucket",
    "s3_bucket_cors_configuration",
    "s3_bucket_lifecycle_configuration",
    "s3_bucket_logging",
    "s3_bucket_object_lock_configuration",
    "s3_bucket_ownership_controls",
    "s3_bucket_policy",
    "s3_bucket_public_access_block",
    "s3_bucket_server_side_encryption_configuration",
    "s3_bucket_versioning",
    "scheduler_schedule",
    "secretsmanager_secret",
    "security_group",
    "sns_topic",
    "sns_topic_policy",
    "sns_topic_subscription",
    "sqs_queue",
    "sqs_queue_policy",
    "ssm_document",
    "subnet",
    "vpc",
    "vpc_endpoint",
    "vpc_security_group_egress_rule",
    "vpc_security_group_ingress_rule",
    "wafv2_web_acl",
    "wafv2_web_acl_association",
    "wafv2_web_acl_logging_configuration",
)
for _name in SUBMODULES:
    globals()[_name] = importlib.import_module(f"{_PACKAGE}.{_name}")
