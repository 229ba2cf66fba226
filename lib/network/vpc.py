"""The VPC of one environment: three subnet tiers in every AZ, egress, routing, NACLs, flow logs and
VPC endpoints. IPv4 everywhere; optionally IPv6 on the public tier only (a dual-stack load balancer).

Tiers:
- public:   the load balancer and the NAT gateways or NAT instance; route to the internet gateway.
- private:  the application (containers, functions, an internal load balancer); egress through NAT
            when there is one.
- isolated: the data stores; no route out of the VPC at all, and a NACL that only speaks to the VPC.
"""

import base64
from dataclasses import dataclass, field
from typing import Literal

from lib.core.cdk import Fn, TerraformResource
from constructs import Construct

from lib.core import aws
from lib.core.iam import service_role_with_policies
from lib.core.ipam import SubnetPlan
from lib.core.naming import Naming

ANYWHERE = "0.0.0.0/0"
ANYWHERE_IPV6 = "::/0"
# Stateless NACLs must let replies back in on the port the client's connection left from, and the
# client picks it ("Ephemeral ports", Amazon VPC User Guide): Amazon Linux 32768-61000; Lambda
# functions, NAT gateways and Elastic Load Balancing 1024-65535. App Runner's VPC connector is
# not listed there: its Hyperplane ENIs are treated like Lambda's. A NAT instance forwards its
# clients' connections on their own ports, so it needs theirs.
EPHEMERAL_PORTS = {
    "amazon_linux": (32768, 61000),  # Fargate tasks, ECS container instances
    "lambda": (1024, 65535),
    "nat_gateway": (1024, 65535),
    "elb": (1024, 65535),
    "apprunner": (1024, 65535),
    "nat_instance": (1024, 65535),
}
# The kinds of client each tier may hold. The isolated tier holds only servers (RDS, ElastiCache)
# and speaks only to the VPC, whose replies it admits on every port.
TIER_CLIENTS = {
    "public": ("nat_gateway", "nat_instance", "elb"),
    "private": ("lambda", "amazon_linux", "apprunner", "elb"),  # elb: an internal one
}


def return_ports(clients: tuple[str, ...]) -> tuple[int, int]:
    """The one port range that admits the replies of every client kind in `clients`."""
    ranges = sorted(EPHEMERAL_PORTS[c] for c in clients)
    low, high = ranges[0]
    for start, end in ranges[1:]:
        if start > high + 1:
            raise ValueError(f"{clients}: ephemeral ranges with a gap need a rule each")
        high = max(high, end)
    return low, high
# Amazon Linux 2023, resolved by EC2 when the instance launches (no plan-time AMI lookup).
NAT_INSTANCE_AMI_PARAMETER = {
    "arm64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    "x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
}
NAT_INSTANCE_ROOT_GB = 8  # the AL2023 image's own size; a NAT keeps nothing on disk
# Forward and masquerade what the private tier sends; survive reboots (iptables-services).
NAT_INSTANCE_USER_DATA = """#!/bin/bash
set -euo pipefail
dnf install -y iptables-services
echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-nat.conf
sysctl --system
uplink=$(ip route show default | awk '{print $5; exit}')
iptables -t nat -A POSTROUTING -o "$uplink" -j MASQUERADE
iptables -F FORWARD
service iptables save
systemctl enable --now iptables
"""


@dataclass(frozen=True)
class NetworkProps:
    naming: Naming
    cidr: str
    availability_zones: list[str]
    subnet_plan: SubnetPlan
    # per_az: a NAT gateway per AZ (AZ-independent egress); single: one shared (cheaper);
    # instance: one NAT instance in the first AZ (cheapest, no failover: dev);
    # none: private subnets reach AWS only through VPC endpoints.
    nat: Literal["per_az", "single", "instance", "none"]
    nat_instance_type: str  # with nat = "instance": t4g/t3/t3a nano, micro or small
    flow_log_retention_days: int
    flow_log_key_arn: str  # customer KMS key that encrypts the flow log group
    interface_endpoints: list[str] = field(default_factory=list)  # e.g. ["ecr.api", "logs"]
    # An Amazon-provided IPv6 block on the VPC, a /64 for each public subnet, ::/0 to the internet
    # gateway and the public NACL's rules mirrored for IPv6. Private and isolated stay IPv4-only.
    ipv6_public: bool = False
    # Ports the private NACL admits from anywhere: an internal load balancer's listener. A
    # CloudFront VPC origin's connections may come from CloudFront's public ranges ("Restrict
    # access with VPC origins" lets the origin's group admit its managed prefix list), which a
    # NACL cannot name; the load balancer's security group admits CloudFront alone.
    private_ingress_ports: tuple[int, ...] = ()


class Network(Construct):
    """VPC, subnets per tier and AZ, internet gateway, NAT, route tables, NACLs, flow logs,
    S3/DynamoDB gateway endpoints and optional interface endpoints. The VPC's default security
    group and default NACL are stripped of all rules so nothing can use them by accident.

    With `ipv6_public`: the VPC gets an Amazon-provided IPv6 /56, each public subnet a /64 of it
    (no automatic IPv6 addresses), the public route table `::/0` to the internet gateway and the
    public NACL the same IPv6 rules as for 0.0.0.0/0. The private and isolated tiers get no IPv6
    block and no IPv6 route (no egress-only gateway), so they stay exactly as without it.

    Outputs: `vpc_id`, `vpc_cidr`, `availability_zones`, `{public,private,isolated}_subnet_ids`
    (AZ order), `isolated_subnet_cidrs`, `public_route_table_id`, `private_route_table_ids` (AZ order),
    `isolated_route_table_id`, `nat_gateway_ids`, `nat_instance_id` (None unless nat = instance),
    `endpoint_security_group_id` (None without interface endpoints), `internet_gateway` (the
    resource, for what needs it attached first, such as a CloudFront VPC origin).
    """

    def __init__(self, scope: Construct, id: str, props: NetworkProps):
        super().__init__(scope, id)
        n = props.naming
        self._props = props
        letters = [az[-1] for az in props.availability_zones]

        vpc = aws.vpc.Vpc(
            self, "vpc", cidr_block=props.cidr, enable_dns_hostnames=True,
            enable_dns_support=True, assign_generated_ipv6_cidr_block=props.ipv6_public or None,
            tags=n.tags("vpc"),
        )
        vpc_id: str = vpc.id
        self.vpc_id: str = vpc_id
        self.vpc_cidr: str = props.cidr
        self.availability_zones: list[str] = list(props.availability_zones)

        # Nothing may rely on the defaults AWS creates with every VPC.
        aws.default_security_group.DefaultSecurityGroup(
            self, "default-sg", vpc_id=vpc_id, tags=n.tags("default-unused"))
        aws.default_network_acl.DefaultNetworkAcl(
            self, "default-nacl", default_network_acl_id=vpc.default_network_acl_id,
            tags=n.tags("default-unused"))

        igw = aws.internet_gateway.InternetGateway(self, "igw", vpc_id=vpc_id, tags=n.tags("igw"))
        igw_id: str = igw.id
        self.internet_gateway: TerraformResource = igw

        vpc_ipv6_block: str | None = vpc.ipv6_cidr_block if props.ipv6_public else None
        subnets: dict[str, list[aws.subnet.Subnet]] = {}
        for tier in ("public", "private", "isolated"):
            ipv6 = tier == "public" and props.ipv6_public
            subnets[tier] = [
                aws.subnet.Subnet(
                    self, f"{tier}-{letter}", vpc_id=vpc_id, cidr_block=str(block),
                    availability_zone=az, map_public_ip_on_launch=False,
                    # the index-th /64 of the VPC's /56
                    ipv6_cidr_block=Fn.cidrsubnet(vpc_ipv6_block, 8, index) if ipv6 else None,
                    assign_ipv6_address_on_creation=False if ipv6 else None,
                    tags=n.tags(tier, letter, Tier=tier),
                )
                for index, (letter, az, block) in enumerate(zip(
                    letters, props.availability_zones, props.subnet_plan.tier(tier)))
            ]
        subnet_ids = {tier: [s.id for s in tier_subnets] for tier, tier_subnets in subnets.items()}
        self.public_subnet_ids: list[str] = subnet_ids["public"]
        self.private_subnet_ids: list[str] = subnet_ids["private"]
        self.isolated_subnet_ids: list[str] = subnet_ids["isolated"]
        self.isolated_subnet_cidrs: list[str] = [str(b) for b in props.subnet_plan.isolated]

        # Public tier: one route table, default route to the internet gateway.
        public_rt = aws.route_table.RouteTable(self, "public-rt", vpc_id=vpc_id,
                                               tags=n.tags("public"))
        self.public_route_table_id: str = public_rt.id
        aws.route.Route(self, "public-default-route", route_table_id=self.public_route_table_id,
                        destination_cidr_block=ANYWHERE, gateway_id=igw_id)
        if props.ipv6_public:
            aws.route.Route(self, "public-default-ipv6-route",
                            route_table_id=self.public_route_table_id,
                            destination_ipv6_cidr_block=ANYWHERE_IPV6, gateway_id=igw_id)
        self._associate("public", self.public_subnet_ids, self.public_route_table_id, letters)

        # NAT gateways live in the public subnets; with `single` only the first AZ has one.
        nat_letters = {"per_az": letters, "single": letters[:1]}.get(props.nat, [])
        nat_ids: dict[str, str] = {}  # AZ letter -> NAT gateway id
        for letter, public_subnet_id in zip(letters, self.public_subnet_ids):
            if letter not in nat_letters:
                continue
            ip = aws.eip.Eip(self, f"nat-ip-{letter}", domain="vpc", tags=n.tags("nat", letter),
                             depends_on=[igw])
            nat = aws.nat_gateway.NatGateway(
                self, f"nat-{letter}", allocation_id=ip.allocation_id,
                subnet_id=public_subnet_id, tags=n.tags("nat", letter), depends_on=[igw])
            nat_ids[letter] = nat.id
        self.nat_gateway_ids: list[str] = list(nat_ids.values())
        # Where each private AZ's default route goes: {"nat_gateway_id": ...} or
        # {"network_interface_id": ...}.
        egress: dict[str, dict[str, str]] = {
            letter: {"nat_gateway_id": nat_ids.get(letter) or self.nat_gateway_ids[0]}
            for letter in letters if nat_ids}
        self.nat_instance_id: str | None = None
        if props.nat == "instance":
            nat_eni = self._nat_instance(vpc_id, self.public_subnet_ids[0], letters[0], igw,
                                         [str(b) for b in props.subnet_plan.private])
            egress = {letter: {"network_interface_id": nat_eni} for letter in letters}

        # Private tier: a route table per AZ, so switching between single and per-AZ NAT only
        # changes routes, never replaces tables or associations.
        self.private_route_table_ids: list[str] = []
        for letter, private_subnet_id in zip(letters, self.private_subnet_ids):
            rt = aws.route_table.RouteTable(self, f"private-rt-{letter}", vpc_id=vpc_id,
                                            tags=n.tags("private", letter))
            rt_id: str = rt.id
            if letter in egress:
                aws.route.Route(self, f"private-default-route-{letter}", route_table_id=rt_id,
                                destination_cidr_block=ANYWHERE, **egress[letter])
            aws.route_table_association.RouteTableAssociation(
                self, f"private-{letter}-rt-assoc", subnet_id=private_subnet_id,
                route_table_id=rt_id)
            self.private_route_table_ids.append(rt_id)

        # Isolated tier: the local route only.
        isolated_rt = aws.route_table.RouteTable(self, "isolated-rt", vpc_id=vpc_id,
                                                 tags=n.tags("isolated"))
        self.isolated_route_table_id: str = isolated_rt.id
        self._associate("isolated", self.isolated_subnet_ids, self.isolated_route_table_id,
                        letters)

        self._network_acls(vpc_id, subnet_ids)
        self._flow_logs(vpc_id)
        self._gateway_endpoints(vpc_id, self.private_route_table_ids)
        self.endpoint_security_group_id: str | None = self._interface_endpoints(
            vpc_id, self.private_subnet_ids)

    def _nat_instance(self, vpc_id: str, subnet_id: str, letter: str, igw,
                      private_cidrs: list[str]) -> str:
        """One small Amazon Linux instance that forwards the private tier's traffic to the
        internet: no inbound from outside the private tier, no SSH key, no instance role (it
        calls no AWS API), IMDSv2 only, an encrypted root volume. No failover: if it stops, the
        private tier loses internet egress (not VPC or gateway-endpoint traffic) until it is
        recovered or replaced, which is why only dev and lean may use it. Returns its primary
        network interface, the private route tables' target."""
        n = self._props.naming
        sg = aws.security_group.SecurityGroup(
            self, "nat-instance-sg", name=n.name("nat-instance"), vpc_id=vpc_id,
            description="NAT instance: anything from the private tier in, anything out",
            tags=n.tags("nat-instance"))
        sg_id: str = sg.id
        for index, cidr in enumerate(private_cidrs):
            aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                self, f"nat-instance-from-private-{index}", security_group_id=sg_id,
                ip_protocol="-1", cidr_ipv4=cidr, description="traffic to forward, private tier")
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self, "nat-instance-out", security_group_id=sg_id, ip_protocol="-1",
            cidr_ipv4=ANYWHERE, description="forwarded traffic to the internet")
        architecture = "arm64" if self._props.nat_instance_type.startswith("t4g.") else "x86_64"
        lt = aws.launch_template
        # The image and root volume live in a launch template: EC2 resolves `resolve:ssm:` there
        # at launch, while aws_instance would look the AMI up itself when given a root volume.
        template = lt.LaunchTemplate(
            self, "nat-instance-template", name=n.name("nat-instance"),
            image_id=f"resolve:ssm:{NAT_INSTANCE_AMI_PARAMETER[architecture]}",
            user_data=base64.b64encode(NAT_INSTANCE_USER_DATA.encode()).decode(),
            # IMDSv2 here and on the instance: the instance's own setting wins, and scanners
            # read each resource on its own.
            metadata_options=lt.LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            block_device_mappings=[lt.LaunchTemplateBlockDeviceMappings(
                device_name="/dev/xvda", ebs=lt.LaunchTemplateBlockDeviceMappingsEbs(
                    encrypted="true", volume_size=NAT_INSTANCE_ROOT_GB, volume_type="gp3",
                    delete_on_termination="true"))],
            tags=n.tags("nat-instance"))
        instance = aws.instance.Instance(
            self, "nat-instance", instance_type=self._props.nat_instance_type,
            launch_template=aws.instance.InstanceLaunchTemplate(id=template.id,
                                                                version="$Latest"),
            subnet_id=subnet_id, vpc_security_group_ids=[sg_id],
            source_dest_check=False,  # it forwards packets that are not addressed to it
            metadata_options=aws.instance.InstanceMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            ebs_optimized=True,
            tags=n.tags("nat-instance", letter), depends_on=[igw])
        self.nat_instance_id = instance.id
        aws.eip.Eip(self, f"nat-ip-{letter}", domain="vpc", instance=self.nat_instance_id,
                    tags=n.tags("nat", letter), depends_on=[igw])
        return instance.primary_network_interface_id

    def _associate(self, tier: str, subnet_ids: list[str], route_table_id: str,
                   letters: list[str]) -> None:
        for letter, subnet_id in zip(letters, subnet_ids):
            aws.route_table_association.RouteTableAssociation(
                self, f"{tier}-{letter}-rt-assoc", subnet_id=subnet_id,
                route_table_id=route_table_id)

    def _network_acls(self, vpc_id: str, subnet_ids: dict[str, list[str]]) -> None:
        """Coarse, stateless guard rails per tier; security groups do the fine-grained work."""
        n = self._props.naming
        vpc_cidr = self.vpc_cidr
        public_low, public_high = return_ports(TIER_CLIENTS["public"])
        private_low, private_high = return_ports(TIER_CLIENTS["private"])

        def rule(number, protocol, cidr, from_port=0, to_port=0):
            return dict(rule_no=number, action="allow", protocol=protocol, cidr_block=cidr,
                        from_port=from_port, to_port=to_port)

        def rule6(number, protocol, from_port=0, to_port=0):
            return dict(rule_no=number, action="allow", protocol=protocol,
                        ipv6_cidr_block=ANYWHERE_IPV6, from_port=from_port, to_port=to_port)

        # With IPv6 on the public tier, the same internet-facing rules for ::/0.
        public_ipv6 = (
            [rule6(140, "tcp", 443, 443), rule6(150, "tcp", 80, 80),
             rule6(160, "tcp", public_low, public_high)],
            [rule6(110, "-1")],
        ) if self._props.ipv6_public else ([], [])
        rules = {
            "public": (
                [rule(100, "tcp", ANYWHERE, 443, 443), rule(110, "tcp", ANYWHERE, 80, 80),
                 rule(120, "tcp", ANYWHERE, public_low, public_high), rule(130, "-1", vpc_cidr),
                 *public_ipv6[0]],
                [rule(100, "-1", ANYWHERE), *public_ipv6[1]],
            ),
            "private": (
                # From outside the VPC only replies to connections the tier opened (through NAT
                # or the gateway endpoints), on the ports its functions, tasks and connector use.
                [rule(100, "-1", vpc_cidr),
                 rule(110, "tcp", ANYWHERE, private_low, private_high),
                 *(rule(120 + 10 * i, "tcp", ANYWHERE, port, port)
                   for i, port in enumerate(self._props.private_ingress_ports))],
                [rule(100, "-1", ANYWHERE)],
            ),
            "isolated": (
                [rule(100, "-1", vpc_cidr)],
                [rule(100, "-1", vpc_cidr)],
            ),
        }
        for tier, (ingress, egress) in rules.items():
            aws.network_acl.NetworkAcl(
                self, f"{tier}-nacl", vpc_id=vpc_id, subnet_ids=subnet_ids[tier],
                ingress=[aws.network_acl.NetworkAclIngress(**r) for r in ingress],
                egress=[aws.network_acl.NetworkAclEgress(**r) for r in egress],
                tags=n.tags(tier, Tier=tier))

    def _flow_logs(self, vpc_id: str) -> None:
        n = self._props.naming
        group = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "flow-log-group", name=n.log_group("vpc", "flow-logs"),
            retention_in_days=self._props.flow_log_retention_days,
            kms_key_id=self._props.flow_log_key_arn, tags=n.tags("flow-logs"))
        group_arn: str = group.arn
        # Amazon VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs": the
        # minimum includes DescribeLogGroups, which takes no narrower resource than the
        # account's log groups. CreateLogGroup is left out: the group is created above.
        role, grants = service_role_with_policies(
            self, "flow-log-role", n, "vpc-flow-logs", "vpc-flow-logs.amazonaws.com", [
                {"Effect": "Allow",
                 "Action": ["logs:CreateLogStream", "logs:PutLogEvents",
                            "logs:DescribeLogStreams"],
                 "Resource": [group_arn, f"{group_arn}:*"]},
                {"Effect": "Allow", "Action": "logs:DescribeLogGroups",
                 "Resource": n.arn("logs", "log-group:*")}])
        # The flow log checks its role's rights when it is created: it waits for the grant.
        aws.flow_log.FlowLog(
            self, "flow-log", vpc_id=vpc_id, traffic_type="ALL", log_destination_type=
            "cloud-watch-logs", log_destination=group_arn, iam_role_arn=role.arn,
            max_aggregation_interval=60, depends_on=grants, tags=n.tags("flow-logs"))

    def _gateway_endpoints(self, vpc_id: str, route_table_ids: list[str]) -> None:
        """S3 and DynamoDB traffic from the app tier stays on the AWS network, and free of NAT
        charges. The isolated tier gets none: data stores there need no route out at all."""
        n = self._props.naming
        for service in ("s3", "dynamodb"):
            aws.vpc_endpoint.VpcEndpoint(
                self, f"{service}-endpoint", vpc_id=vpc_id,
                service_name=f"com.amazonaws.{n.region}.{service}",
                vpc_endpoint_type="Gateway", route_table_ids=route_table_ids,
                tags=n.tags(service, "endpoint"))

    def _interface_endpoints(self, vpc_id: str, subnet_ids: list[str]) -> str | None:
        if not self._props.interface_endpoints:
            return None
        n = self._props.naming
        sg = aws.security_group.SecurityGroup(
            self, "endpoint-sg", name=n.name("vpc-endpoints"), vpc_id=vpc_id,
            description="HTTPS from inside the VPC to the interface endpoints",
            tags=n.tags("vpc-endpoints"))
        sg_id: str = sg.id
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self, "endpoint-sg-https", security_group_id=sg_id, ip_protocol="tcp",
            from_port=443, to_port=443, cidr_ipv4=self.vpc_cidr,
            description="HTTPS from the VPC")
        for service in self._props.interface_endpoints:
            aws.vpc_endpoint.VpcEndpoint(
                self, f"{service.replace('.', '-')}-endpoint", vpc_id=vpc_id,
                service_name=f"com.amazonaws.{n.region}.{service}",
                vpc_endpoint_type="Interface", subnet_ids=subnet_ids,
                security_group_ids=[sg_id], private_dns_enabled=True,
                tags=n.tags(service.replace(".", "-"), "endpoint"))
        return sg_id

