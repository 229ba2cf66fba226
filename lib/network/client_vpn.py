"""AWS Client VPN into the private tier: people on their own machines reach what a security group
admits them to, without a bastion (seed 002's "Developer Access Strategy").

Mutual TLS only: a user connects with a client certificate signed by the CA whose chain is in ACM
(AWS Client VPN Administrator Guide, "Mutual authentication in AWS Client VPN"); there is no
self-service portal, which AWS offers only to user-based authentication ("Rules and best
practices"). Split tunnel: users' other traffic stays on their own network, the VPC's routes
alone go through the tunnel.

What users reach is decided twice, as AWS evaluates it ("Client authorization in AWS Client
VPN"): authorization rules name the networks (`destinations`, never the whole VPC or 0.0.0.0/0),
and security groups the ports. The endpoint's group has no egress but what `admit` adds (and
DNS), each an ingress rule on the admitted group that names the VPN's group, nothing by CIDR.
Client VPN translates users' addresses to its own in the associated subnet ("Rules and best
practices"), so the VPC's network ACLs see VPC addresses.
"""

from dataclasses import dataclass
from ipaddress import IPv4Network

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming

DNS_PORT = 53


@dataclass(frozen=True)
class ClientVpnSettings:
    """`[access.client_vpn]`: see its fields' descriptions (lib/config/access.py)."""

    server_certificate_arn: str
    client_root_certificate_chain_arn: str
    client_cidr: str  # /12 to /22, outside the VPC
    transport_protocol: str  # udp or tcp
    port: int  # 443 or 1194
    session_timeout_hours: int  # 8, 10, 12 or 24


@dataclass(frozen=True)
class ClientVpnProps:
    naming: Naming
    settings: ClientVpnSettings
    vpc_id: str
    vpc_cidr: str  # its base + 2 is the VPC's resolver, users' DNS server
    subnets: dict[str, str]  # AZ letter -> private subnet id: one association each
    destinations: dict[str, str]  # rule name -> CIDR users are authorized to reach
    log_key_arn: str  # customer KMS key of the connection log group
    log_retention_days: int


class ClientVpn(Construct):
    """A Client VPN endpoint with mutual TLS (`settings`), split tunnel, no client-connect
    handler, the VPC's resolver as DNS server, connection logs to the KMS-encrypted group
    `/<project>/<env>/client-vpn`; an association per entry of `subnets`; an authorization rule
    (all clients: mutual TLS has no groups) per entry of `destinations` and one for the resolver;
    its own security group `<project>-<env>-client-vpn`, which reaches the resolver on 53 and
    what `admit` adds.

    Outputs: `endpoint_id`, `security_group_id`, `dns_server`, `log_group_name`.
    """

    def __init__(self, scope: Construct, id: str, props: ClientVpnProps):
        super().__init__(scope, id)
        n, s = props.naming, props.settings
        sg = aws.security_group.SecurityGroup(
            self, "sg", name=n.name("client-vpn"), vpc_id=props.vpc_id,
            description="Client VPN users: out only to the groups that admit them",
            tags=n.tags("client-vpn"))
        self.security_group_id: str = sg.id
        self.dns_server = str(IPv4Network(props.vpc_cidr).network_address + 2)
        resolver = f"{self.dns_server}/32"
        for protocol in ("udp", "tcp"):
            aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
                self, f"dns-{protocol}-out", security_group_id=self.security_group_id,
                ip_protocol=protocol, from_port=DNS_PORT, to_port=DNS_PORT, cidr_ipv4=resolver,
                description="DNS to the VPC resolver")
        logs = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "connection-logs", name=n.log_group("client-vpn"),
            retention_in_days=props.log_retention_days, kms_key_id=props.log_key_arn,
            tags=n.tags("client-vpn"))
        self.log_group_name: str = logs.name
        e = aws.ec2_client_vpn_endpoint
        endpoint = e.Ec2ClientVpnEndpoint(
            self, "endpoint", description=n.name("client-vpn"),
            server_certificate_arn=s.server_certificate_arn, client_cidr_block=s.client_cidr,
            authentication_options=[e.Ec2ClientVpnEndpointAuthenticationOptions(
                type="certificate-authentication",
                root_certificate_chain_arn=s.client_root_certificate_chain_arn)],
            split_tunnel=True, transport_protocol=s.transport_protocol, vpn_port=s.port,
            session_timeout_hours=s.session_timeout_hours, dns_servers=[self.dns_server],
            vpc_id=props.vpc_id, security_group_ids=[self.security_group_id],
            self_service_portal="disabled",
            client_connect_options=e.Ec2ClientVpnEndpointClientConnectOptions(enabled=False),
            connection_log_options=e.Ec2ClientVpnEndpointConnectionLogOptions(
                enabled=True, cloudwatch_log_group=self.log_group_name),
            tags=n.tags("client-vpn"))
        self.endpoint_id: str = endpoint.id
        for letter, subnet_id in props.subnets.items():
            aws.ec2_client_vpn_network_association.Ec2ClientVpnNetworkAssociation(
                self, f"association-{letter}", client_vpn_endpoint_id=self.endpoint_id,
                subnet_id=subnet_id)
        # The resolver answers only users authorized to reach it ("AWS Client VPN authorization
        # rules": access is denied unless a rule grants it).
        for name, cidr in {"dns": resolver, **props.destinations}.items():
            aws.ec2_client_vpn_authorization_rule.Ec2ClientVpnAuthorizationRule(
                self, f"authorize-{name}", client_vpn_endpoint_id=self.endpoint_id,
                target_network_cidr=cidr, authorize_all_groups=True,
                description=f"{name}: every client with a valid certificate")

    def admit(self, name: str, security_group_id: str, port: int) -> None:
        """VPN users may open TCP `port` on `security_group_id` (a service, the database, the
        cache, named `name`): an ingress rule there from the VPN's group, and its egress here."""
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self, f"{name}-in", security_group_id=security_group_id, ip_protocol="tcp",
            from_port=port, to_port=port, referenced_security_group_id=self.security_group_id,
            description=f"{name} port {port} from Client VPN users")
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self, f"{name}-out", security_group_id=self.security_group_id, ip_protocol="tcp",
            from_port=port, to_port=port, referenced_security_group_id=security_group_id,
            description=f"to {name} on {port}")
