"""`ingress.internal`: the load balancer in the private tier, reached only by CloudFront through a
VPC origin, as a reviewer checks it on the synthesized JSON (tests/fixtures/internal.toml: HTTPS
on a domain; internal-dev.toml: no domain, plain HTTP), and the inputs the config refuses.

AWS's rules, from "Restrict access with VPC origins" (Amazon CloudFront Developer Guide) unless
a test names another page: the origin is an ALB, NLB or EC2 instance in a private subnet with an
available IPv4 address (IPv6-only subnets are not supported), Active before the VPC origin is
made; the VPC has an internet gateway; the origin's security group admits CloudFront's
service-managed group `CloudFront-VPCOrigins-Service-SG` (which exists only once a VPC origin
does) or the CloudFront managed prefix list; the region is one the page lists.
"""

import json

import pytest

import contracts
from conftest import (MINIMAL_CONFIG as MINIMAL, ROOT, SynthStack, require_tool, run,
                      synthesize)
from lib.analysis.cost import estimate
from lib.analysis.diagram import mermaid
from lib.analysis.pricing import load_prices
from lib.config import load_environment
from lib.config.catalog import VPC_ORIGIN_EXCLUDED_ZONE_IDS
from lib.edge.cdn import ALL_VIEWER_EXCEPT_HOST_HEADER, CACHING_DISABLED
from test_config import problems, write
from test_isolation import ACCOUNT, PROJECT, REGION, documents

VPC_ORIGIN = "alb-origin/vpc-origin"
DOMAIN = "api.internal.example.com"  # tests/fixtures/internal.toml ingress.domain


@pytest.fixture(scope="module")
def https(fixture_stacks) -> SynthStack:
    return fixture_stacks["intlb-stack"]


@pytest.fixture(scope="module")
def http(fixture_stacks) -> SynthStack:
    return fixture_stacks["intdev-stack"]


@pytest.fixture(params=["intlb-stack", "intdev-stack"])
def internal(request, fixture_stacks) -> SynthStack:
    return fixture_stacks[request.param]


def the_lb(stack: SynthStack) -> dict:
    return stack.resource("aws_lb", "load-balancer/alb")


def lb_rules(stack: SynthStack) -> list[dict]:
    """The ingress rules on the load balancer's own security group."""
    group = stack.ref("aws_security_group", "load-balancer/sg")
    return [r for r in stack.resources("aws_vpc_security_group_ingress_rule").values()
            if r["security_group_id"] == group]


def origins_to_the_lb(stack: SynthStack) -> list[dict]:
    return [o for d in stack.resources("aws_cloudfront_distribution").values()
            for o in d["origin"] if o["origin_id"] == "api"]


# --- placement: nothing public -----------------------------------------------------------------

def test_the_load_balancer_is_internal_in_the_private_tier(internal):
    lb = the_lb(internal)
    assert lb["internal"] is True
    private = {internal.ref("aws_subnet", p)
               for p in internal.matching("aws_subnet", "network/private-*")}
    assert set(lb["subnets"]) == private and len(private) >= 2
    # IPv6-only subnets cannot hold a VPC origin: each of these has its IPv4 block, no IPv6.
    for path in internal.matching("aws_subnet", "network/private-*"):
        subnet = internal.resource("aws_subnet", path)
        assert subnet["cidr_block"] and not subnet.get("ipv6_cidr_block")
    assert lb.get("ip_address_type") in (None, "ipv4")


def test_the_vpc_has_an_internet_gateway(internal):
    # The page: "Internet gateway - You need to add an internet gateway to the VPC that has your
    # VPC origin resources" (not used for routing to the origin).
    [igw] = internal.resources("aws_internet_gateway").values()
    assert igw["vpc_id"] == internal.ref("aws_vpc", "network/vpc")


def test_the_vpc_origin_is_created_once_the_internet_gateway_is_attached(internal):
    # The page's Prerequisites: "Before you create a VPC origin ... you must" have the internet
    # gateway in the VPC. An internal load balancer, its subnets and its group do not need one,
    # so without depends_on Terraform may create the VPC origin while the gateway is not there.
    origin = internal.resource("aws_cloudfront_vpc_origin", VPC_ORIGIN)
    igw = internal.ref("aws_internet_gateway", "network/igw").removeprefix("${")
    assert igw.removesuffix(".id}") in origin.get("depends_on", [])


def test_no_name_resolves_to_the_load_balancer(internal):
    lb_dns = internal.ref("aws_lb", "load-balancer/alb", "dns_name")
    aliased = [r for r in internal.resources("aws_route53_record").values()
               if r.get("alias", {}).get("name") == lb_dns]
    assert aliased == []


# --- who reaches it: CloudFront's VPC origin alone --------------------------------------------

def test_the_vpc_origin_is_the_load_balancer(internal):
    origin = internal.resource("aws_cloudfront_vpc_origin", VPC_ORIGIN)
    [config] = origin["vpc_origin_endpoint_config"]
    # Referencing the ALB orders it after the load balancer, which the provider creates only
    # once Active ("The resource you launch must be fully deployed and in Active status").
    assert config["arn"] == internal.ref("aws_lb", "load-balancer/alb", "arn")
    # A protocol change is a replacement the distributions move to before the old one goes.
    assert origin["lifecycle"]["create_before_destroy"] is True


def test_the_load_balancer_admits_only_cloudfronts_service_group(https, http):
    for stack, port in ((https, 443), (http, 80)):
        [rule] = lb_rules(stack)
        assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (port, port, "tcp")
        assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule
        assert "prefix_list_id" not in rule
        [(key, group)] = stack.json["data"]["aws_security_group"].items()
        assert rule["referenced_security_group_id"] == f"${{data.aws_security_group.{key}.id}}"
        filters = {f["name"]: f["values"] for f in group["filter"]}
        assert filters == {"group-name": ["CloudFront-VPCOrigins-Service-SG*"],
                           "vpc-id": [stack.ref("aws_vpc", "network/vpc")]}


def test_cloudfronts_group_is_looked_up_after_the_vpc_origin_creates_it(internal):
    # "Option 2 ... can be done only after the VPC origin is created and the service-managed
    # security group is created": the read waits for the VPC origin (provider: until Deployed).
    [group] = internal.json["data"]["aws_security_group"].values()
    origin = internal.ref("aws_cloudfront_vpc_origin", VPC_ORIGIN).split(".")[:2]
    assert group["depends_on"] == [".".join(origin).removeprefix("${")]


# "Restrict access with VPC origins", Supported AWS Regions: VPC origins are not supported in
# use1-az3 (us-east-1), usw1-az2 (us-west-1), apne1-az3 (ap-northeast-1), cac1-az3
# (ca-central-1). These are zone IDs: which zone name each is differs per account
# ("AZ IDs for your AWS resources", AWS RAM User Guide).
UNSUPPORTED_ZONE_IDS = {"use1-az3", "usw1-az2", "apne1-az3", "cac1-az3"}


def zone_checks(stack: SynthStack) -> dict[str, dict]:
    return stack.json.get("data", {}).get("aws_availability_zone", {})


def test_every_zone_of_the_load_balancer_is_checked_against_the_unsupported_ids(internal):
    assert set(VPC_ORIGIN_EXCLUDED_ZONE_IDS) == UNSUPPORTED_ZONE_IDS
    subnets = internal.json["resource"]["aws_subnet"]
    zones = {b["availability_zone"] for b in subnets.values()}
    checks = zone_checks(internal)
    assert {c["name"] for c in checks.values()} == zones
    for check in checks.values():
        [condition] = check["lifecycle"]["postcondition"]
        # A JSON-syntax expression is a "${...}" template; a bare string is a constant, which
        # Terraform refuses ("must refer to at least one object").
        assert condition["condition"].startswith("${") and "self.zone_id" in condition["condition"]
        assert all(f'"{z}"' in condition["condition"] for z in UNSUPPORTED_ZONE_IDS)
        assert "network.availability_zones" in condition["error_message"]


def test_the_offline_plan_looks_up_no_zone(tmp_path):
    """The offline target has no network: a zone lookup would fail its plan."""
    [stack] = synthesize(tmp_path, [ROOT / "tests" / "fixtures" / "internal.toml"],
                         target="offline").values()
    assert zone_checks(stack) == {}


@pytest.mark.slow
def test_the_plan_stops_on_a_zone_vpc_origins_do_not_support(https, tmp_path):
    """`terraform test` with a mocked provider (no AWS): the stack's zone checks fail the plan
    when the account maps a zone to an unsupported ID, and pass on any other."""
    terraform = require_tool("terraform")
    checks = zone_checks(https)
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "terraform": {"required_providers": https.json["terraform"]["required_providers"]},
        "data": {"aws_availability_zone": checks}}))
    first = next(iter(checks))
    address = f"data.aws_availability_zone.{first}"
    # Supported first: after a run fails, `terraform test` skips the ones after it.
    runs = "".join(f"""
run "{name}" {{
  command = plan
  override_data {{
    target = {address}
    values = {{ zone_id = "{zone_id}" }}
  }}
}}
""" for name, zone_id in (("supported", "use1-az1"), ("unsupported", "use1-az3")))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "zones.tftest.hcl").write_text('mock_provider "aws" {}\n' + runs)
    assert run([terraform, "init", "-input=false", "-no-color"], cwd=tmp_path).returncode == 0
    result = run([terraform, "test", "-no-color"], cwd=tmp_path)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1, output
    assert 'run "unsupported"... fail' in output and 'run "supported"... pass' in output, output
    assert (f"Availability Zone {checks[first]['name']} is use1-az3 in this account, where "
            "CloudFront VPC origins are not available") in output, output


def test_the_private_nacl_lets_cloudfront_reach_the_listener(https, http):
    # The page lets the origin's group admit the CloudFront managed prefix list, that is
    # CloudFront's public ranges: the connection may come from outside the VPC, and a NACL cannot
    # name a prefix list. Only the listener's port is opened; the group narrows it to CloudFront.
    for stack, port in ((https, 443), (http, 80)):
        nacl = stack.resource("aws_network_acl", "network/private-nacl")
        from_anywhere = sorted((r["from_port"], r["to_port"]) for r in nacl["ingress"]
                               if r.get("cidr_block") == "0.0.0.0/0")
        assert from_anywhere == sorted([(port, port), (1024, 65535)])
        # Replies to CloudFront go out on its ports: the private tier sends anywhere.
        assert any(r["cidr_block"] == "0.0.0.0/0" and r["protocol"] == "-1"
                   for r in nacl["egress"])


def test_every_way_to_the_load_balancer_is_the_vpc_origin(internal):
    origins = origins_to_the_lb(internal)
    assert len(origins) == 2  # the surface's /api/* and the ingress distribution
    for origin in origins:
        assert origin["vpc_origin_config"] == {
            "vpc_origin_id": internal.ref("aws_cloudfront_vpc_origin", VPC_ORIGIN)}
        assert "custom_origin_config" not in origin


# --- HTTPS from CloudFront to the load balancer -----------------------------------------------

def test_https_to_the_load_balancer_checks_its_certificate(https):
    [config] = https.resource("aws_cloudfront_vpc_origin",
                              VPC_ORIGIN)["vpc_origin_endpoint_config"]
    assert config["origin_protocol_policy"] == "https-only"
    assert config["https_port"] == 443
    assert config["origin_ssl_protocols"] == [{"items": ["TLSv1.2"], "quantity": 1}]
    # "Requiring HTTPS for communication between CloudFront and your custom origin": the origin's
    # certificate must match the origin domain name (or the Host header when it is forwarded;
    # here it is not: ALL_VIEWER_EXCEPT_HOST_HEADER).
    certificate = https.resource("aws_acm_certificate", "load-balancer/certificate")
    assert certificate["domain_name"] == DOMAIN
    assert {o["domain_name"] for o in origins_to_the_lb(https)} == {DOMAIN}
    listener = https.resource("aws_lb_listener", "load-balancer/https")
    assert (listener["port"], listener["protocol"]) == (443, "HTTPS")


def test_without_a_domain_cloudfront_speaks_http_to_the_load_balancers_name(http):
    [config] = http.resource("aws_cloudfront_vpc_origin", VPC_ORIGIN)["vpc_origin_endpoint_config"]
    assert (config["origin_protocol_policy"], config["http_port"]) == ("http-only", 80)
    assert {o["domain_name"] for o in origins_to_the_lb(http)} == {
        http.ref("aws_lb", "load-balancer/alb", "dns_name")}


# --- the distribution in front of it, and the domain ------------------------------------------

def test_the_domain_points_at_the_ingress_distribution(https):
    site = https.resource("aws_cloudfront_distribution", "cdn-ingress/distribution")
    assert site["aliases"] == [DOMAIN]
    records = {r["type"]: r for r in https.matching("aws_route53_record", "cdn-ingress/alias*")
               .values()}
    assert set(records) == {"A", "AAAA"}
    for record in records.values():
        assert record["name"] == DOMAIN
        assert record["alias"]["name"] == https.ref("aws_cloudfront_distribution",
                                                    "cdn-ingress/distribution", "domain_name")
    viewer = site["viewer_certificate"]
    assert viewer["minimum_protocol_version"] == "TLSv1.2_2021"
    cert = https.resource("aws_acm_certificate", "cdn-ingress/certificate")
    assert cert["domain_name"] == DOMAIN and cert["provider"] == "aws.us_east_1"
    assert https.json["output"]["url"]["value"] == f"https://{DOMAIN}"


def test_every_path_of_the_ingress_distribution_goes_uncached_to_the_load_balancer(internal):
    site = internal.resource("aws_cloudfront_distribution", "cdn-ingress/distribution")
    behavior = site["default_cache_behavior"]
    assert behavior["target_origin_id"] == "api"
    assert behavior["cache_policy_id"] == CACHING_DISABLED
    assert behavior["origin_request_policy_id"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert behavior["viewer_protocol_policy"] == "redirect-to-https"
    assert {"POST", "PUT", "PATCH", "DELETE"} <= set(behavior["allowed_methods"])
    assert "ordered_cache_behavior" not in site


def test_without_a_domain_the_ingress_distribution_is_the_url(http):
    site = http.resource("aws_cloudfront_distribution", "cdn-ingress/distribution")
    assert "aliases" not in site
    assert site["viewer_certificate"] == {"cloudfront_default_certificate": True}
    assert http.json["output"]["url"]["value"] == "https://" + http.ref(
        "aws_cloudfront_distribution", "cdn-ingress/distribution", "domain_name")


def test_the_waf_is_cloudfronts_alone(internal):
    [acl] = internal.resources("aws_wafv2_web_acl").values()
    assert acl["scope"] == "CLOUDFRONT"
    assert internal.resources("aws_wafv2_web_acl_association") == {}
    arn = internal.ref("aws_wafv2_web_acl", "waf-cloudfront/acl", "arn")
    assert {d["web_acl_id"] for d in internal.resources("aws_cloudfront_distribution").values()} \
        == {arn}


# --- cost, diagram, deploy role, the preset ---------------------------------------------------

def test_the_estimate_drops_the_public_addresses_and_prices_the_vpc_origin_at_zero(https):
    found = estimate("intlb", https.json, load_prices())
    items = {i.item for i in found.items}
    assert "Application Load Balancer" in items
    assert not any("Public IPv4 address (load balancer" in i for i in items)
    assert not any(i.startswith("WAF web ACL (regional)") for i in items)
    assert "aws_cloudfront_vpc_origin" not in found.not_priced


def test_the_diagram_draws_the_load_balancer_in_the_private_tier_behind_cloudfront(https):
    source = mermaid(https.json)
    lines = source.splitlines()
    private = lines.index(next(x for x in lines if x.strip().startswith("subgraph private")))
    end = next(i for i in range(private, len(lines)) if lines[i].strip() == "end")
    assert any("ALB webplat-intlb-alb (internal)" in x for x in lines[private:end])
    assert '-->|"/* via VPC origin"| lb_' in source
    assert '-->|"/api/* via VPC origin"| lb_' in source
    assert not any(x.startswith("  internet_users") and "| lb_" in x for x in lines)


def test_the_deploy_role_manages_its_own_vpc_origins_only(bootstrap):
    # Service Authorization Reference, CloudFront: CreateVpcOrigin takes aws:RequestTag (no
    # resource), Update/Delete/GetVpcOrigin act on a `vpcorigin` whose tags scope them.
    statements = documents(bootstrap)["staging"]["deploy"]
    arn = f"arn:aws:cloudfront::{ACCOUNT}:vpcorigin/vo_1"

    def tags(where: str, env: str) -> dict:
        return {"aws:RequestedRegion": REGION, f"aws:{where}Tag/Project": PROJECT,
                f"aws:{where}Tag/Environment": env}

    assert contracts.decide(statements, "cloudfront:CreateVpcOrigin", "*",
                            context=tags("Request", "staging")) == "allow"
    assert contracts.decide(statements, "cloudfront:CreateVpcOrigin", "*",
                            context=tags("Request", "prod")) != "allow"
    for action in ("cloudfront:UpdateVpcOrigin", "cloudfront:DeleteVpcOrigin"):
        assert contracts.decide(statements, action, arn,
                                context=tags("Resource", "staging")) == "allow", action
        assert contracts.decide(statements, action, arn,
                                context=tags("Resource", "prod")) != "allow", action


def test_seed_002s_api_sits_behind_an_internal_load_balancer(presets):
    # tests/test_examples.py checks the preset's distributions and names.
    stack = presets["mobilytics"]
    assert the_lb(stack)["internal"] is True
    assert len(origins_to_the_lb(stack)) == 3  # support, portal, and api.mobilytics.com
    assert all("vpc_origin_config" in o for o in origins_to_the_lb(stack))


# --- what the config refuses ------------------------------------------------------------------

INTERNAL = MINIMAL.replace("[network]", "[edge]\ncloudfront = true\n\n[ingress]\n"
                                        "internal = true\n\n[network]")

REFUSED = [
    # (case, file text, field, words)
    ("internal without CloudFront", INTERNAL.replace("cloudfront = true", "cloudfront = false"),
     "ingress.internal", "needs edge.cloudfront = true"),
    ("internal on Lambda", 'profile = "lean"\n' + INTERNAL
     + '[[services]]\nname = "web"\nport = 8080\npaths = ["/app/*"]\n',
     "ingress.internal", "only on ECS: lambda has no load balancer"),
    ("internal in a region without VPC origins",
     INTERNAL.replace('region = "us-east-1"', 'region = "ap-southeast-6"'),
     "ingress.internal", "CloudFront has no VPC origins in ap-southeast-6"),
    ("internal with names of its own", INTERNAL.replace(
        "internal = true", 'internal = true\ndomain = "shop.example.com"\n'
        'hosted_zone_id = "Z0123456789EXAMPLE"\nhosts = ["admin.shop.example.com"]'),
     "ingress.hosts", "no public address for these names' records"),
    ("internal with narrowed ranges",
     INTERNAL.replace("internal = true", 'internal = true\nallowed_cidrs = ["203.0.113.0/24"]'),
     "ingress.allowed_cidrs", "narrow who reaches CloudFront with the web ACL"),
    ("a surface named like the ingress distribution",
     INTERNAL.replace("[ingress]", '[storage]\nsurfaces = ["ingress"]\n\n[ingress]'),
     "storage.surfaces", "'ingress' names the distribution in front of the internal"),
]


@pytest.mark.parametrize("case, text, field, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_cannot_work_is_refused_in_one_line(tmp_path, case, text, field, words):
    path = write(tmp_path, text)
    [line] = problems(path)
    assert line.startswith(f"{path}: {field}: ") and words in line, line


def test_a_redirect_is_refused_with_an_internal_load_balancer(tmp_path):
    path = write(tmp_path, INTERNAL.replace(
        "internal = true", 'internal = true\ndomain = "shop.example.com"\nhosted_zone_id = '
        '"Z0123456789EXAMPLE"\nhosts = ["www.shop.example.com"]\nredirect = "www-to-apex"'))
    found = problems(path)
    assert any(p.startswith(f"{path}: ingress.redirect: ") and "no public address" in p
               for p in found), found


def test_an_internal_load_balancer_loads_without_dual_stack(tmp_path):
    config = load_environment(write(tmp_path, INTERNAL.replace(
        "internal = true", 'internal = true\ndomain = "shop.example.com"\n'
        'hosted_zone_id = "Z0123456789EXAMPLE"')))
    assert config.ingress.internal and config.ingress.origin_port == 443
    assert config.dual_stack_ingress is False  # the private tier is IPv4-only
