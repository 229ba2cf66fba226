"""The root of an environment file: `EnvironmentConfig`, its properties that stacks read
(availability zones, the subnet plan...), the rule on its own keys (tags), and
`cross_field_problems`, which runs every section's rules in the order their problems are reported.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Literal

from pydantic import Field

from lib.config.access import AccessConfig, access_problems
from lib.config.compute import ComputeConfig, IngressConfig, compute_problems
from lib.config.data import CacheConfig, DatabaseConfig, data_problems
from lib.config.delivery import BackendConfig, GithubConfig, backend_problems
from lib.config.edge import EdgeConfig, StorageConfig, edge_problems
from lib.config.fields import AccountId, Region, Section, Slug, computed_default
from lib.config.identity import AuthConfig, SecretConfig, auth_problems, secret_problems
from lib.config.lambda_platform import lambda_problems
from lib.config.names import name_problems
from lib.config.network import NetworkConfig, egress_problems, network_problems
from lib.config.observability import (CostConfig, LogsConfig, ObservabilityConfig,
                                      logs_problems)
from lib.config.serverless import ApiConfig, MessagingConfig, ScheduleConfig, serverless_problems
from lib.config.services import ServiceConfig, service_problems
from lib.core.ipam import SubnetPlan, plan_subnets

RESERVED_TAGS = ("Project", "Environment", "ManagedBy")


class EnvironmentConfig(Section):
    """One environment: everything a stack needs, validated."""

    project: Slug = Field(description="2-20 lowercase letters, digits and single hyphens, "
                                      "starting with a letter: names every resource "
                                      "`<project>-<env>-<component>`.")
    environment: Slug = Field(json_schema_extra=computed_default("the file name"),
                              description="As `project`; names the stack "
                                          "`<environment>-stack` and every resource.")
    profile: Literal["dev", "lean", "staging", "prod"] = Field(
        json_schema_extra=computed_default("the environment name"),
        description="The defaults the file is merged over; required when the environment is not "
                    "named after a profile. `lean` (seed 001's Lean MVP): one App Runner web "
                    "service `api` on 8080 (the API: no Lambda one), no load balancer, "
                    "`nat = \"none\"`, dev-sized data stores (see `examples/lean.toml`).")
    extends: str | None = Field(
        default=None,
        description="Another file whose values this one starts from, relative to this file, e.g. "
                    "`\"app.base.toml\"`: its tables are merged key by key under this file's "
                    "(lists replaced), over the profile's defaults; it may extend another in "
                    "turn, never in a cycle. `environment` and `extends` are not inherited. A "
                    "`*.base.toml` file is shared settings, never an environment of its own.")
    account_id: AccountId = Field(description="12 digits, quoted: the only account the provider "
                                              "will touch.")
    region: Region = Field(description="The AWS region, e.g. `us-east-1`.")
    tags: dict[str, str] = Field(
        default={}, description="Extra tags on every resource; `Project`, `Environment` and "
                                "`ManagedBy` are set by the project. Keys 1-128 characters, not "
                                "starting with `aws:`; values up to 256.")
    prevent_destroy: bool = Field(
        description="Terraform refuses any plan that would destroy or replace a stateful "
                    "resource: the database and replica, the cache, buckets, the user pool, KMS "
                    "keys, secrets, queues, log groups, image repositories, a zone the stack "
                    "created (`lifecycle.prevent_destroy`; README, \"Stateful resources\"). "
                    "Set `false` only to retire the environment (README, \"Retiring an "
                    "environment\"); dev and lean stay disposable.")
    network: NetworkConfig = Field(description="`[network]`: the VPC.")
    database: DatabaseConfig = Field(description="`[database]`: RDS for PostgreSQL.")
    cache: CacheConfig = Field(description="`[cache]`: ElastiCache for Redis OSS.")
    edge: EdgeConfig = Field(description="`[edge]`: CloudFront and WAF.")
    storage: StorageConfig = Field(default=StorageConfig(),
                                   description="`[storage]`: the buckets.")
    messaging: MessagingConfig = Field(default=MessagingConfig(),
                                       description="`[messaging]`: queues and topics.")
    api: ApiConfig = Field(default=ApiConfig(),
                           description="`[api]`: the HTTP API and its functions.")
    schedules: list[ScheduleConfig] = Field(default=[],
                                            description="EventBridge Scheduler jobs.")
    auth: AuthConfig = Field(description="`[auth]`: the Cognito user pool.")
    logs: LogsConfig = Field(default=LogsConfig(), description="`[logs]`: log retention.")
    cost: CostConfig = Field(description="`[cost]`: the budget.")
    backend: BackendConfig = Field(default=BackendConfig(),
                                   description="`[backend]`: where Terraform keeps the state.")
    github: GithubConfig = Field(default=GithubConfig(),
                                 description="`[github]`: how GitHub Actions deploys.")
    observability: ObservabilityConfig = Field(default=ObservabilityConfig(),
                                               description="`[observability]`: alarms, "
                                                           "dashboard, metrics.")
    compute: ComputeConfig = Field(description="`[compute]`: ECS or App Runner.")
    ingress: IngressConfig = Field(description="`[ingress]`: the load balancer.")
    access: AccessConfig = Field(default=AccessConfig(),
                                 description="`[access]`: how people reach the private network.")
    services: list[ServiceConfig] = Field(
        description="Container services, see \"Services\" (which also says what the profiles' "
                    "own do); a file's `[[services]]` replace the profile's.")
    secrets: list[SecretConfig] = Field(
        default=[], description="Secrets a service or the functions read, each stored empty at "
                                "`/<project>/<env>/<service>/<name>`: see \"Services\".")
    source: str = Field(default="", exclude=True,
                        description="Set by the loader, not the file: the file's path, for "
                                    "messages.")

    @property
    def stack_name(self) -> str:
        return f"{self.environment}-stack"

    @property
    def disposable(self) -> bool:
        """An environment that may be torn down and rebuilt: its profile is dev or lean, whatever
        the environment is called. Its KMS keys and secrets get AWS's shortest deletion window,
        its buckets and image repositories may be deleted with their contents."""
        return self.profile in ("dev", "lean")

    @property
    def availability_zones(self) -> list[str]:
        if self.network.availability_zones:
            return list(self.network.availability_zones)
        return [f"{self.region}{letter}" for letter in "abcdef"[: self.network.az_count]]

    @property
    def dns_names(self) -> tuple[str, ...]:
        """Every domain the environment's stack writes Route 53 records for (and under), as
        Route 53's IAM condition keys name them: lower case, no trailing dot."""
        names = {self.ingress.domain, self.ingress.zone_name, *self.ingress.hosts,
                 self.api.domain, *self.edge.surface_domains.values()}
        return tuple(sorted(name.lower().rstrip(".") for name in names if name))

    @property
    def dual_stack_ingress(self) -> bool:
        """A dual-stack load balancer: on ECS, with a domain (DNS records), unless ingress.ipv6
        is off or the load balancer is internal (in the IPv4-only private tier: viewers reach
        CloudFront over IPv6). The public subnets get IPv6 for it and nothing else does."""
        return self.compute.platform == "ecs" and self.ingress.domain is not None and \
            self.ingress.ipv6 and not self.ingress.internal

    @property
    def subnet_plan(self) -> SubnetPlan:
        explicit = None
        if self.network.subnets is not None:
            explicit = {tier: [IPv4Network(c) for c in getattr(self.network.subnets, tier)]
                        for tier in ("public", "private", "isolated")}
        return plan_subnets(IPv4Network(self.network.cidr), self.network.az_count,
                            self.network.subnet_prefix_length, explicit)


def cross_field_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """(field path, message) for every rule that spans fields, in the order they are reported."""
    return [*network_problems(c), *data_problems(c), *_tag_problems(c), *secret_problems(c),
            *service_problems(c), *compute_problems(c), *lambda_problems(c),
            *edge_problems(c), *serverless_problems(c), *egress_problems(c), *auth_problems(c),
            *logs_problems(c), *backend_problems(c), *name_problems(c),
            *access_problems(c)]


def _tag_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for key, value in c.tags.items():
        if key in RESERVED_TAGS:
            problems.append((f"tags.{key}", f"is set by the project itself; reserved tags: "
                                            f"{', '.join(RESERVED_TAGS)}"))
        elif key.lower().startswith("aws:") or not 1 <= len(key) <= 128:
            problems.append((f"tags.{key}", "tag keys are 1-128 characters and may not start "
                                            "with 'aws:'"))
        elif len(value) > 256:
            problems.append((f"tags.{key}", "tag values are at most 256 characters"))
    return problems
