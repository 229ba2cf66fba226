"""The serverless API of seed 004: the API function behind the HTTP API, and the worker function
that drains one queue. One composition, so both functions get the same environment and the same
least-privilege grants for the data stores and secrets they use."""

from dataclasses import dataclass
from pathlib import Path

from constructs import Construct

from lib.compute.service_access import function_access, queue_consumer_statement
from lib.core.access import (BucketAccess, CacheAccess, DatabaseAccess, ExternalCacheAccess,
                             QueueAccess)
from lib.core.naming import Naming
from lib.serverless.functions import Function, FunctionProps, ZipCode
from lib.serverless.http_api import HttpApi, HttpApiProps, RouteTarget


@dataclass(frozen=True)
class ServerlessApiProps:
    naming: Naming
    functions_dir: Path  # holds api/ and worker/, each with handler.py
    build_dir: Path  # where the deterministic zips are written
    vpc_id: str
    subnet_ids: list[str]  # the private tier
    app_security_group_id: str  # joined by both functions: the data stores admit it
    log_key_arn: str
    log_retention_days: int
    environment_key_arn: str  # encrypts the functions' environment variables
    secrets_key_arn: str  # decrypts the secrets they read (through Secrets Manager only)
    memory_mb: int
    api_timeout_seconds: int  # API Gateway waits at most 29 s
    worker_timeout_seconds: int  # within the worker queue's visibility timeout
    # The secrets both functions may read: env var name -> ARN, handed over as <NAME>_SECRET_ARN.
    secret_arns: dict[str, str]
    database: DatabaseAccess | None
    cache: CacheAccess | ExternalCacheAccess | None
    media: BucketAccess | None
    worker_queue: QueueAccess | None  # None: no worker function
    # The functions something invokes asynchronously (a schedule): each gets a dead-letter queue.
    invoked_asynchronously: frozenset[str]
    cors_origins: list[str]
    throttle_rate: int  # requests per second, the stage's default route
    throttle_burst: int
    domain: str | None  # custom domain of the API: regional certificate, alias records
    zone_id: str | None  # the Route53 zone of `domain`
    # The HTTP API the services on Lambda already have (it then has their settings): the API
    # function joins it instead of getting its own.
    http_api: HttpApi | None = None


class ServerlessApi:
    """`api-function` + `http-api`, and `worker-function` consuming `worker_queue`.

    Lambda has no secret injection: the functions read their secrets at runtime by the ARNs in
    their environment, and may read exactly those. The database takes no secret: they connect as
    its application user with an IAM token (`rds-db:connect` on that user only). The worker may
    also receive, delete and change the visibility of messages of its one queue.

    Not a construct of its own: its resources keep the ids they had at the stack's top level, since
    a changed construct path is a replaced resource. Outputs: `functions` (name -> Function),
    `http_api`.
    """

    def __init__(self, scope: Construct, props: ServerlessApiProps):
        n = props.naming
        environment, runtime = function_access({}, props.secret_arns, props.secrets_key_arn,
                                               n.region, props.database, props.cache,
                                               props.media)

        def function(name: str, timeout: int, statements: list[dict]) -> Function:
            return Function(scope, f"{name}-function", FunctionProps(
                naming=n, name=name, code=ZipCode(props.functions_dir / name, props.build_dir),
                vpc_id=props.vpc_id, subnet_ids=props.subnet_ids,
                extra_security_group_ids=[props.app_security_group_id],
                log_key_arn=props.log_key_arn, log_retention_days=props.log_retention_days,
                environment_key_arn=props.environment_key_arn, memory_mb=props.memory_mb,
                timeout_seconds=timeout, environment=environment,
                statements=runtime + statements,
                dead_letter_queue=name in props.invoked_asynchronously))

        api = function("api", props.api_timeout_seconds, [])
        self.functions: dict[str, Function] = {"api": api}
        self.http_api = props.http_api or HttpApi(scope, "http-api", HttpApiProps(
            naming=n, cors_origins=list(props.cors_origins), throttle_rate=props.throttle_rate,
            throttle_burst=props.throttle_burst, log_key_arn=props.log_key_arn,
            log_retention_days=props.log_retention_days, domain=props.domain,
            zone_id=props.zone_id))
        # Every request no other route takes (on Lambda, the services' paths are routes too).
        self.http_api.route("", RouteTarget(api.arn, api.name), ["$default"])
        queue = props.worker_queue
        if queue is not None:
            worker = function("worker", props.worker_timeout_seconds,
                              [queue_consumer_statement(queue.arn)])
            self.functions["worker"] = worker
            worker.consume(queue.arn)
