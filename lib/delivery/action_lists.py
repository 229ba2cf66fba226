"""The action and service lists the environment policies (lib/delivery/policies.py) are built
from: what a deploy may pass roles to, which services are scoped by tag, and which writes AWS
cannot scope at all (and so are left out, or granted on "*" with the reason)."""

# The only services a deploy may hand one of the environment's roles to: the ones lib/ creates
# roles for (ECS tasks, Lambda, EC2 capacity, RDS monitoring and RDS Proxy, flow logs,
# schedules, App Runner).
# Where it is unclear which name a service checks (RDS monitoring, instances that Auto Scaling
# launches, App Runner), each candidate is listed.
PASSED_TO_SERVICES = sorted({
    "ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com",
    "autoscaling.amazonaws.com", "monitoring.rds.amazonaws.com", "rds.amazonaws.com",
    "vpc-flow-logs.amazonaws.com", "scheduler.amazonaws.com", "apprunner.amazonaws.com",
    "build.apprunner.amazonaws.com", "tasks.apprunner.amazonaws.com", "chatbot.amazonaws.com"})

# Public SSM parameters EC2 resolves `resolve:ssm:` image ids from (lib/network/vpc.py NAT instance,
# lib/compute/cluster.py capacity): the resolution runs with the caller's ssm:GetParameters.
PUBLIC_AMI_PARAMETERS = ("/aws/service/ami-amazon-linux-latest/*",
                         "/aws/service/ecs/optimized-ami/*")

# Services whose resources are named by id, not by name: granted by tag (see the module doc).
TAGGED_SERVICES = ("ec2", "elasticloadbalancing", "apigateway", "cognito-idp", "acm", "wafv2",
                   "cloudfront", "cloudwatch", "application-autoscaling", "autoscaling",
                   "scheduler", "apprunner", "logs")

# Writes on resources that have ids, not names, and that AWS cannot scope by tag: granting them
# would reach every environment's. A change to one of these (static in lib/edge/cdn.py) or
# destroying an environment's CloudFront distribution needs the account's administrator.
UNSCOPABLE_WRITES = (
    "cloudfront:UpdateOriginAccessControl", "cloudfront:DeleteOriginAccessControl",
    "cloudfront:UpdateResponseHeadersPolicy", "cloudfront:DeleteResponseHeadersPolicy",
    "cloudfront:UpdateCachePolicy", "cloudfront:DeleteCachePolicy",
    "cloudfront:UpdateOriginRequestPolicy", "cloudfront:DeleteOriginRequestPolicy",
    "cloudfront:UpdateKeyGroup", "cloudfront:DeleteKeyGroup", "cloudfront:UpdatePublicKey",
    "cloudfront:DeletePublicKey", "cloudfront:UpdateCloudFrontOriginAccessIdentity",
    "cloudfront:DeleteCloudFrontOriginAccessIdentity", "cloudfront:*FieldLevelEncryption*",
    "cloudfront:*ContinuousDeploymentPolicy", "cloudfront:*RealtimeLogConfig",
    "cloudfront:*KeyValueStore", "cloudfront:*MonitoringSubscription",
    "cloudfront:*StreamingDistribution*", "cloudfront:*SavingsPlan",
    "cloudwatch:PutMetricData", "cloudwatch:*AnomalyDetector", "cloudwatch:Link",
    "cloudwatch:EnableTopologyDiscovery", "wafv2:*APIKey",
    "wafv2:UpdateManagedRuleSetVersionExpiryDate", "wafv2:PutManagedRuleSetVersions",
    "acm:PutAccountConfiguration", "autoscaling:*LaunchConfiguration",
    "ec2:*EnclaveCertificateIamRole")


# Writes AWS authorizes on "*" only that a deploy needs, and what they could do to another
# environment (README "Security" lists them): vended log deliveries (API access logs, Redis logs,
# WAF logs) add their service to the account's log resource policy on first use, and ElastiCache
# manages its log deliveries with the caller's rights (another environment's could be switched
# off); a deregistered task definition revision keeps running where it runs.
ACCOUNT_WIDE_WRITES = ("logs:PutResourcePolicy", "logs:CreateLogDelivery",
                       "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                       "ecs:DeregisterTaskDefinition")
