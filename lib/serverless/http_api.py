"""API Gateway HTTP API in front of Lambda functions: the API function, the services on Lambda."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.certificate import alias_records, dns_validated_certificate
from lib.core.naming import Naming

ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime", "method": "$context.httpMethod",
    "route": "$context.routeKey", "status": "$context.status",
    "latencyMs": "$context.responseLatency", "integrationError": "$context.integrationErrorMessage",
}, sort_keys=True)


@dataclass(frozen=True)
class HttpApiProps:
    naming: Naming
    cors_origins: list[str]
    throttle_rate: int
    throttle_burst: int
    log_key_arn: str
    log_retention_days: int
    domain: str | None = None  # custom domain: regional certificate, TLS 1.2, A/AAAA aliases
    zone_id: str | None = None


@dataclass(frozen=True)
class RouteTarget:
    """A function that serves routes of the API."""

    arn: str  # what API Gateway invokes: the function's ARN, or its alias's
    function_name: str
    qualifier: str | None = None  # the alias, where `arn` is one


class HttpApi(Construct):
    """An HTTP API whose routes go to Lambda functions (payload format 2.0; `route`), with CORS
    for the configured origins only, per-stage throttling, and JSON access logs to a
    KMS-encrypted log group. API Gateway may invoke each function only from this API.
    With a domain: a regional ACM certificate (DNS-validated), a dual-stack TLS 1.2 custom domain
    mapped to the stage, and alias A and AAAA records.

    Outputs: `url`, `api_id`, `execution_arn`.
    """

    def __init__(self, scope: Construct, id: str, props: HttpApiProps):
        super().__init__(scope, id)
        n = props.naming
        v2 = aws.apigatewayv2_api
        api = v2.Apigatewayv2Api(
            self, "api", name=n.name("http-api"), protocol_type="HTTP",
            cors_configuration=v2.Apigatewayv2ApiCorsConfiguration(
                allow_origins=props.cors_origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["authorization", "content-type"], max_age=300)
            if props.cors_origins else None,
            tags=n.tags("http-api"))
        self.api_id: str = api.id
        self.execution_arn: str = api.execution_arn
        logs = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "access-logs", name=n.log_group("apigateway", "http-api"),
            retention_in_days=props.log_retention_days, kms_key_id=props.log_key_arn,
            tags=n.tags("http-api", "logs"))
        st = aws.apigatewayv2_stage
        stage = st.Apigatewayv2Stage(
            self, "stage", api_id=self.api_id, name="$default", auto_deploy=True,
            default_route_settings=st.Apigatewayv2StageDefaultRouteSettings(
                throttling_rate_limit=props.throttle_rate,
                throttling_burst_limit=props.throttle_burst),
            access_log_settings=st.Apigatewayv2StageAccessLogSettings(
                destination_arn=logs.arn, format=ACCESS_LOG_FORMAT),
            tags=n.tags("http-api"))
        self.url: str = stage.invoke_url
        if props.domain:
            self.url = f"https://{props.domain}"
            certificate = dns_validated_certificate(self, n, props.domain, props.zone_id)
            domain = aws.apigatewayv2_domain_name.Apigatewayv2DomainName(
                self, "domain", domain_name=props.domain,
                domain_name_configuration=aws.apigatewayv2_domain_name.
                Apigatewayv2DomainNameDomainNameConfiguration(
                    certificate_arn=certificate, endpoint_type="REGIONAL",
                    security_policy="TLS_1_2", ip_address_type="dualstack"),
                tags=n.tags("http-api"))
            aws.apigatewayv2_api_mapping.Apigatewayv2ApiMapping(
                self, "mapping", api_id=self.api_id, domain_name=domain.id, stage=stage.id)
            config = domain.domain_name_configuration
            alias_records(self, props.zone_id, props.domain, config.target_domain_name,
                          config.hosted_zone_id, ipv6=True)  # the domain is dual-stack

    def route(self, prefix: str, target: RouteTarget, route_keys: list[str]) -> None:
        """Send `route_keys` (`$default`, `ANY /path`, ...) to `target`, and let this API, and
        nothing else, invoke it. `prefix` keeps each target's construct ids apart."""
        integration = aws.apigatewayv2_integration.Apigatewayv2Integration(
            self, f"{prefix}integration", api_id=self.api_id, integration_type="AWS_PROXY",
            integration_uri=target.arn, payload_format_version="2.0",
            integration_method="POST")
        for key in route_keys:
            # One id per route key: `route$default`, `route:api:{proxy+}` (`/` is the construct
            # path separator); the API function's catch-all keeps the id it always had.
            name = "default-route" if key == "$default" and not prefix else \
                "route" + ("$default" if key == "$default" else
                           key.split(" ", 1)[1].replace("/", ":"))
            aws.apigatewayv2_route.Apigatewayv2Route(
                self, f"{prefix}{name}", api_id=self.api_id, route_key=key,
                target=f"integrations/{integration.id}")
        aws.lambda_permission.LambdaPermission(
            self, f"{prefix}invoke", statement_id="AllowThisHttpApi",
            action="lambda:InvokeFunction", function_name=target.function_name,
            qualifier=target.qualifier, principal="apigateway.amazonaws.com",
            source_arn=f"{self.execution_arn}/*/*")
