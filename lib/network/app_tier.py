"""The application tier's security group: the one group data stores admit."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming

HTTPS = 443
POSTGRES = 5432
REDIS = 6379
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class AppTierProps:
    naming: Naming
    vpc_id: str
    data_subnet_cidrs: list[str]  # the isolated tier, where PostgreSQL lives
    # Where the cache is: the isolated tier's CIDRs (ElastiCache), anywhere (a Redis outside AWS,
    # reached through NAT), or none (no cache); and its port.
    redis_cidrs: list[str]
    redis_port: int = REDIS


class AppTier(Construct):
    """A security group every application workload (ECS task, Lambda function) joins.

    It has no ingress of its own (services add their own groups for that). Egress: HTTPS anywhere
    (AWS APIs through NAT or endpoints, third-party APIs), PostgreSQL only towards the isolated
    subnets, and Redis towards where the cache is. The database and an ElastiCache cache admit
    this group and nothing else.

    Outputs: `security_group_id`.
    """

    def __init__(self, scope: Construct, id: str, props: AppTierProps):
        super().__init__(scope, id)
        n = props.naming
        sg = aws.security_group.SecurityGroup(
            self, "sg", name=n.name("app"), vpc_id=props.vpc_id,
            description="Application workloads: the only source the data stores admit",
            tags=n.tags("app"))
        self.security_group_id: str = sg.id
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self, "https-out", security_group_id=self.security_group_id, ip_protocol="tcp",
            from_port=HTTPS, to_port=HTTPS, cidr_ipv4=ANYWHERE,
            description="HTTPS to AWS APIs and the internet")
        for port, what, cidrs in ((POSTGRES, "postgres", props.data_subnet_cidrs),
                                  (props.redis_port, "redis", props.redis_cidrs)):
            for i, cidr in enumerate(cidrs):
                if (port, cidr) == (HTTPS, ANYWHERE):
                    continue  # open already, and AWS refuses a duplicate rule
                aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
                    self, f"{what}-out-{i}", security_group_id=self.security_group_id,
                    ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv4=cidr,
                    description=f"{what} outside AWS" if cidr == ANYWHERE
                    else f"{what} in the isolated subnets")
