"""What AWS offers, as far as config validation needs to know: engine versions, instance classes
and allowed values.

What AWS creates today (PostgreSQL and Redis versions, RDS instance classes, ElastiCache node
types) changes on AWS's schedule, so it is data: the dated file pricing/aws-catalog.toml, each
section with the documentation page it was compiled from. This module reads it and says, in one
line, what is wrong with a value and what to use instead: a typo such as `db.t4g.mirco` or a
retired minor such as `16.3` must fail at synth time, not twenty minutes into `terraform apply`.
"""

import datetime
import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

CATALOG_FILE = Path(__file__).resolve().parents[2] / "pricing" / "aws-catalog.toml"
_CATALOG: dict[str, Any] = tomllib.loads(CATALOG_FILE.read_text(encoding="utf-8"))
AS_OF: str = _CATALOG["as_of"]

# RDS for PostgreSQL: major -> (end of RDS standard support, the minors RDS creates).
POSTGRES: dict[int, tuple[datetime.date, tuple[str, ...]]] = {
    int(major): (datetime.date.fromisoformat(entry["standard_support_ends"]),
                 tuple(entry["minors"]))
    for major, entry in _CATALOG["rds_postgres"]["majors"].items()}
POSTGRES_RETIRED: dict[int, datetime.date] = {
    int(major): datetime.date.fromisoformat(ended)
    for major, ended in _CATALOG["rds_postgres"]["retired_majors"].items()}
# ElastiCache for Redis OSS versions the project offers (IAM authentication needs 7.0+).
REDIS_VERSIONS: tuple[str, ...] = tuple(_CATALOG["elasticache_redis"]["versions"])
# Valkey majors of ElastiCache Serverless (IAM authentication needs Valkey 7.2+: all of them).
VALKEY_MAJORS: tuple[str, ...] = tuple(_CATALOG["elasticache_valkey_serverless"]["majors"])

# Region names, the commercial and GovCloud partitions (README, "Data layer": backup copies).
REGIONS: tuple[str, ...] = tuple(_CATALOG["regions"]["names"])

# Instance classes: family -> sizes.
RDS_FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(sizes)
    for family, sizes in _CATALOG["rds_instance_classes"]["families"].items()}
CACHE_FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(sizes)
    for family, sizes in _CATALOG["elasticache_node_types"]["families"].items()}
# Regions where CloudFront reaches a VPC origin (an internal load balancer).
VPC_ORIGIN_REGIONS: tuple[str, ...] = tuple(_CATALOG["cloudfront_vpc_origins"]["regions"])
# Availability Zone IDs where they cannot (per account, an ID is a different AZ name).
VPC_ORIGIN_EXCLUDED_ZONE_IDS: tuple[str, ...] = tuple(
    _CATALOG["cloudfront_vpc_origins"]["excluded_zone_ids"])


def postgres_majors(today: datetime.date | None = None) -> tuple[int, ...]:
    """The majors RDS creates in standard support on `today` (default: the real today)."""
    today = today or datetime.date.today()
    return tuple(sorted(m for m, (ends, _) in POSTGRES.items() if ends >= today))


def newest_postgres_minor(major: int) -> str:
    return max(POSTGRES[major][1], key=lambda v: int(v.split(".")[1]))


def check_postgres_version(value: str) -> str:
    """A major RDS creates in standard support, or one of its minors RDS still creates."""
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?", value)
    major = int(match.group(1)) if match else None
    majors = postgres_majors()
    if major in POSTGRES_RETIRED or (major in POSTGRES and major not in majors):
        ended = POSTGRES_RETIRED.get(major) or POSTGRES[major][0]
        raise ValueError(f"'{value}' is past RDS standard support (ended {ended}; RDS would "
                         f"create it only under paid Extended Support); use a major "
                         f"{majors[0]}-{majors[-1]}, e.g. '{majors[-2]}'")
    if major not in majors:
        newest = newest_postgres_minor(majors[-2])
        raise ValueError(f"'{value}' is not a PostgreSQL version RDS creates; allowed: a major "
                         f"({', '.join(map(str, majors))}) or major.minor such as {newest} "
                         f"(pricing/aws-catalog.toml, as of {AS_OF})")
    minors = POSTGRES[major][1]
    if match.group(2) is None or value in minors:
        return value
    newest = newest_postgres_minor(major)
    if int(match.group(2)) < int(newest.split(".")[1]):
        raise ValueError(f"'{value}' is no longer created by RDS; use '{newest}' (the newest "
                         f"{major} minor) or just '{major}'")
    raise ValueError(f"'{value}' is not a PostgreSQL {major} minor RDS creates (as of {AS_OF}: "
                     f"{', '.join(minors)}); use '{newest}' (the newest {major} minor) or just "
                     f"'{major}', or add a newer minor to pricing/aws-catalog.toml with its "
                     "source")


def check_redis_version(value: str) -> str:
    if value not in REDIS_VERSIONS:
        raise ValueError(f"'{value}' is not allowed; allowed: {', '.join(REDIS_VERSIONS)} (Redis "
                         "OSS versions ElastiCache creates that support IAM authentication)")
    return value


def check_valkey_major(value: str) -> str:
    if value not in VALKEY_MAJORS:
        raise ValueError(f"'{value}' is not allowed; allowed: {', '.join(VALKEY_MAJORS)} (Valkey "
                         "majors ElastiCache Serverless creates; IAM authentication needs Valkey "
                         "7.2 or later, so no earlier one is offered)")
    return value


def check_region(value: str) -> str:
    if value in REGIONS:
        return value
    hint = difflib.get_close_matches(value, REGIONS, n=1, cutoff=0.8)
    raise ValueError(f"'{value}' is not an AWS Region name; "
                     + (f"did you mean '{hint[0]}'? " if hint else "")
                     + f"allowed: the Regions in pricing/aws-catalog.toml [regions] (as of "
                     f"{AS_OF}), e.g. us-west-2")


def partition(region: str) -> str:
    """The partition a Region belongs to (lib/core/naming.py Naming.partition says the same)."""
    return "aws-us-gov" if "-gov-" in region else "aws"


# Names PostgreSQL or RDS will not take for a database or its master user.
POSTGRES_RESERVED = ("postgres", "rdsadmin", "admin", "user", "public", "template0", "template1")
# Role name prefixes an application role must not take: PostgreSQL reserves `pg_` for its
# predefined roles (CREATE ROLE refuses them) and RDS names its own roles `rds_` (rds_iam,
# rds_superuser...) and `rds` (rdsadmin, rdsrepladmin, rdstopmgr).
ROLE_PREFIXES_RESERVED = ("pg_", "rds")

# Redis eviction policies (maxmemory-policy).
MAXMEMORY_POLICIES = ("allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                      "volatile-lfu", "volatile-random", "volatile-ttl", "noeviction")

# The retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)

# Interface endpoints the Network construct knows how to create (service name suffixes).
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "secretsmanager", "logs", "ssm", "ssmmessages",
                       "ec2messages", "kms", "sts", "sqs", "sns", "monitoring")


def _check_class(value: str, prefix: str, families: dict[str, tuple[str, ...]], what: str) -> str:
    match = re.fullmatch(rf"{re.escape(prefix)}\.([a-z0-9]+)\.([a-z0-9]+)", value)
    family = match.group(1) if match else None
    if family in families and match.group(2) in families[family]:
        return value
    if family in families:
        # a misspelt size word (mirco); a size in numbers (8xlarge) is not a typo of its neighbour
        hint = [] if any(c.isdigit() for c in match.group(2)) else \
            difflib.get_close_matches(match.group(2), families[family], n=1, cutoff=0.6)
        suggestion = f"did you mean '{prefix}.{family}.{hint[0]}'? " if hint else ""
        raise ValueError(f"'{value}' is not {what}; {suggestion}{prefix}.{family} comes in "
                         f"{', '.join(families[family])}")
    burstable = ", ".join(f for f in families if f.startswith("t"))
    others = ", ".join(f for f in families if not f.startswith("t"))
    raise ValueError(
        f"'{value}' is not {what}; families: {burstable} (burstable), {others}; write "
        f"{prefix}.<family>.<size>, e.g. {prefix}.t4g.micro"
    )


def check_rds_instance_class(value: str) -> str:
    return _check_class(value, "db", RDS_FAMILIES, "an RDS PostgreSQL instance class")


def check_cache_node_type(value: str) -> str:
    return _check_class(value, "cache", CACHE_FAMILIES, "an ElastiCache node type")


def _gib(low: int, high: int, step: int = 1024) -> tuple[int, ...]:
    return tuple(range(low, high + 1, step))


# The task sizes Fargate offers: cpu units -> memory MiB.
FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _gib(1024, 4096),
    1024: _gib(2048, 8192),
    2048: _gib(4096, 16384),
    4096: _gib(8192, 30720),
    8192: _gib(16384, 61440, 4096),
    16384: _gib(32768, 122880, 8192),
}


def describe_fargate(cpu: int, memory: int) -> str:
    if cpu not in FARGATE_MEMORY:
        return (f"cpu {cpu} is not a Fargate size; allowed cpu: "
                f"{', '.join(map(str, FARGATE_MEMORY))}")
    sizes = FARGATE_MEMORY[cpu]
    allowed = ", ".join(map(str, sizes)) if len(sizes) <= 4 else \
        f"{sizes[0]}-{sizes[-1]} in steps of {sizes[1] - sizes[0]}"
    return f"{memory} MiB is not offered with cpu {cpu} on Fargate; allowed memory: {allowed}"


# The instance sizes App Runner offers: cpu units -> memory MiB.
APPRUNNER_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024), 512: (1024,), 1024: (2048, 3072, 4096), 2048: (4096, 6144),
    4096: (8192, 10240, 12288),
}
