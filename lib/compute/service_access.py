"""What a service is given for the data stores and secrets it uses, whatever runs it (ECS, Lambda
or App Runner): environment variables, injected secrets, and the IAM statements that go with
them."""

from dataclasses import dataclass, field

from lib.core.access import (BucketAccess, CacheAccess, DatabaseAccess, ExternalCacheAccess,
                             QueueAccess)


@dataclass
class ServiceAccess:
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # env var -> valueFrom
    readable_secret_arns: list[str] = field(default_factory=list)  # for GetSecretValue
    runtime_statements: list[dict] = field(default_factory=list)  # for the task/instance role


def service_access(environment: dict[str, str], secret_arns: dict[str, str],
                   database: DatabaseAccess | None,
                   cache: CacheAccess | ExternalCacheAccess | None,
                   media: BucketAccess | None = None, consumes: QueueAccess | None = None,
                   sends_to: tuple[QueueAccess, ...] = ()) -> ServiceAccess:
    """Config environment and secrets (env var -> secret ARN), plus the connection settings of the
    data stores and queues the service uses. Credentials are never values: the runtime role is
    authorized instead (`rds-db:connect` as the application's database user, `elasticache:Connect`,
    object actions on the one bucket, message actions on the named queues); an outside Redis's URL
    is a secret like the config's, REDIS_URL."""
    access = ServiceAccess(environment=dict(environment), secrets=dict(secret_arns),
                           readable_secret_arns=list(secret_arns.values()))
    if database is not None:
        # The application's own user with an IAM token as its password, not the master user's
        # secret: a compromised workload holds a 15-minute token for one unprivileged role, and
        # nothing goes stale when RDS rotates the master password. Tokens go over TLS only, and
        # AWS's examples verify the server (`sslmode=verify-full` with the RDS CA bundle).
        access.environment.update(
            DATABASE_HOST=database.endpoint, DATABASE_PORT=str(database.port),
            DATABASE_NAME=database.name, DATABASE_USERNAME=database.user,
            DATABASE_AUTH="iam", DATABASE_SSLMODE="verify-full")
        if database.reader_endpoint is not None:
            access.environment.update(DATABASE_READER_HOST=database.reader_endpoint,
                                      DATABASE_READER_USERNAME=database.reader_user
                                      or database.user)
        access.runtime_statements.append({
            "Sid": "DatabaseIamAuthentication", "Effect": "Allow", "Action": "rds-db:connect",
            "Resource": database.user_arns})
    if isinstance(cache, ExternalCacheAccess):
        access.secrets["REDIS_URL"] = cache.url_secret_arn
        access.readable_secret_arns.append(cache.url_secret_arn)
    elif cache is not None:
        # REDIS_CACHE_NAME and REDIS_SERVERLESS: what the IAM token signs besides the user
        # (ElastiCache, "Authenticating with IAM").
        access.environment.update(REDIS_HOST=cache.endpoint, REDIS_PORT=str(cache.port),
                                  REDIS_USER=cache.user_name, REDIS_TLS="true", REDIS_AUTH="iam",
                                  REDIS_CACHE_NAME=cache.name,
                                  REDIS_SERVERLESS=str(cache.serverless).lower())
        access.runtime_statements.append({
            "Sid": "RedisIamAuthentication", "Effect": "Allow", "Action": "elasticache:Connect",
            "Resource": [cache.cache_arn, cache.user_arn]})
    if media is not None:
        access.environment["MEDIA_BUCKET"] = media.name
        access.runtime_statements += [
            {"Sid": "MediaObjects", "Effect": "Allow", "Resource": f"{media.arn}/*",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                        "s3:AbortMultipartUpload"]},
            {"Sid": "MediaList", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": media.arn},
            {"Sid": "MediaKeyThroughS3", "Effect": "Allow",
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": media.key_arn,
             "Condition": {"StringEquals": {"kms:ViaService": f"s3.{media.region}.amazonaws.com"}}},
        ]
    if consumes is not None:
        access.environment["QUEUE_URL"] = consumes.url
        access.runtime_statements.append(queue_consumer_statement(consumes.arn))
    if sends_to:
        access.environment.update({f"{q.name.upper().replace('-', '_')}_QUEUE_URL": q.url
                                   for q in sends_to})
        access.runtime_statements.append({
            "Sid": "SendToQueues", "Effect": "Allow", "Action": "sqs:SendMessage",
            "Resource": [q.arn for q in sends_to]})
    return access


def queue_consumer_statement(queue_arn: str) -> dict:
    """Receive, delete and hide the messages of one queue."""
    return {"Sid": "ConsumeItsQueue", "Effect": "Allow", "Resource": queue_arn,
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                       "sqs:GetQueueAttributes"]}


def secret_read_statements(secret_arns: list[str], secrets_key_arn: str, region: str) -> list[dict]:
    """Read exactly these secrets, and decrypt them with the secrets key only through Secrets
    Manager."""
    if not secret_arns:
        return []
    return [
        {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": secret_arns},
        {"Sid": "DecryptOwnSecretsThroughSecretsManager", "Effect": "Allow",
         "Action": "kms:Decrypt", "Resource": secrets_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}},
    ]


def function_access(environment: dict[str, str], secret_arns: dict[str, str],
                    secrets_key_arn: str, region: str, database: DatabaseAccess | None,
                    cache: CacheAccess | ExternalCacheAccess | None,
                    media: BucketAccess | None = None, consumes: QueueAccess | None = None,
                    sends_to: tuple[QueueAccess, ...] = ()) -> tuple[dict[str, str], list[dict]]:
    """A Lambda function's environment and role statements. Lambda has no secret injection: each
    secret (env var name -> ARN in `secret_arns`, and an outside Redis's REDIS_URL) arrives as
    `<NAME>_SECRET_ARN`, which the function may read, and decrypt through Secrets Manager
    only."""
    access = service_access(environment, secret_arns, database, cache, media, consumes, sends_to)
    own = {f"{env_name}_SECRET_ARN": arn for env_name, arn in access.secrets.items()}
    statements = access.runtime_statements + secret_read_statements(
        access.readable_secret_arns, secrets_key_arn, region)
    return {**access.environment, **own}, statements
