"""The root of an environment file: `EnvironmentConfig`, its properties that stacks read
(availability zones, the subnet plan...), the rule on its own keys (tags), and
`cross_field_problems`, which runs every section's rules in the order their problems are reported.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Literal

from pydantic import Field

from lib.config.compute import ComputeConfig, IngressConfig, compute_problems
from lib.config.data import CacheConfig, DatabaseConfig, data_problems
from lib.config.delivery import BackendConfig, GithubConfig, backend_problems
from lib.config.edge import EdgeConfig, StorageConfig, edge_problems
from lib.config.fields import AccountId, Region, Section, Slug
from lib.config.identity import AuthConfig, SecretConfig, auth_problems, secret_problems
from lib.config.network import NetworkConfig, network_problems
from lib.config.observability import CostConfig, LogsConfig, ObservabilityConfig
from lib.config.serverless import ApiConfig, MessagingConfig, ScheduleConfig, serverless_problems
from lib.config.services import ServiceConfig, service_problems
from lib.core.ipam import SubnetPlan, plan_subnets

RESERVED_TAGS = ("Project", "Environment", "ManagedBy")


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


def cross_field_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """(field path, message) for every rule that spans fields, in the order they are reported."""
    return [*network_problems(c), *data_problems(c), *_tag_problems(c), *secret_problems(c),
            *service_problems(c), *compute_problems(c), *edge_problems(c),
            *serverless_problems(c), *auth_problems(c), *backend_problems(c)]


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
