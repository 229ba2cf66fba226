"""`compute.platform = "lambda"`: each `[[services]]` entry runs as a Lambda function from its
container image, with the AWS Lambda Web Adapter in the image turning Lambda's events into HTTP
requests to the app's port. Web services sit behind the HTTP API, workers are invoked with their
queue's messages. The rules here are what Lambda, the adapter and the HTTP API accept, so a wrong
value fails at synth time, not in the middle of an apply.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lib.config.network import PRIVATE_ECR

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig
    from lib.config.services import ServiceConfig

# "Lambda quotas": 128-10,240 MB of memory, a timeout of up to 900 seconds.
MEMORY_MB = (128, 10_240)
# The HTTP API waits at most 30 seconds for its integration ("Quotas for configuring and running
# an HTTP API in API Gateway", not increasable): a web function stops first and logs why.
WEB_TIMEOUT_SECONDS = 29
# "Creating and configuring an Amazon SQS event source mapping": set the queue's visibility
# timeout to at least six times the function's timeout, so a throttled batch can be retried.
VISIBILITY_FACTOR = 6
# "ScalingConfig" (Lambda API reference): MaximumConcurrency is 2-1000.
WORKER_CONCURRENCY = (2, 1000)
# The Lambda Web Adapter's quick start: the app runs as a non-root user, so it cannot listen
# below 1024, and 9001 is the Lambda Runtime API's port in the execution environment. (Port 3000,
# which its guide also says to avoid, is only taken by the Lambda Insights extension, which this
# platform never adds.)
RUNTIME_API_PORT = 9001
# "Quotas for configuring and running an HTTP API": 300 routes per API.
MAX_ROUTES = 300
_SEGMENT = r"[A-Za-z0-9._~-]+"
# The path patterns a service may give: `/*` (everything no other route takes), `/a/b/*` (a
# prefix: the path itself and everything below it) or an exact path `/a/b`.
_PATH = re.compile(rf"/\*|(/{_SEGMENT})+(/\*)?")
# Settings of ECS services (or the cluster) that mean nothing to a function: set, they are refused
# rather than silently ignored.
ECS_ONLY = {
    "cpu": "Lambda has no CPU setting: it allocates CPU in proportion to `memory`",
    "min_tasks": "Lambda starts instances per request and stops them when idle (keep some warm "
                 "with `provisioned_concurrency`)",
    "desired_tasks": "Lambda starts instances per request",
    "priority": "the HTTP API picks the most specific route, with no priorities",
    "cpu_target_percent": "Lambda scales per request, not on CPU",
    "memory_target_percent": "Lambda scales per request, not on memory",
    "requests_per_target": "Lambda scales per request by itself",
    "health_check_grace_seconds": "the Web Adapter waits for `health_check_path` before the "
                                  "first request of each instance",
}


def route_keys(path: str) -> list[str]:
    """The HTTP API route keys that serve an ALB-style path pattern: `/*` is the `$default` route;
    `/a/*` is `ANY /a` and the greedy `ANY /a/{proxy+}`, which only matches below `/a`
    ("Working with routes for HTTP APIs": a greedy path variable catches child resources); an
    exact path is `ANY /path`. Any other pattern: []."""
    if _PATH.fullmatch(path) is None:
        return []
    if path == "/*":
        return ["$default"]
    if path.endswith("/*"):
        return [f"ANY {path[:-2]}", f"ANY {path[:-2]}/{{proxy+}}"]
    return [f"ANY {path}"]


def lambda_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    if c.compute.platform != "lambda":
        if c.compute.images_pushed:
            return [("compute.images_pushed", "only used with compute.platform = \"lambda\"")]
        return []
    problems: list[tuple[str, str]] = []
    if c.compute.ec2 is not None:
        problems.append(("compute.ec2", "Lambda runs on no EC2 capacity; remove [compute.ec2] "
                                        "or use compute.platform = \"ecs\""))
    routes: dict[str, str] = {}  # route key -> who serves it
    if c.api.enabled:
        # The zip-packaged API function answers every request no other route takes.
        routes["$default"] = "the API function (api.enabled)"
        functions = ["api"] + (["worker"] if c.api.worker_queue else [])
        problems += [(f"services.{s.name}.name", f"'{s.name}' is also the name of a function of "
                                                 "[api] (<project>-<env>-"
                                                 f"{s.name}); rename the service or set "
                                                 "api.enabled = false")
                     for s in c.services if s.name in functions]
    for s in c.services:
        if s.kind != "task":  # refused in services.py: ECS only
            problems += _service_problems(c, s, f"services.{s.name}", routes)
    if len(routes) > MAX_ROUTES:
        problems.append(("services", f"{len(routes)} HTTP API routes, over the {MAX_ROUTES} an "
                                     "API may have"))
    problems += _ingress_problems(c)
    return problems


def _service_problems(c: EnvironmentConfig, s: ServiceConfig, where: str,
                      routes: dict[str, str]) -> list[tuple[str, str]]:
    problems = [(f"{where}.{field}", f"has no effect on Lambda ({why}); remove it")
                for field, why in ECS_ONLY.items() if field in s.model_fields_set]
    if s.capacity == "ec2":
        problems.append((f"{where}.capacity", "'ec2' is EC2 capacity, which Lambda does not use; "
                                              "remove it or use compute.platform = \"ecs\""))
    if not s.read_only_root_filesystem:
        problems.append((f"{where}.read_only_root_filesystem",
                         "a Lambda function's file system is read-only except /tmp (512 MB "
                         "and up); remove it and write under /tmp"))
    if not s.builds_image and not PRIVATE_ECR.match(s.image):
        problems.append((f"{where}.image", f"'{s.image}': Lambda runs images only from a private "
                                           f"ECR repository in {c.region}; use \"ecr\" (built "
                                           "here) or <account>.dkr.ecr."
                                           f"{c.region}.amazonaws.com/<repository>:<tag>"))
    elif not s.builds_image and f".dkr.ecr.{c.region}." not in s.image:
        problems.append((f"{where}.image", f"'{s.image}' is in another Region; Lambda runs "
                                           f"images only from ECR in {c.region}"))
    if not MEMORY_MB[0] <= s.memory <= MEMORY_MB[1]:
        problems.append((f"{where}.memory", f"{s.memory} MB is outside Lambda's "
                                            f"{MEMORY_MB[0]}-{MEMORY_MB[1]} MB"))
    if s.port is None:
        problems.append((f"{where}.port", "the Lambda Web Adapter forwards every request (a "
                                          "worker's messages too) to the app's port: give it"))
    elif s.port < 1024 or s.port == RUNTIME_API_PORT:
        problems.append((f"{where}.port", f"{s.port} is out of the Web Adapter's reach: the app "
                                          "runs as a non-root user (no port below 1024) and "
                                          f"{RUNTIME_API_PORT} is the Lambda Runtime API's; use "
                                          "e.g. 8080"))
    if s.reserved_concurrency is not None and \
            s.provisioned_concurrency > s.reserved_concurrency:
        problems.append((f"{where}.provisioned_concurrency",
                         f"{s.provisioned_concurrency} is more than reserved_concurrency "
                         f"({s.reserved_concurrency}), the function's ceiling"))
    if s.kind == "web":
        if "max_tasks" in s.model_fields_set:
            problems.append((f"{where}.max_tasks", "has no effect on a web function (Lambda "
                                                   "starts an instance per concurrent request); "
                                                   "cap it with reserved_concurrency"))
        if s.timeout_seconds > WEB_TIMEOUT_SECONDS:
            problems.append((f"{where}.timeout_seconds",
                             f"{s.timeout_seconds} s: the HTTP API gives up after 30 s; at most "
                             f"{WEB_TIMEOUT_SECONDS} for a web function (long work goes to a "
                             "worker through a queue)"))
        problems += _route_problems(s, where, routes)
        return problems
    if s.queue is None:
        problems.append((f"{where}.queue", "a worker on Lambda runs only when its queue hands it "
                                           "messages: name the queue it drains"))
        return problems
    if not WORKER_CONCURRENCY[0] <= s.max_tasks <= WORKER_CONCURRENCY[1]:
        problems.append((f"{where}.max_tasks", f"{s.max_tasks}: the most batches an SQS trigger "
                                               f"hands a function at once is "
                                               f"{WORKER_CONCURRENCY[0]}-{WORKER_CONCURRENCY[1]}"))
    queue = next((q for q in c.messaging.queues if q.name == s.queue), None)
    if queue is not None and \
            queue.visibility_timeout_seconds < VISIBILITY_FACTOR * s.timeout_seconds:
        problems.append((f"{where}.timeout_seconds",
                         f"{s.timeout_seconds} s needs the queue '{queue.name}' to hide a message "
                         f"at least {VISIBILITY_FACTOR} times as long (AWS, SQS event source "
                         "mappings), but its visibility_timeout_seconds is "
                         f"{queue.visibility_timeout_seconds}; raise that to "
                         f"{VISIBILITY_FACTOR * s.timeout_seconds} or lower this"))
    return problems


def _route_problems(s: ServiceConfig, where: str,
                    routes: dict[str, str]) -> list[tuple[str, str]]:
    """Every path pattern becomes HTTP API routes; a route key is served by one function.
    Records this service's in `routes`."""
    problems: list[tuple[str, str]] = []
    for path in s.paths:
        keys = route_keys(path)
        if not keys:
            problems.append((f"{where}.paths", f"'{path}' is not a pattern the HTTP API can route: "
                                               "use /* (everything else), a prefix such as "
                                               "/api/* or an exact path such as /health"))
        for key in keys:
            owner = routes.setdefault(key, s.name)
            if owner != s.name:
                what = "every path no other route takes" if key == "$default" else key
                problems.append((f"{where}.paths", f"'{path}' needs the route {what}, which "
                                                   f"already goes to {owner}; each path goes to "
                                                   "one service"))
    return problems


def _ingress_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """The HTTP API's custom domain is `ingress.domain` (or `api.domain`), in an existing zone."""
    problems: list[tuple[str, str]] = []
    if c.ingress.domain and not c.ingress.hosted_zone_id:
        problems.append(("ingress.hosted_zone_id", "on Lambda ingress.domain needs the id of the "
                                                   "existing Route53 zone that holds it (its "
                                                   "certificate is validated there)"))
    if c.ingress.domain and c.api.domain:
        problems.append(("api.domain", "the services and the API function share one HTTP API on "
                                       "Lambda, which has one domain: set ingress.domain or "
                                       "api.domain, not both"))
    if c.edge.waf and not c.edge.cloudfront:
        problems.append(("edge.waf", "AWS WAF cannot protect an HTTP API (it protects REST APIs, "
                                     "load balancers and CloudFront); put CloudFront in front "
                                     "(edge.cloudfront = true) or set edge.waf = false"))
    return problems
