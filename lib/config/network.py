"""The network section (`[network]`): the VPC's range, AZs, subnets, NAT and endpoints, and the
rules between them and the rest of the environment (zones in its region, subnets that fit, no
single NAT or NAT instance where an AZ outage must not cut egress).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import AzName, Cidr, InterfaceEndpoint, Section, VpcCidr
from lib.core.ipam import SubnetPlanError

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


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


def network_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
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
    return problems
