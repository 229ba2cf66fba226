"""WAFv2 web ACLs: AWS managed rule groups plus a per-IP rate limit."""

from dataclasses import dataclass
from typing import Literal

from lib.core.cdk import TerraformProvider
from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming

MANAGED_RULE_GROUPS = (  # (priority, name): common exploits, known bad inputs, bad IPs
    (10, "AWSManagedRulesCommonRuleSet"),
    (20, "AWSManagedRulesKnownBadInputsRuleSet"),
    (30, "AWSManagedRulesAmazonIpReputationList"),
)


@dataclass(frozen=True)
class WebAclProps:
    naming: Naming
    scope: Literal["CLOUDFRONT", "REGIONAL"]
    rate_limit: int  # requests per 5 minutes per IP before blocking
    log_key_arn: str | None  # None: the log group uses AWS-managed encryption
    log_retention_days: int
    provider: TerraformProvider | None = None  # CLOUDFRONT-scope ACLs live in us-east-1


class WebAcl(Construct):
    """A web ACL that allows by default and blocks what the AWS managed rule groups (common rule
    set, known bad inputs, IP reputation) match and any IP above `rate_limit` requests in 5
    minutes. Every rule emits metrics and samples; requests are logged to a KMS-encrypted log
    group (`aws-waf-logs-...`, the prefix WAF requires).

    Outputs: `arn`.
    """

    def __init__(self, scope: Construct, id: str, props: WebAclProps):
        super().__init__(scope, id)
        n, waf = props.naming, aws.wafv2_web_acl
        name = n.name("waf", props.scope.lower())

        def visibility(metric: str):
            return waf.Wafv2WebAclRuleVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True)

        rules = [waf.Wafv2WebAclRule(
            name=group, priority=priority, visibility_config=visibility(group),
            override_action=waf.Wafv2WebAclRuleOverrideAction(
                none=waf.Wafv2WebAclRuleOverrideActionNone()),
            # The statement block is untyped in the bindings (too deep): Terraform's own keys.
            statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}})
            for priority, group in MANAGED_RULE_GROUPS]
        rules.append(waf.Wafv2WebAclRule(
            name="rate-limit-per-ip", priority=100, visibility_config=visibility("RateLimit"),
            action=waf.Wafv2WebAclRuleAction(block=waf.Wafv2WebAclRuleActionBlock()),
            statement={"rate_based_statement": {"limit": props.rate_limit,
                                                "aggregate_key_type": "IP"}}))
        acl = waf.Wafv2WebAcl(
            self, "acl", name=name, scope=props.scope,
            default_action=waf.Wafv2WebAclDefaultAction(allow=waf.Wafv2WebAclDefaultActionAllow()),
            rule=rules, visibility_config=waf.Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True),
            provider=props.provider, tags=n.tags("waf", props.scope.lower()))
        self.arn: str = acl.arn
        logs = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "logs", name=f"aws-waf-logs-{name}", retention_in_days=props.log_retention_days,
            kms_key_id=props.log_key_arn, provider=props.provider, tags=n.tags("waf", "logs"))
        aws.wafv2_web_acl_logging_configuration.Wafv2WebAclLoggingConfiguration(
            self, "logging", resource_arn=self.arn, log_destination_configs=[logs.arn],
            provider=props.provider)


@dataclass(frozen=True)
class EdgeProtectionProps:
    naming: Naming
    rate_limit: int  # requests per 5 minutes per IP, for every ACL
    log_key_arn: str  # the logs key, in the stack's region
    log_retention_days: int
    load_balancer_arn: str | None  # protected by a REGIONAL ACL; None: no load balancer
    # Where CLOUDFRONT-scope ACLs must live (us-east-1); None: no distribution to protect.
    cloudfront_provider: TerraformProvider | None


def protect_edge(scope: Construct, props: EdgeProtectionProps) -> str | None:
    """A REGIONAL web ACL associated with the load balancer (`waf-regional`, `waf-alb`) and a
    CLOUDFRONT-scope one for the distributions (`waf-cloudfront`), in the caller's scope. Returns
    the CloudFront ACL's ARN (None without one), which each distribution names.

    A log group can only use a KMS key of its own region: the CloudFront ACL's log group is in
    us-east-1, so it gets the customer logs key only where the stack is in us-east-1 too (AWS
    managed encryption otherwise)."""
    def acl(scope_: Literal["CLOUDFRONT", "REGIONAL"], provider=None) -> WebAcl:
        same_region = scope_ == "REGIONAL" or props.naming.region == "us-east-1"
        return WebAcl(scope, f"waf-{scope_.lower()}", WebAclProps(
            naming=props.naming, scope=scope_, rate_limit=props.rate_limit,
            log_key_arn=props.log_key_arn if same_region else None,
            log_retention_days=props.log_retention_days, provider=provider))

    if props.load_balancer_arn is not None:
        aws.wafv2_web_acl_association.Wafv2WebAclAssociation(
            scope, "waf-alb", resource_arn=props.load_balancer_arn,
            web_acl_arn=acl("REGIONAL").arn)
    if props.cloudfront_provider is None:
        return None
    return acl("CLOUDFRONT", props.cloudfront_provider).arn
