"""SQS queues, each with its dead-letter queue, and SNS topics."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.access import QueueAccess
from lib.core.naming import Naming

LONG_POLL_SECONDS = 20
DLQ_RETENTION_SECONDS = 14 * 86400  # the maximum: time to look at what failed


def deny_without_tls(scope: Construct, id: str, queue_url: str, queue_arn: str) -> None:
    """The queue's policy: every request without TLS is denied."""
    aws.sqs_queue_policy.SqsQueuePolicy(
        scope, id, queue_url=queue_url,
        policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "DenyRequestsWithoutTls", "Effect": "Deny", "Principal": "*",
            "Action": "sqs:*", "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))


@dataclass(frozen=True)
class QueueSpec:
    name: str  # <project>-<env>-<name>, and <name>-dlq for its dead-letter queue
    max_receive_count: int  # receives before a message moves to the dead-letter queue
    visibility_timeout_seconds: int
    retention_days: int  # 1-14


@dataclass(frozen=True)
class TopicSpec:
    name: str
    email_subscriptions: list[str]  # each recipient confirms by mail


@dataclass(frozen=True)
class MessagingProps:
    naming: Naming
    queues: list[QueueSpec]
    topics: list[TopicSpec]
    topic_key_arn: str  # customer key for the topics (its policy admits the publishing services)


class Messaging(Construct):
    """Per queue: `<project>-<env>-<name>` with long polling, SSE, the configured retention and a
    redrive to `<name>-dlq` after `max_receive_count` receives; both deny requests without TLS.
    Per topic: `<project>-<env>-<name>` encrypted with the customer key, plus email subscriptions
    (each recipient confirms by mail).

    Outputs: `queues` (name -> {"arn", "url", "name"}), `dead_letter_queues` (name -> same),
    `topic_arns` (name -> ARN), `access(name)` (the typed handle a consumer or sender of a queue
    is given), and the literal `queue_names` and `dead_letter_queue_names` that alarms name.
    """

    def __init__(self, scope: Construct, id: str, props: MessagingProps):
        super().__init__(scope, id)
        n = props.naming
        self.queues: dict[str, dict[str, str]] = {}
        self.dead_letter_queues: dict[str, dict[str, str]] = {}
        for q in props.queues:
            dlq = aws.sqs_queue.SqsQueue(
                self, f"{q.name}-dlq", name=n.name(q.name, "dlq"), sqs_managed_sse_enabled=True,
                message_retention_seconds=DLQ_RETENTION_SECONDS, tags=n.tags(q.name, "dlq"))
            dlq_outputs = {"arn": dlq.arn, "url": dlq.url, "name": dlq.name}
            queue = aws.sqs_queue.SqsQueue(
                self, q.name, name=n.name(q.name), sqs_managed_sse_enabled=True,
                visibility_timeout_seconds=q.visibility_timeout_seconds,
                message_retention_seconds=q.retention_days * 86400,
                receive_wait_time_seconds=LONG_POLL_SECONDS,
                redrive_policy=json.dumps({"deadLetterTargetArn": dlq_outputs["arn"],
                                           "maxReceiveCount": q.max_receive_count}),
                tags=n.tags(q.name))
            queue_outputs = {"arn": queue.arn, "url": queue.url, "name": queue.name}
            for which, outputs in ((q.name, queue_outputs), (f"{q.name}-dlq", dlq_outputs)):
                deny_without_tls(self, f"{which}-policy", outputs["url"], outputs["arn"])
            self.queues[q.name] = queue_outputs
            self.dead_letter_queues[q.name] = dlq_outputs
        self.queue_names: list[str] = [n.name(q.name) for q in props.queues]
        self.dead_letter_queue_names: list[str] = [n.name(q.name, "dlq") for q in props.queues]

        self.topic_arns: dict[str, str] = {}
        for t in props.topics:
            topic = aws.sns_topic.SnsTopic(self, f"{t.name}-topic", name=n.name(t.name),
                                           kms_master_key_id=props.topic_key_arn,
                                           tags=n.tags(t.name))
            topic_arn: str = topic.arn
            for i, address in enumerate(t.email_subscriptions):
                aws.sns_topic_subscription.SnsTopicSubscription(
                    self, f"{t.name}-email-{i}", topic_arn=topic_arn, protocol="email",
                    endpoint=address)
            self.topic_arns[t.name] = topic_arn

    def access(self, name: str) -> QueueAccess:
        """What a service or function that consumes or sends to queue `name` is given."""
        queue = self.queues[name]
        return QueueAccess(name=name, arn=queue["arn"], url=queue["url"], queue_name=queue["name"])
