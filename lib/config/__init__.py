"""The environment config schema and its loader: the only code that reads config files or the
process environment.

An environment file (`config/<env>.toml`) is merged over the defaults of its profile (dev, staging
or prod, see PROFILE_DEFAULTS), validated into an `EnvironmentConfig`, and then checked for rules
that span fields (subnets that fit, min <= max, prod without a single NAT...). Any problem raises
`ConfigError`, whose text is one line per problem: `<file>: <field path>: <what is wrong and what is
allowed>`. Nothing here imports CDKTF, so bad input is reported in a fraction of a second and before
any output is written.

Adding a section for a new construct: add a model (subclass `Section`), a field on
`EnvironmentConfig`, its per-profile defaults in PROFILE_DEFAULTS when they differ by environment,
and any cross-field rule in `_cross_field_problems`.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from lib.config import catalog
from lib.core.ipam import SubnetPlan, SubnetPlanError, plan_subnets
from lib.core.target import Target

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"

# Environment variables this project reads (documented in the README).
ENV_CONFIG_FILES = "PLATFORM_CONFIG"  # os.pathsep-separated list of environment files to synthesize
ENV_TARGET = "PLATFORM_TARGET"  # where the synthesized stacks are meant to run, see Target
ENV_LOCAL_ENDPOINT = "PLATFORM_LOCAL_ENDPOINT"  # the emulator's URL for Target.LOCAL
DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:4566"
ENV_SYNTH_WORKERS = "PLATFORM_SYNTH_WORKERS"  # processes `python main.py` splits the stacks over
# (PLATFORM_TYPE_CHECKS is read by main.py itself, before it imports this module.)
ENV_OUTDIR = "CDKTF_OUTDIR"  # set by the cdktf CLI: where the synthesized stacks go

RESERVED_TAGS = ("Project", "Environment", "ManagedBy")


class ConfigError(Exception):
    """A user's config mistake. `str()` is ready to print: one line per problem, no traceback."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# --- field types with messages that say what is allowed -------------------------------------

def _slug(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,18}[a-z0-9]", value) or "--" in value:
        raise ValueError(
            f"'{value}' is not allowed; use 2-20 lowercase letters, digits and single hyphens, "
            "starting with a letter"
        )
    return value


def _cidr(value: str) -> str:
    try:
        network = IPv4Network(value)
    except ValueError:
        raise ValueError(
            f"'{value}' is not an IPv4 network in CIDR form with no host bits set, "
            "e.g. 10.0.0.0/16"
        ) from None
    if "/" not in value:
        raise ValueError(f"'{value}' has no prefix length; write it like 10.0.0.0/16")
    if not network.is_private:
        raise ValueError(f"'{value}' is not a private range (10.0.0.0/8, 172.16.0.0/12 or "
                         "192.168.0.0/16)")
    return str(network)


def _vpc_cidr(value: str) -> str:
    value = _cidr(value)
    prefix = IPv4Network(value).prefixlen
    if not 16 <= prefix <= 24:
        raise ValueError(f"'{value}' has prefix /{prefix}; a VPC must be between /16 and /24")
    return value


def _log_retention(value: int) -> int:
    if value not in catalog.LOG_RETENTION_DAYS:
        allowed = ", ".join(map(str, catalog.LOG_RETENTION_DAYS))
        raise ValueError(f"{value} is not a CloudWatch Logs retention; allowed days: {allowed}")
    return value


def _region(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", value):
        raise ValueError(f"'{value}' is not an AWS region name, e.g. us-east-1")
    return value


def _account_id(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise ValueError(f"'{value}' is not an AWS account id (12 digits, as a quoted string)")
    return value


def _az_name(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]", value):
        raise ValueError(f"'{value}' is not an availability zone name, e.g. us-east-1a")
    return value


def _postgres_version(value: str) -> str:
    match = re.fullmatch(r"(\d+)(\.\d+)?", value)
    if not match or int(match.group(1)) not in catalog.POSTGRES_MAJORS:
        majors = ", ".join(map(str, catalog.POSTGRES_MAJORS))
        raise ValueError(f"'{value}' is not a supported PostgreSQL version family; allowed: a major "
                         f"({majors}) or major.minor such as 16.4")
    return value


def _daily_window(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"'{value}' is not a daily UTC window; write it like 03:00-04:00")
    return value


def _weekly_window(value: str) -> str:
    day = "(mon|tue|wed|thu|fri|sat|sun)"
    if not re.fullmatch(rf"{day}:([01]\d|2[0-3]):[0-5]\d-{day}:([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"'{value}' is not a weekly UTC window; write it like mon:04:00-mon:05:00")
    return value


def _identifier(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", value) or value in catalog.POSTGRES_RESERVED:
        raise ValueError(f"'{value}' is not allowed; use a lowercase letter then up to 62 letters, "
                         "digits or underscores, not a reserved word")
    return value


def _pi_retention(value: int) -> int:
    if value != 7 and not (value % 31 == 0 and 31 <= value <= 713) and value != 731:
        raise ValueError(f"{value} is not a Performance Insights retention; allowed: 7 (free), "
                         "a multiple of 31 up to 713, or 731")
    return value


def _image_tag(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", value):
        raise ValueError(f"'{value}' is not a container image tag (letters, digits, _ . -, up to "
                         "128 characters)")
    return value


def _domain(value: str) -> str:
    label = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
    if len(value) > 253 or not re.fullmatch(rf"({label}\.)+[a-z]{{2,63}}", value):
        raise ValueError(f"'{value}' is not a lowercase DNS name such as app.example.com")
    return value


def _any_cidr(value: str) -> str:
    try:
        return str(IPv4Network(value))
    except ValueError:
        raise ValueError(f"'{value}' is not an IPv4 network in CIDR form, e.g. 203.0.113.0/24 or "
                         "0.0.0.0/0") from None


def _any_ipv6_cidr(value: str) -> str:
    try:
        return str(IPv6Network(value))
    except ValueError:
        raise ValueError(f"'{value}' is not an IPv6 network in CIDR form, e.g. 2001:db8::/32 or "
                         "::/0") from None


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", value):
        raise ValueError(f"'{value}' is not an email address")
    return value


def _callback_url(value: str) -> str:
    local = re.fullmatch(r"http://localhost(:\d+)?(/.*)?", value)
    if not local and not re.fullmatch(r"https://[^\s/]+(/\S*)?", value):
        raise ValueError(f"'{value}' is not allowed; Cognito needs https:// URLs (http:// only "
                         "for localhost)")
    return value


# EventBridge's six cron fields, as its cron reference lists them: name, lowest and highest
# number, the names that may stand for 1, 2, ..., whether /n steps are allowed (not in
# day-of-week), and what the field takes besides *, ranges and lists.
_CRON_FIELDS = [
    ("minutes", 0, 59, [], True, "0-59"),
    ("hours", 0, 23, [], True, "0-23"),
    ("day-of-month", 1, 31, [], True, "1-31, ?, L, LW, nW (the weekday nearest day n)"),
    ("month", 1, 12, "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), True,
     "1-12 or JAN-DEC"),
    ("day-of-week", 1, 7, "SUN MON TUE WED THU FRI SAT".split(), False,
     "1-7 or SUN-SAT, ?, L, nL (the month's last day n), n#k (its k-th day n, k 1-5)"),
    ("year", 1970, 2199, [], True, "1970-2199"),
]


def _cron_field_ok(field: str, index: int) -> bool:
    _, low, high, names, steps, _ = _CRON_FIELDS[index]

    def value(text: str) -> bool:
        return (text.isdigit() and low <= int(text) <= high) or text in names

    if field == "?":
        return index in (2, 4)
    if index == 2 and (field in ("L", "LW") or (field.endswith("W") and value(field[:-1]))):
        return True
    if index == 4:
        day, nth = field.split("#", 1) if "#" in field else (None, None)
        if day is not None:  # alone in the field: EventBridge reads "3#1,6#3" as two expressions
            return value(day) and nth in ("1", "2", "3", "4", "5")
        if field == "L" or (field.endswith("L") and value(field[:-1])):
            return True
    for part in field.split(","):  # each a value, a range a-b or *, with an optional /n step
        base, slash, step = part.partition("/")
        if slash and not (steps and step.isdigit() and 1 <= int(step) <= high):
            return False
        first, dash, last = base.partition("-")
        if base != "*" and not (value(first) and (not dash or value(last))):
            return False
    return True


def _schedule_expression(value: str) -> str:
    rate = re.fullmatch(r"rate\(([0-9]+) (minute|hour|day)(s?)\)", value)
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", value)
    if rate:
        count, plural = int(rate.group(1)), rate.group(3) == "s"
        if count >= 1 and (count == 1) != plural:
            return value
        raise ValueError(f"'{value}' is not a rate; write a whole number of 1 or more and "
                         "minute|hour|day (singular for 1) or minutes|hours|days, e.g. "
                         "rate(1 hour) or rate(5 minutes)")
    if cron:
        bad = [f"the {name} field '{field}' takes only {allowed}, *, ranges a-b, lists a,b"
               + (" and steps */n or a/n" if steps else "")
               for i, ((name, *_, steps, allowed), field)
               in enumerate(zip(_CRON_FIELDS, cron.groups())) if not _cron_field_ok(field, i)]
        if bad:
            raise ValueError(f"'{value}' is not a schedule: {'; '.join(bad)}")
        if (cron.group(3) == "?") != (cron.group(5) == "?"):
            return value
    raise ValueError(f"'{value}' is not a schedule; allowed: rate(N minutes|hours|days) "
                     "(singular for 1) or cron(minutes hours day-of-month month day-of-week year) "
                     "with ? in exactly one of the two day fields, e.g. cron(0 3 * * ? *)")


def _github_repository(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9_.-]+", value):
        raise ValueError(f"'{value}' does not name exactly one repository; write owner/name "
                         "(no wildcards: the deploy role must not trust any other repository)")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
GithubRepository = Annotated[str, AfterValidator(_github_repository)]
Email = Annotated[str, AfterValidator(_email)]
CallbackUrl = Annotated[str, AfterValidator(_callback_url)]
ScheduleExpression = Annotated[str, AfterValidator(_schedule_expression)]
ImageTag = Annotated[str, AfterValidator(_image_tag)]
DomainName = Annotated[str, AfterValidator(_domain)]
AnyCidr = Annotated[str, AfterValidator(_any_cidr)]
AnyIpv6Cidr = Annotated[str, AfterValidator(_any_ipv6_cidr)]
PostgresVersion = Annotated[str, AfterValidator(_postgres_version)]
DailyWindow = Annotated[str, AfterValidator(_daily_window)]
WeeklyWindow = Annotated[str, AfterValidator(_weekly_window)]
Identifier = Annotated[str, AfterValidator(_identifier)]
PerformanceInsightsRetention = Annotated[int, AfterValidator(_pi_retention)]
# What a service or function may use: the database, Redis, the media uploads bucket.
StoreAccess = Literal["database", "cache", "media"]
MaxmemoryPolicy = Literal[catalog.MAXMEMORY_POLICIES]  # type: ignore[valid-type]
Cidr = Annotated[str, AfterValidator(_cidr)]
VpcCidr = Annotated[str, AfterValidator(_vpc_cidr)]
Region = Annotated[str, AfterValidator(_region)]
AccountId = Annotated[str, AfterValidator(_account_id)]
AzName = Annotated[str, AfterValidator(_az_name)]
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
RdsInstanceClass = Annotated[str, AfterValidator(catalog.check_rds_instance_class)]
CacheNodeType = Annotated[str, AfterValidator(catalog.check_cache_node_type)]
InterfaceEndpoint = Literal[catalog.INTERFACE_ENDPOINTS]  # type: ignore[valid-type]


class Section(BaseModel):
    """Base of every config section: unknown keys are errors (a typo must not be ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


# --- sections -------------------------------------------------------------------------------

class SubnetCidrs(Section):
    """Explicit subnet CIDRs, one per AZ and tier, for layouts that must match an existing design."""

    public: list[Cidr]
    private: list[Cidr]
    isolated: list[Cidr]


class NetworkConfig(Section):
    cidr: VpcCidr
    az_count: int = Field(ge=1, le=6)
    availability_zones: list[AzName] | None = None  # default: <region>a, <region>b, ...
    # per_az: a NAT gateway per AZ; single: one shared NAT gateway; instance: one NAT instance
    # (about a fifth of a NAT gateway's price, no HA: for dev); none: no internet egress.
    nat: Literal["per_az", "single", "instance", "none"]
    # nat = "instance" only; Graviton t4g (arm64 image) or Intel/AMD t3/t3a (x86_64 image)
    nat_instance_type: Literal["t4g.nano", "t4g.micro", "t4g.small", "t3.nano", "t3.micro",
                               "t3.small", "t3a.nano", "t3a.micro", "t3a.small"] = "t4g.nano"
    allow_single_nat_in_prod: bool = False
    subnet_prefix_length: int = Field(default=20, ge=16, le=28)
    subnets: SubnetCidrs | None = None
    interface_endpoints: list[InterfaceEndpoint] = []


class DatabaseConfig(Section):
    """RDS for PostgreSQL. Windows are UTC; the read replica serves reporting-style reads."""

    engine_version: PostgresVersion = "16"  # a major (minor upgrades are automatic) or major.minor
    instance_class: RdsInstanceClass
    allocated_storage_gb: int = Field(ge=20, le=65536)
    # storage autoscaling ceiling; default 5x allocated; 0 turns autoscaling off (free tier)
    max_allocated_storage_gb: int | None = Field(default=None, ge=0, le=65536)
    multi_az: bool
    read_replica: bool = False
    database_name: Identifier = "app"
    master_username: Identifier = "app_admin"
    backup_retention_days: int = Field(default=7, ge=0, le=35)
    backup_window: DailyWindow = "03:00-04:00"
    maintenance_window: WeeklyWindow = "mon:04:00-mon:05:00"
    deletion_protection: bool
    final_snapshot: bool
    slow_query_ms: int = Field(default=500, ge=-1, le=3_600_000)  # -1 turns slow-query logging off
    performance_insights_retention_days: PerformanceInsightsRetention = 7
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = 60

    @property
    def storage_ceiling_gb(self) -> int:
        if self.max_allocated_storage_gb is None:
            return min(self.allocated_storage_gb * 5, 65536)
        return self.max_allocated_storage_gb


class CacheConfig(Section):
    """ElastiCache for Redis OSS, one shard: a primary and num_nodes - 1 replicas."""

    engine_version: Literal["7.0", "7.1"] = "7.1"  # IAM authentication needs 7.0 or later
    node_type: CacheNodeType
    num_nodes: int = Field(ge=1, le=6)
    automatic_failover: bool | None = None  # default: on whenever there are 2 or more nodes
    maxmemory_policy: MaxmemoryPolicy = "allkeys-lru"
    snapshot_retention_days: int = Field(default=5, ge=0, le=35)
    snapshot_window: DailyWindow = "03:00-05:00"
    maintenance_window: WeeklyWindow = "mon:05:00-mon:06:00"

    @property
    def failover(self) -> bool:
        return self.num_nodes >= 2 if self.automatic_failover is None else self.automatic_failover


class EdgeConfig(Section):
    """CloudFront per static surface and the WAF web ACLs (CloudFront and the load balancer)."""

    cloudfront: bool
    waf: bool
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
    api_behavior: bool = True  # /api/* on each distribution goes to the load balancer
    surface_domains: dict[str, DomainName] = {}  # surface -> domain (certificate in us-east-1)
    hosted_zone_id: str | None = None  # for surface domains; default: ingress's zone
    waf_rate_limit: int = Field(default=2000, ge=100, le=2_000_000_000)  # requests / 5 min / IP


class StorageConfig(Section):
    """Buckets: <project>-<env>-<name>-<account id>. All private, encrypted and TLS-only."""

    media: bool = True  # uploads: versioned, Infrequent Access after 30 days, Glacier after 90
    media_cors_origins: list[str] = []
    surfaces: list[Slug] = ["static"]  # one static-asset bucket per frontend surface
    artifacts: bool = True  # build artifacts and function bundles


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


class AuthConfig(Section):
    """Cognito user pool and a browser app client (seed 000)."""

    enabled: bool = True
    callback_urls: list[CallbackUrl] = ["http://localhost:3000/api/auth/callback"]
    logout_urls: list[CallbackUrl] = ["http://localhost:3000/"]
    mfa: Literal["OFF", "OPTIONAL", "ON"]
    advanced_security: bool  # threat protection (Cognito Plus tier)


class CostConfig(Section):
    """`make cost` fails when this environment's estimate is over its budget."""

    monthly_budget_usd: float | None = Field(default=None, gt=0)


class LogsConfig(Section):
    retention_days: LogRetentionDays = 30


class BackendConfig(Section):
    """Where Terraform keeps this environment's state: `local` (a file in the project root; needs
    nothing), `s3` (the bootstrap stack's bucket and lock table) or `cloud` (Terraform Cloud; the
    token comes from TF_TOKEN_app_terraform_io or `cdktf login`)."""

    kind: Literal["local", "s3", "cloud"] = "local"
    bucket: str | None = None  # s3
    lock_table: str | None = None  # s3
    region: Region | None = None  # s3; default: the environment's region
    kms_key: str | None = None  # s3: key id, ARN or alias; default: the bucket's own encryption
    organization: str | None = None  # cloud
    workspace: str | None = None  # cloud; default: <project>-<env>


class GithubConfig(Section):
    """How GitHub Actions deploys this environment (the repository is in config/account.toml)."""

    environment: Slug | None = None  # the GitHub environment that gates deploys; default: env name


class GithubAccountConfig(Section):
    repository: GithubRepository  # owner/name: the only repository the roles trust
    # The only branch the deploy roles accept jobs from (with their GitHub environment); the
    # plan role takes any pull request of the repository.
    branch: str = "main"


class AlarmThresholds(Section):
    cpu_percent: int = Field(default=80, ge=1, le=100)
    memory_percent: int = Field(default=80, ge=1, le=100)
    target_5xx_per_minute: int = Field(default=10, ge=1, le=1_000_000)
    p99_latency_seconds: float = Field(default=2.0, gt=0, le=60)
    database_connections: int = Field(default=80, ge=1, le=100_000)
    free_storage_percent: int = Field(default=10, ge=1, le=99)
    replica_lag_seconds: int = Field(default=60, ge=1, le=86400)
    redis_memory_percent: int = Field(default=80, ge=1, le=100)
    redis_evictions: int = Field(default=100, ge=1, le=10_000_000)
    oldest_message_seconds: int = Field(default=300, ge=1, le=1_209_600)
    api_5xx_per_minute: int = Field(default=5, ge=1, le=1_000_000)
    # The account's concurrent Lambda executions (regional limit 1,000 by default); 0: no alarm.
    lambda_concurrent_executions: int = Field(default=0, ge=0, le=1_000_000)


class ObservabilityConfig(Section):
    alarms: AlarmThresholds = AlarmThresholds()
    dashboard: bool = True
    # Container Insights: per-task CPU/memory/network metrics, billed as custom metrics. The alarms
    # use the free AWS/ECS service metrics, so dev can run without it.
    container_insights: bool = True
    otel_sidecar: bool = False  # an AWS Distro for OpenTelemetry collector in every task


class ServiceConfig(Section):
    """A container service. `web` services sit behind the load balancer; `worker`s have no ingress.

    `image = "ecr"` builds into a repository this project creates (CI pushes, CI deploys: see
    README "How an image reaches production"); anything else is a full image reference that
    Terraform deploys as written.
    """

    name: Slug
    kind: Literal["web", "worker"] = "web"
    image: str = "ecr"
    image_tag: ImageTag = "bootstrap"  # the tag of the first task definition, before CI deploys
    port: int | None = Field(default=None, ge=1, le=65535)
    cpu: int = Field(default=256, ge=256)
    memory: int = Field(default=512, ge=512)
    min_tasks: int = Field(default=1, ge=0, le=1000)
    max_tasks: int = Field(default=4, ge=1, le=1000)
    desired_tasks: int | None = Field(default=None, ge=0, le=1000)  # default: min_tasks
    paths: list[str] = []
    priority: int | None = Field(default=None, ge=1, le=50000)
    health_check_path: str = "/"
    health_check_grace_seconds: int = Field(default=60, ge=0, le=2_147_483_647)
    environment: dict[str, str] = {}
    secrets: list[str] = []  # names declared in [[secrets]]
    access: list[StoreAccess] = []  # data stores the service uses
    # A worker's queue: it may receive and delete that queue's messages (QUEUE_URL) and scales
    # on its backlog instead of CPU and memory (see ContainerService).
    queue: Slug | None = None
    sends_to: list[Slug] = []  # queues it may send to (<NAME>_QUEUE_URL)
    cpu_target_percent: int = Field(default=70, ge=10, le=95)
    # Scaling also tracks memory and requests per target (web only); 0 turns either off.
    memory_target_percent: int = Field(default=80, ge=0, le=95)
    requests_per_target: int = Field(default=1000, ge=0, le=1_000_000)
    read_only_root_filesystem: bool = True
    capacity: Literal["default", "ec2"] = "default"  # "ec2": the cluster's EC2 capacity provider

    @property
    def builds_image(self) -> bool:
        return self.image == "ecr"

    @property
    def initial_tasks(self) -> int:
        return self.min_tasks if self.desired_tasks is None else self.desired_tasks


class SecretConfig(Section):
    """A secret a service (or the functions) reads, stored at /<project>/<env>/<owner>/<name>.
    Terraform creates the empty secret; its value is set out of band (aws secretsmanager
    put-secret-value)."""

    name: Slug
    service: Slug  # the owner, the path segment: a service, or "api" for the functions
    description: str = ""


class Ec2CapacityConfig(Section):
    instance_type: str = "t4g.small"
    min_size: int = Field(default=0, ge=0, le=100)
    max_size: int = Field(default=2, ge=1, le=100)


class ComputeConfig(Section):
    platform: Literal["ecs", "apprunner"] = "ecs"
    # fargate: on-demand only; spot: Fargate Spot only; mixed: one on-demand task, the rest 1:1
    capacity: Literal["fargate", "spot", "mixed"]
    architecture: Literal["arm64", "x86_64"] = "arm64"  # Graviton is cheaper for the same size
    ec2: Ec2CapacityConfig | None = None  # an optional EC2 Auto Scaling capacity provider
    immutable_tags: bool = True  # ECR tag immutability
    keep_release_images: int = Field(default=10, ge=1, le=1000)  # tagged v*
    untagged_image_days: int = Field(default=7, ge=1, le=3650)


class IngressConfig(Section):
    """The load balancer. With a domain: HTTPS (TLS 1.3/1.2), HTTP redirects, ACM + Route53."""

    domain: DomainName | None = None
    hosted_zone_id: str | None = None  # an existing zone; without it a zone for `zone_name`
    zone_name: DomainName | None = None  # default: the domain itself
    allowed_cidrs: list[AnyCidr] = ["0.0.0.0/0"]
    # With a domain: a dual-stack load balancer (IPv6 on the public subnets only) and an AAAA
    # record; `allowed_ipv6_cidrs` is then who may reach 80/443 over IPv6.
    ipv6: bool = True
    allowed_ipv6_cidrs: list[AnyIpv6Cidr] = ["::/0"]
    access_logs: bool = True
    deletion_protection: bool


class EnvironmentConfig(Section):
    """One environment: everything a stack needs, validated."""

    project: Slug
    environment: Slug
    profile: Literal["dev", "lean", "staging", "prod"]
    account_id: AccountId
    region: Region
    tags: dict[str, str] = {}
    network: NetworkConfig
    database: DatabaseConfig
    cache: CacheConfig
    edge: EdgeConfig
    storage: StorageConfig = StorageConfig()
    messaging: MessagingConfig = MessagingConfig()
    api: ApiConfig = ApiConfig()
    schedules: list[ScheduleConfig] = []
    auth: AuthConfig
    logs: LogsConfig = LogsConfig()
    cost: CostConfig = CostConfig()
    backend: BackendConfig = BackendConfig()
    github: GithubConfig = GithubConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    compute: ComputeConfig
    ingress: IngressConfig
    services: list[ServiceConfig]
    secrets: list[SecretConfig] = []

    # Set by the loader, not by the file.
    source: str = Field(default="", exclude=True)

    @property
    def stack_name(self) -> str:
        return f"{self.environment}-stack"

    @property
    def availability_zones(self) -> list[str]:
        if self.network.availability_zones:
            return list(self.network.availability_zones)
        return [f"{self.region}{letter}" for letter in "abcdef"[: self.network.az_count]]

    @property
    def dual_stack_ingress(self) -> bool:
        """A dual-stack load balancer: on ECS, with a domain (DNS records), unless ingress.ipv6
        is off. The public subnets get IPv6 for it and nothing else does."""
        return self.compute.platform == "ecs" and self.ingress.domain is not None and \
            self.ingress.ipv6

    @property
    def subnet_plan(self) -> SubnetPlan:
        explicit = None
        if self.network.subnets is not None:
            explicit = {tier: [IPv4Network(c) for c in getattr(self.network.subnets, tier)]
                        for tier in ("public", "private", "isolated")}
        return plan_subnets(IPv4Network(self.network.cidr), self.network.az_count,
                            self.network.subnet_prefix_length, explicit)


# The seed designs' environment table (Graviton classes: cheaper for the same size).
# Seed 003's services. Next.js writes its cache under .next/, so its root file system stays
# writable; the API's is read-only.
_WORKER_QUEUE = "email"  # one of MessagingConfig's default queues
_SEED_SERVICES = [
    {"name": "frontend", "kind": "web", "port": 3000, "paths": ["/*"], "priority": 200,
     "health_check_path": "/", "read_only_root_filesystem": False},
    {"name": "backend", "kind": "web", "port": 8000, "paths": ["/api/*"], "priority": 100,
     "health_check_path": "/api/v1/health", "access": ["database", "cache"],
     "sends_to": [_WORKER_QUEUE]},
    # Seed 002's headless workers: the backend enqueues, the worker drains the queue. It scales
    # on the queue's backlog from zero tasks, so an idle worker costs nothing.
    {"name": "worker", "kind": "worker", "queue": _WORKER_QUEUE, "min_tasks": 0},
]
# prod keeps a web task in two AZs at all times (seed 002: "minimum 2 tasks (across AZs) for
# HA") and one worker warm, so the first message does not wait for a task to start.
_PROD_SERVICES = [{**s, "min_tasks": 2 if s["kind"] == "web" else 1} for s in _SEED_SERVICES]
PROFILE_DEFAULTS: dict[str, dict[str, Any]] = {
    # dev: every feature on, a third cheaper than the seeds' dev (README "Cost estimate"): a NAT
    # instance instead of a NAT gateway, Fargate Spot, no Container Insights or dashboard (alarms
    # stay on), gateway endpoints only. Same encryption and network isolation as prod.
    "dev": {
        "network": {"az_count": 2, "nat": "instance"},
        # dev can be torn down: no deletion protection, no final snapshot.
        "database": {"instance_class": "db.t4g.micro", "allocated_storage_gb": 20,
                     "multi_az": False, "deletion_protection": False, "final_snapshot": False},
        "cache": {"node_type": "cache.t4g.micro", "num_nodes": 1},
        "edge": {"cloudfront": False, "waf": False, "price_class": "PriceClass_100"},
        "auth": {"mfa": "OPTIONAL", "advanced_security": False},
        "compute": {"capacity": "spot"},
        "ingress": {"deletion_protection": False},
        "observability": {"dashboard": False, "container_insights": False},
        "services": _SEED_SERVICES,
    },
    # lean (seed 001's "Lean MVP"): one App Runner web service instead of ECS + ALB, no NAT (the
    # service reaches RDS and Redis through its VPC connector; nothing in the VPC reaches the
    # internet), dev-sized data stores.
    "lean": {
        "network": {"az_count": 2, "nat": "none"},
        "database": {"instance_class": "db.t4g.micro", "allocated_storage_gb": 20,
                     "multi_az": False, "deletion_protection": False, "final_snapshot": False},
        "cache": {"node_type": "cache.t4g.micro", "num_nodes": 1},
        "edge": {"cloudfront": False, "waf": False, "price_class": "PriceClass_100"},
        "auth": {"mfa": "OPTIONAL", "advanced_security": False},
        "compute": {"platform": "apprunner", "capacity": "spot"},
        "ingress": {"deletion_protection": False},
        "observability": {"dashboard": False, "container_insights": False},
        "services": [{"name": "api", "kind": "web", "port": 8080, "health_check_path": "/health",
                      "access": ["database", "cache"], "max_tasks": 3}],
    },
    "staging": {
        "network": {"az_count": 3, "nat": "per_az"},
        "database": {"instance_class": "db.t4g.small", "allocated_storage_gb": 50,
                     "multi_az": False, "deletion_protection": True, "final_snapshot": True},
        "cache": {"node_type": "cache.t4g.small", "num_nodes": 2},
        "edge": {"cloudfront": True, "waf": True, "price_class": "PriceClass_100"},
        "auth": {"mfa": "OPTIONAL", "advanced_security": False},
        "compute": {"capacity": "mixed"},
        "ingress": {"deletion_protection": True},
        "services": _SEED_SERVICES,
    },
    "prod": {
        "network": {"az_count": 3, "nat": "per_az"},
        "database": {"instance_class": "db.t4g.medium", "allocated_storage_gb": 100,
                     "multi_az": True, "deletion_protection": True, "final_snapshot": True},
        "cache": {"node_type": "cache.t4g.medium", "num_nodes": 3},
        "edge": {"cloudfront": True, "waf": True, "price_class": "PriceClass_All"},
        "auth": {"mfa": "ON", "advanced_security": True},
        "compute": {"capacity": "fargate"},
        "ingress": {"deletion_protection": True},
        "services": _PROD_SERVICES,
    },
}


class BaselineConfig(Section):
    enabled: bool = True  # CloudTrail, GuardDuty, AWS Config, Session Manager logging


class AccountConfig(Section):
    """config/account.toml: what the bootstrap stack builds once per account (remote-state home,
    GitHub OIDC provider and per-environment roles, optional security baseline)."""

    project: Slug
    account_id: AccountId
    region: Region
    tags: dict[str, str] = {}
    github: GithubAccountConfig | None = None  # None: no OIDC provider, no deploy roles
    baseline: BaselineConfig = BaselineConfig()
    log_retention_days: LogRetentionDays = 365
    source: str = Field(default="", exclude=True)

    @property
    def state_bucket(self) -> str:
        return f"{self.project}-tfstate-{self.account_id}"

    @property
    def lock_table(self) -> str:
        return f"{self.project}-tflock"


ACCOUNT_FILE = "account.toml"


# --- loading --------------------------------------------------------------------------------

def load_environment(path: Path) -> EnvironmentConfig:
    """Read, merge over profile defaults, validate. Raises ConfigError."""
    shown = _display(path)
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.toml")
                                     if p.name != ACCOUNT_FILE)) or "none"
        raise ConfigError([f"{shown}: no such environment file (environments in config/: "
                           f"{available})"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{shown}: not valid TOML: {err}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{shown}: not valid TOML: the file is not UTF-8 text"]) from None

    data.setdefault("environment", path.stem)
    profile = data.get("profile", data["environment"])
    if not isinstance(profile, str) or profile not in PROFILE_DEFAULTS:
        allowed = ", ".join(PROFILE_DEFAULTS)
        if "profile" in data:
            message = f"profile: {profile!r} is not allowed; allowed: {allowed}"
        else:
            message = ("profile: required when the environment is not named after a profile; "
                       f"allowed: {allowed}")
        raise ConfigError([f"{shown}: {message}"])
    data["profile"] = profile
    merged = _merge(PROFILE_DEFAULTS[profile], data)
    queues = data.get("messaging", {}).get("queues") if isinstance(data.get("messaging"), dict) \
        else None
    if "services" not in data and isinstance(queues, list) and not any(
            isinstance(q, dict) and q.get("name") == _WORKER_QUEUE for q in queues):
        # The default worker and the backend's sends_to need the default queue; a file that
        # declares its own queues without it gets the default web services alone.
        merged["services"] = [{k: v for k, v in svc.items() if k != "sends_to"}
                              for svc in merged["services"] if "queue" not in svc]

    try:
        config = EnvironmentConfig.model_validate(merged)
    except ValidationError as err:
        raise ConfigError([f"{shown}: {_describe(e, merged)}" for e in err.errors()]) from None
    problems = [f"{shown}: {field}: {message}" for field, message in _cross_field_problems(config)]
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"source": shown})


def load_environments(paths: list[Path] | None = None) -> list[EnvironmentConfig]:
    """Load every environment to synthesize: `paths`, else $PLATFORM_CONFIG, else config/*.toml."""
    if paths is None:
        paths = config_paths()
    configs: list[EnvironmentConfig] = []
    problems: list[str] = []
    for path in paths:
        try:
            configs.append(load_environment(path))
        except ConfigError as err:
            problems.extend(err.problems)
    by_name: dict[str, EnvironmentConfig] = {}
    for config in configs:
        if config.environment in by_name:
            problems.append(f"{config.source}: environment: '{config.environment}' is already "
                            f"defined by {by_name[config.environment].source}; each environment "
                            "needs its own name (it names the stack and every resource)")
        by_name[config.environment] = config
    if problems:
        raise ConfigError(problems)
    if not configs:
        raise ConfigError([f"{_display(CONFIG_DIR)}: no environment files (*.toml) found"])
    return configs


def config_paths() -> list[Path]:
    override = os.environ.get(ENV_CONFIG_FILES, "").strip()
    if override:
        return [Path(p) for p in override.split(os.pathsep) if p]
    return sorted(p for p in CONFIG_DIR.glob("*.toml") if p.name != ACCOUNT_FILE)


def load_account(path: Path | None = None) -> AccountConfig:
    """The account file (config/account.toml). Raises ConfigError."""
    path = path or CONFIG_DIR / ACCOUNT_FILE
    shown = _display(path)
    if not path.is_file():
        raise ConfigError([f"{shown}: no account file (it names the project, account and region "
                           "the bootstrap stack is built for)"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{shown}: not valid TOML: {err}"]) from None
    try:
        account = AccountConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError([f"{shown}: {_describe(e, data, AccountConfig)}"
                           for e in err.errors()]) from None
    return account.model_copy(update={"source": shown})


def load_local_endpoint() -> str:
    return os.environ.get(ENV_LOCAL_ENDPOINT, "").strip() or DEFAULT_LOCAL_ENDPOINT


def load_outdir() -> Path:
    return Path(os.environ.get(ENV_OUTDIR, "").strip() or "cdktf.out")


def load_synth_workers() -> int:
    """$PLATFORM_SYNTH_WORKERS, else one per CPU this process may use."""
    value = os.environ.get(ENV_SYNTH_WORKERS, "").strip()
    if not value:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ConfigError([f"${ENV_SYNTH_WORKERS}: '{value}' is not a number of worker "
                           "processes; allowed: a whole number of at least 1"])
    return int(value)


def load_target() -> Target:
    value = os.environ.get(ENV_TARGET, Target.AWS.value).strip() or Target.AWS.value
    try:
        return Target(value)
    except ValueError:
        allowed = ", ".join(t.value for t in Target)
        raise ConfigError([f"${ENV_TARGET}: '{value}' is not a target; allowed: {allowed}"]) from None


# --- rules that span several fields ---------------------------------------------------------

def _cross_field_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    net = c.network

    if net.availability_zones is not None:
        if len(net.availability_zones) != net.az_count:
            problems.append(("network.availability_zones",
                             f"lists {len(net.availability_zones)} zones but az_count is "
                             f"{net.az_count}; give exactly one name per AZ"))
        for az in net.availability_zones:
            if not az.startswith(c.region):
                problems.append(("network.availability_zones",
                                 f"'{az}' is not in region {c.region}"))
        if len(set(net.availability_zones)) != len(net.availability_zones):
            problems.append(("network.availability_zones", "lists a zone twice"))
    try:
        c.subnet_plan
    except SubnetPlanError as err:
        problems.append((err.field, str(err)))

    if c.profile == "prod" and net.nat == "single" and not net.allow_single_nat_in_prod:
        problems.append(("network.nat",
                         "'single' in a prod environment loses egress for every AZ when that "
                         "one AZ fails; use 'per_az', or set allow_single_nat_in_prod = true to "
                         "accept that"))
    if net.nat == "instance" and c.profile in ("staging", "prod"):
        problems.append(("network.nat",
                         f"'instance' is one EC2 instance with no failover: for dev and lean "
                         f"only; {c.profile} uses 'per_az' or 'single'"))
    if len(set(net.interface_endpoints)) != len(net.interface_endpoints):
        problems.append(("network.interface_endpoints", "lists an endpoint twice"))

    db, cache = c.database, c.cache
    if net.az_count < 2 and db.multi_az:
        problems.append(("database.multi_az", "Multi-AZ needs a standby in a second AZ, but "
                                              "network.az_count is 1"))
    elif net.az_count < 2:
        problems.append(("network.az_count",
                         "1 AZ cannot host the database: an RDS subnet group spans at least 2 "
                         "AZs (set az_count = 2 or more)"))
    if db.max_allocated_storage_gb and db.max_allocated_storage_gb <= db.allocated_storage_gb:
        problems.append(("database.max_allocated_storage_gb",
                         f"{db.max_allocated_storage_gb} is not above allocated_storage_gb "
                         f"({db.allocated_storage_gb}); the autoscaling ceiling must be above "
                         "the allocated storage, or 0 to turn storage autoscaling off"))
    if db.read_replica and db.backup_retention_days == 0:
        problems.append(("database.read_replica", "a read replica needs automated backups on "
                                                  "the primary (backup_retention_days >= 1)"))
    if cache.automatic_failover and cache.num_nodes < 2:
        problems.append(("cache.automatic_failover",
                         "failover needs a replica to promote; with automatic_failover = true "
                         "set num_nodes to 2 or more"))

    for key, value in c.tags.items():
        if key in RESERVED_TAGS:
            problems.append((f"tags.{key}", f"is set by the project itself; reserved tags: "
                                            f"{', '.join(RESERVED_TAGS)}"))
        elif key.lower().startswith("aws:") or not 1 <= len(key) <= 128:
            problems.append((f"tags.{key}", "tag keys are 1-128 characters and may not start "
                                            "with 'aws:'"))
        elif len(value) > 256:
            problems.append((f"tags.{key}", "tag values are at most 256 characters"))

    problems += _service_problems(c)
    problems += _edge_problems(c)
    b = c.backend
    if b.kind == "s3" and not b.bucket:
        problems.append(("backend.bucket", "the s3 backend needs the state bucket (the bootstrap "
                                           "stack's output state_bucket)"))
    if b.kind == "s3" and not b.lock_table:
        problems.append(("backend.lock_table", "the s3 backend needs the lock table (the "
                                               "bootstrap stack's output lock_table)"))
    if b.kind == "cloud" and not b.organization:
        problems.append(("backend.organization", "the cloud backend needs the Terraform Cloud "
                                                 "organization"))
    unused = [k for k in ("bucket", "lock_table", "kms_key") if getattr(b, k) and b.kind != "s3"]
    unused += [k for k in ("organization", "workspace") if getattr(b, k) and b.kind != "cloud"]
    for key in unused:
        problems.append((f"backend.{key}", f"is not used by the {b.kind} backend"))
    return problems


def _edge_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """Storage, CloudFront, messaging, API, schedules."""
    problems: list[tuple[str, str]] = []
    st, edge = c.storage, c.edge
    buckets = [f"{s}-assets" for s in st.surfaces] + ["logs"] + \
        (["media"] if st.media else []) + (["artifacts"] if st.artifacts else [])
    for component in buckets:
        name = f"{c.project}-{c.environment}-{component}-{c.account_id}"
        if len(name) > 63:
            problems.append(("storage.surfaces" if component.endswith("-assets") else "project",
                             f"bucket name '{name}' is {len(name)} characters; S3 allows 3-63 "
                             "(shorten project, environment or surface names)"))
    if len(set(st.surfaces)) != len(st.surfaces):
        problems.append(("storage.surfaces", "lists a surface twice"))
    if edge.cloudfront and not st.surfaces:
        problems.append(("edge.cloudfront", "is on but storage.surfaces is empty: a distribution "
                                            "serves a surface's static-asset bucket"))
    if edge.surface_domains and not edge.hosted_zone_id:
        problems.append(("edge.hosted_zone_id", "surface_domains need the Route53 zone that "
                                                "holds them (their certificates are validated "
                                                "there)"))
    for surface in edge.surface_domains:
        if surface not in st.surfaces:
            problems.append((f"edge.surface_domains.{surface}",
                             f"'{surface}' is not in storage.surfaces "
                             f"({', '.join(st.surfaces) or 'none'})"))
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
    for i, job in enumerate(c.schedules):
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
    if c.profile == "prod" and c.auth.enabled and any(u.startswith("http://")
                                                      for u in c.auth.callback_urls):
        problems.append(("auth.callback_urls", "prod may not redirect to http://localhost; give "
                                               "the https:// URLs of the deployed app"))
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


def _service_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    declared = {secret.name: secret for secret in c.secrets}
    service_names = {s.name for s in c.services}
    owners = service_names | ({"api"} if c.api.enabled else set())
    for i, secret in enumerate(c.secrets):
        if secret.service not in owners:
            problems.append((f"secrets[{i}].service", f"'{secret.service}' is not a service "
                                                      "(or \"api\", the functions); "
                                                      f"services: {', '.join(sorted(service_names))}"))
    if len(declared) != len(c.secrets):
        problems.append(("secrets", "declares a secret name twice; names must be unique"))
    for name in c.api.secrets if c.api.enabled else []:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none declared"
            problems.append(("api.secrets", f"'{name}' is not declared in [[secrets]] "
                                            f"(declared: {known})"))
        elif declared[name].service != "api":
            problems.append(("api.secrets", f"'{name}' belongs to '{declared[name].service}'; "
                                            "the functions read only secrets declared with "
                                            "service = \"api\""))
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
        if s.kind == "web" and s.port is None:
            problems.append((f"{where}.port", "a web service needs the container port its "
                                              "load balancer targets (1-65535)"))
        if s.kind == "web" and not s.paths and c.compute.platform == "ecs":
            problems.append((f"{where}.paths", "a web service needs at least one path pattern, "
                                               "e.g. [\"/api/*\"]"))
        if s.kind == "worker" and s.paths:
            problems.append((f"{where}.paths", "a worker has no ingress, so it takes no paths; "
                                               "remove them or make it kind = \"web\""))
        if s.kind == "worker" and s.port is not None:
            problems.append((f"{where}.port", "a worker has no ingress, so it takes no port"))
        if s.memory not in catalog.FARGATE_MEMORY.get(s.cpu, ()):
            problems.append((f"{where}.memory", catalog.describe_fargate(s.cpu, s.memory)))
        problems += _queue_problems(c, s, where)
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
        if s.capacity == "ec2" and c.compute.ec2 is None:
            problems.append((f"{where}.capacity", "'ec2' needs an EC2 capacity provider: add "
                                                  "[compute.ec2]"))
        if len(f"{c.project}-{c.environment}-{s.name}") > 32:
            problems.append((f"{where}.name", f"'{c.project}-{c.environment}-{s.name}' is over "
                                              "32 characters, the limit for target group and "
                                              "load balancer names; shorten project or service"))
    if c.compute.platform == "apprunner":
        for s in c.services:
            where = f"services.{s.name}"
            if s.kind == "worker":
                problems.append((f"{where}.kind", "App Runner only runs web services; workers "
                                                  "need compute.platform = \"ecs\""))
            if s.memory not in catalog.APPRUNNER_MEMORY.get(s.cpu, ()):
                allowed = "; ".join(f"cpu {c} with {', '.join(map(str, m))}"
                                    for c, m in catalog.APPRUNNER_MEMORY.items())
                problems.append((f"{where}.memory", f"cpu {s.cpu} / memory {s.memory} is not an "
                                                    f"App Runner size; allowed: {allowed}"))
            if s.max_tasks > 25:
                problems.append((f"{where}.max_tasks", "App Runner scales to at most 25 "
                                                       "instances"))
    elif c.profile == "prod" and c.ingress.domain is None:
        problems.append(("ingress.domain", "prod must serve HTTPS, which needs a domain for its "
                                           "certificate (e.g. app.example.com)"))
    for s in c.services:
        if len(s.paths) > 5:
            problems.append((f"services.{s.name}.paths", "a listener rule matches at most 5 path "
                                                         "patterns"))
    ec2 = c.compute.ec2
    if ec2 is not None and ec2.min_size > ec2.max_size:
        problems.append(("compute.ec2.min_size", f"{ec2.min_size} is more than max_size "
                                                 f"({ec2.max_size})"))
    if ec2 is not None:
        graviton = re.fullmatch(r"[a-z]+\d+g[a-z]*\.[a-z0-9]+", ec2.instance_type) is not None
        if graviton != (c.compute.architecture == "arm64"):
            problems.append(("compute.ec2.instance_type",
                             f"'{ec2.instance_type}' does not run {c.compute.architecture} "
                             "images; use a Graviton type (t4g, m7g...) for arm64, an Intel or "
                             "AMD type for x86_64"))
    if c.ingress.hosted_zone_id and not c.ingress.domain:
        problems.append(("ingress.hosted_zone_id", "only used with ingress.domain"))
    ingress = c.ingress
    if (ingress.domain and ingress.ipv6 and "allowed_ipv6_cidrs" not in ingress.model_fields_set
            and ingress.allowed_cidrs != ["0.0.0.0/0"]):
        problems.append(("ingress.allowed_ipv6_cidrs", "allowed_cidrs narrows IPv4 access but "
                         "IPv6 would stay open to ::/0; list the IPv6 ranges to admit, or set "
                         "ingress.ipv6 = false"))
    return problems


def _queue_problems(c: EnvironmentConfig, s: ServiceConfig, where: str) -> list[tuple[str, str]]:
    queues = [q.name for q in c.messaging.queues]
    known = ", ".join(queues) or "none"
    problems = [(f"{where}.sends_to", f"'{name}' is not a queue; queues: {known}")
                for name in s.sends_to if name not in queues]
    if (s.queue or s.sends_to) and c.network.nat == "none" and \
            "sqs" not in c.network.interface_endpoints:
        problems.append((f"{where}.{'queue' if s.queue else 'sends_to'}",
                         "SQS is out of reach from a VPC without NAT; add \"sqs\" to "
                         "network.interface_endpoints"))
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


# --- helpers --------------------------------------------------------------------------------

def _merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two TOML tables; `overrides` wins, lists are replaced, not concatenated."""
    merged = dict(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _field_path(loc: tuple[Any, ...], data: Any) -> str:
    """('services', 1, 'port') -> 'services.backend.port' (list items shown by their name)."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and item < len(node) \
                and isinstance(node[item], dict) else None
            parts.append(str(name) if isinstance(name, str) else f"[{item}]")
        else:
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts).replace(".[", "[")


def _allowed_keys(loc: tuple[Any, ...], root: Any) -> list[str]:
    model: Any = root
    for item in loc[:-1]:
        if isinstance(item, int):
            continue
        field = model.model_fields.get(item)
        if field is None:
            return []
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__args__", (candidate,))
            found = next((t for t in (candidate, *inner)
                          if isinstance(t, type) and issubclass(t, BaseModel)), None)
            if found is not None:
                model = found
                break
        else:
            return []
    return [name for name in model.model_fields if name != "source"]


def _describe(error: Any, data: dict[str, Any], root: Any = None) -> str:
    loc = tuple(error["loc"])
    path = _field_path(loc, data)
    kind = error["type"]
    got = error.get("input")
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc, root or EnvironmentConfig)
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.5)
        suggestion = f"did you mean '{hint[0]}'? " if hint else ""
        return f"{path}: unknown key; {suggestion}allowed: {', '.join(allowed)}"
    if kind == "missing":
        return f"{path}: required field is missing"
    if kind == "literal_error":
        return f"{path}: {got!r} is not allowed; allowed: {ctx.get('expected')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = {"greater_than_equal": f">= {ctx.get('ge')}", "less_than_equal":
                  f"<= {ctx.get('le')}", "greater_than": f"> {ctx.get('gt')}",
                  "less_than": f"< {ctx.get('lt')}"}[kind]
        return f"{path}: must be {bounds} (got {got!r})"
    if kind == "value_error":
        return f"{path}: {error['msg'].removeprefix('Value error, ')}"
    expected = {"int_parsing": "an integer", "int_type": "an integer", "int_from_float":
                "a whole number", "bool_parsing": "true or false", "bool_type": "true or false",
                "string_type": "a quoted string", "list_type": "a list [...]", "dict_type":
                "a table", "model_type": "a table", "model_attributes_type": "a table"}
    if kind in expected:
        return f"{path}: must be {expected[kind]} (got {got!r})"
    return f"{path}: {error['msg']}"


def _display(path: Path) -> str:
    """Paths in messages are relative to the project when they are inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
