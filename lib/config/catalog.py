"""What AWS offers, as far as config validation needs to know: instance classes and allowed values.

Kept deliberately small and explicit: a typo such as `db.t4g.mirco` must fail at synth time with
the list of what is allowed, not twenty minutes into `terraform apply`.
"""

import re

# RDS for PostgreSQL instance families (current generations) and their sizes.
_BURSTABLE_SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_STANDARD_SIZES = (
    "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
    "32xlarge", "48xlarge",
)
RDS_FAMILIES: dict[str, tuple[str, ...]] = {
    "t3": _BURSTABLE_SIZES,
    "t4g": _BURSTABLE_SIZES,
    **{f: _STANDARD_SIZES for f in (
        "m5", "m5d", "m6g", "m6gd", "m6i", "m6id", "m7g", "m7i", "m8g",
        "r5", "r5b", "r5d", "r6g", "r6gd", "r6i", "r6id", "r7g", "r7i", "r8g",
    )},
}

# ElastiCache (Redis OSS) node families and sizes.
CACHE_FAMILIES: dict[str, tuple[str, ...]] = {
    "t3": ("micro", "small", "medium"),
    "t4g": ("micro", "small", "medium"),
    **{f: ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
       for f in ("m5", "m6g", "m7g", "r5", "r6g", "r7g")},
}

# RDS for PostgreSQL major versions with standard support.
POSTGRES_MAJORS = (13, 14, 15, 16, 17)
# Names PostgreSQL or RDS will not take for a database or its master user.
POSTGRES_RESERVED = ("postgres", "rdsadmin", "admin", "user", "public", "template0", "template1")

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
                       "ec2messages", "kms", "sts", "sqs", "sns")


def _check_class(value: str, prefix: str, families: dict[str, tuple[str, ...]], what: str) -> str:
    match = re.fullmatch(rf"{re.escape(prefix)}\.([a-z0-9]+)\.([a-z0-9]+)", value)
    if match and match.group(2) in families.get(match.group(1), ()):
        return value
    burstable = ", ".join(f for f in families if f.startswith("t"))
    others = ", ".join(f for f in families if not f.startswith("t"))
    raise ValueError(
        f"'{value}' is not a known {what}; allowed: {prefix}.<family>.<size> with burstable "
        f"families {burstable} (sizes {', '.join(families['t4g'])}) or {others} "
        f"(sizes large and up), e.g. {prefix}.t4g.micro"
    )


def check_rds_instance_class(value: str) -> str:
    return _check_class(value, "db", RDS_FAMILIES, "RDS PostgreSQL instance class")


def check_cache_node_type(value: str) -> str:
    return _check_class(value, "cache", CACHE_FAMILIES, "ElastiCache node type")


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
