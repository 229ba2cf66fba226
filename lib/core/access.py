"""The typed handles one construct hands another: what a service or function that uses a database,
a cache, a bucket or a queue is given. The data and messaging constructs build them (`access`);
the compute and serverless constructs turn them into environment variables and IAM statements
(lib/compute/service_access.py)."""

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class DatabaseAccess:
    """Database outputs a service that uses the database is given. It connects as the
    application's own user with IAM authentication: no password, and never the master user's
    secret."""

    endpoint: str
    port: int
    name: str
    user: str  # the application's PostgreSQL role (created by sql/app-role.sql)
    # `rds-db:connect` resources: arn:<partition>:rds-db:<region>:<account>:dbuser:
    # <DbiResourceId>/<user>, the primary's, and the replica's when there is one.
    user_arn: str
    reader_endpoint: str | None = None
    reader_user_arn: str | None = None
    # The user on the reader: `user` unless the writer is reached through an RDS Proxy, whose
    # user is the one of its secret (lib/data/proxy.py).
    reader_user: str | None = None

    @property
    def user_arns(self) -> list[str]:
        return [self.user_arn] + ([self.reader_user_arn] if self.reader_user_arn else [])


@dataclass(frozen=True)
class CacheAccess:
    """Cache outputs a service that uses Redis (or Valkey) is given; it authenticates with IAM."""

    endpoint: str
    port: int
    user_name: str
    # The cache's name (a replication group's id or a serverless cache's name), which an IAM
    # token signs, and whether it is serverless: its token also signs ResourceType=ServerlessCache.
    name: str
    serverless: bool
    # `elasticache:Connect` resources: the cache (a replication group's or a serverless cache's
    # ARN) and the user.
    cache_arn: str
    user_arn: str


@dataclass(frozen=True)
class ExternalCacheAccess:
    """A Redis outside AWS that a service is given: the secret whose value is its URL, password
    included (put by the operator, never in the JSON or the state)."""

    url_secret_arn: str


@dataclass(frozen=True)
class BucketAccess:
    """A bucket a service reads and writes (the media uploads bucket), and its KMS key."""

    name: str
    arn: str
    key_arn: str
    region: str


@dataclass(frozen=True)
class QueueAccess:
    """An SQS queue a service consumes or sends to (SQS-managed encryption: no KMS grant)."""

    name: str  # the config name, e.g. "email"
    arn: str
    url: str
    queue_name: str  # the SQS queue's own name (CloudWatch's QueueName dimension)


@dataclass(frozen=True)
class DataStores:
    """The environment's data stores, as the handles a user of each is given (None: not built)."""

    database: DatabaseAccess | None
    cache: CacheAccess | ExternalCacheAccess | None
    media: BucketAccess | None

    def used(self, uses: Iterable[str]) -> dict:
        """{"database", "cache", "media"} -> the handle, for the stores in `uses` only: the
        keyword arguments of a service's or function's props."""
        uses = set(uses)
        return {store: getattr(self, store) if store in uses else None
                for store in ("database", "cache", "media")}


@dataclass(frozen=True)
class SessionLogAccess:
    """Where Session Manager writes every session's log in an account and Region (the account
    baseline's preferences document), and the key that encrypts sessions and that bucket: every
    managed instance's role must be able to reach them. Names may hold `*` (any project's
    baseline in the account)."""

    bucket_arn: str
    prefix: str  # the key prefix sessions are written under
    key_alias: str  # the alias of the session and bucket key (a kms:ResourceAliases pattern)
    account_id: str  # the bucket's and key's owner
    region: str
