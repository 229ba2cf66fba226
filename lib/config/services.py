"""The `[[services]]` entries (container services on ECS, Lambda or App Runner) and their rules:
a web service has a port, paths and a priority that no other service uses; a worker drains one
queue that no one else consumes; a service reads only its own secrets, and no plain environment
variable is named like a credential (credentials.py); sizes that Fargate or App Runner offer
(Lambda's rules: lambda_platform.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config import catalog
from lib.config.credentials import as_secret_name, looks_like_credential
from lib.config.fields import (DomainName, ImageTag, Section, Slug, StoreAccess,
                               computed_default)
from lib.config.scaling import ScaleOnMetricConfig, scaling_problems

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class ServiceConfig(Section):
    """A container service. `web` services sit behind the load balancer (on Lambda: the HTTP API);
    `worker`s have no ingress; a `task` (ECS only) is a one-off task such as a migration: a task
    definition with its own roles, secrets and log group, and no ECS service
    (`make run-task`, README "One-off tasks").

    `image = "ecr"` builds into a repository this project creates (CI pushes, CI deploys: see
    README "How an image reaches production"); anything else is a full image reference that
    Terraform deploys as written.
    """

    name: Slug = Field(description="Unique; names the ECS service, task family, log group and "
                                   "repository `<project>-<env>/<name>`; every name built on "
                                   "it must fit AWS's limit (a web service's target group "
                                   "`<project>-<env>-<name>`: 32 characters).")
    kind: Literal["web", "worker", "task"] = Field(
        default="web", description="`web` (behind the load balancer, or the HTTP API on Lambda), "
                                   "`worker` (no ingress, no paths; on Lambda it is invoked "
                                   "with its queue's messages) or `task` (ECS only: a one-off "
                                   "task, no service, no port, paths, queue or scaling; run by "
                                   "`make run-task` or before a deploy, `run_before_deploy`).")
    image: str = Field(default="ecr",
                       description="`ecr`: built into this project's repository and deployed by "
                                   "CI; or a full image reference Terraform deploys as written.")
    image_from: Slug | None = Field(
        default=None,
        description="Tasks only: run this ECS service's image (its repository, e.g. `backend`) "
                    "instead of one of its own; each time images.yml deploys that service it "
                    "registers the task's next revision with the same image.")
    command: list[str] = Field(
        default=[], description="Tasks only: the command the container runs instead of the "
                                "image's (e.g. `[\"npx\", \"prisma\", \"migrate\", "
                                "\"deploy\"]`); empty: the image's own.")
    run_before_deploy: bool = Field(
        default=False,
        description="Tasks only: images.yml runs the task on the new image before it rolls the "
                    "service out (the service of `image_from`, or the task's own image), and "
                    "stops without rolling when the task exits non-zero.")
    image_tag: ImageTag = Field(
        default="bootstrap",
        description="The tag App Runner deploys, the tag a Lambda function is created from "
                    "(images.yml puts it on the first image it pushes), and on ECS the tag of "
                    "the first task definition in a VPC without NAT (push it first); with NAT an "
                    "ECS service starts on a public placeholder until CI deploys (README, \"How "
                    "an image reaches production\").")
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="web (required): the container port the load balancer "
                                         "targets. On Lambda (web and worker): the port the "
                                         "app listens on for the Lambda Web Adapter, 1024 or "
                                         "above, not 9001 (the Lambda Runtime API).")
    cpu: int = Field(default=256, ge=256,
                     description="CPU units (1024 = 1 vCPU): a Fargate size, or an App Runner "
                                 "size under `compute.platform = \"apprunner\"`.")
    memory: int = Field(default=512, ge=128,
                        description="Memory in MiB that Fargate (or App Runner) offers with "
                                    "`cpu`; on Lambda 128-10240, and CPU grows with it.")
    min_tasks: int = Field(default=1, ge=0, le=1000,
                           description="Autoscaling lower bound, at most `max_tasks`.")
    max_tasks: int = Field(default=4, ge=1, le=1000,
                           description="Autoscaling upper bound (App Runner: 25 at most; a "
                                       "Lambda worker: the most batches its queue hands it at "
                                       "once, 2-1000).")
    desired_tasks: int | None = Field(default=None, ge=0, le=1000,
                                      json_schema_extra=computed_default("`min_tasks`"),
                                      description="Tasks at the first deploy, within "
                                                  "`min_tasks`..`max_tasks`.")
    paths: list[str] = Field(default=[],
                             description="web (required on ECS): up to 3 path patterns such as "
                                         "`/api/*` (start with /, 128 characters at most), each "
                                         "routed to one service.")
    hosts: list[DomainName] = Field(
        default=[], description="web on ECS: the names its listener rule matches beside its "
                                "paths, among `ingress.domain` and `ingress.hosts` (up to 3, "
                                "and 5 with `paths`); empty: every name the load balancer "
                                "serves.")
    priority: int | None = Field(default=None, ge=1, le=50000,
                                 description="web (required on ECS): the listener rule priority, "
                                             "unique; lower matches first.")
    health_check_path: str = Field(default="/",
                                   description="The target group's health check path (on "
                                               "Lambda: the Web Adapter's readiness check, "
                                               "before the first request of each instance).")
    health_check_grace_seconds: int = Field(
        default=60, ge=0, le=2_147_483_647,
        description="Seconds ECS ignores failing health checks after a task starts.")
    environment: dict[str, str] = Field(
        default={}, description="Plain environment variables, readable in the task definition "
                                "and Terraform state: a name that says credential (`*PASSWORD`, "
                                "`*_PASS`, `*_PWD`, `*_SECRET`, `*_TOKEN`, `*_SK`, `JWT_KEY`, "
                                "`*_API_KEY`...) is refused; such a value goes in `secrets`.")
    secrets: list[str] = Field(
        default=[], description="Names of `[[secrets]]` entries whose `service` is this service "
                                "(a service reads only its own), injected as environment "
                                "variables (`stripe-key` -> `STRIPE_KEY`).")
    access: list[StoreAccess] = Field(
        default=[],
        description="The data stores it uses: `database` (DATABASE_HOST/PORT/NAME, "
                    "DATABASE_USERNAME = `database.app_user`, DATABASE_AUTH=iam, "
                    "DATABASE_SSLMODE=verify-full, DATABASE_READER_HOST with a replica, and "
                    "`rds-db:connect` as that user on the task role: an IAM token is the "
                    "password, README \"Database access\"), `cache` "
                    "(REDIS_HOST/PORT/USER, REDIS_TLS, REDIS_AUTH=iam, REDIS_CACHE_NAME and "
                    "REDIS_SERVERLESS for the token, and `elasticache:Connect` on the task role; with "
                    "`cache.external`, REDIS_URL from its secret instead; refused with "
                    "`cache.enabled = false`), `media` (MEDIA_BUCKET, and get/put/delete "
                    "objects in that "
                    "bucket only, its KMS key only through S3).")
    queue: Slug | None = Field(
        default=None,
        description="Workers only: the one queue it drains (QUEUE_URL; receive, delete, change "
                    "visibility on that queue only). It then scales on that queue's backlog "
                    "instead of CPU and memory: while messages wait (checked each minute) it "
                    "grows by half, at least one task, so it starts from 0; after 5 minutes with "
                    "none waiting it sheds one task every 5 minutes down to `min_tasks`. Step "
                    "scaling, because target tracking on backlog per task needs the running task "
                    "count (Container Insights) and cannot start from zero. A queue has one "
                    "consumer (a service or the worker function).")
    sends_to: list[Slug] = Field(default=[],
                                 description="Queues it may send to (`sqs:SendMessage` on those "
                                             "only; `<NAME>_QUEUE_URL`).")
    cpu_target_percent: int = Field(default=70, ge=10, le=95,
                                    description="Target-tracking scaling on average CPU, percent.")
    memory_target_percent: int = Field(
        default=80, ge=0, le=95,
        description="Target-tracking scaling on average memory, percent (10-95); 0 turns it off "
                    "(CPU-only scaling, as seed 003).")
    requests_per_target: int = Field(
        default=1000, ge=0, le=1_000_000,
        description="web: target-tracking scaling on load balancer requests per target "
                    "(ALBRequestCountPerTarget); 0 turns it off.")
    scale_on_metric: ScaleOnMetricConfig | None = Field(
        default=None,
        description="ECS: target tracking on a metric the application publishes, beside CPU and "
                    "memory (e.g. a BullMQ queue's waiting jobs per task); none: not used.")
    scale_on_latency_p99_ms: int | None = Field(
        default=None, ge=1, le=60_000,
        description="ECS web: target tracking on the p99 response time of its targets at the "
                    "load balancer, milliseconds (TargetResponseTime), beside CPU, memory and "
                    "requests; none: not used.")
    read_only_root_filesystem: bool = Field(default=True,
                                            description="A read-only root file system; /tmp "
                                                        "stays writable.")
    capacity: Literal["default", "ec2"] = Field(
        default="default", description="`ec2`: run on the `[compute.ec2]` capacity provider "
                                       "instead of the cluster's default strategy.")
    timeout_seconds: int = Field(
        default=10, ge=1, le=900,
        description="Lambda only: the function's timeout. A web function at most 29 (the HTTP "
                    "API gives up after 30 s); a worker's queue keeps a message hidden at least "
                    "six times as long (`visibility_timeout_seconds`).")
    reserved_concurrency: int | None = Field(
        default=None, ge=1, le=100_000,
        json_schema_extra=computed_default("none: the account's unreserved pool"),
        description="Lambda only: instances reserved for the function, which are also its "
                    "ceiling. Lambda keeps 100 of the account's concurrency unreserved, so a "
                    "new account (reduced quota) cannot reserve any: leave it unset there.")
    provisioned_concurrency: int = Field(
        default=0, ge=0, le=100_000,
        description="Lambda only: instances kept initialized (no cold start), billed by the "
                    "hour; 0 (default): none, $0 at idle. Served through the alias `live`.")

    @property
    def builds_image(self) -> bool:
        """Built into a repository of its own (a task with `image_from` uses another's)."""
        return self.image == "ecr" and self.image_from is None

    @property
    def initial_tasks(self) -> int:
        return self.min_tasks if self.desired_tasks is None else self.desired_tasks


def service_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    declared = {secret.name: secret for secret in c.secrets}
    routes: dict[str, str] = {}  # path pattern -> service
    priorities: dict[int, str] = {}

    if not c.storage.media:
        users = [f"services.{s.name}.access" for s in c.services if "media" in s.access]
        users += ["api.access"] if c.api.enabled and "media" in c.api.access else []
        problems += [(where, "'media' needs the media bucket, but storage.media is false")
                     for where in users]

    seen: set[str] = set()
    for s in c.services:
        where = f"services.{s.name}"
        if s.name in seen:
            problems.append((f"{where}.name", f"'{s.name}' is used by two services; service "
                                              "names must be unique"))
        seen.add(s.name)
        if s.kind == "task" and c.compute.platform != "ecs":
            problems.append((f"{where}.kind", "a one-off task runs on ECS only; "
                                              f"compute.platform is \"{c.compute.platform}\""))
            continue
        problems += _task_problems(c, s, where)
        if 0 < s.memory_target_percent < 10:
            problems.append((f"{where}.memory_target_percent",
                             f"{s.memory_target_percent} is not allowed; 0 (off) or 10-95"))
        if s.min_tasks > s.max_tasks:
            problems.append((f"{where}.min_tasks", f"{s.min_tasks} is more than max_tasks "
                                                   f"({s.max_tasks}); need min_tasks <= max_tasks"))
        if s.desired_tasks is not None and not s.min_tasks <= s.desired_tasks <= s.max_tasks:
            problems.append((f"{where}.desired_tasks",
                             f"{s.desired_tasks} is outside min_tasks..max_tasks "
                             f"({s.min_tasks}..{s.max_tasks})"))
        if s.kind == "web" and s.port is None and c.compute.platform != "lambda":
            problems.append((f"{where}.port", "a web service needs the container port its "
                                              "load balancer targets (1-65535)"))
        if s.kind == "web" and not s.paths and c.compute.platform != "apprunner":
            problems.append((f"{where}.paths", "a web service needs at least one path pattern, "
                                               "e.g. [\"/api/*\"]"))
        if s.kind == "worker" and s.paths:
            problems.append((f"{where}.paths", "a worker has no ingress, so it takes no paths; "
                                               "remove them or make it kind = \"web\""))
        if s.kind == "worker" and s.port is not None and c.compute.platform != "lambda":
            problems.append((f"{where}.port", "a worker has no ingress, so it takes no port"))
        if c.compute.platform != "lambda" and s.memory not in catalog.FARGATE_MEMORY.get(
                s.cpu, ()):
            problems.append((f"{where}.memory", catalog.describe_fargate(s.cpu, s.memory)))
        problems += _queue_problems(c, s, where)
        problems += scaling_problems(c, s, where)
        problems += _credential_problems(s, where)
        for name in s.secrets:
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none declared"
                problems.append((f"{where}.secrets", f"'{name}' is not declared in [[secrets]] "
                                                     f"(declared: {known})"))
            elif declared[name].service != s.name:
                # Each execution role reads only its own service's secrets.
                problems.append((f"{where}.secrets", f"'{name}' belongs to "
                                                     f"'{declared[name].service}'; a service reads "
                                                     "only secrets declared with its own name as "
                                                     "service"))
        if s.kind == "web" and c.compute.platform == "ecs":
            problems += _route_problems(s, where, routes, priorities)
        if s.capacity == "ec2" and c.compute.ec2 is None and c.compute.platform == "ecs":
            problems.append((f"{where}.capacity", "'ec2' needs an EC2 capacity provider: add "
                                                  "[compute.ec2]"))
    if c.compute.platform == "apprunner":
        for s in (s for s in c.services if s.kind != "task"):  # refused above
            where = f"services.{s.name}"
            if s.kind == "worker":
                problems.append((f"{where}.kind", "App Runner only runs web services; workers "
                                                  "need compute.platform = \"ecs\""))
            if s.memory not in catalog.APPRUNNER_MEMORY.get(s.cpu, ()):
                allowed = "; ".join(f"cpu {cpu} with {', '.join(map(str, m))}"
                                    for cpu, m in catalog.APPRUNNER_MEMORY.items())
                problems.append((f"{where}.memory", f"cpu {s.cpu} / memory {s.memory} is not an "
                                                    f"App Runner size; allowed: {allowed}"))
            if s.max_tasks > 25:
                problems.append((f"{where}.max_tasks", "App Runner scales to at most 25 "
                                                       "instances"))
    return problems


def _task_problems(c: EnvironmentConfig, s: ServiceConfig,
                   where: str) -> list[tuple[str, str]]:
    """A task has no ingress and no scaling; its image is its own or an ECS service's."""
    if s.kind != "task":
        return [(f"{where}.{key}", f"only a task (kind = \"task\") takes {key}")
                for key in ("image_from", "command", "run_before_deploy")
                if key in s.model_fields_set]
    problems = [(f"{where}.{key}", f"a one-off task has no ingress, so it takes no {key}")
                for key in ("port", "paths", "priority") if key in s.model_fields_set]
    problems += [(f"{where}.{key}", "a one-off task runs one task per run and does not scale")
                 for key in ("min_tasks", "max_tasks", "desired_tasks", "scale_on_metric",
                             "scale_on_latency_p99_ms") if key in s.model_fields_set]
    if s.image_from is None:
        if s.run_before_deploy and not s.builds_image:
            problems.append((f"{where}.run_before_deploy",
                             "CI deploys only images built here: set image = \"ecr\" or "
                             "image_from"))
        return problems
    if "image" in s.model_fields_set:
        problems.append((f"{where}.image", "set image or image_from, not both"))
    built = [o.name for o in c.services if o.kind != "task" and o.builds_image]
    if s.image_from not in built:
        problems.append((f"{where}.image_from",
                         f"'{s.image_from}' is not a service built into this project's "
                         f"repository (image = \"ecr\"); built here: {', '.join(built) or 'none'}"))
    return problems


def _route_problems(s: ServiceConfig, where: str, routes: dict[str, str],
                    priorities: dict[int, str]) -> list[tuple[str, str]]:
    """Listener rules: every path pattern to one service, every priority used once. Records this
    service's routes in `routes` (path -> service) and `priorities` (priority -> service)."""
    problems: list[tuple[str, str]] = []
    for path in s.paths:
        if not path.startswith("/") or len(path) > 128:
            problems.append((f"{where}.paths", f"'{path}' is not a path pattern: start with / "
                                               "and keep to 128 characters"))
    taken = {path: routes[path] for path in s.paths if path in routes}
    rival = priorities.get(s.priority) if s.priority is not None else None
    if s.priority is None:
        problems.append((f"{where}.priority", "a web service needs a listener rule priority "
                                              "(1-50000, lower is matched first)"))
    elif rival is not None and taken and set(taken.values()) == {rival}:
        problems.append((f"{where}.priority", f"routes {', '.join(map(repr, taken))} at priority "
                                              f"{s.priority}, exactly like '{rival}'; give each "
                                              "service its own paths and priority"))
        return problems
    elif rival is not None:
        problems.append((f"{where}.priority", f"{s.priority} is also the priority of '{rival}'; "
                                              "listener rule priorities must be unique"))
    for path, owner in taken.items():
        problems.append((f"{where}.paths", f"'{path}' is also routed to '{owner}'; each path "
                                           "pattern goes to one service"))
    if s.priority is not None:
        priorities.setdefault(s.priority, s.name)
    for path in s.paths:
        routes.setdefault(path, s.name)
    return problems


def _queue_problems(c: EnvironmentConfig, s: ServiceConfig, where: str) -> list[tuple[str, str]]:
    queues = [q.name for q in c.messaging.queues]
    known = ", ".join(queues) or "none"
    problems = [(f"{where}.sends_to", f"'{name}' is not a queue; queues: {known}")
                for name in s.sends_to if name not in queues]
    if s.queue is None:
        return problems
    if s.kind != "worker":
        problems.append((f"{where}.queue", "only a worker consumes a queue (a web service scales "
                                           "on its traffic); make it kind = \"worker\""))
    elif s.queue not in queues:
        problems.append((f"{where}.queue", f"'{s.queue}' is not a queue; queues: {known}"))
    others = [o.name for o in c.services if o.queue == s.queue and o.name != s.name]
    if c.api.enabled and c.api.worker_queue == s.queue:
        others.append("the worker function (api.worker_queue)")
    if others:
        problems.append((f"{where}.queue", f"'{s.queue}' is also consumed by {others[0]}; one "
                                           "consumer per queue, so its backlog measures one "
                                           "worker"))
    return problems


def _credential_problems(s: ServiceConfig, where: str) -> list[tuple[str, str]]:
    """A plain variable is readable by anyone who may describe the task definition (or App
    Runner service) and sits in Terraform state: a credential goes through [[secrets]]."""
    problems = []
    for variable in s.environment:
        if looks_like_credential(variable):
            name = as_secret_name(variable)
            entry = f'name = "{name}", ' if name else ""
            problems.append((f"{where}.environment.{variable}",
                             "looks like a credential, which a plain variable would leave "
                             "readable in the task definition and the Terraform state; declare "
                             f'it in [[secrets]] ({entry}service = "{s.name}") and list it in '
                             f'{where}.secrets (README "Services")'))
    return problems
