"""The reviewed allow-lists of tests/policy_documents.py: what its rules let through, each
entry with the AWS documentation page or the design reason that makes it necessary. An entry
no statement needs any more fails the test (tests/test_policy_documents.py)."""

from dataclasses import dataclass

# Services a role of the platform may trust, each as its guide documents that role.
TRUSTED_SERVICES = {
    "ecs-tasks.amazonaws.com": "ECS Developer Guide, 'Amazon ECS task IAM role'",
    "lambda.amazonaws.com": "Lambda Developer Guide, 'Defining Lambda function permissions "
                            "with an execution role'",
    "ec2.amazonaws.com": "EC2 User Guide, 'IAM roles for Amazon EC2' (NAT and ECS instances)",
    "monitoring.rds.amazonaws.com": "RDS User Guide, 'Setting up and enabling Enhanced "
                                    "Monitoring'",
    "rds.amazonaws.com": "RDS User Guide, 'Setting up IAM authentication for RDS Proxy' (the "
                         "proxy's role, which reads its database secret: lib/data/proxy.py)",
    "vpc-flow-logs.amazonaws.com": "VPC User Guide, 'IAM role for publishing flow logs to "
                                   "CloudWatch Logs'",
    "scheduler.amazonaws.com": "EventBridge Scheduler User Guide, 'Set up the execution role'",
    "events.amazonaws.com": "EventBridge User Guide, 'Sending and receiving events between AWS "
                            "Regions' (GuardDuty findings to the home region)",
    "build.apprunner.amazonaws.com": "App Runner Developer Guide, 'Roles for App Runner'",
    "tasks.apprunner.amazonaws.com": "App Runner Developer Guide, 'Roles for App Runner'",
    "config.amazonaws.com": "AWS Config Developer Guide, 'Permissions for the IAM role "
                            "assigned to AWS Config'",
    "cloudtrail.amazonaws.com": "CloudTrail User Guide, 'Sending events to CloudWatch Logs'",
    "chatbot.amazonaws.com": "AWS Chatbot Administrator Guide, 'IAM policies for AWS Chatbot' "
                             "(a topic's Slack channel, lib/observability/chatbot.py)",
}
# The Elastic Load Balancing account that writes a region's access logs, for regions opened
# before August 2022 (ALB User Guide, "Enable access logs for your Application Load Balancer").
ELB_LOG_ACCOUNTS = {"us-east-1": "127311923021"}


@dataclass(frozen=True)
class PrincipalException:
    """An Allow statement R1 lets through as it stands: type, Sid, principal, actions, condition
    and resources must all be exactly these ({account} is the stack's, {elb} ELB_LOG_ACCOUNTS')."""

    type: str
    sid: str | None
    principal: str  # "Kind:value"
    actions: str  # space-separated
    why: str
    condition: str = ""  # JSON
    resource: str = "*"  # fnmatch over every Resource


EXCEPTIONS = (
    PrincipalException(
        "aws_sns_topic_policy", "TheAccountsOwnPrincipals", "AWS:*",
        "SNS:GetTopicAttributes SNS:SetTopicAttributes SNS:AddPermission SNS:RemovePermission "
        "SNS:DeleteTopic SNS:Subscribe SNS:ListSubscriptionsByTopic SNS:Publish",
        "the policy SNS gives every new topic (SNS Developer Guide, 'Example cases for Amazon "
        "SNS access control'); AWS:SourceOwner, which AWS sets, holds it to the account's own "
        "resources, e.g. its CloudWatch alarms",
        condition='{"StringEquals": {"AWS:SourceOwner": "{account}"}}'),
    PrincipalException(
        "aws_sns_topic_policy", "EventBridgeRulesPublish", "Service:events.amazonaws.com",
        "sns:Publish", "EventBridge User Guide, 'Amazon SNS permissions': Condition blocks "
        "cannot be used in SNS topic policies for EventBridge"),
    PrincipalException(
        "aws_s3_bucket_policy", "LoadBalancerAccessLogs", "AWS:arn:aws:iam::{elb}:root",
        "s3:PutObject", "the region's Elastic Load Balancing account writes ALB access logs "
        "(ALB User Guide, 'Enable access logs for your Application Load Balancer')",
        resource="arn:aws:s3:::*/AWSLogs/{account}/*"),
    PrincipalException(
        "aws_iam_role", None, "Service:cloudtrail.amazonaws.com", "sts:AssumeRole",
        "CloudTrail User Guide, 'Sending events to CloudWatch Logs': the documented trust "
        "carries no condition; the role only appends to the trail's streams"),
    PrincipalException(
        "aws_iam_role", None, "Service:chatbot.amazonaws.com", "sts:AssumeRole",
        "AWS Chatbot Administrator Guide, 'IAM policies for AWS Chatbot': the documented channel "
        "role trust carries no condition and Chatbot documents no source key on its AssumeRole "
        "(one it does not send would drop every notification); the role only reads CloudWatch "
        "and the channel guardrail caps it at CloudWatchReadOnlyAccess"),
)


@dataclass(frozen=True)
class WildcardGrant:
    """A statement whose wildcards are reviewed: where (resource type, construct path pattern,
    Sid), exactly which patterns, and what keeps it narrow (`scope`)."""

    type: str
    path: str
    sid: str
    patterns: frozenset
    scope: str  # "names": every Resource names the environment; "tags": a Condition does;
    # "root": a key policy statement of the account root; "boundary": a permissions boundary
    why: str


def _grant(path: str, sid: str, patterns: str, scope: str, why: str) -> WildcardGrant:
    return WildcardGrant("aws_iam_policy", path, sid, frozenset(patterns.split()), scope, why)


NAMED = ("delivery-*/deploy-named: the deploy role owns the environment's <project>-<env>-* "
         "resources (lib/delivery/policies.py, 1. Names; README 'Delivery'); the guardrails "
         "deny the delivery principals and require the boundary")
TAGGED = ("delivery-*/deploy-tagged: services whose resources have ids, not names, granted "
          "where the Project and Environment tags are the environment's (lib/delivery/policies.py,"
          " 2. Tags); tests/test_isolation.py evaluates every action of them")
WILDCARD_GRANTS = (
    WildcardGrant("aws_kms_key", "*", "AccountAdministersTheKeyThroughIam",
                  frozenset({"kms:*"}), "root",
                  "AWS KMS Developer Guide, 'Default key policy': kms:* for the account root "
                  "lets IAM policies decide who uses the key"),
    WildcardGrant("aws_iam_policy", "delivery-*/boundary", "NoIamNoKeyAdministration",
                  frozenset({"NotAction"}), "boundary",
                  "IAM User Guide, 'Permissions boundaries for IAM entities': a boundary grants "
                  "nothing, it caps; NotAction is what it takes away"),
    _grant("delivery-*/deploy-named", "NamedIamRoles",
           "iam:*Role* iam:*Policy* iam:*InstanceProfile*", "names", NAMED),
    *(_grant("delivery-*/deploy-named", sid, patterns, "names", NAMED) for sid, patterns in (
        ("NamedBuckets", "s3:*"), ("NamedRepositories", "ecr:*"),
        ("NamedQueuesTopics", "sqs:* sns:*"), ("NamedFunctions", "lambda:*"),
        ("NamedChatConfigurations", "chatbot:*"),
        ("NamedLogGroups", "logs:*"), ("NamedSecrets", "secretsmanager:*"),
        ("NamedEcs", "ecs:*"), ("NamedDatabases", "rds:*"), ("NamedCaches", "elasticache:*"),
        ("NamedLoadBalancers", "elasticloadbalancing:*"),
        ("NamedEdge", "apprunner:* autoscaling:* wafv2:*"))),
    _grant("delivery-*/deploy-tagged", "OwnOrNewResourcesByTag",
           "ec2:* elasticloadbalancing:* apigateway:* cognito-idp:* acm:* wafv2:* cloudfront:* "
           "cloudwatch:* application-autoscaling:* autoscaling:* scheduler:* apprunner:* logs:*",
           "tags", TAGGED),
    _grant("delivery-*/deploy-tagged", "AccountWide", "ec2:Create* apigateway:Create*", "tags",
           TAGGED + "; creates of new resources, which the tag conditions name"),
    _grant("delivery-*/deploy-tagged", "OwnKeysOnly", "kms:*", "tags",
           "the environment's keys by alias (kms:ResourceAliases)"),
    _grant("delivery-*/deploy-tagged", "OwnKeysByTag", "kms:*", "tags",
           "the environment's keys by tag, before their alias exists"),
)

# AWS managed policies a stack attaches: their documents are not in the JSON, so each is
# reviewed here.
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/ReadOnlyAccess":
        "the plan roles; tests/test_plan_read_only.py evaluates every action of a pinned copy",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore":
        "Session Manager on the platform's instances (Systems Manager User Guide, 'Configure "
        "instance permissions for Systems Manager')",
    "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole":
        "AWS Config Developer Guide, 'Permissions for the IAM role assigned to AWS Config'",
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role":
        "ECS Developer Guide, 'Amazon ECS container instance IAM role'",
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole":
        "RDS User Guide, 'Setting up and enabling Enhanced Monitoring'",
}
