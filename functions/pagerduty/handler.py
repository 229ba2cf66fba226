"""The PagerDuty relay: each SNS message of its topic becomes a PagerDuty Events API v2 event.

A CloudWatch alarm going to ALARM triggers an alert, its return to OK resolves the same alert (the
alarm's ARN is the dedup key); any other message (an EventBridge finding, a test publish)
triggers an alert of its own. The routing key is read from Secrets Manager on every invocation,
so a rotated key applies at once and never sits in the function's configuration.

A failed post raises: Lambda retries the event twice, then sends it to the function's
dead-letter queue, whose alarm says so.
"""

import json
import os
import urllib.request

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
# PagerDuty Events API v2: summary up to 1024 characters, dedup_key up to 255.
SUMMARY_LIMIT = 1024
DEDUP_KEY_LIMIT = 255
ACTIONS = {"ALARM": "trigger", "OK": "resolve"}


def routing_key(secrets=None) -> str:
    if secrets is None:
        import boto3  # in the Lambda runtime; imported here so tests need no AWS SDK
        secrets = boto3.client("secretsmanager")
    value = secrets.get_secret_value(SecretId=os.environ["ROUTING_KEY_SECRET_ARN"])
    key = value.get("SecretString", "").strip()
    if not key:
        raise RuntimeError("the routing key secret is empty: put the PagerDuty integration's key "
                           "with `aws secretsmanager put-secret-value`")
    return key


def event(record: dict, key: str) -> dict | None:
    """The Events API v2 body for one SNS record; None for an alarm state PagerDuty has no use
    for (INSUFFICIENT_DATA)."""
    sns = record["Sns"]
    try:
        alarm = json.loads(sns["Message"])
    except (TypeError, ValueError):
        alarm = None
    if isinstance(alarm, dict) and "AlarmName" in alarm and "NewStateValue" in alarm:
        action = ACTIONS.get(alarm["NewStateValue"])
        if action is None:
            return None
        return {
            "routing_key": key, "event_action": action,
            "dedup_key": alarm.get("AlarmArn", alarm["AlarmName"])[:DEDUP_KEY_LIMIT],
            "payload": {
                "summary": f"{alarm['AlarmName']}: {alarm.get('NewStateReason', '')}"
                           [:SUMMARY_LIMIT],
                "source": alarm.get("AlarmArn", sns.get("TopicArn", "aws")),
                "severity": "critical", "timestamp": sns.get("Timestamp"),
                "custom_details": alarm}}
    return {
        "routing_key": key, "event_action": "trigger",
        "dedup_key": sns["MessageId"][:DEDUP_KEY_LIMIT],
        "payload": {"summary": (sns.get("Subject") or sns["Message"])[:SUMMARY_LIMIT],
                    "source": sns.get("TopicArn", "aws"), "severity": "critical",
                    "timestamp": sns.get("Timestamp"),
                    "custom_details": {"message": sns["Message"]}}}


def post(body: dict, opener=urllib.request.urlopen) -> None:
    request = urllib.request.Request(
        EVENTS_URL, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with opener(request, timeout=10) as response:  # an HTTP error status raises
        response.read()


def handler(event_in, context, secrets=None, opener=urllib.request.urlopen):
    key = None
    for record in event_in.get("Records", []):
        key = key or routing_key(secrets)
        body = event(record, key)
        if body is not None:
            post(body, opener)
            print(json.dumps({"sent": body["event_action"], "dedup_key": body["dedup_key"]}))
