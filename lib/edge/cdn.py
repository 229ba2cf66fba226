"""CloudFront in front of a static surface's bucket (and optionally the API on the load balancer),
and in front of an internal load balancer for its own domain."""

from dataclasses import dataclass

from lib.core.cdk import TerraformProvider, TerraformResource
from constructs import Construct

from lib.core import aws
from lib.edge.bucket import Bucket
from lib.core.certificate import alias_records, dns_validated_certificate
from lib.core.naming import Naming

# AWS managed policies (the same ids in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

# Single-page-app routing as a viewer-request CloudFront Function on the default (bucket)
# behaviour only. A distribution's custom error responses apply to every behaviour, so rewriting
# 403/404 to `200 /index.html` there would also turn the API's 403/404 and a WAF block into a
# 200 HTML page. Here a path whose last segment has no extension (`/`, `/orders/42`) is an app
# route and gets /index.html; a file (`/assets/app.js`) and `/.well-known/` pass unchanged, so a
# missing file stays an error. ES5 only: valid on both CloudFront Functions runtimes.
SPA_REWRITE_RUNTIME = "cloudfront-js-2.0"
SPA_REWRITE_JS = """\
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.indexOf('/.well-known/') === 0) {
        return request;
    }
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) {
        request.uri = '/index.html';
    }
    return request;
}
"""


@dataclass(frozen=True)
class ApiOrigin:
    """The load balancer as the origin of /api/*."""

    domain: str  # its custom domain when it has HTTPS (the certificate's name), else its DNS name
    https: bool
    # An internal load balancer's VPC origin (lib/edge/vpc_origin.py), which holds the protocol
    # and ports; None: the load balancer's public address, a custom origin.
    vpc_origin_id: str | None = None


def _api_origin(api: ApiOrigin):
    cf = aws.cloudfront_distribution
    if api.vpc_origin_id is not None:
        return cf.CloudfrontDistributionOrigin(
            origin_id="api", domain_name=api.domain,
            vpc_origin_config=cf.CloudfrontDistributionOriginVpcOriginConfig(
                vpc_origin_id=api.vpc_origin_id))
    return cf.CloudfrontDistributionOrigin(
        origin_id="api", domain_name=api.domain,
        custom_origin_config=cf.CloudfrontDistributionOriginCustomOriginConfig(
            http_port=80, https_port=443, origin_ssl_protocols=["TLSv1.2"],
            origin_protocol_policy="https-only" if api.https else "http-only"))


# The API's behaviour: uncached, every method, the viewer's headers but Host (the origin's
# certificate is checked against the origin's name, which is then the Host the ALB sees).
API_BEHAVIOR = dict(
    target_origin_id="api", viewer_protocol_policy="redirect-to-https", compress=True,
    allowed_methods=["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
    cached_methods=["GET", "HEAD"], cache_policy_id=CACHING_DISABLED,
    origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER)


@dataclass(frozen=True)
class StaticSiteProps:
    naming: Naming
    surface: str
    bucket: Bucket  # the surface's static-asset bucket (policy deferred: attached here)
    price_class: str
    us_east_1: TerraformProvider  # CloudFront's certificates and log deliveries live there
    log_bucket_arn: str
    # The log bucket's aws_s3_bucket_policy, which admits CloudWatch Logs deliveries: the access
    # log delivery waits for it. None: nothing to wait for.
    log_bucket_policy: TerraformResource | None
    web_acl_arn: str | None = None
    api_origin: ApiOrigin | None = None
    domain: str | None = None
    zone_id: str | None = None  # Route53 zone of `domain`


class StaticSite(Construct):
    """A CloudFront distribution for one frontend surface.

    - The bucket is reachable only through origin access control: its policy lets CloudFront read
      for this distribution (AWS:SourceArn) and nothing else.
    - HTTPS only (HTTP redirects), TLS 1.2 (2021 policy) with a custom domain, HTTP/2 and 3,
      IPv6 (a custom domain gets alias A and AAAA records), compression, `index.html` as root,
      a security-headers response policy (HSTS, nosniff, frame DENY, strict referrer, XSS
      protection).
    - Single-page apps: a CloudFront Function on the default behaviour serves `/index.html`
      for extension-less paths (`SPA_REWRITE_JS`); no custom error response, so every error,
      the API's and a WAF block included, reaches the client with its real status.
    - Optional `/api/*` behaviour to the load balancer, uncached, all methods, no rewrite.
    - Access logs (CloudFront standard logging v2) to the logs bucket; WAF where given.

    Outputs: `distribution_id`, `distribution_arn`, `domain_name`, `url`.
    """

    def __init__(self, scope: Construct, id: str, props: StaticSiteProps):
        super().__init__(scope, id)
        n, cf = props.naming, aws.cloudfront_distribution
        name = n.name(props.surface)
        oac = aws.cloudfront_origin_access_control.CloudfrontOriginAccessControl(
            self, "oac", name=name, origin_access_control_origin_type="s3",
            signing_behavior="always", signing_protocol="sigv4",
            description=f"{name}: CloudFront signs every request to the bucket")
        headers = security_headers(self, name)
        spa_routes = aws.cloudfront_function.CloudfrontFunction(
            self, "spa-routes", name=f"{name}-spa-routes", runtime=SPA_REWRITE_RUNTIME,
            code=SPA_REWRITE_JS, publish=True,  # only a published (LIVE) function associates
            comment=f"{name}: app routes without a file extension get /index.html")
        spa_rewrite = cf.CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation(
            event_type="viewer-request", function_arn=spa_routes.arn)

        origins = [cf.CloudfrontDistributionOrigin(
            origin_id="static", domain_name=props.bucket.domain_name,
            origin_access_control_id=oac.id)]
        behaviors = []
        if props.api_origin:
            origins.append(_api_origin(props.api_origin))
            behaviors.append(cf.CloudfrontDistributionOrderedCacheBehavior(
                path_pattern="/api/*", response_headers_policy_id=headers, **API_BEHAVIOR))

        certificate = None
        if props.domain:
            certificate = dns_validated_certificate(self, n, props.domain, props.zone_id,
                                                    provider=props.us_east_1)
        distribution = cf.CloudfrontDistribution(
            self, "distribution", enabled=True, comment=name, price_class=props.price_class,
            http_version="http2and3", is_ipv6_enabled=True, default_root_object="index.html",
            aliases=[props.domain] if props.domain else None, web_acl_id=props.web_acl_arn,
            origin=origins, ordered_cache_behavior=behaviors or None,
            default_cache_behavior=cf.CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id="static", viewer_protocol_policy="redirect-to-https",
                compress=True, allowed_methods=["GET", "HEAD"], cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHING_OPTIMIZED, response_headers_policy_id=headers,
                function_association=[spa_rewrite]),  # the bucket's behaviour only
            restrictions=_no_geo_restriction(), viewer_certificate=_viewer_certificate(certificate),
            tags=n.tags(props.surface))
        self.distribution_arn: str = distribution.arn
        self.domain_name: str = distribution.domain_name
        props.bucket.attach_policy([{
            "Sid": "CloudFrontReadsThroughOriginAccessControl",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"{props.bucket.arn}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution_arn}},
        }])
        access_logs(self, name, self.distribution_arn, props.us_east_1, props.log_bucket_arn,
                    props.log_bucket_policy)
        if props.domain:  # AAAA too: the distribution serves IPv6 (is_ipv6_enabled)
            alias_records(self, props.zone_id, props.domain, self.domain_name,
                          distribution.hosted_zone_id, ipv6=True)
        self.distribution_id: str = distribution.id
        self.url: str = f"https://{props.domain or self.domain_name}"


@dataclass(frozen=True)
class IngressSiteProps:
    naming: Naming
    component: str  # the component of its resources' names
    origin: ApiOrigin  # the internal load balancer, through its VPC origin
    price_class: str
    us_east_1: TerraformProvider
    log_bucket_arn: str
    log_bucket_policy: TerraformResource | None
    web_acl_arn: str | None = None
    domain: str | None = None  # served here: a us-east-1 certificate, alias A and AAAA records
    zone_id: str | None = None  # Route53 zone of `domain`


class IngressSite(Construct):
    """A CloudFront distribution that sends every path to the load balancer: the public face of
    an internal one, which has no address of its own on the internet.

    - The default behaviour is the API's (`API_BEHAVIOR`): uncached, every method, the viewer's
      headers but Host; HTTPS only (HTTP redirects), HTTP/2 and 3, the security-headers policy.
    - With `domain`: its us-east-1 certificate (TLSv1.2_2021) and alias A and AAAA records in
      `zone_id`; without, the `*.cloudfront.net` name.
    - Access logs (standard logging v2) to the logs bucket; WAF where given.

    Outputs: `distribution_id`, `distribution_arn`, `domain_name`, `url`.
    """

    def __init__(self, scope: Construct, id: str, props: IngressSiteProps):
        super().__init__(scope, id)
        n, cf = props.naming, aws.cloudfront_distribution
        name = n.name(props.component)
        headers = security_headers(self, name)
        certificate = dns_validated_certificate(self, n, props.domain, props.zone_id,
                                                provider=props.us_east_1) \
            if props.domain else None
        distribution = cf.CloudfrontDistribution(
            self, "distribution", enabled=True, comment=name, price_class=props.price_class,
            http_version="http2and3", is_ipv6_enabled=True,
            aliases=[props.domain] if props.domain else None, web_acl_id=props.web_acl_arn,
            origin=[_api_origin(props.origin)],
            default_cache_behavior=cf.CloudfrontDistributionDefaultCacheBehavior(
                response_headers_policy_id=headers, **API_BEHAVIOR),
            restrictions=_no_geo_restriction(), viewer_certificate=_viewer_certificate(certificate),
            tags=n.tags(props.component))
        self.distribution_arn: str = distribution.arn
        self.domain_name: str = distribution.domain_name
        self.distribution_id: str = distribution.id
        access_logs(self, name, self.distribution_arn, props.us_east_1, props.log_bucket_arn,
                    props.log_bucket_policy)
        if props.domain:
            alias_records(self, props.zone_id, props.domain, self.domain_name,
                          distribution.hosted_zone_id, ipv6=True)
        self.url: str = f"https://{props.domain or self.domain_name}"


def _no_geo_restriction():
    """Served everywhere: geo restriction is a business's legal choice, not a default."""
    cf = aws.cloudfront_distribution
    return cf.CloudfrontDistributionRestrictions(
        geo_restriction=cf.CloudfrontDistributionRestrictionsGeoRestriction(
            restriction_type="none"))


def _viewer_certificate(certificate: str | None):
    """A domain's us-east-1 certificate, SNI, TLSv1.2_2021 at least; without one, the
    `*.cloudfront.net` certificate CloudFront manages."""
    cf = aws.cloudfront_distribution
    if certificate is None:
        return cf.CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)
    return cf.CloudfrontDistributionViewerCertificate(
        acm_certificate_arn=certificate, ssl_support_method="sni-only",
        minimum_protocol_version="TLSv1.2_2021")


def security_headers(scope: Construct, name: str) -> str:
    """A response-headers policy (HSTS, nosniff, frame DENY, strict referrer, XSS protection);
    returns its id."""
    rh = aws.cloudfront_response_headers_policy
    sh = rh.CloudfrontResponseHeadersPolicySecurityHeadersConfig
    policy = rh.CloudfrontResponseHeadersPolicy(
        scope, "security-headers", name=f"{name}-security-headers",
        security_headers_config=sh(
            strict_transport_security=rh.
            CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                access_control_max_age_sec=31536000, include_subdomains=True, preload=True,
                override=True),
            content_type_options=rh.
            CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                override=True),
            frame_options=rh.CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                frame_option="DENY", override=True),
            referrer_policy=rh.
            CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                referrer_policy="strict-origin-when-cross-origin", override=True),
            xss_protection=rh.CloudfrontResponseHeadersPolicySecurityHeadersConfigXssProtection(
                protection=True, mode_block=True, override=True)))
    return policy.id


def access_logs(scope: Construct, name: str, distribution_arn: str,
                us_east_1: TerraformProvider, log_bucket_arn: str,
                log_bucket_policy: TerraformResource | None) -> None:
    """CloudFront standard logging v2: a CloudWatch Logs delivery into the logs bucket (no
    bucket ACLs needed, unlike the legacy logging)."""
    source = aws.cloudwatch_log_delivery_source.CloudwatchLogDeliverySource(
        scope, "log-source", name=f"{name}-cloudfront", log_type="ACCESS_LOGS",
        resource_arn=distribution_arn, provider=us_east_1)
    delivery = aws.cloudwatch_log_delivery_destination
    destination = delivery.CloudwatchLogDeliveryDestination(
        scope, "log-destination", name=f"{name}-cloudfront-s3", output_format="json",
        delivery_destination_configuration=[
            delivery.CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration(
                destination_resource_arn=log_bucket_arn)],
        provider=us_east_1)
    aws.cloudwatch_log_delivery.CloudwatchLogDelivery(
        scope, "log-delivery", delivery_source_name=source.name,
        delivery_destination_arn=destination.arn, provider=us_east_1,
        depends_on=[log_bucket_policy] if log_bucket_policy else None)
