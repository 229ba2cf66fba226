"""Subnet address planning with the stdlib `ipaddress` module (no AWS imports, so config validation
can use it before anything heavy is loaded).

Layout when subnets are not given explicitly: the VPC range is split into four equal quarters, one
per tier (public, private, isolated; the fourth is spare for growth), and each tier's subnet for the
N-th availability zone is the N-th block of `prefix_length` inside its quarter. Adding an AZ later
therefore never moves an existing subnet (a moved subnet is a replaced subnet).
"""

from dataclasses import dataclass
from ipaddress import IPv4Network

TIERS = ("public", "private", "isolated")


class SubnetPlanError(ValueError):
    """The requested subnets cannot be carved from the VPC range. `field` names the config key."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SubnetPlan:
    """CIDR blocks per tier, one per availability zone, in AZ order."""

    public: tuple[IPv4Network, ...]
    private: tuple[IPv4Network, ...]
    isolated: tuple[IPv4Network, ...]

    def tier(self, name: str) -> tuple[IPv4Network, ...]:
        return getattr(self, name)

    def all(self) -> list[IPv4Network]:
        return [*self.public, *self.private, *self.isolated]


def plan_subnets(
    vpc_cidr: IPv4Network,
    az_count: int,
    prefix_length: int,
    explicit: dict[str, list[IPv4Network]] | None = None,
) -> SubnetPlan:
    """Return the subnet CIDRs per tier, or raise SubnetPlanError naming the offending field."""
    if explicit is not None:
        return _check_explicit(vpc_cidr, az_count, explicit)

    quarter_prefix = vpc_cidr.prefixlen + 2
    if prefix_length < quarter_prefix:
        raise SubnetPlanError(
            "network.subnet_prefix_length",
            f"/{prefix_length} subnets do not fit: each tier gets a quarter of {vpc_cidr} "
            f"(a /{quarter_prefix}), so the prefix length must be {quarter_prefix} or more",
        )
    per_tier = 2 ** (prefix_length - quarter_prefix)
    if az_count > per_tier:
        raise SubnetPlanError(
            "network.subnet_prefix_length",
            f"{az_count} subnets of /{prefix_length} per tier do not fit in a quarter of "
            f"{vpc_cidr} (room for {per_tier}); use a prefix length of at least "
            f"{quarter_prefix + (az_count - 1).bit_length()} or a larger network.cidr",
        )
    quarters = list(vpc_cidr.subnets(new_prefix=quarter_prefix))
    blocks = {
        tier: tuple(list(quarters[i].subnets(new_prefix=prefix_length))[:az_count])
        for i, tier in enumerate(TIERS)
    }
    return SubnetPlan(**blocks)


def _check_explicit(
    vpc_cidr: IPv4Network, az_count: int, explicit: dict[str, list[IPv4Network]]
) -> SubnetPlan:
    seen: list[tuple[str, IPv4Network]] = []
    for tier in TIERS:
        blocks = explicit[tier]
        field = f"network.subnets.{tier}"
        if len(blocks) != az_count:
            raise SubnetPlanError(
                field, f"needs one CIDR per availability zone ({az_count}), got {len(blocks)}"
            )
        for block in blocks:
            if not block.subnet_of(vpc_cidr):
                raise SubnetPlanError(field, f"{block} does not fit inside the VPC {vpc_cidr}")
            if block.prefixlen > 28:
                raise SubnetPlanError(field, f"{block} is smaller than /28, the AWS minimum")
            for other_field, other in seen:
                if block.overlaps(other):
                    raise SubnetPlanError(field, f"{block} overlaps {other} ({other_field})")
            seen.append((field, block))
    return SubnetPlan(**{tier: tuple(explicit[tier]) for tier in TIERS})
