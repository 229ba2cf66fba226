"""The Application Load Balancer: the only way into the container services. Internet-facing, or
internal behind CloudFront (lib/edge/vpc_origin.py)."""

from dataclasses import dataclass

from lib.core.cdk import TerraformResource
from constructs import Construct

from lib.core import aws
from lib.core.certificate import alias_records, dns_validated_certificate
from lib.core.naming import Naming

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"  # TLS 1.3 and 1.2 only, forward secrecy


@dataclass(frozen=True)
class Ingress:
    """Where a web service plugs into the load balancer."""

    security_group_id: str
    listener_arn: str
    arn_suffix: str
    # The domain and hosts resolve to the load balancer (HTTPS): a service's rule may match on
    # them. Before that (plain HTTP on its own DNS name) a host condition would shut it out.
    serves_names: bool


@dataclass(frozen=True)
class HostRedirect:
    """A permanent redirect from one name the load balancer serves to another."""

    source: str
    target: str
    priority: int  # its listener rule's: before the services', which match any host


@dataclass(frozen=True)
class LoadBalancerProps:
    naming: Naming
    vpc_id: str
    subnet_ids: list[str]  # the public tier; the private tier when `internal`
    allowed_cidrs: list[str]  # not used when `internal`
    domain: str | None  # with a domain: HTTPS, HTTP redirects, ACM certificate, DNS records
    hosted_zone_id: str | None  # an existing, delegated Route53 zone; None: create one
    zone_name: str | None  # the zone to create (default: `domain`)
    access_log_bucket: str | None  # bucket name; None: no access logs
    access_log_prefix: str
    deletion_protection: bool
    # The log bucket's aws_s3_bucket_policy: enabling access logs fails until it lets the region's
    # Elastic Load Balancing write, so the load balancer waits for it. None: nothing to wait for.
    access_log_bucket_policy: TerraformResource | None = None
    # Dual-stack (needs `domain`, and IPv6 blocks on `subnet_ids`): 80/443 also from
    # `allowed_ipv6_cidrs`, and an AAAA alias record beside the A record.
    ipv6: bool = False
    allowed_ipv6_cidrs: tuple[str, ...] = ()
    # Only for a zone created here: its parent delegates to it (NS records with its name
    # servers). Until then nothing may wait on a certificate validated in it: the zone is
    # created and the load balancer serves plain HTTP (phase one).
    zone_delegated: bool = False
    # More names in the same zone (with HTTPS): on the certificate, each with its aliases.
    hosts: tuple[str, ...] = ()
    redirect: HostRedirect | None = None
    # No public address: its group admits no range, and `domain` gets no record here (what
    # reaches it, a CloudFront VPC origin, adds its own rule; the domain names the distribution).
    internal: bool = False


class LoadBalancer(Construct):
    """An ALB in the public subnets whose security group admits 80/443 from `allowed_cidrs` only;
    with `internal`, in the subnets given (the private tier) with no public address, no ingress
    rule and no DNS record (what reaches it adds both, lib/edge/vpc_origin.py).

    With a domain in a zone that answers for it (`hosted_zone_id`, or a zone created here with
    `zone_delegated`): an ACM certificate validated through Route53, an HTTPS listener with the
    TLS 1.3/1.2 policy, HTTP redirected to HTTPS, and an alias A record; with `ipv6` as well, the
    ALB is dual-stack (`ip_address_type = "dualstack"`, 80/443 also from `allowed_ipv6_cidrs`)
    and gets an alias AAAA record too. Each of `hosts` goes on the certificate and gets the same
    alias records; `redirect` is a listener rule that answers one of those names with a 301 to
    another, path and query kept. Without a domain (the dev default): plain HTTP over IPv4
    only, whatever `ipv6` says. A domain without `hosted_zone_id` creates its zone; until
    `zone_delegated` that is all (phase one: plain HTTP as without a domain), because ACM cannot
    validate a certificate in a zone no resolver reaches yet and the apply would wait for it
    until it times out. Listener default action: 404; services add path rules to
    `listener_arn`. Invalid header fields are dropped; access logs go to S3.

    Outputs: `arn`, `arn_suffix`, `dns_name`, `zone_id`, `security_group_id`, `listener_arn`
    (where services attach rules), `https` (bool), `ipv6` (bool: dual-stack), `url`,
    `name_servers` and `hosted_zone_id` (of a created zone, else None), `awaiting_delegation`
    (bool: a created zone and no certificate yet), `ingress` (the handle a web service
    attaches with).
    """

    def __init__(self, scope: Construct, id: str, props: LoadBalancerProps):
        super().__init__(scope, id)
        n = props.naming
        creates_zone = props.domain is not None and props.hosted_zone_id is None
        self.https: bool = props.domain is not None and (
            props.hosted_zone_id is not None or props.zone_delegated)
        self.awaiting_delegation: bool = creates_zone and not self.https
        self.ipv6: bool = props.ipv6 and self.https and not props.internal
        sg = aws.security_group.SecurityGroup(
            self, "sg", name=n.name("alb"), vpc_id=props.vpc_id,
            description="Load balancer: HTTP/HTTPS from the allowed ranges",
            tags=n.tags("alb"))
        self.security_group_id: str = sg.id
        ports = [] if props.internal else [80, 443] if self.https else [80]
        for port in ports:
            for i, cidr in enumerate(props.allowed_cidrs):
                aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                    self, f"ingress-{port}-{i}", security_group_id=self.security_group_id,
                    ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv4=cidr,
                    description=f"port {port} from {cidr}")
            for i, cidr in enumerate(props.allowed_ipv6_cidrs if self.ipv6 else ()):
                aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                    self, f"ingress-{port}-ipv6-{i}", security_group_id=self.security_group_id,
                    ip_protocol="tcp", from_port=port, to_port=port, cidr_ipv6=cidr,
                    description=f"port {port} from {cidr}")

        lb = aws.lb.Lb(
            self, "alb", name=n.name("alb"), load_balancer_type="application",
            internal=props.internal,
            # Explicit "ipv4" with a domain, so that turning ingress.ipv6 off reverts a dual-stack
            # ALB; without one the attribute stays unset (the provider's default, ipv4).
            ip_address_type="dualstack" if self.ipv6 else "ipv4" if self.https else None,
            subnets=props.subnet_ids, security_groups=[self.security_group_id],
            drop_invalid_header_fields=True, desync_mitigation_mode="defensive",
            enable_deletion_protection=props.deletion_protection,
            access_logs=aws.lb.LbAccessLogs(
                bucket=props.access_log_bucket, prefix=props.access_log_prefix, enabled=True)
            if props.access_log_bucket else None,
            depends_on=[props.access_log_bucket_policy]
            if props.access_log_bucket and props.access_log_bucket_policy else None,
            tags=n.tags("alb"))
        self.arn: str = lb.arn
        self.arn_suffix: str = lb.arn_suffix
        self.dns_name: str = lb.dns_name
        self.zone_id: str = lb.zone_id

        not_found = aws.lb_listener.LbListenerDefaultAction(
            type="fixed-response", fixed_response=aws.lb_listener.
            LbListenerDefaultActionFixedResponse(content_type="text/plain",
                                                 message_body="Not found", status_code="404"))
        self.name_servers: list[str] | None = None
        self.hosted_zone_id: str | None = None
        zone_id = props.hosted_zone_id
        if creates_zone:
            zone = aws.route53_zone.Route53Zone(
                self, "zone", name=props.zone_name or props.domain, tags=n.tags("zone"))
            zone_id = self.hosted_zone_id = zone.zone_id
            self.name_servers = zone.name_servers
        if not self.https:
            listener = aws.lb_listener.LbListener(
                self, "http", load_balancer_arn=self.arn, port=80, protocol="HTTP",
                default_action=[not_found], tags=n.tags("alb", "http"))
            self.listener_arn: str = listener.arn
            self.url: str = f"http://{self.dns_name}"
            return

        certificate = dns_validated_certificate(self, n, props.domain, zone_id,
                                                alternative_names=props.hosts)
        aws.lb_listener.LbListener(
            self, "http", load_balancer_arn=self.arn, port=80, protocol="HTTP",
            default_action=[aws.lb_listener.LbListenerDefaultAction(
                type="redirect", redirect=aws.lb_listener.LbListenerDefaultActionRedirect(
                    port="443", protocol="HTTPS", status_code="HTTP_301"))],
            tags=n.tags("alb", "http"))
        listener = aws.lb_listener.LbListener(
            self, "https", load_balancer_arn=self.arn, port=443, protocol="HTTPS",
            ssl_policy=TLS_POLICY, certificate_arn=certificate,
            default_action=[not_found], tags=n.tags("alb", "https"))
        self.listener_arn = listener.arn
        if not props.internal:
            alias_records(self, zone_id, props.domain, self.dns_name, self.zone_id,
                          ipv6=self.ipv6, evaluate_target_health=True)
        for host in () if props.internal else props.hosts:
            alias_records(self, zone_id, host, self.dns_name, self.zone_id, ipv6=self.ipv6,
                          evaluate_target_health=True, id=f"alias-{host.replace('.', '-')}")
        # The canonical name: where the redirect, if any, sends.
        self.url = f"https://{props.redirect.target if props.redirect else props.domain}"
        if props.redirect is not None:
            self._redirect(n, props.redirect)

    def _redirect(self, n: Naming, redirect: HostRedirect) -> None:
        rule = aws.lb_listener_rule
        # "RedirectActionConfig": #{path} is the path without its leading "/", #{query} the query.
        to = rule.LbListenerRuleActionRedirect(
            host=redirect.target, path="/#{path}", query="#{query}", port="443",
            protocol="HTTPS", status_code="HTTP_301")
        rule.LbListenerRule(
            self, "redirect", listener_arn=self.listener_arn, priority=redirect.priority,
            action=[rule.LbListenerRuleAction(type="redirect", redirect=to)],
            condition=[rule.LbListenerRuleCondition(
                host_header=rule.LbListenerRuleConditionHostHeader(values=[redirect.source]))],
            tags=n.tags("alb", "redirect"))

    @property
    def ingress(self) -> Ingress:
        return Ingress(self.security_group_id, self.listener_arn, self.arn_suffix, self.https)
