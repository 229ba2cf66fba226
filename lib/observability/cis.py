"""The CIS AWS Foundations Benchmark's CloudWatch controls, as data: one CloudTrail metric filter
pattern and one alarm per control, as AWS Security Hub checks them.

Source: AWS Security Hub User Guide, "Security Hub controls for Amazon CloudWatch",
[CloudWatch.1] to [CloudWatch.14], the remediation of each: the filter pattern to paste, the
`LogMetrics` namespace, metric value 1, and an alarm at >= 1 that notifies an SNS topic. Security
Hub checks the exact patterns ("Additional fields or terms cannot be added to the metric
filters"), so they are copied character for character; do not reformat them.
"""

from dataclasses import dataclass

NAMESPACE = "LogMetrics"  # the namespace the remediation steps name for every CIS metric


@dataclass(frozen=True)
class CisControl:
    control: str  # the Security Hub control id, e.g. "CloudWatch.1"
    name: str  # a slug: names the metric filter, the metric and the alarm
    title: str  # what the control asks for, as Security Hub words it
    pattern: str  # the CloudWatch Logs filter pattern, exactly as documented


CONTROLS: tuple[CisControl, ...] = (
    CisControl("CloudWatch.1", "root-user", 'Usage of the "root" user',
               '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && '
               '$.eventType !="AwsServiceEvent"}'),
    CisControl("CloudWatch.2", "unauthorized-api-calls", "Unauthorized API calls",
               '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}'),
    CisControl("CloudWatch.3", "console-sign-in-without-mfa",
               "Management Console sign-in without MFA",
               '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
               '($.userIdentity.type = "IAMUser") && '
               '($.responseElements.ConsoleLogin = "Success") }'),
    CisControl("CloudWatch.4", "iam-policy-changes", "IAM policy changes",
               "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || "
               "($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || "
               "($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || "
               "($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || "
               "($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || "
               "($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || "
               "($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || "
               "($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}"),
    CisControl("CloudWatch.5", "cloudtrail-changes", "CloudTrail configuration changes",
               "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || "
               "($.eventName=DeleteTrail) || ($.eventName=StartLogging) || "
               "($.eventName=StopLogging)}"),
    CisControl("CloudWatch.6", "console-authentication-failures",
               "AWS Management Console authentication failures",
               '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}'),
    CisControl("CloudWatch.7", "kms-key-disabled-or-deleted",
               "Disabling or scheduled deletion of customer managed keys",
               "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || "
               "($.eventName=ScheduleKeyDeletion))}"),
    CisControl("CloudWatch.8", "s3-bucket-policy-changes", "S3 bucket policy changes",
               "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || "
               "($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || "
               "($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
               "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || "
               "($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}"),
    CisControl("CloudWatch.9", "config-changes", "AWS Config configuration changes",
               "{($.eventSource=config.amazonaws.com) && "
               "(($.eventName=StopConfigurationRecorder) || "
               "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
               "($.eventName=PutConfigurationRecorder))}"),
    CisControl("CloudWatch.10", "security-group-changes", "Security group changes",
               "{($.eventName=AuthorizeSecurityGroupIngress) || "
               "($.eventName=AuthorizeSecurityGroupEgress) || "
               "($.eventName=RevokeSecurityGroupIngress) || "
               "($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || "
               "($.eventName=DeleteSecurityGroup)}"),
    CisControl("CloudWatch.11", "nacl-changes", "Changes to Network Access Control Lists (NACL)",
               "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || "
               "($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || "
               "($.eventName=ReplaceNetworkAclEntry) || "
               "($.eventName=ReplaceNetworkAclAssociation)}"),
    CisControl("CloudWatch.12", "network-gateway-changes", "Changes to network gateways",
               "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
               "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
               "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}"),
    CisControl("CloudWatch.13", "route-table-changes", "Route table changes",
               "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || "
               "($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || "
               "($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || "
               "($.eventName=DisassociateRouteTable)}"),
    CisControl("CloudWatch.14", "vpc-changes", "VPC changes",
               "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || "
               "($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || "
               "($.eventName=CreateVpcPeeringConnection) || "
               "($.eventName=DeleteVpcPeeringConnection) || "
               "($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || "
               "($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || "
               "($.eventName=EnableVpcClassicLink)}"),
)
