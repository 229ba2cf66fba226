"""The compute and ingress sections (`[compute]` with its optional `[compute.ec2]` capacity,
`[ingress]`: the load balancer) and their rules: prod on ECS serves HTTPS, a listener rule
matches at most 5 paths, EC2 capacity runs the cluster's CPU architecture, IPv6 is not left open
when IPv4 is narrowed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import AnyCidr, AnyIpv6Cidr, DomainName, Section

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


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


def compute_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    # App Runner serves HTTPS on a domain of its own; on ECS prod's load balancer needs one.
    if c.compute.platform != "apprunner" and c.profile == "prod" and c.ingress.domain is None:
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
    ingress = c.ingress
    if ingress.hosted_zone_id and not ingress.domain:
        problems.append(("ingress.hosted_zone_id", "only used with ingress.domain"))
    if (ingress.domain and ingress.ipv6 and "allowed_ipv6_cidrs" not in ingress.model_fields_set
            and ingress.allowed_cidrs != ["0.0.0.0/0"]):
        problems.append(("ingress.allowed_ipv6_cidrs", "allowed_cidrs narrows IPv4 access but "
                         "IPv6 would stay open to ::/0; list the IPv6 ranges to admit, or set "
                         "ingress.ipv6 = false"))
    return problems
