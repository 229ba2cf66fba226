"""The serverless and messaging sections (`[messaging]`: SQS queues and SNS topics, `[api]`: the
HTTP API with its API and worker functions, `[[schedules]]`: EventBridge Scheduler jobs) and their
rules: unique names, a worker function within its queue's visibility timeout, schedule targets
that exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from lib.config.fields import DomainName, Email, ScheduleExpression, Section, Slug, StoreAccess

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class QueueConfig(Section):
    name: Slug
    max_receive_count: int = Field(default=5, ge=1, le=1000)  # then to the dead-letter queue
    visibility_timeout_seconds: int = Field(default=60, ge=0, le=43200)
    retention_days: int = Field(default=4, ge=1, le=14)


class TopicConfig(Section):
    name: Slug
    email_subscriptions: list[Email] = []


class MessagingConfig(Section):
    queues: list[QueueConfig] = [QueueConfig(name="processing"), QueueConfig(name="email")]
    topics: list[TopicConfig] = [TopicConfig(name="alerts"), TopicConfig(name="notifications")]


class ApiConfig(Section):
    """API Gateway HTTP API with an API function, and a worker function on a queue (seed 004)."""

    enabled: bool = True
    access: list[StoreAccess] = ["database", "cache"]  # what both functions may use
    secrets: list[str] = []  # [[secrets]] names both functions may read (<NAME>_SECRET_ARN)
    cors_origins: list[str] = []
    throttle_rate: int = Field(default=100, ge=1, le=10000)  # requests per second
    throttle_burst: int = Field(default=200, ge=1, le=5000)
    domain: DomainName | None = None  # a custom domain (regional certificate, alias record)
    hosted_zone_id: str | None = None  # the Route53 zone of `domain`
    worker_queue: Slug | None = "processing"  # None: no worker function
    memory_mb: int = Field(default=256, ge=128, le=10240)
    api_timeout_seconds: int = Field(default=15, ge=1, le=29)  # API Gateway waits at most 29 s
    worker_timeout_seconds: int = Field(default=60, ge=1, le=900)


class ScheduleConfig(Section):
    """An EventBridge Scheduler job: `target` is `function:<api|worker>` or `service:<name>`."""

    name: Slug
    expression: ScheduleExpression
    target: str
    timezone: str = "UTC"
    input: str = "{}"  # JSON passed to the target
    # service targets: run the task with this command instead of the image's (a nightly job on a
    # worker's image, a migration); passed as the task's container override
    command: list[str] = []


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
