"""The compute and ingress sections (`[compute]` with its optional `[compute.ec2]` capacity,
`[ingress]`: the load balancer) and their rules: prod on ECS serves HTTPS, a listener rule
matches at most 5 paths, EC2 capacity runs the cluster's CPU architecture, IPv6 is not left open
when IPv4 is narrowed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import AnyCidr, AnyIpv6Cidr, DomainName, Section, computed_default

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class Ec2CapacityConfig(Section):
    """An EC2 Auto Scaling group as an extra capacity provider of the ECS cluster, for services
    with `capacity = "ec2"`."""

    instance_type: str = Field(default="t4g.small",
                               description="An EC2 instance type that runs "
                                           "`compute.architecture`: Graviton (t4g, m7g...) for "
                                           "arm64, Intel or AMD for x86_64.")
    min_size: int = Field(default=0, ge=0, le=100, description="Fewest instances, at most "
                                                               "`max_size`.")
    max_size: int = Field(default=2, ge=1, le=100, description="Most instances.")


class ComputeConfig(Section):
    """Where the services run: the ECS cluster (Fargate, optionally EC2) or App Runner, and the
    image repositories."""

    platform: Literal["ecs", "apprunner"] = Field(
        default="ecs", description="`ecs` (Fargate behind the load balancer) or `apprunner` "
                                   "(web services only, no load balancer; App Runner takes no "
                                   "new customers since 2026-04-30).")
    capacity: Literal["fargate", "spot", "mixed"] = Field(
        description="`fargate` (on-demand only), `spot` (Fargate Spot only), `mixed` (one "
                    "on-demand task, the rest 1:1 with Spot).")
    architecture: Literal["arm64", "x86_64"] = Field(
        default="arm64", description="The tasks' CPU: `arm64` (Graviton, cheaper for the same "
                                     "size) or `x86_64`.")
    ec2: Ec2CapacityConfig | None = Field(
        default=None, description="An EC2 Auto Scaling capacity provider (`[compute.ec2]`).")
    immutable_tags: bool = Field(default=True, description="ECR tag immutability: a pushed tag "
                                                           "never points at another image.")
    keep_release_images: int = Field(default=10, ge=1, le=1000,
                                     description="Release images (tagged `v*`) ECR keeps per "
                                                 "repository.")
    untagged_image_days: int = Field(default=7, ge=1, le=3650,
                                     description="Days before ECR expires an untagged image.")


class IngressConfig(Section):
    """The load balancer. With a domain: HTTPS (TLS 1.3/1.2), HTTP redirects, ACM + Route53."""

    domain: DomainName | None = Field(
        default=None, description="With a domain: HTTPS, HTTP->HTTPS redirect, an ACM "
                                  "certificate and Route53 records; without one the load "
                                  "balancer serves plain HTTP. prod (on ECS) must have one.")
    hosted_zone_id: str | None = Field(
        default=None, json_schema_extra=computed_default("a new zone"),
        description="An existing Route53 zone for the domain's records; without it one is "
                    "created for `zone_name`.")
    zone_name: DomainName | None = Field(
        default=None, json_schema_extra=computed_default("the domain"),
        description="The zone to create when there is no `hosted_zone_id`.")
    allowed_cidrs: list[AnyCidr] = Field(default=["0.0.0.0/0"],
                                         description="Who may reach ports 80/443 (IPv4 CIDRs).")
    ipv6: bool = Field(
        default=True,
        description="With a domain (ECS): a dual-stack load balancer with an AAAA alias beside "
                    "the A record; the VPC gets an Amazon-provided IPv6 block, only the public "
                    "subnets a /64 each (`::/0` to the internet gateway, NACL mirrored); the "
                    "private and isolated tiers stay IPv4-only. No effect without a domain.")
    allowed_ipv6_cidrs: list[AnyIpv6Cidr] = Field(
        default=["::/0"], description="Who may reach ports 80/443 over IPv6 (IPv6 CIDRs); must "
                                      "be set when `allowed_cidrs` is narrowed.")
    access_logs: bool = Field(default=True, description="Access logs to the `logs` bucket "
                                                        "(30-day expiry).")
    deletion_protection: bool = Field(description="Refuse to delete the load balancer.")


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
