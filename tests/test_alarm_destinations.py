"""Alarms that reach people: the alerts topic to PagerDuty (a relay function reading the routing
key from Secrets Manager) and to Slack (AWS Chatbot). The sample prod environment and seed 002's
preset (examples/mobilytics.toml) ask for both."""

import importlib.util
import io
import json
import urllib.error

import pytest

import contracts
from conftest import MINIMAL_CONFIG, ROOT
from lib.analysis.diagram import mermaid
from lib.config import ConfigError, load_environment

HANDLER = ROOT / "functions" / "pagerduty" / "handler.py"
RELAY = "alerts-pagerduty/function"


@pytest.fixture(scope="module")
def prod(stacks):
    return stacks["prod-stack"]


def policy(stack, path: str) -> list[dict]:
    return json.loads(stack.resource("aws_iam_role_policy", path)["policy"])["Statement"]


def test_the_alerts_topic_invokes_the_relay_and_nothing_else_may(prod):
    topic = prod.ref("aws_sns_topic", "messaging/alerts-topic", "arn")
    function = prod.ref("aws_lambda_function", f"{RELAY}/function", "arn")
    sub = prod.resource("aws_sns_topic_subscription", "alerts-pagerduty/subscription")
    assert (sub["topic_arn"], sub["protocol"], sub["endpoint"]) == (topic, "lambda", function)
    # Lambda Developer Guide, "Using Lambda with Amazon SNS": SNS invokes through the function's
    # resource policy, which names the topic as the source; created before the subscription.
    permission = prod.resource("aws_lambda_permission", "alerts-pagerduty/sns-invokes")
    assert (permission["principal"], permission["source_arn"]) == ("sns.amazonaws.com", topic)
    logical_id = prod.ref("aws_lambda_permission", "alerts-pagerduty/sns-invokes")[2:-4]
    assert sub["depends_on"] == [logical_id]


def test_the_relay_may_read_only_its_secret_through_secrets_manager(prod):
    secret = prod.resource("aws_secretsmanager_secret", "alerts-pagerduty/routing-key")
    assert secret["name"] == "/webplat/prod/alerts/pagerduty-routing-key"
    assert secret["kms_key_id"] == prod.ref("aws_kms_key", "secrets-key/key", "arn")
    statements = policy(prod, f"{RELAY}/role-policy")
    reads = [s for s in statements if "secretsmanager" in json.dumps(s["Action"])]
    assert reads == [{"Sid": "ReadTheRoutingKey", "Effect": "Allow",
                      "Action": "secretsmanager:GetSecretValue",
                      "Resource": prod.ref("aws_secretsmanager_secret",
                                           "alerts-pagerduty/routing-key", "arn")}]
    # AWS KMS Developer Guide, "kms:ViaService": the key decrypts only for Secrets Manager.
    decrypt = [s for s in statements if "kms:" in json.dumps(s["Action"])]
    assert decrypt == [{"Sid": "DecryptItThroughSecretsManager", "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": prod.ref("aws_kms_key", "secrets-key/key", "arn"),
                        "Condition": {"StringEquals": {
                            "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}}]
    # Nothing else but its logs, tracing and its dead-letter queue.
    assert {s["Sid"] for s in statements} == {
        "WriteOwnLogs", "Tracing", "SendFailedEvents", "ReadTheRoutingKey",
        "DecryptItThroughSecretsManager"}


def test_the_relay_runs_outside_the_vpc_with_a_dead_letter_queue(prod):
    # It calls PagerDuty and Secrets Manager, both public endpoints: outside a VPC a function
    # reaches the internet without a NAT (Lambda Developer Guide, "Giving Lambda functions
    # access to resources in an Amazon VPC": in a VPC it needs a NAT for that).
    fn = prod.resource("aws_lambda_function", f"{RELAY}/function")
    assert "vpc_config" not in fn
    assert not prod.matching("aws_security_group", "alerts-pagerduty/*")
    assert "VpcNetworkInterfaces" not in {s["Sid"] for s in policy(prod, f"{RELAY}/role-policy")}
    assert fn["dead_letter_config"]["target_arn"] == prod.ref(
        "aws_sqs_queue", f"{RELAY}/dead-letters", "arn")
    assert fn["environment"]["variables"]["ROUTING_KEY_SECRET_ARN"] == prod.ref(
        "aws_secretsmanager_secret", "alerts-pagerduty/routing-key", "arn")


def test_the_relays_errors_and_dead_letters_raise_alarms(prod):
    alarms = {a["alarm_name"] for a in prod.resources("aws_cloudwatch_metric_alarm").values()}
    assert {"webplat-prod-alerts-pagerduty-errors",
            "webplat-prod-alerts-pagerduty-function-dlq-not-empty"} <= alarms


def test_no_pagerduty_url_or_key_is_in_the_json(prod):
    text = json.dumps(prod.json)
    assert "pagerduty.com" not in text
    # An SNS https subscription would carry the URL (and the key in it) as its endpoint.
    protocols = {s["protocol"] for s in prod.resources("aws_sns_topic_subscription").values()}
    assert protocols <= {"lambda", "email"}
    # The secret is created without a value: no secret version holds one.
    assert "aws_secretsmanager_secret_version" not in prod.json["resource"]


def test_slack_gets_the_alerts_topic_through_chatbot_with_a_read_only_role(prod):
    chat = prod.resource("aws_chatbot_slack_channel_configuration", "alerts-slack/configuration")
    assert (chat["slack_team_id"], chat["slack_channel_id"]) == ("T0123ABCD", "C0123ABCD")
    assert chat["sns_topic_arns"] == [prod.ref("aws_sns_topic", "messaging/alerts-topic", "arn")]
    # AWS Chatbot API Reference, "SlackChannelConfiguration": without guardrail policies
    # AdministratorAccess applies to the channel.
    assert chat["guardrail_policy_arns"] == ["arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"]
    assert chat["user_authorization_required"] is False
    assert chat["iam_role_arn"] == prod.ref("aws_iam_role", "alerts-slack/role", "arn")
    # AWS Chatbot Administrator Guide, "Understanding AWS Chatbot permissions": the
    # notifications template reads CloudWatch; nothing else.
    assert policy(prod, "alerts-slack/role-policy") == [{
        "Sid": "ReadAlarmsForNotifications", "Effect": "Allow",
        "Action": ["cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"],
        "Resource": "*"}]
    trust = json.loads(prod.resource("aws_iam_role", "alerts-slack/role")["assume_role_policy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "chatbot.amazonaws.com"}]
    assert not prod.matching("aws_iam_role_policy_attachment", "alerts-slack/*")


def test_chatbot_is_configured_in_us_east_2(prod):
    # Chatbot is a global service whose API answers in us-east-2 (no chatbot endpoint in
    # us-east-1, aws/aws-cli#8658): the configuration uses a provider for that region.
    chat = prod.resource("aws_chatbot_slack_channel_configuration", "alerts-slack/configuration")
    providers = {p.get("alias"): p for p in prod.json["provider"]["aws"]}
    assert chat["provider"] == "aws.us_east_2"
    assert providers["us_east_2"]["region"] == "us-east-2"
    assert providers["us_east_2"]["allowed_account_ids"] == ["123456789012"]


def test_chatbots_log_group_is_ours_before_chatbot_writes_to_it(prod):
    # AWS CDK's aws_chatbot module, "Log Group": a configuration logs to
    # /aws/chatbot/<configuration name> in us-east-1, created by Chatbot with no expiry unless
    # it exists already; the configuration waits for ours (kept and encrypted as the others).
    logs = prod.resource("aws_cloudwatch_log_group", "alerts-slack/logs")
    assert logs["name"] == "/aws/chatbot/webplat-prod-alerts"
    assert logs["retention_in_days"] == 30
    assert logs["kms_key_id"] == prod.ref("aws_kms_key", "logs-key/key", "arn")
    assert "provider" not in logs  # the stack is in us-east-1
    chat = prod.resource("aws_chatbot_slack_channel_configuration", "alerts-slack/configuration")
    assert chat["logging_level"] == "ERROR"
    assert prod.ref("aws_cloudwatch_log_group", "alerts-slack/logs").removeprefix(
        "${").split(".id")[0] in chat["depends_on"]


def test_chatbots_log_group_stays_in_us_east_1_for_a_stack_elsewhere(tmp_path):
    from conftest import synthesize

    path = tmp_path / "dev.toml"
    path.write_text(SLACK.format('workspace_id = "T0123ABCD", channel_id = "C0123ABCD"')
                    .replace('region = "us-east-1"', 'region = "eu-west-1"'))
    [stack] = synthesize(tmp_path / "out", [path]).values()
    logs = stack.resource("aws_cloudwatch_log_group", "alerts-slack/logs")
    providers = {p.get("alias"): p for p in stack.json["provider"]["aws"]}
    assert providers[logs["provider"].removeprefix("aws.")]["region"] == "us-east-1"
    # A KMS key encrypts log groups of its own Region only: the logs key is in eu-west-1, so
    # this group has CloudWatch Logs' own encryption.
    assert "kms_key_id" not in logs


def test_environments_without_them_get_neither(stacks):
    dev = stacks["dev-stack"]
    assert not dev.resources("aws_chatbot_slack_channel_configuration")
    assert not dev.matching("aws_lambda_function", "*pagerduty*")
    assert "us_east_2" not in {p.get("alias") for p in dev.json["provider"]["aws"]}


def test_seed_002_sends_its_alarms_to_pagerduty_and_slack(presets):
    stack = presets["mobilytics"]
    topic = stack.ref("aws_sns_topic", "messaging/alerts-topic", "arn")
    assert stack.resource("aws_sns_topic_subscription",
                          "alerts-pagerduty/subscription")["topic_arn"] == topic
    chat = stack.resource("aws_chatbot_slack_channel_configuration",
                          "alerts-slack/configuration")
    assert chat["sns_topic_arns"] == [topic]


def test_the_diagram_draws_the_alerts_topic_to_pagerduty_and_slack(prod):
    lines = mermaid(prod.json).splitlines()
    topic = next(line.split("[")[0].strip() for line in lines
                 if "SNS webplat-prod-alerts" in line)
    relay = next(line.split("[")[0].strip() for line in lines
                 if "Lambda webplat-prod-alerts-pagerduty" in line)
    assert f'  {topic} -->|"messages"| {relay}' in lines
    assert f'  {relay} -->|"Events API v2"| pagerduty_pagerduty' in lines
    assert any(line.startswith(f'  {topic} -->|"HTTPS"| slack_') for line in lines)


def deploy_statements(bootstrap, env: str) -> list[dict]:
    graph = contracts.Graph(bootstrap)
    return [s for path, body in bootstrap.matching("aws_iam_policy", f"delivery-{env}/deploy*")
            .items() for s in graph.statements(body["policy"])]


def test_the_deploy_role_creates_its_own_slack_configuration_only(bootstrap):
    # Service Authorization Reference, "Actions, resources, and condition keys for AWS Chatbot":
    # a configuration's ARN is arn:aws:chatbot::<account>:chat-configuration/slack-channel/<name>
    # (no region); the role Chatbot assumes is passed to chatbot.amazonaws.com.
    prod, staging = deploy_statements(bootstrap, "prod"), deploy_statements(bootstrap, "staging")
    chat = "arn:aws:chatbot::123456789012:chat-configuration/slack-channel/webplat-prod-alerts"
    role = "arn:aws:iam::123456789012:role/webplat-prod-alerts-chatbot"
    for action in ("chatbot:CreateSlackChannelConfiguration",
                   "chatbot:UpdateSlackChannelConfiguration",
                   "chatbot:DeleteSlackChannelConfiguration"):
        assert contracts.decide(prod, action, chat) == "allow", action
        assert contracts.decide(staging, action, chat) != "allow", action
    assert contracts.decide(prod, "chatbot:DescribeSlackChannelConfigurations", "*",
                            context={"aws:RequestedRegion": "us-east-2"}) == "allow"
    assert contracts.decide(prod, "iam:PassRole", role, context={
        "iam:PassedToService": "chatbot.amazonaws.com"}) == "allow"
    logs = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/chatbot/webplat-prod-alerts"
    for action in ("logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteLogGroup"):
        assert contracts.decide(prod, action, logs) == "allow", action
        assert contracts.decide(staging, action, logs) != "allow", action


# --- bad input -------------------------------------------------------------------------------

SLACK = MINIMAL_CONFIG + '\n[[messaging.topics]]\nname = "alerts"\nslack = {{ {} }}\n'


@pytest.mark.parametrize("slack, field, words", [
    ('workspace_id = "C0123ABCD", channel_id = "C0123ABCD"', "slack.workspace_id",
     "'C0123ABCD' is not a Slack workspace id (T and 8 or more"),
    ('workspace_id = "T0123ABCD", channel_id = "#alerts"', "slack.channel_id",
     "'#alerts' is not a Slack channel id (C or G and 8 or more"),
    ('workspace_id = "T0123ABCD", channel_id = "c0123abcd"', "slack.channel_id",
     "'c0123abcd' is not a Slack channel id"),
    ('workspace_id = "T0123ABCD"', "slack.channel_id", "required"),
], ids=["workspace-id-of-a-channel", "channel-name", "lowercase-id", "no-channel"])
def test_malformed_slack_ids_get_one_line_naming_the_field(tmp_path, slack, field, words):
    path = tmp_path / "dev.toml"
    path.write_text(SLACK.format(slack))
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}: messaging.topics.alerts.{field}: "), line
    assert words in line, line


def test_pagerduty_takes_a_boolean_not_a_url(tmp_path):
    # The URL (and its key) must never be config: a string here is refused, not stored.
    path = tmp_path / "dev.toml"
    path.write_text(MINIMAL_CONFIG + '\n[[messaging.topics]]\nname = "alerts"\n'
                    'pagerduty = "https://events.pagerduty.com/integration/abc/enqueue"\n')
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}: messaging.topics.alerts.pagerduty: "), line
    assert "write true or false" in line, line


# --- the relay's handler ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def relay():
    spec = importlib.util.spec_from_file_location("pagerduty_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Secrets:
    def __init__(self, value: str):
        self.value, self.asked = value, []

    def get_secret_value(self, SecretId):
        self.asked.append(SecretId)
        return {"SecretString": self.value}


class Opener:
    def __init__(self, status: int = 202):
        self.status, self.requests = status, []

    def __call__(self, request, timeout):
        self.requests.append(request)
        if self.status >= 400:
            raise urllib.error.HTTPError(request.full_url, self.status, "refused", {}, None)
        return io.BytesIO(b'{"status":"success"}')


def alarm_record(state: str) -> dict:
    return {"Sns": {"MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:a",
                    "Timestamp": "2026-11-30T20:00:00.000Z", "Subject": "ALARM: x",
                    "Message": json.dumps({
                        "AlarmName": "webplat-prod-db-cpu", "NewStateValue": state,
                        "NewStateReason": "Threshold Crossed",
                        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
                                    "webplat-prod-db-cpu"})}}


def sent(opener: Opener) -> list[dict]:
    return [json.loads(r.data) for r in opener.requests]


def test_an_alarm_triggers_and_its_recovery_resolves_the_same_alert(relay, monkeypatch):
    monkeypatch.setenv("ROUTING_KEY_SECRET_ARN", "arn:secret")
    secrets, opener = Secrets("R0UT1NGKEY"), Opener()
    relay.handler({"Records": [alarm_record("ALARM"), alarm_record("OK")]}, None,
                  secrets=secrets, opener=opener)
    # PagerDuty Events API v2, "Send an Alert Event": POST to /v2/enqueue with routing_key,
    # event_action trigger|resolve, dedup_key, and payload.summary, source, severity.
    assert {r.full_url for r in opener.requests} == {"https://events.pagerduty.com/v2/enqueue"}
    trigger, resolve = sent(opener)
    assert (trigger["event_action"], resolve["event_action"]) == ("trigger", "resolve")
    assert trigger["routing_key"] == "R0UT1NGKEY"
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert trigger["payload"]["severity"] in ("critical", "error", "warning", "info")
    assert trigger["payload"]["summary"].startswith("webplat-prod-db-cpu")
    assert trigger["payload"]["source"]
    assert secrets.asked == ["arn:secret"]


def test_insufficient_data_sends_nothing_and_other_messages_trigger(relay, monkeypatch):
    monkeypatch.setenv("ROUTING_KEY_SECRET_ARN", "arn:secret")
    opener = Opener()
    finding = {"Sns": {"MessageId": "m-2", "TopicArn": "arn:t", "Timestamp": "t",
                       "Message": '{"detail-type": "GuardDuty Finding"}'}}
    relay.handler({"Records": [alarm_record("INSUFFICIENT_DATA"), finding]}, None,
                  secrets=Secrets("k"), opener=opener)
    [only] = sent(opener)
    assert (only["event_action"], only["dedup_key"]) == ("trigger", "m-2")


def test_a_refused_post_or_an_empty_secret_fails_the_invocation(relay, monkeypatch):
    # Lambda retries a failed asynchronous invocation, then dead-letters it: failing is the
    # only way the alarm is not lost.
    monkeypatch.setenv("ROUTING_KEY_SECRET_ARN", "arn:secret")
    with pytest.raises(urllib.error.HTTPError):
        relay.handler({"Records": [alarm_record("ALARM")]}, None, secrets=Secrets("k"),
                      opener=Opener(status=400))
    with pytest.raises(RuntimeError, match="empty"):
        relay.handler({"Records": [alarm_record("ALARM")]}, None, secrets=Secrets(""),
                      opener=Opener())
