"""Detection that reaches people (issue 18, item 4) and the audit bucket's Object Lock: the CIS
CloudWatch controls on the trail's log group, alarms and GuardDuty findings on the account's alerts
topic, detectors in more regions, Runtime Monitoring, and what they cost and how they are drawn."""

import json
import re

import pytest

from conftest import SAMPLE, synthesize
from contracts import Graph, key_admits_service, run
from delivery_rules import MULTI_REGION_RULES, RULES
from lib.analysis.cost import estimate
from lib.analysis.diagram import mermaid
from lib.analysis.pricing import load_prices
from lib.config import ConfigError, load_account
from lib.observability.cis import CONTROLS

ACCOUNT_ID = "123456789012"
# The patterns of the Security Hub User Guide ("Security Hub controls for Amazon CloudWatch",
# remediation of each control), transcribed again here rather than read from lib/: the events
# each control's filter must name.
EVENTS = {
    "CloudWatch.4": {"DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy",
                     "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy",
                     "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
                     "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
                     "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"},
    "CloudWatch.5": {"CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"},
    "CloudWatch.7": {"DisableKey", "ScheduleKeyDeletion"},
    "CloudWatch.8": {"PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
                     "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors",
                     "DeleteBucketLifecycle", "DeleteBucketReplication"},
    "CloudWatch.9": {"StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
                     "PutConfigurationRecorder"},
    "CloudWatch.10": {"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                      "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
                      "CreateSecurityGroup", "DeleteSecurityGroup"},
    "CloudWatch.11": {"CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl",
                      "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry",
                      "ReplaceNetworkAclAssociation"},
    "CloudWatch.12": {"CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
                      "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"},
    "CloudWatch.13": {"CreateRoute", "CreateRouteTable", "ReplaceRoute",
                      "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute",
                      "DisassociateRouteTable"},
    "CloudWatch.14": {"CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
                      "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
                      "RejectVpcPeeringConnection", "AttachClassicLinkVpc",
                      "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink"},
}
SOURCES = {"CloudWatch.7": "kms.amazonaws.com", "CloudWatch.8": "s3.amazonaws.com",
           "CloudWatch.9": "config.amazonaws.com"}
PATTERNS = {
    "CloudWatch.1": '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && '
                    '$.eventType !="AwsServiceEvent"}',
    "CloudWatch.2": '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    "CloudWatch.3": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
                    '&& ($.userIdentity.type = "IAMUser") && '
                    '($.responseElements.ConsoleLogin = "Success") }',
    "CloudWatch.6": '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
}
ACCOUNT_FILE = """\
project = "webplat"
account_id = "123456789012"
region = "us-east-1"
log_retention_days = {retention}

[baseline]
{baseline}
"""


def account_stack(tmp_path, baseline: str = "", retention: int = 365):
    path = tmp_path / "account.toml"
    path.write_text(ACCOUNT_FILE.format(baseline=baseline, retention=retention))
    return synthesize(tmp_path / "out", [SAMPLE / "dev.toml"], account=path,
                      environment_stacks=False)["bootstrap-stack"]


def by_path(stack, type_):
    return stack.resources(type_)


# --- the CIS CloudWatch controls -----------------------------------------------------------------

def test_every_cis_control_has_its_documented_filter_and_an_alarm_to_the_alerts_topic(bootstrap):
    filters = {f["name"]: f for f in by_path(bootstrap, "aws_cloudwatch_log_metric_filter")
               .values()}
    alarms = {a["metric_name"]: a for a in by_path(bootstrap, "aws_cloudwatch_metric_alarm")
              .values()}
    assert [c.control for c in CONTROLS] == [f"CloudWatch.{i}" for i in range(1, 15)]
    group = bootstrap.resource("aws_cloudwatch_log_group", "baseline/trail-log-group")
    topic = bootstrap.ref("aws_sns_topic", "detection/alerts-topic", "arn")
    for control in CONTROLS:
        f = filters[f"webplat-account-cis-{control.name}"]
        assert f["log_group_name"] == bootstrap.ref("aws_cloudwatch_log_group",
                                                    "baseline/trail-log-group", "name")
        if control.control in PATTERNS:
            assert f["pattern"] == PATTERNS[control.control], control
        else:
            named = set(re.findall(r"\(\$\.eventName=([A-Za-z]+)\)", f["pattern"]))
            assert named == EVENTS[control.control], control
            source = SOURCES.get(control.control)
            assert not source or f["pattern"].startswith("{($.eventSource=" + source + ") && (")
        assert f["metric_transformation"] == {"name": f["name"], "namespace": "LogMetrics",
                                              "value": "1"}
        alarm = alarms[f["name"]]
        assert (alarm["namespace"], alarm["statistic"], alarm["threshold"],
                alarm["comparison_operator"], alarm["evaluation_periods"]) == (
            "LogMetrics", "Sum", 1, "GreaterThanOrEqualToThreshold", 1)
        assert alarm["alarm_actions"] == [topic]
        assert control.control in alarm["alarm_description"]
    assert group["kms_key_id"] == bootstrap.ref("aws_kms_key", "audit-key/key", "arn")
    assert group["retention_in_days"] == 365


def test_the_trail_writes_to_the_log_group_through_its_own_role(bootstrap):
    trail = bootstrap.resource("aws_cloudtrail", "baseline/trail")
    assert trail["cloud_watch_logs_group_arn"] == bootstrap.ref(
        "aws_cloudwatch_log_group", "baseline/trail-log-group", "arn") + ":*"
    assert trail["cloud_watch_logs_role_arn"] == bootstrap.ref(
        "aws_iam_role", "baseline/trail-logs-role", "arn")
    assert trail["is_multi_region_trail"] is True


# --- the alerts topic ----------------------------------------------------------------------------

def test_the_alerts_topic_is_encrypted_with_a_key_its_publishers_may_use(bootstrap):
    topic = bootstrap.resource("aws_sns_topic", "detection/alerts-topic")
    assert topic["name"] == "webplat-account-alerts"
    assert topic["kms_master_key_id"] == bootstrap.ref("aws_kms_key", "alerts-key/key", "arn")
    g = Graph(bootstrap)
    key = g.ref(topic["kms_master_key_id"])
    arn = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:webplat-account-alerts"
    for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            # No aws:Source* keys in the context: the key must not depend on them.
            assert key_admits_service(key, service, action,
                                      {"kms:EncryptionContext:aws:sns:topicArn": arn})
            assert not key_admits_service(key, service, action, {
                "kms:EncryptionContext:aws:sns:topicArn": arn.replace("alerts", "other")})


def test_alert_emails_subscribe_to_the_alerts_topic(tmp_path):
    stack = account_stack(tmp_path, 'alert_emails = ["sec@example.com", "ops@example.com"]')
    subscriptions = by_path(stack, "aws_sns_topic_subscription")
    assert sorted(s["endpoint"] for s in subscriptions.values()) == ["ops@example.com",
                                                                     "sec@example.com"]
    assert {s["protocol"] for s in subscriptions.values()} == {"email"}
    assert "2 email subscribers" in mermaid(stack.json)


# --- GuardDuty -----------------------------------------------------------------------------------

def test_guardduty_findings_of_medium_severity_and_above_reach_the_topic(bootstrap):
    rule = bootstrap.resource("aws_cloudwatch_event_rule", "detection/findings-rule")
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", 4]}]}}
    target = bootstrap.resource("aws_cloudwatch_event_target", "detection/findings-to-alerts")
    assert target["arn"] == bootstrap.ref("aws_sns_topic", "detection/alerts-topic", "arn")
    assert "role_arn" not in target
    assert by_path(bootstrap, "aws_guardduty_detector_feature") == {}  # off by default
    assert list(by_path(bootstrap, "aws_guardduty_detector")) == ["baseline/guardduty"]


def test_more_regions_get_detectors_forwarding_to_the_account_regions_bus(tmp_path):
    stack = account_stack(tmp_path, 'guardduty_regions = ["us-east-1", "eu-west-1"]\n'
                                    "runtime_monitoring = true")
    detectors = by_path(stack, "aws_guardduty_detector")
    assert sorted(detectors) == ["baseline/guardduty", "detection/guardduty-eu-west-1"]
    assert detectors["detection/guardduty-eu-west-1"]["provider"] == "aws.eu_west_1"
    forward = stack.resource("aws_cloudwatch_event_target",
                             "detection/findings-to-us-east-1-eu-west-1")
    assert forward["arn"] == f"arn:aws:events:us-east-1:{ACCOUNT_ID}:event-bus/default"
    assert forward["provider"] == "aws.eu_west_1"
    assert run(MULTI_REGION_RULES[0], [stack]).problems == []
    assert run(MULTI_REGION_RULES[0], [stack]).checked
    for rule in RULES:
        assert run(rule, [stack]).problems == [], rule.__name__
    features = by_path(stack, "aws_guardduty_detector_feature")
    assert len(features) == 2
    for feature in features.values():
        assert (feature["name"], feature["status"]) == ("RUNTIME_MONITORING", "ENABLED")
        assert feature["additional_configuration"] == [
            {"name": "ECS_FARGATE_AGENT_MANAGEMENT", "status": "ENABLED"}]
    result = estimate("bootstrap", stack.json, load_prices())
    lines = {i.item: i for i in result.items}
    assert lines["GuardDuty detector"].quantity == 2
    runtime = lines["GuardDuty Runtime Monitoring (ECS Fargate)"]
    assert runtime.monthly_usd == 2 * 2 * 1.50  # 2 vCPUs assumed, per detector, $1.50 a month
    text = mermaid(stack.json)
    assert "GuardDuty detector eu-west-1" in text and "EventBridge rule" in text


@pytest.mark.parametrize("baseline, retention, message", [
    ("object_lock_days = 400", 365, "account.toml: baseline.object_lock_days: 400 is longer than "
                                    "log_retention_days (365)"),
    ('guardduty_regions = ["eu-west-1"]', 365, "baseline.guardduty_regions: must include the "
                                               "account region us-east-1"),
    ('object_lock_mode = "LEGAL"', 365, "baseline.object_lock_mode: 'LEGAL' is not allowed"),
])
def test_bad_detection_settings_are_refused_in_one_line(tmp_path, baseline, retention, message):
    path = tmp_path / "account.toml"
    path.write_text(ACCOUNT_FILE.format(baseline=baseline, retention=retention))
    with pytest.raises(ConfigError) as err:
        load_account(path)
    assert message in str(err.value)
    assert len(str(err.value).splitlines()) == 1


# --- the audit bucket's Object Lock --------------------------------------------------------------

def test_the_audit_bucket_gets_object_lock_without_being_replaced(bootstrap):
    bucket = bootstrap.resource("aws_s3_bucket", "baseline/audit-bucket/bucket")
    # aws_s3_bucket.object_lock_enabled forces a new bucket; it is computed, so left unset.
    assert "object_lock_enabled" not in bucket
    lock = bootstrap.resource("aws_s3_bucket_object_lock_configuration",
                              "baseline/audit-bucket/object-lock")
    assert lock["rule"] == {"default_retention": {"mode": "GOVERNANCE", "days": 365}}
    assert lock["depends_on"] == [bootstrap.ref("aws_s3_bucket_versioning",
                                                "baseline/audit-bucket/versioning")
                                  .removeprefix("${").removesuffix(".id}")]


def test_aws_config_delivers_to_its_own_bucket_without_object_lock(bootstrap):
    channel = bootstrap.resource("aws_config_delivery_channel", "baseline/config-delivery")
    assert channel["s3_bucket_name"] == bootstrap.ref("aws_s3_bucket",
                                                      "baseline/config-bucket/bucket", "bucket")
    assert not any("config-bucket" in path for path in
                   by_path(bootstrap, "aws_s3_bucket_object_lock_configuration"))


def test_compliance_mode_and_days_come_from_config(tmp_path):
    stack = account_stack(tmp_path, 'object_lock_mode = "COMPLIANCE"\nobject_lock_days = 90',
                          retention=400)
    lock = stack.resource("aws_s3_bucket_object_lock_configuration",
                          "baseline/audit-bucket/object-lock")
    assert lock["rule"]["default_retention"] == {"mode": "COMPLIANCE", "days": 90}


# --- what it costs and how it is drawn -----------------------------------------------------------

def test_the_cost_estimate_counts_the_alarms_metrics_and_rules(bootstrap):
    result = estimate("bootstrap-stack", bootstrap.json, load_prices())
    lines = {i.item: i for i in result.items}
    assert lines["CloudWatch alarm (CIS CloudWatch control)"].quantity == 14
    assert lines["CloudWatch alarm (CIS CloudWatch control)"].monthly_usd == 1.40
    assert lines["CloudWatch custom metric (CIS metric filter)"].quantity == 14
    assert lines["CloudWatch custom metric (CIS metric filter)"].monthly_usd == 4.20
    assert lines["CloudWatch Logs ingestion and storage of the trail"].quantity == 1
    assert lines["EventBridge rule on AWS service events"].quantity == 1
    assert "GuardDuty Runtime Monitoring (ECS Fargate)" not in lines  # off by default
    assert result.not_priced == {}


def test_the_diagrams_count_alarms_and_metric_filters(bootstrap, dev):
    text = mermaid(bootstrap.json)
    assert "CloudWatch Logs /webplat/account/cloudtrail<br/>14 metric filters" in text
    assert "SNS webplat-account-alerts<br/>14 alarms" in text
    assert "Object Lock governance 365 d" in text
    assert '-->|"severity >= 4"|' in text
    alerts = dev.ref("aws_sns_topic", "messaging/alerts-topic", "arn")
    count = sum(alerts in a.get("alarm_actions", [])
                for a in dev.resources("aws_cloudwatch_metric_alarm").values())
    assert count and f"SNS webplat-dev-alerts<br/>{count} alarms" in mermaid(dev.json)
