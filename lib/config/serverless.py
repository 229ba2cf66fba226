"""The serverless and messaging sections (`[messaging]`: SQS queues and SNS topics, `[api]`: the
HTTP API with its API and worker functions, `[[schedules]]`: EventBridge Scheduler jobs) and their
rules: unique names, a worker function within its queue's visibility timeout, schedule targets
that exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from lib.config.fields import (DomainName, Email, ScheduleExpression, Section, SlackChannelId,
                               SlackWorkspaceId, Slug, StoreAccess)

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class QueueConfig(Section):
    """An SQS queue with its dead-letter queue `<name>-dlq` (14-day retention)."""

    name: Slug = Field(description="Unique among the queues.")
    max_receive_count: int = Field(default=5, ge=1, le=1000,
                                   description="Receives before a message moves to the "
                                               "dead-letter queue.")
    visibility_timeout_seconds: int = Field(
        default=60, ge=0, le=43200,
        description="Seconds a received message stays hidden from other consumers; at least the "
                    "worker function's timeout when it consumes this queue.")
    retention_days: int = Field(default=4, ge=1, le=14,
                                description="Days an unreceived message is kept.")


class SlackChannelConfig(Section):
    """A Slack channel that AWS Chatbot posts the topic's messages to."""

    workspace_id: SlackWorkspaceId = Field(
        description="The Slack workspace (team) id, `T...`, as the Chatbot console shows it once "
                    "the workspace is authorized there (a one-time step in the console).")
    channel_id: SlackChannelId = Field(
        description="The channel id, `C...` (`G...` for an older private channel): the end of "
                    "the channel's link. Invite the AWS Chatbot app (`/invite @aws`) to a "
                    "private channel.")


class TopicConfig(Section):
    """An SNS topic, encrypted; CloudWatch alarms and EventBridge may publish to it."""

    name: Slug = Field(description="Unique among the topics.")
    email_subscriptions: list[Email] = Field(default=[],
                                             description="Email addresses subscribed (each "
                                                         "confirms by mail).")
    pagerduty: bool = Field(
        default=False,
        description="A function subscribed to the topic sends each message to PagerDuty's "
                    "Events API v2 (an alarm triggers an alert, its recovery resolves it). The "
                    "integration's routing key is the value of the secret "
                    "`/<project>/<env>/<topic>/pagerduty-routing-key`, created empty: put it with "
                    "`aws secretsmanager put-secret-value` (never in config or state).")
    slack: SlackChannelConfig | None = Field(
        default=None, description="Post the topic's messages to this Slack channel through AWS "
                                  "Chatbot (free), with a notifications-only role.")


class MessagingConfig(Section):
    """The environment's SQS queues and SNS topics."""

    queues: list[QueueConfig] = Field(
        default=[QueueConfig(name="processing"), QueueConfig(name="email")],
        description="The queues: `processing` feeds the worker function, `email` the seed "
                    "worker service.")
    topics: list[TopicConfig] = Field(
        default=[TopicConfig(name="alerts"), TopicConfig(name="notifications")],
        description="The topics: `alerts` receives every alarm.")


class ApiConfig(Section):
    """API Gateway HTTP API with an API function, and a worker function on a queue (seed 004)."""

    enabled: bool = Field(default=True, description="The HTTP API and its API function; "
                                                    "`worker_queue` adds the worker function.")
    access: list[StoreAccess] = Field(default=["database", "cache"],
                                      description="What both functions may use, as a service's "
                                                  "`access`.")
    secrets: list[str] = Field(
        default=[], description="`[[secrets]]` names both functions may read; each arrives as "
                                "`<NAME>_SECRET_ARN` (Lambda has no secret injection). A secret "
                                "for the functions has `service = \"api\"`.")
    cors_origins: list[str] = Field(default=[], description="Origins allowed to call the API "
                                                            "from a browser.")
    throttle_rate: int = Field(default=100, ge=1, le=10000,
                               description="Steady requests per second before the API throttles.")
    throttle_burst: int = Field(default=200, ge=1, le=5000,
                                description="Requests the API takes at once above the rate.")
    domain: DomainName | None = Field(
        default=None, description="A custom domain (regional certificate, dual-stack, alias A "
                                  "and AAAA records).")
    hosted_zone_id: str | None = Field(default=None, description="The Route53 zone of `domain`; "
                                                                 "required with it.")
    worker_queue: Slug | None = Field(default="processing",
                                      description="The queue the worker function consumes.")
    memory_mb: int = Field(default=256, ge=128, le=10240,
                           description="Memory of each function, MB.")
    api_timeout_seconds: int = Field(default=15, ge=1, le=29,
                                     description="The API function's timeout in seconds (API "
                                                 "Gateway waits at most 29 s).")
    worker_timeout_seconds: int = Field(default=60, ge=1, le=900,
                                        description="The worker function's timeout in seconds; "
                                                    "at most its queue's "
                                                    "`visibility_timeout_seconds`.")


class ScheduleConfig(Section):
    """An EventBridge Scheduler job: `target` is `function:<api|worker>` or `service:<name>`."""

    name: Slug = Field(description="Unique among the schedules.")
    expression: ScheduleExpression = Field(
        description="`rate(N minutes|hours|days)` (singular for 1) or `cron(minutes hours "
                    "day-of-month month day-of-week year)` with `?` in exactly one of the two day "
                    "fields, e.g. `cron(0 3 * * ? *)`.")
    target: str = Field(description="`function:api`, `function:worker` or `service:<name>` (an "
                                    "ECS service: the job runs one task of it).")
    timezone: str = Field(default="UTC", description="The time zone `expression` is read in, "
                                                     "e.g. `Europe/Berlin`.")
    input: str = Field(default="{}", description="JSON passed to the target.")
    command: list[str] = Field(
        default=[], description="Service targets only, instead of `input`: the task runs this "
                                "command instead of the image's (a nightly job on a worker's "
                                "image, a migration).")


def serverless_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    queues = [q.name for q in c.messaging.queues]
    if len(set(queues)) != len(queues):
        problems.append(("messaging.queues", "names a queue twice"))
    topics = [t.name for t in c.messaging.topics]
    if len(set(topics)) != len(topics):
        problems.append(("messaging.topics", "names a topic twice"))
    if c.api.enabled and c.api.worker_queue and c.api.worker_queue not in queues:
        problems.append(("api.worker_queue", f"'{c.api.worker_queue}' is not a queue; queues: "
                                             f"{', '.join(queues) or 'none'}"))
    consumed = [q for q in c.messaging.queues if c.api.enabled and q.name == c.api.worker_queue]
    if consumed and c.api.worker_timeout_seconds > consumed[0].visibility_timeout_seconds:
        # Lambda refuses the queue trigger: a message must stay hidden while the worker runs.
        problems.append(("api.worker_timeout_seconds",
                         f"{c.api.worker_timeout_seconds} s exceeds the visibility_timeout_seconds "
                         f"({consumed[0].visibility_timeout_seconds} s) of the queue it consumes, "
                         f"'{consumed[0].name}'; Lambda rejects that SQS trigger (raise the "
                         "queue's visibility timeout or lower this)"))
    if c.api.domain and not c.api.hosted_zone_id:
        problems.append(("api.hosted_zone_id", "api.domain needs the Route53 zone that holds it "
                                               "(its certificate is validated there)"))
    targets = [f"service:{s.name}" for s in c.services if c.compute.platform == "ecs"]
    if c.api.enabled:
        targets += ["function:api"] + (["function:worker"] if c.api.worker_queue else [])
    for job in c.schedules:
        if job.target not in targets:
            problems.append((f"schedules.{job.name}.target",
                             f"'{job.target}' is not a target; allowed: "
                             f"{', '.join(targets) or 'none (no functions or ECS services)'}"))
        if job.command and not job.target.startswith("service:"):
            problems.append((f"schedules.{job.name}.command", "only a service target runs a "
                                                              "command; a function gets `input`"))
        if job.command and job.input != "{}":
            problems.append((f"schedules.{job.name}.input", "give `command` or `input`, not both: "
                                                            "the command becomes the task's input"))
    if len({j.name for j in c.schedules}) != len(c.schedules):
        problems.append(("schedules", "names a schedule twice"))
    return problems
