"""Everything the local target (a moto emulator on 127.0.0.1) needs that real AWS does not: one
place, applied as a CDKTF Aspect only when PLATFORM_TARGET=local, so the constructs stay written
for real AWS. Each adjustment names the emulator gap it works around (README, "Local deploy").
"""

from dataclasses import replace

import jsii
from lib.core.cdk import IAspect, TerraformResource
from constructs import IConstruct

from lib.core import aws
from lib.core.access import CacheAccess, DatabaseAccess
from lib.compute.container_service import BACKLOG_ALARM_IDS

# Resource types moto does not implement (its API answers 500): not created locally.
NOT_EMULATED = {
    "aws_elasticache_parameter_group": "CreateCacheParameterGroup is not implemented",
    "aws_elasticache_user_group": "CreateUserGroup is not implemented",
    "aws_elasticache_replication_group": "CreateReplicationGroup is not implemented",
    "aws_elasticache_serverless_cache": "CreateServerlessCache is not implemented",
    "aws_elasticache_subnet_group": "DeleteCacheSubnetGroup is not implemented (destroy fails)",
    "aws_s3_bucket_logging": "PutBucketLogging fails on a bucket-owner-enforced target",
    "aws_appautoscaling_target": "ListTagsForResource is not implemented",
    "aws_appautoscaling_policy": "its scalable target is not created",
    "aws_cloudfront_response_headers_policy": "CreateResponseHeadersPolicy answers 404",
    "aws_cloudfront_function": "CloudFront Functions are not implemented",
    "aws_chatbot_slack_channel_configuration": "AWS Chatbot is not implemented",
    # moto reports a distribution's ARN without the empty region field
    # (arn:aws:cloudfront:<account>:distribution/...), which the provider refuses as a source.
    "aws_cloudwatch_log_delivery_source": "its CloudFront distribution ARN is malformed",
    "aws_cloudwatch_log_delivery": "its delivery source is not created",
    "aws_apprunner_service": "App Runner is not implemented (the API answers 500)",
    "aws_apprunner_vpc_connector": "App Runner is not implemented",
    "aws_apprunner_auto_scaling_configuration_version": "App Runner is not implemented",
    "aws_lambda_provisioned_concurrency_config": "provisioned concurrency is not implemented",
    "aws_db_instance_automated_backups_replication":
        "StartDBInstanceAutomatedBackupsReplication is not implemented",
    "aws_ec2_client_vpn_endpoint": "CreateClientVpnEndpoint is not implemented",
    "aws_ec2_client_vpn_network_association": "its Client VPN endpoint is not created",
    "aws_ec2_client_vpn_authorization_rule": "its Client VPN endpoint is not created",
}
# Inside a resource that is not created, references to other resources that are not created are
# still checked by Terraform: they get inert literals.
DANGLING_REFERENCES = {
    "aws_appautoscaling_policy": {"resource_id": "service/none/none",
                                  "scalable_dimension": "ecs:service:DesiredCount"},
    "aws_elasticache_replication_group": {"parameter_group_name": "none",
                                          "subnet_group_name": "none"},
    "aws_cloudwatch_log_delivery": {"delivery_source_name": "none"},
    "aws_ec2_client_vpn_network_association": {"client_vpn_endpoint_id": "none"},
    "aws_ec2_client_vpn_authorization_rule": {"client_vpn_endpoint_id": "none"},
    # Well-formed ARNs: the provider checks their shape even on a resource it does not create.
    "aws_apprunner_service": {
        "auto_scaling_configuration_arn":
            "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/none/1/none",
        "network_configuration.egress_configuration.vpc_connector_arn":
            "arn:aws:apprunner:us-east-1:123456789012:vpcconnector/none/1/none"},
}
# Deletion protection, off locally whatever the file says: the cycle's destroy is part of what it
# proves, protection would stop it halfway (prod, or a preset copied into dev), and an emulator
# that is thrown away afterwards holds nothing to protect. tools/deploy_local.py says so on the
# destroy line; the stacks leave prevent_destroy out for this target for the same reason.
PROTECTED = {
    "aws_db_instance": ("deletion_protection", False),
    "aws_lb": ("enable_deletion_protection", False),
    "aws_cognito_user_pool": ("deletion_protection", "INACTIVE"),
}
# Attributes the emulator reports back differently from what was sent: ignored locally so the
# second plan is empty.
DRIFTING = {
    "aws_db_parameter_group": ["parameter"],
    "aws_db_instance": ["performance_insights_enabled", "performance_insights_kms_key_id",
                        "performance_insights_retention_period",
                        # enhanced monitoring comes back as off
                        "monitoring_interval", "monitoring_role_arn"],
    "aws_sqs_queue": ["redrive_policy"],
    "aws_ecs_service": ["availability_zone_rebalancing", "enable_ecs_managed_tags",
                        "health_check_grace_period_seconds", "capacity_provider_strategy",
                        "deployment_controller"],
    "aws_cognito_user_pool": ["user_pool_tier"],
    # ...and an image function with an image_config it was not sent (empty command, entry point),
    # and a function without the dead-letter queue it was sent (the PagerDuty relay's).
    "aws_lambda_function": ["kms_key_arn", "logging_config", "image_config",
                            "dead_letter_config"],
    "aws_vpc_security_group_ingress_rule": ["description", "referenced_security_group_id"],
    "aws_vpc_security_group_egress_rule": ["description", "referenced_security_group_id"],
    # The origin access control id comes back empty; each behaviour comes back with legacy
    # forwarded_values it was not sent; the viewer certificate without its ssl_support_method.
    "aws_cloudfront_distribution": ["origin", "default_cache_behavior", "ordered_cache_behavior",
                                    "viewer_certificate"],
    # The NAT instance's launch template: moto re-encodes the template's user data on the
    # instance and reports the template's own tag specification.
    "aws_instance": ["user_data"],
    "aws_launch_template": ["tag_specifications"],
}


@jsii.implements(IAspect)
class LocalEmulatorAdjustments:
    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource):
            return
        kind = node.terraform_resource_type
        if kind in NOT_EMULATED:
            node.add_override("count", 0)
            for attribute, literal in DANGLING_REFERENCES.get(kind, {}).items():
                node.add_override(attribute, literal)
        if kind in DRIFTING:
            # Appended to the construct's own ignore_changes (cdktf merges lists by appending).
            node.add_override("lifecycle.ignore_changes", DRIFTING[kind])
        if isinstance(node, aws.db_instance.DbInstance):
            # moto treats adjacent windows (backup ending when maintenance starts) as
            # overlapping; real RDS accepts them.
            node.add_override("backup_window", "02:00-03:00")
            if node.replicate_source_db_input:
                # moto copies the primary for a read replica and leaves the primary's
                # identifier on the copy, so the replica is never found by its own: not
                # created locally.
                node.add_override("count", 0)
        if isinstance(node, aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm) and \
                node.node.id in BACKLOG_ALARM_IDS:
            # A queue worker's scaling alarm: its scaling policy is not created (above).
            node.add_override("alarm_actions", None)
        if isinstance(node, aws.cloudfront_distribution.CloudfrontDistribution):
            # Its response-headers policy and SPA-rewrite function are not created (above).
            self._without_headers_policy(node)
            node.add_override("default_cache_behavior.function_association", None)
        if isinstance(node, aws.ecs_service.EcsService):
            # moto runs no task: a service reports 0 running of its desired count (unless
            # MOTO_ECS_SERVICE_RUNNING says otherwise), so a wait for steady state never ends.
            node.add_override("wait_for_steady_state", False)
        if isinstance(node, aws.subnet.Subnet):
            # moto answers 500 while Terraform waits on a subnet's IPv6 CIDR association: the
            # public subnets stay IPv4-only locally (the VPC keeps its IPv6 block and routes).
            node.add_override("ipv6_cidr_block", None)
            node.add_override("assign_ipv6_address_on_creation", None)
        if kind in PROTECTED:
            attribute, off = PROTECTED[kind]
            node.add_override(attribute, off)

    @staticmethod
    def _without_headers_policy(distribution) -> None:
        """Every cache behaviour of `distribution` without its response-headers policy."""
        body = distribution.to_terraform()["resource"][distribution.terraform_resource_type][
            distribution.friendly_unique_id]
        distribution.add_override("default_cache_behavior.response_headers_policy_id", None)
        for index, _ in enumerate(body.get("ordered_cache_behavior") or []):
            distribution.add_override(
                f"ordered_cache_behavior.{index}.response_headers_policy_id", None)


def cache_stand_in(naming, port: int, serverless: bool = False):
    """What services are told about the cache locally, where neither the replication group nor
    the serverless cache is created: the names it would have, an endpoint that resolves
    nowhere."""
    name = naming.name("valkey" if serverless else "redis")
    kind = "serverlesscache" if serverless else "replicationgroup"
    return CacheAccess(endpoint=f"{name}.local.invalid", port=port,
                       user_name=naming.name("app"), name=name, serverless=serverless,
                       cache_arn=naming.arn("elasticache", f"{kind}:{name}"),
                       user_arn=naming.arn("elasticache", f"user:{naming.name('app')}"))


def database_without_replica(access: DatabaseAccess) -> DatabaseAccess:
    """What workloads are told about the database locally, where the read replica is not created
    (above): the primary alone, so nothing refers to the replica's address or resource id."""
    return replace(access, reader_endpoint=None, reader_user_arn=None)
