"""The access section (`[access]`): how people reach the environment's private network. Today one
way, `[access.client_vpn]` (AWS Client VPN with mutual TLS, seed 002's "Developer Access
Strategy"), and its rules: certificates of this stack's region and account, a client range AWS
accepts beside the VPC, one association per AZ at most, and only what exists to reach.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field

from lib.config.fields import Cidr, Section, computed_default
from lib.core.ipam import SubnetPlanError

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig

# arn:<partition>:acm:<region>:<account>:certificate/<uuid> (AWS Certificate Manager, "ARNs").
ACM_CERTIFICATE_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:acm:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):certificate/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# AWS Client VPN, "Rules and best practices": a client range from /12 to /22.
CLIENT_CIDR_PREFIXES = (12, 22)
# AWS Client VPN, "Target networks": an associated subnet is a /27 or larger.
LARGEST_TARGET_PREFIX = 27


def _certificate_arn(value: str) -> str:
    if not ACM_CERTIFICATE_ARN.fullmatch(value):
        raise ValueError(f"'{value}' is not an ACM certificate ARN, e.g. "
                         "arn:aws:acm:us-east-1:123456789012:certificate/<certificate id>")
    return value


def _client_cidr(value: str) -> str:
    low, high = CLIENT_CIDR_PREFIXES
    prefix = IPv4Network(value).prefixlen
    if not low <= prefix <= high:
        raise ValueError(f"'{value}' is a /{prefix}; a Client VPN client range is /{low} to "
                         f"/{high}")
    return value


CertificateArn = Annotated[str, AfterValidator(_certificate_arn)]
ClientCidr = Annotated[Cidr, AfterValidator(_client_cidr)]
# What VPN users may open connections to: the ECS web services on their ports, PostgreSQL, Redis.
VpnReach = Literal["services", "database", "cache"]


class ClientVpnConfig(Section):
    """An AWS Client VPN endpoint into the private tier: mutual TLS with certificates in ACM,
    split tunnel, connection logs, and security groups that admit its users only where `reach`
    says."""

    enabled: bool = Field(
        default=False,
        description="The endpoint, its associations, authorization rules, security group and "
                    "connection log (README, \"Client VPN\"). `false` removes them and keeps "
                    "the settings below for the next time.")
    server_certificate_arn: CertificateArn | None = Field(
        default=None, json_schema_extra=computed_default("required with `enabled`"),
        description="The endpoint's server certificate in ACM, in the stack's region and "
                    "account (ACM certificates are regional), imported with its key and chain "
                    "(Client VPN takes RSA keys of 1024 or 2048 bits).")
    client_root_certificate_chain_arn: CertificateArn | None = Field(
        default=None, json_schema_extra=computed_default("required with `enabled`"),
        description="The CA that signs the users' client certificates, in ACM in the stack's "
                    "region and account: a client presenting a certificate it signed connects "
                    "(mutual TLS; revoke one with a certificate revocation list). It may be the "
                    "server certificate's ARN when one CA signs both.")
    client_cidr: ClientCidr = Field(
        default="172.16.0.0/22",
        description="The range users' addresses come from, outside `network.cidr` (AWS refuses "
                    "an overlap). A /22 serves about 500 connections at once: AWS uses part of the "
                    "range for its availability model and recommends twice the addresses of the "
                    "connections. Changing it replaces the endpoint: users import a new "
                    "configuration file.")
    transport_protocol: Literal["udp", "tcp"] = Field(
        default="udp",
        description="`udp` (AWS's default: no TCP-in-TCP retransmission stalls) or `tcp` for "
                    "networks that block UDP.")
    port: Literal[443, 1194] = Field(
        default=443, description="The VPN port: 443 passes most firewalls (hotels, offices); "
                                 "1194 is OpenVPN's own.")
    session_timeout_hours: Literal[8, 10, 12, 24] = Field(
        default=8, description="Hours before a user must authenticate again (AWS offers 8, "
                               "10, 12 or 24): a working day.")
    associations: int = Field(
        default=1, ge=1, le=6,
        description="Private subnets the endpoint is associated with, one per AZ from the "
                    "first, at most `network.az_count`. Each is billed by the hour, connected "
                    "or not (`make cost`): 1 keeps developer access cheap, and an outage of its "
                    "AZ stops the VPN until it ends; AWS recommends 2 for AZ redundancy.")
    reach: list[VpnReach] = Field(
        default=["services"],
        description="What users may open connections to, each one a security-group rule from "
                    "the VPN's group: `services` (each ECS web service on its port), `database` "
                    "(PostgreSQL on 5432: migrations, break-glass) and `cache` (Redis on 6379, "
                    "ElastiCache only). The data stores are reached only when listed: the "
                    "database then admits the VPN's group beside the application tier's. "
                    "Reaching a store is not logging in to it (README, \"Client VPN\").")


class AccessConfig(Section):
    """How people reach the private network."""

    client_vpn: ClientVpnConfig = Field(default=ClientVpnConfig(),
                                        description="`[access.client_vpn]`: AWS Client VPN.")


def access_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    vpn = c.access.client_vpn
    if not vpn.enabled:
        return []
    where = "access.client_vpn"
    problems: list[tuple[str, str]] = []
    for name in ("server_certificate_arn", "client_root_certificate_chain_arn"):
        arn = getattr(vpn, name)
        if arn is None:
            problems.append((f"{where}.{name}", "is required with enabled = true: the ARN of "
                                                "a certificate imported into ACM"))
            continue
        region, account = ACM_CERTIFICATE_ARN.fullmatch(arn).groups()
        if region != c.region:
            problems.append((f"{where}.{name}", f"is in {region}; the endpoint takes a "
                                                f"certificate of its own region, {c.region} "
                                                "(ACM certificates are regional): import it "
                                                "there"))
        elif account != c.account_id:
            problems.append((f"{where}.{name}", f"belongs to account {account}; the endpoint "
                                                f"takes this account's ({c.account_id})"))
    if IPv4Network(vpn.client_cidr).overlaps(IPv4Network(c.network.cidr)):
        problems.append((f"{where}.client_cidr", f"'{vpn.client_cidr}' overlaps the VPC's "
                                                 f"{c.network.cidr}; AWS refuses a client "
                                                 "range that overlaps the VPC"))
    if vpn.associations > c.network.az_count:
        problems.append((f"{where}.associations", f"{vpn.associations} is more than the "
                                                  f"{c.network.az_count} AZs: one association "
                                                  "per AZ's private subnet"))
    try:
        associated = c.subnet_plan.private[:vpn.associations]
    except SubnetPlanError:
        associated = ()  # reported with [network]
    small = [b for b in associated if b.prefixlen > LARGEST_TARGET_PREFIX]
    if small:
        problems.append((f"{where}.enabled", f"the private subnets are /{small[0].prefixlen}; "
                                             "AWS associates a Client VPN endpoint with a /27 "
                                             "or larger (network.subnet_prefix_length)"))
    return problems + _reach_problems(c)


def _reach_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    reach, field = c.access.client_vpn.reach, "access.client_vpn.reach"
    if not reach:
        return [(field, "lists nothing to reach; give \"services\", \"database\" or "
                        "\"cache\", or set enabled = false")]
    if len(set(reach)) != len(reach):
        return [(field, "lists a target twice")]
    problems: list[tuple[str, str]] = []
    if "services" in reach and not (c.compute.platform == "ecs" and
                                    any(s.kind == "web" for s in c.services)):
        problems.append((field, "'services' needs ECS web services (they listen in the "
                                "private tier); this environment has none"))
    if "cache" in reach and not c.cache.elasticache:
        problems.append((field, "'cache' needs ElastiCache in the isolated tier (cache.enabled, "
                                "not cache.external)"))
    return problems
