"""Detection that reaches people: the account's alerts topic, the CIS CloudWatch alarms on the
trail's log group, GuardDuty findings of medium severity and above through EventBridge, detectors
in more regions, and GuardDuty Runtime Monitoring of ECS Fargate tasks."""

import json
from dataclasses import dataclass, field

from lib.core.cdk import TerraformProvider
from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming
from lib.observability.cis import CONTROLS, NAMESPACE

ALERTS = "alerts"
# GuardDuty User Guide, "Severity levels for GuardDuty findings": Medium is 4.0-6.9, High
# 7.0-8.9, Critical 9.0-10.0. EventBridge User Guide, "Content filtering in Amazon EventBridge
# event patterns": numeric matching.
MEDIUM_SEVERITY = 4
FINDINGS_PATTERN = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
                    "detail": {"severity": [{"numeric": [">=", MEDIUM_SEVERITY]}]}}


def alerts_topic_arn(naming: Naming) -> str:
    """The ARN the account's alerts topic will have: its key's policy names it before it exists."""
    return naming.arn("sns", naming.name(ALERTS))


@dataclass(frozen=True)
class OtherRegion:
    """A region besides the account's with a detector of its own."""

    region: str
    provider: TerraformProvider  # an aliased AWS provider for that region


@dataclass(frozen=True)
class DetectionProps:
    naming: Naming
    # Its policy lets cloudwatch.amazonaws.com and events.amazonaws.com publish to
    # `alerts_topic_arn(naming)` (EncryptionKey topic_publishers, topic_arns).
    topic_key_arn: str
    trail_log_group_name: str  # the trail's CloudWatch Logs group (Baseline)
    detector_id: str  # the account region's GuardDuty detector (Baseline)
    alert_emails: tuple[str, ...] = ()  # each confirms its subscription by mail
    runtime_monitoring: bool = False  # GuardDuty Runtime Monitoring, agent managed on ECS Fargate
    other_regions: tuple[OtherRegion, ...] = field(default_factory=tuple)


class Detection(Construct):
    """- The alerts topic `<project>-account-alerts`, encrypted with the topic key, its policy the
      one SNS gives a new topic plus EventBridge's publish, and an email subscription per
      address.
    - Per CIS CloudWatch control (lib/observability/cis.py): a metric filter on the trail's log
      group (namespace LogMetrics, value 1) and an alarm at >= 1 in 5 minutes to the topic.
    - An EventBridge rule for GuardDuty findings of severity >= 4 (medium and above) with the
      topic as its target.
    - Per other region: a detector and a rule forwarding the same findings to the account
      region's default event bus, where the rule above sends them on (one topic, one place).
    - With `runtime_monitoring`: RUNTIME_MONITORING with ECS_FARGATE_AGENT_MANAGEMENT on every
      detector.

    Outputs: `alerts_topic_arn`, `alarm_names`, `rule_names`.
    """

    def __init__(self, scope: Construct, id: str, props: DetectionProps):
        super().__init__(scope, id)
        n = props.naming
        topic = aws.sns_topic.SnsTopic(self, "alerts-topic", name=n.name(ALERTS),
                                       kms_master_key_id=props.topic_key_arn, tags=n.tags(ALERTS))
        topic_arn: str = topic.arn
        aws.sns_topic_policy.SnsTopicPolicy(
            self, "alerts-topic-policy", arn=topic_arn,
            policy=json.dumps(topic_policy(n, alerts_topic_arn(n))))
        for i, address in enumerate(props.alert_emails):
            aws.sns_topic_subscription.SnsTopicSubscription(
                self, f"alerts-email-{i}", topic_arn=topic_arn, protocol="email",
                endpoint=address)
        self.alerts_topic_arn = topic_arn
        self.alarm_names: list[str] = []
        for control in CONTROLS:
            metric = n.name("cis", control.name)
            aws.cloudwatch_log_metric_filter.CloudwatchLogMetricFilter(
                self, f"filter-{control.name}", name=metric,
                log_group_name=props.trail_log_group_name, pattern=control.pattern,
                metric_transformation=aws.cloudwatch_log_metric_filter.
                CloudwatchLogMetricFilterMetricTransformation(
                    name=metric, namespace=NAMESPACE, value="1"))
            aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
                self, f"alarm-{control.name}", alarm_name=metric, namespace=NAMESPACE,
                metric_name=metric, statistic="Sum", period=300, evaluation_periods=1,
                threshold=1, comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_description=f"[{control.control}] {control.title} (CIS AWS Foundations "
                                  f"Benchmark; the trail's events in {props.trail_log_group_name})",
                alarm_actions=[topic_arn], tags=n.tags("cis", control.name))
            self.alarm_names.append(metric)

        findings = n.name("guardduty-findings")
        rule = aws.cloudwatch_event_rule.CloudwatchEventRule(
            self, "findings-rule", name=findings, event_pattern=json.dumps(FINDINGS_PATTERN),
            description="GuardDuty findings of medium severity and above, every detector region",
            tags=n.tags("guardduty-findings"))
        # EventBridge User Guide, "Using resource-based policies for Amazon EventBridge": SNS
        # targets work through the topic policy, and no RoleArn on the target.
        aws.cloudwatch_event_target.CloudwatchEventTarget(
            self, "findings-to-alerts", rule=rule.name, target_id="alerts", arn=topic_arn)
        self.rule_names: list[str] = [findings]
        if props.runtime_monitoring:
            runtime_monitoring(self, "runtime-monitoring", props.detector_id)
        if props.other_regions:
            self._other_regions(props)

    def _other_regions(self, props: DetectionProps) -> None:
        """EventBridge User Guide, "Sending and receiving events between AWS Regions": a rule
        may target another region's event bus through a role allowed events:PutEvents on it."""
        n = props.naming
        home_bus = n.arn("events", "event-bus/default")
        role = aws.iam_role.IamRole(
            self, "forwarder-role", name=n.name("guardduty-forwarder"),
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": n.account_id}}}]}),
            tags=n.tags("guardduty-forwarder"))
        aws.iam_role_policy.IamRolePolicy(
            self, "forwarder-policy", role=role.id, name="guardduty-forwarder",
            policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "PutFindingsOnTheAccountRegionsBus", "Effect": "Allow",
                "Action": "events:PutEvents", "Resource": home_bus}]}))
        for other in props.other_regions:
            r = other.region
            detector = aws.guardduty_detector.GuarddutyDetector(
                self, f"guardduty-{r}", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES",
                provider=other.provider, tags=n.tags("guardduty", r))
            if props.runtime_monitoring:
                runtime_monitoring(self, f"runtime-monitoring-{r}", detector.id, other.provider)
            name = n.name("guardduty-findings", r)
            rule = aws.cloudwatch_event_rule.CloudwatchEventRule(
                self, f"findings-rule-{r}", name=name, provider=other.provider,
                event_pattern=json.dumps(FINDINGS_PATTERN),
                description=f"GuardDuty findings in {r}, to {n.region}'s default event bus",
                tags=n.tags("guardduty-findings", r))
            aws.cloudwatch_event_target.CloudwatchEventTarget(
                self, f"findings-to-{n.region}-{r}", rule=rule.name, target_id="account-region",
                arn=home_bus, role_arn=role.arn, provider=other.provider)
            self.rule_names.append(name)


def topic_policy(n: Naming, topic_arn: str) -> dict:
    """The policy SNS gives a new topic (the account's own principals, CloudWatch alarms of the
    account among them, through AWS:SourceOwner), plus EventBridge's publish. EventBridge User
    Guide, "Amazon SNS permissions": "You can't use Condition blocks in Amazon SNS topic policies
    for EventBridge"; what EventBridge may then deliver is what the account's rules match."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "TheAccountsOwnPrincipals", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                    "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                    "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
         "Resource": topic_arn, "Condition": {"StringEquals": {"AWS:SourceOwner": n.account_id}}},
        {"Sid": "EventBridgeRulesPublish", "Effect": "Allow",
         "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
         "Resource": topic_arn}]}


def runtime_monitoring(scope: Construct, id: str, detector_id: str,
                       provider: TerraformProvider | None = None) -> None:
    """GuardDuty User Guide, "Runtime Monitoring": RUNTIME_MONITORING with GuardDuty managing the
    security agent of ECS Fargate tasks (ECS_FARGATE_AGENT_MANAGEMENT); tasks started after it is
    on get the agent sidecar."""
    feature = aws.guardduty_detector_feature
    feature.GuarddutyDetectorFeature(
        scope, id, detector_id=detector_id, name="RUNTIME_MONITORING", status="ENABLED",
        additional_configuration=[feature.GuarddutyDetectorFeatureAdditionalConfiguration(
            name="ECS_FARGATE_AGENT_MANAGEMENT", status="ENABLED")],
        provider=provider)
