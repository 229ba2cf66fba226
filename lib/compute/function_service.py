"""A `[[services]]` entry on Lambda (`compute.platform = "lambda"`): the service's own container
image as a function, with the AWS Lambda Web Adapter in the image. The adapter is a Lambda
extension: it starts the image's own command, waits until the app answers on its port, and turns
each invocation into an HTTP request to it, so an unmodified HTTP server serves the HTTP API's
requests and a worker receives its queue's messages as a POST to `/events`.

The image needs one line for it (README, "Lambda"):
    COPY --from=public.ecr.aws/awsguru/aws-lambda-adapter:<version> /lambda-adapter \
        /opt/extensions/lambda-adapter
"""

from dataclasses import dataclass

from lib.core.cdk import TerraformResource
from constructs import Construct

from lib.compute.service_access import function_access
from lib.compute.service_spec import ServiceSpec
from lib.core.access import (BucketAccess, CacheAccess, DatabaseAccess, ExternalCacheAccess,
                             QueueAccess)
from lib.core.naming import Naming
from lib.serverless.functions import Function, FunctionProps, ImageCode
from lib.serverless.http_api import HttpApi, RouteTarget

# The adapter's settings ("AWS Lambda Web Adapter", configuration: environment variables).
# A worker's messages arrive as a POST of the raw SQS event to this path; the app answers
# `{"batchItemFailures": [{"itemIdentifier": "<messageId>"}]}` for the records it could not
# handle, so only those are retried.
EVENTS_PATH = "/events"
# A worker's 5xx answer fails the invocation, so the whole batch returns to the queue (and, after
# its max_receive_count, to the dead-letter queue) instead of counting as handled.
WORKER_ERROR_STATUS_CODES = "500-599"
# Records Lambda hands a worker at once (the SQS trigger's default batch size).
BATCH_SIZE = 10


@dataclass(frozen=True)
class FunctionServiceProps:
    naming: Naming
    settings: ServiceSpec
    image: str  # <repository url>:<image_tag>, or a full ECR reference
    repository_arn: str | None  # the project's repository (CI deploys), None for an external one
    pull_grant: TerraformResource | None  # the repository policy that lets Lambda pull
    architecture: str  # compute.architecture: the image's one platform
    vpc_id: str
    subnet_ids: list[str]  # the private tier
    app_security_group_id: str  # joined: the data stores admit it
    log_key_arn: str
    log_retention_days: int
    environment_key_arn: str
    secrets_key_arn: str
    secret_arns: dict[str, str]  # env var name -> ARN, handed over as <NAME>_SECRET_ARN
    timeout_seconds: int
    reserved_concurrency: int | None
    provisioned_concurrency: int
    http_api: HttpApi | None  # web services: the API their paths are routes of
    route_keys: tuple[str, ...]  # web services: `$default`, `ANY /api`, ...
    consumes: QueueAccess | None  # workers: the queue that invokes it
    max_concurrency: int  # workers: the most batches at once
    database: DatabaseAccess | None = None
    cache: CacheAccess | ExternalCacheAccess | None = None
    media: BucketAccess | None = None
    sends_to: tuple[QueueAccess, ...] = ()


def function_service(scope: Construct, id: str, props: FunctionServiceProps) -> Function:
    """The service's function (`<project>-<env>-<service>`), with the same data-store wiring and
    least-privilege grants as on ECS; a web service's routes on the HTTP API, a worker's queue
    as its event source (partial batch failures reported, the queue's redrive dead-letters)."""
    svc = props.settings
    adapter = {"AWS_LWA_PORT": str(svc.port), "AWS_LWA_READINESS_CHECK_PATH":
               svc.health_check_path}
    if props.consumes is not None:
        adapter.update(AWS_LWA_PASS_THROUGH_PATH=EVENTS_PATH,
                       AWS_LWA_ERROR_STATUS_CODES=WORKER_ERROR_STATUS_CODES)
    environment, statements = function_access(
        {**svc.environment, **adapter}, props.secret_arns, props.secrets_key_arn,
        props.naming.region, props.database, props.cache, props.media,
        # A worker's role may receive and delete its queue's messages: Lambda's poller does so
        # with it ("Lambda execution role permissions" for SQS event sources).
        consumes=props.consumes, sends_to=props.sends_to)
    fn = Function(scope, id, FunctionProps(
        naming=props.naming, name=svc.name,
        code=ImageCode(props.image, deployed_by_ci=props.repository_arn is not None,
                       architecture=props.architecture, pull_grant=props.pull_grant),
        vpc_id=props.vpc_id, subnet_ids=props.subnet_ids,
        extra_security_group_ids=[props.app_security_group_id],
        log_key_arn=props.log_key_arn, log_retention_days=props.log_retention_days,
        environment_key_arn=props.environment_key_arn, memory_mb=svc.memory,
        timeout_seconds=props.timeout_seconds, environment=environment, statements=statements,
        reserved_concurrency=props.reserved_concurrency,
        provisioned_concurrency=props.provisioned_concurrency))
    if props.consumes is not None:
        fn.consume(props.consumes.arn, batch_size=BATCH_SIZE,
                   max_concurrency=props.max_concurrency)
    if props.http_api is not None and props.route_keys:
        props.http_api.route(f"{svc.name}-", RouteTarget(fn.arn, fn.name, fn.qualifier),
                             list(props.route_keys))
    return fn
