"""A CloudFront VPC origin: how CloudFront reaches an internal load balancer, which has no public
address ("Restrict access with VPC origins", Amazon CloudFront Developer Guide)."""

from dataclasses import dataclass

from lib.core.cdk import Postcondition, TerraformResource, TerraformResourceLifecycle
from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming
from lib.edge.cdn import ApiOrigin

# "Restrict access with VPC origins", Security Group Configuration: creating a VPC origin makes
# CloudFront create this service-managed group in the VPC (the name is a reserved prefix, so
# nobody else's group matches), and the origin's group may admit it (option 2) or the CloudFront
# managed prefix list com.amazonaws.global.cloudfront.origin-facing (option 1). Option 2 is the
# one the page calls further restrictive: only this account's CloudFront VPC origins, where the
# prefix list admits any CloudFront address. It exists only once the VPC origin does.
SERVICE_GROUP_NAME = "CloudFront-VPCOrigins-Service-SG"


@dataclass(frozen=True)
class LoadBalancerVpcOriginProps:
    naming: Naming
    vpc_id: str
    load_balancer_arn: str  # an internal ALB, already Active (the provider waits for it)
    load_balancer_security_group_id: str  # gets the rule that admits CloudFront
    # The name CloudFront asks the load balancer for (Host and TLS server name): the domain of
    # its certificate with `https`, else its own DNS name.
    domain: str
    https: bool
    # "Restrict access with VPC origins", Prerequisites: the VPC has an internet gateway before
    # a VPC origin is created in it (it marks the VPC as one that may receive internet traffic;
    # nothing routes through it). An internal load balancer does not need one, so nothing else
    # orders the VPC origin after it.
    internet_gateway: TerraformResource | None = None
    # "Restrict access with VPC origins", Supported AWS Regions: a few Availability Zone IDs
    # cannot hold a VPC origin. The load balancer's zones are checked against them when Terraform
    # plans (IDs map to zone names per account, so only a lookup in the account can tell);
    # empty where no lookup is possible (the offline target).
    zones: tuple[str, ...] = ()
    excluded_zone_ids: tuple[str, ...] = ()


class LoadBalancerVpcOrigin(Construct):
    """A VPC origin for an internal Application Load Balancer and the one ingress rule that lets
    it in: the listener's port (443 with `https`, else 80) from CloudFront's service-managed
    group in the VPC, looked up once the VPC origin has created it.

    - With `https`: origin protocol `https-only` on 443, TLSv1.2 only; CloudFront checks the
      load balancer's certificate against `domain` (the origin's domain name, with the viewer's
      Host header not forwarded). Without: `http-only` on 80 (no certificate to check).
    - Replaced before it is destroyed: AWS changes a VPC origin only while no distribution
      uses it ("Update a VPC origin"), so a change of protocol is a new VPC origin the
      distributions move to (`terraform apply -replace`, README "Edge"); its name carries the
      protocol so the two may exist side by side.

    - Each of `zones` is looked up when Terraform plans, and the plan stops, before anything
      is created, if one is a zone ID VPC origins do not support in this account.

    Outputs: `id`, `origin` (the `ApiOrigin` a distribution's behaviours point at).
    """

    def __init__(self, scope: Construct, id: str, props: LoadBalancerVpcOriginProps):
        super().__init__(scope, id)
        n = props.naming
        protocol = "https" if props.https else "http"
        port = 443 if props.https else 80
        cf = aws.cloudfront_vpc_origin
        tls = cf.CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols
        origin = cf.CloudfrontVpcOrigin(
            self, "vpc-origin", vpc_origin_endpoint_config=[
                cf.CloudfrontVpcOriginVpcOriginEndpointConfig(
                    name=n.name("alb", protocol), arn=props.load_balancer_arn,
                    http_port=80, https_port=443, origin_protocol_policy=f"{protocol}-only",
                    # The provider requires it even for http-only; it applies to https-only.
                    origin_ssl_protocols=[tls(items=["TLSv1.2"], quantity=1)])],
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=[props.internet_gateway] if props.internet_gateway else None,
            tags=n.tags("alb", "vpc-origin"))
        self.id: str = origin.id
        excluded = ", ".join(f'"{z}"' for z in props.excluded_zone_ids)
        for zone in props.zones:
            aws.data_aws_availability_zone.DataAwsAvailabilityZone(
                self, f"zone-{zone}", name=zone, lifecycle=TerraformResourceLifecycle(
                    postcondition=[Postcondition(
                        # In JSON syntax an expression is a "${...}" template, not a bare string.
                        condition=f"${{!contains([{excluded}], self.zone_id)}}",
                        error_message=(
                            f"Availability Zone {zone} is ${{self.zone_id}} in this account, "
                            "where CloudFront VPC origins are not available (ingress.internal): "
                            "set network.availability_zones to zones with other IDs (aws ec2 "
                            "describe-availability-zones lists each zone's ID)."))]))
        # Read after the VPC origin is created (depends_on defers the read to the apply that
        # creates it): before that the group does not exist and the read would fail.
        group = aws.data_aws_security_group.DataAwsSecurityGroup(
            self, "cloudfront-group", depends_on=[origin], filter=[
                aws.data_aws_security_group.DataAwsSecurityGroupFilter(
                    name="group-name", values=[f"{SERVICE_GROUP_NAME}*"]),
                aws.data_aws_security_group.DataAwsSecurityGroupFilter(
                    name="vpc-id", values=[props.vpc_id])])
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self, "from-cloudfront", security_group_id=props.load_balancer_security_group_id,
            ip_protocol="tcp", from_port=port, to_port=port,
            referenced_security_group_id=group.id,
            description=f"port {port} from CloudFront VPC origins")
        self.origin = ApiOrigin(domain=props.domain, https=props.https, vpc_origin_id=self.id)
