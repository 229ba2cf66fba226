"""A topic's messages to a Slack channel through AWS Chatbot (Amazon Q Developer in chat
applications), with a role that can only read CloudWatch."""

import json
from dataclasses import dataclass

from lib.core.cdk import TerraformProvider
from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming

# AWS Chatbot Administrator Guide, "Understanding AWS Chatbot permissions": the "Notification
# permissions" channel-role template, what Chatbot needs to render alarm notifications (the
# alarm, its metric graph) and nothing else.
NOTIFICATION_ACTIONS = ["cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"]
# The channel guardrail caps what anyone in the channel can do through Chatbot. Unset, Chatbot
# applies AdministratorAccess ("SlackChannelConfiguration", AWS Chatbot API Reference).
GUARDRAIL_POLICY = "policy/CloudWatchReadOnlyAccess"
# AWS Chatbot API Reference, "Welcome": the API answers in us-east-2, us-west-2, ap-southeast-1
# and eu-west-1 (none in us-east-1), the console in us-east-2 only, and a configuration is stored
# in every Region Chatbot runs in. The configuration is created in us-east-2, where the console
# that authorizes the workspace also is, whatever the topic's Region.
CHATBOT_REGION = "us-east-2"
# AWS CDK's aws_chatbot module ("Log Group"): a Slack channel configuration writes to the log
# group /aws/chatbot/<configuration name> in us-east-1, which Chatbot creates on first use with
# no expiry and no key of ours unless it exists already.
LOG_REGION = "us-east-1"


@dataclass(frozen=True)
class SlackChannelProps:
    naming: Naming
    topic: str  # the topic's short name: names the configuration and its role
    topic_arn: str
    workspace_id: str  # T...: authorized once in the Chatbot console
    channel_id: str  # C... (G... for an older private channel)
    provider: TerraformProvider  # an AWS provider for CHATBOT_REGION
    log_retention_days: int
    # Where Chatbot writes its log group: us-east-1 (LOG_REGION); None: the stack's own provider,
    # when the stack is in us-east-1.
    log_provider: TerraformProvider | None
    log_key_arn: str | None  # the logs key when it is in LOG_REGION; None: AWS-managed encryption


class SlackChannel(Construct):
    """- The role `<project>-<env>-<topic>-chatbot` that only AWS Chatbot may assume, allowed to
      read CloudWatch (the notifications template) and nothing more.
    - The Slack channel configuration `<project>-<env>-<topic>`: the topic's messages are posted
      to the channel (Chatbot subscribes itself to the topic over HTTPS; SNS decrypts a message
      before it delivers it, so the topic's key needs no grant for Chatbot), with
      CloudWatchReadOnlyAccess as the channel guardrail and user roles off (nobody runs commands
      with their own role), logging errors only.
    - Its log group `/aws/chatbot/<project>-<env>-<topic>` in us-east-1, created before the
      configuration so that Chatbot writes into it: kept `log_retention_days`, encrypted with
      `log_key_arn` where given (the errors say why a message did not reach Slack).

    Outputs: `configuration_arn`, `role_arn`.
    """

    def __init__(self, scope: Construct, id: str, props: SlackChannelProps):
        super().__init__(scope, id)
        n = props.naming
        name = n.name(props.topic, "chatbot")
        # AWS Chatbot Administrator Guide, "IAM policies for AWS Chatbot": the channel role
        # trusts chatbot.amazonaws.com; Chatbot documents no aws:SourceAccount or aws:SourceArn
        # on its AssumeRole, and a condition it does not meet would drop every notification.
        role = aws.iam_role.IamRole(
            self, "role", name=name,
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "chatbot.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}),
            tags=n.tags(props.topic, "chatbot"))
        aws.iam_role_policy.IamRolePolicy(
            self, "role-policy", role=role.id, name="notifications",
            policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "ReadAlarmsForNotifications", "Effect": "Allow",
                "Action": NOTIFICATION_ACTIONS, "Resource": "*"}]}))
        self.role_arn: str = role.arn
        logs = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "logs", name=f"/aws/chatbot/{n.name(props.topic)}",
            retention_in_days=props.log_retention_days, kms_key_id=props.log_key_arn,
            provider=props.log_provider, tags=n.tags(props.topic, "chatbot"))
        configuration = aws.chatbot_slack_channel_configuration.ChatbotSlackChannelConfiguration(
            self, "configuration", configuration_name=n.name(props.topic), depends_on=[logs],
            iam_role_arn=self.role_arn, slack_team_id=props.workspace_id,
            slack_channel_id=props.channel_id, sns_topic_arns=[props.topic_arn],
            guardrail_policy_arns=[f"arn:{n.partition}:iam::aws:{GUARDRAIL_POLICY}"],
            user_authorization_required=False, logging_level="ERROR",
            provider=props.provider, tags=n.tags(props.topic))
        self.configuration_arn: str = configuration.chat_configuration_arn
