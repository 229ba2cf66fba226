"""The Network construct, as a reviewer would check it: address plan, egress paths, isolation of the
data tier, NACLs, flow logs, and nothing left open by AWS defaults."""

from ipaddress import IPv4Network

import pytest

from conftest import SAMPLE, SynthStack, synthesize

AZS = {"dev-stack": "ab", "staging-stack": "abc", "prod-stack": "abc"}
TIERS = ("public", "private", "isolated")


def vpc_cidr(stack: SynthStack) -> IPv4Network:
    return IPv4Network(stack.resource("aws_vpc", "network/vpc")["cidr_block"])


def route_table_of(stack: SynthStack, tier: str, letter: str) -> str:
    """The route table reference associated with a subnet."""
    subnet_ref = stack.ref("aws_subnet", f"network/{tier}-{letter}")
    [assoc] = [a for a in stack.resources("aws_route_table_association").values()
               if a["subnet_id"] == subnet_ref]
    return assoc["route_table_id"]


def routes_of(stack: SynthStack, route_table_ref: str) -> list[dict]:
    return [r for r in stack.resources("aws_route").values()
            if r["route_table_id"] == route_table_ref]


@pytest.fixture(params=sorted(AZS))
def stack(request, stacks) -> SynthStack:
    return stacks[request.param]


def test_every_tier_has_a_subnet_in_every_az(stack):
    subnets = stack.resources("aws_subnet")
    letters = AZS[stack.name]
    assert sorted(subnets) == sorted(f"network/{t}-{x}" for t in TIERS for x in letters)
    for path, subnet in subnets.items():
        assert subnet["availability_zone"] == f"us-east-1{path[-1]}"
        assert subnet["tags"]["Tier"] == path.split("/")[1].split("-")[0]


def test_subnet_ranges_are_inside_the_vpc_and_disjoint(stack):
    vpc = vpc_cidr(stack)
    blocks = [IPv4Network(s["cidr_block"]) for s in stack.resources("aws_subnet").values()]
    assert all(b.subnet_of(vpc) for b in blocks)
    for i, a in enumerate(blocks):
        for b in blocks[i + 1:]:
            assert not a.overlaps(b), (a, b)


def test_no_subnet_hands_out_public_ips(stack):
    assert all(s["map_public_ip_on_launch"] is False
               for s in stack.resources("aws_subnet").values())


def test_public_subnets_route_to_the_internet_gateway(stack):
    igw = stack.ref("aws_internet_gateway", "network/igw")
    # IPv6 too where the load balancer is dual-stack (a domain: staging and prod).
    expected = [("0.0.0.0/0", igw)] + ([("::/0", igw)] if stack.name != "dev-stack" else [])
    for letter in AZS[stack.name]:
        routes = routes_of(stack, route_table_of(stack, "public", letter))
        assert sorted((r.get("destination_cidr_block") or r["destination_ipv6_cidr_block"],
                       r["gateway_id"]) for r in routes) == sorted(expected)


def test_private_subnets_reach_the_internet_only_through_nat(stack):
    nats = {stack.ref("aws_nat_gateway", p) for p in stack.resources("aws_nat_gateway")}
    nats |= {stack.ref("aws_instance", p, "primary_network_interface_id")
             for p in stack.resources("aws_instance")}
    for letter in AZS[stack.name]:
        [route] = routes_of(stack, route_table_of(stack, "private", letter))
        assert route["destination_cidr_block"] == "0.0.0.0/0"
        assert "gateway_id" not in route
        assert (route.get("nat_gateway_id") or route.get("network_interface_id")) in nats


def test_dev_egresses_through_one_nat_instance(dev):
    assert dev.resources("aws_nat_gateway") == {}
    nat = dev.resource("aws_instance", "network/nat-instance")
    eni = dev.ref("aws_instance", "network/nat-instance", "primary_network_interface_id")
    for letter in "ab":
        [route] = routes_of(dev, route_table_of(dev, "private", letter))
        assert route["network_interface_id"] == eni
    assert nat["subnet_id"] == dev.ref("aws_subnet", "network/public-a")
    assert nat["source_dest_check"] is False
    [ip] = dev.resources("aws_eip").values()
    assert ip["instance"] == dev.ref("aws_instance", "network/nat-instance")


def test_the_nat_instance_is_locked_down(dev):
    nat = dev.resource("aws_instance", "network/nat-instance")
    # No SSH key, no role (it calls no AWS API), IMDSv2 only, no public IP of its own.
    assert not {"key_name", "iam_instance_profile", "associate_public_ip_address"} & set(nat)
    assert nat["metadata_options"] == {"http_endpoint": "enabled", "http_tokens": "required",
                                       "http_put_response_hop_limit": 1}
    template = dev.resource("aws_launch_template", "network/nat-instance-template")
    assert nat["launch_template"]["id"] == dev.ref("aws_launch_template",
                                                   "network/nat-instance-template")
    [disk] = template["block_device_mappings"]
    assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volume_type"] == "gp3"
    assert template["image_id"].startswith("resolve:ssm:/aws/service/ami-amazon-linux-latest/")
    assert template["image_id"].endswith("-arm64")  # t4g: Graviton
    # Only the private tier may send it traffic; the isolated tier cannot use it.
    sg = dev.ref("aws_security_group", "network/nat-instance-sg")
    private = {s["cidr_block"] for p, s in dev.resources("aws_subnet").items() if "private" in p}
    inbound = [r for r in dev.resources("aws_vpc_security_group_ingress_rule").values()
               if r["security_group_id"] == sg]
    assert {r["cidr_ipv4"] for r in inbound} == private
    assert all("referenced_security_group_id" not in r for r in inbound)


def test_prod_keeps_a_nat_gateway_in_each_az(prod):
    assert prod.resources("aws_instance") == {}
    assert sorted(prod.resources("aws_nat_gateway")) == [f"network/nat-{x}" for x in "abc"]
    for letter in "abc":
        nat = prod.resource("aws_nat_gateway", f"network/nat-{letter}")
        assert nat["subnet_id"] == prod.ref("aws_subnet", f"network/public-{letter}")
        [route] = routes_of(prod, route_table_of(prod, "private", letter))
        assert route["nat_gateway_id"] == prod.ref("aws_nat_gateway", f"network/nat-{letter}")


def test_ipv6_is_on_the_public_tier_only_and_only_with_a_domain(stack):
    vpc = stack.resource("aws_vpc", "network/vpc")
    subnets = stack.resources("aws_subnet")
    if stack.name == "dev-stack":  # no domain: IPv4 only, nothing IPv6 anywhere
        assert "assign_generated_ipv6_cidr_block" not in vpc
        assert not any("ipv6" in key for s in subnets.values() for key in s)
        assert not any("destination_ipv6_cidr_block" in r
                       for r in stack.resources("aws_route").values())
        assert not any(r.get("ipv6_cidr_block") for n in stack.resources("aws_network_acl").values()
                       for r in n["ingress"] + n["egress"])
        return
    assert vpc["assign_generated_ipv6_cidr_block"] is True
    vpc_block = stack.ref("aws_vpc", "network/vpc", "ipv6_cidr_block")
    for index, letter in enumerate(AZS[stack.name]):
        public = subnets[f"network/public-{letter}"]
        assert public["ipv6_cidr_block"] == f"${{cidrsubnet({vpc_block[2:-1]}, 8, {index})}}"
        assert public["assign_ipv6_address_on_creation"] is False
        for tier in ("private", "isolated"):
            assert not any("ipv6" in key for key in subnets[f"network/{tier}-{letter}"])
    # No IPv6 route but the public tier's to the internet gateway (no egress-only gateway).
    ipv6_routes = [r for r in stack.resources("aws_route").values()
                   if "destination_ipv6_cidr_block" in r]
    assert [(r["route_table_id"], r["gateway_id"]) for r in ipv6_routes] == [
        (stack.ref("aws_route_table", "network/public-rt"),
         stack.ref("aws_internet_gateway", "network/igw"))]
    assert stack.resources("aws_egress_only_internet_gateway") == {}
    for tier in ("private", "isolated"):
        nacl = stack.resource("aws_network_acl", f"network/{tier}-nacl")
        assert not any(r.get("ipv6_cidr_block") for r in nacl["ingress"] + nacl["egress"])


def test_the_public_nacl_admits_the_same_ports_over_ipv6_as_over_ipv4(stack):
    nacl = stack.resource("aws_network_acl", "network/public-nacl")

    def ports(rules, key, cidr):
        return {(r["protocol"], r["from_port"], r["to_port"]) for r in rules if r.get(key) == cidr}

    for direction in ("ingress", "egress"):
        ipv6 = ports(nacl[direction], "ipv6_cidr_block", "::/0")
        if stack.name == "dev-stack":
            assert ipv6 == set()
        else:
            assert ipv6 == ports(nacl[direction], "cidr_block", "0.0.0.0/0"), direction


def test_isolated_subnets_have_no_way_out_of_the_vpc(stack):
    vpc = str(vpc_cidr(stack))
    tables = {route_table_of(stack, "isolated", x) for x in AZS[stack.name]}
    assert len(tables) == 1
    [table] = tables
    assert routes_of(stack, table) == []
    isolated_rt = stack.resource("aws_route_table", "network/isolated-rt")
    assert not isolated_rt.get("route")
    for endpoint in stack.resources("aws_vpc_endpoint").values():
        assert table not in endpoint.get("route_table_ids", [])
    nacl = stack.resource("aws_network_acl", "network/isolated-nacl")
    assert {r["cidr_block"] for r in nacl["ingress"] + nacl["egress"]} == {vpc}
    assert not any(r.get("ipv6_cidr_block") for r in nacl["ingress"] + nacl["egress"])


def test_internet_traffic_into_the_vpc_is_limited_by_nacl(stack):
    public = stack.resource("aws_network_acl", "network/public-nacl")
    from_anywhere = {(r["protocol"], r["from_port"], r["to_port"]) for r in public["ingress"]
                     if r["cidr_block"] == "0.0.0.0/0"}
    assert from_anywhere == {("tcp", 443, 443), ("tcp", 80, 80), ("tcp", 1024, 65535)}
    private = stack.resource("aws_network_acl", "network/private-nacl")
    from_anywhere = [(r["protocol"], r["from_port"], r["to_port"]) for r in private["ingress"]
                     if r["cidr_block"] == "0.0.0.0/0"]
    # replies to connections made through NAT or a gateway endpoint, Lambda's ports included
    assert from_anywhere == [("tcp", 1024, 65535)]
    for tier in TIERS:
        nacl = stack.resource("aws_network_acl", f"network/{tier}-nacl")
        assert sorted(nacl["subnet_ids"]) == sorted(
            stack.ref("aws_subnet", f"network/{tier}-{x}") for x in AZS[stack.name])


# A NACL is stateless: a reply comes back to the port its client picked, so the subnet the client
# sits in must admit that client's whole range from wherever it connects to. "Ephemeral ports"
# (Amazon VPC User Guide, "Control subnet traffic with network access control lists"): Amazon
# Linux (Fargate tasks, container instances) 32768-61000; Lambda functions, NAT gateways and
# Elastic Load Balancing 1024-65535.
CLIENT_RETURN_PORTS = {
    "aws_lambda_function": (1024, 65535),
    "aws_ecs_service": (32768, 61000),
    "aws_nat_gateway": (1024, 65535),
    "aws_lb": (1024, 65535),
}


def client_subnets(type_: str, body: dict) -> list[str]:
    return {"aws_lambda_function": lambda: body.get("vpc_config", {}).get("subnet_ids", []),
            "aws_ecs_service": lambda: body["network_configuration"]["subnets"],
            "aws_nat_gateway": lambda: [body["subnet_id"]],
            "aws_lb": lambda: body["subnets"]}[type_]()


def test_each_nacl_admits_replies_from_outside_the_vpc_on_its_clients_ephemeral_ports(stack):
    """Every client kind reaches outside the VPC (NAT, the S3 gateway endpoint, the internet)."""
    nacls = stack.resources("aws_network_acl").values()
    checked = 0
    for type_, (low, high) in CLIENT_RETURN_PORTS.items():
        for path, body in stack.resources(type_).items():
            for subnet in client_subnets(type_, body):
                [nacl] = [n for n in nacls if subnet in n["subnet_ids"]]
                admitted = [(r["from_port"], r["to_port"]) for r in nacl["ingress"]
                            if r.get("cidr_block") == "0.0.0.0/0" and r["action"] == "allow"
                            and r["protocol"] in ("tcp", "6")]
                assert any(a <= low and high <= b for a, b in admitted), \
                    (path, subnet, (low, high), admitted)
                checked += 1
    assert checked >= 8  # functions, services, NAT gateways or the load balancer: every stack


def test_aws_default_security_group_and_nacl_allow_nothing(stack):
    [default_sg] = stack.resources("aws_default_security_group").values()
    assert not default_sg.get("ingress") and not default_sg.get("egress")
    assert default_sg["vpc_id"] == stack.ref("aws_vpc", "network/vpc")
    [default_nacl] = stack.resources("aws_default_network_acl").values()
    assert not default_nacl.get("ingress") and not default_nacl.get("egress")


def test_flow_logs_capture_all_traffic_into_an_encrypted_log_group(stack):
    flow = stack.resource("aws_flow_log", "network/flow-log")
    group_ref = stack.ref("aws_cloudwatch_log_group", "network/flow-log-group", "arn")
    assert flow["vpc_id"] == stack.ref("aws_vpc", "network/vpc")
    assert (flow["traffic_type"], flow["log_destination"]) == ("ALL", group_ref)
    group = stack.resource("aws_cloudwatch_log_group", "network/flow-log-group")
    assert group["kms_key_id"] == stack.ref("aws_kms_key", "logs-key/key", "arn")
    # logs.security_retention_days: a year in staging and prod (tests/test_retention.py)
    assert group["retention_in_days"] == (30 if stack.name == "dev-stack" else 365)


def test_flow_log_role_can_only_write_its_own_log_group(stack):
    import json
    role = stack.resource("aws_iam_role", "network/flow-log-role")
    trust = json.loads(role["assume_role_policy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "vpc-flow-logs.amazonaws.com"}]
    assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    policy = json.loads(stack.resource("aws_iam_role_policy", "network/flow-log-role-policy")["policy"])
    group = stack.ref("aws_cloudwatch_log_group", "network/flow-log-group", "arn")
    # Writing: its own group only. Listing groups (the VPC User Guide's minimum for the role)
    # takes no narrower resource than the account's groups, and reveals no log data.
    writes, lists = policy["Statement"]
    assert writes["Resource"] == [group, f"{group}:*"]
    assert lists == {"Effect": "Allow", "Action": "logs:DescribeLogGroups",
                     "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:*"}


def test_s3_and_dynamodb_gateway_endpoints_serve_the_app_tier(stack):
    endpoints = stack.resources("aws_vpc_endpoint")
    assert sorted(endpoints) == ["network/dynamodb-endpoint", "network/s3-endpoint"]
    private_tables = sorted(route_table_of(stack, "private", x) for x in AZS[stack.name])
    for endpoint in endpoints.values():
        assert endpoint["vpc_endpoint_type"] == "Gateway"
        assert sorted(endpoint["route_table_ids"]) == private_tables


# --- switches not used by the shipped environments -------------------------------------------

def dev_variant(directory, environment: str, *replacements: tuple[str, str]) -> SynthStack:
    """config/dev.toml under another environment name with `replacements` made, synthesized."""
    text = (SAMPLE / "dev.toml").read_text()
    replacements = (('environment = "dev"', f'environment = "{environment}"\nprofile = "dev"'),
                    *replacements)
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    config = directory / f"{environment}.toml"
    config.write_text(text)
    return synthesize(directory / "out", [config])[f"{environment}-stack"]


@pytest.fixture(scope="session")
def variant(tmp_path_factory) -> SynthStack:
    """No NAT, explicit subnets (seed 003's layout) and the interface endpoints dev's workloads
    then need: ECR and logs for the tasks, Secrets Manager for the database secret, SQS for the
    queue (without NAT an endpoint is their only way to reach each)."""
    return dev_variant(tmp_path_factory.mktemp("variant"), "lean",
                       ('nat = "instance"', 'nat = "none"'),
                       ("interface_endpoints = []",
                        'interface_endpoints = ["ecr.api", "ecr.dkr", "logs", '
                        '"secretsmanager", "sqs"]\n'
                        "[network.subnets]\n"
                        'public = ["10.0.1.0/24", "10.0.2.0/24"]\n'
                        'private = ["10.0.10.0/24", "10.0.11.0/24"]\n'
                        'isolated = ["10.0.20.0/24", "10.0.21.0/24"]'))


@pytest.fixture(scope="session")
def single_nat(tmp_path_factory) -> SynthStack:
    """One NAT gateway shared by three AZs (`nat = "single"`, seed 004's dev)."""
    return dev_variant(tmp_path_factory.mktemp("single-nat"), "single",
                       ('nat = "instance"', 'nat = "single"'), ("az_count = 2", "az_count = 3"))


def test_explicit_subnets_are_synthesized_as_given(variant):
    cidrs = {p: s["cidr_block"] for p, s in variant.resources("aws_subnet").items()}
    assert cidrs["network/public-a"] == "10.0.1.0/24"
    assert cidrs["network/private-b"] == "10.0.11.0/24"


def test_without_nat_private_subnets_have_no_default_route(variant):
    assert variant.resources("aws_nat_gateway") == {}
    assert variant.resources("aws_eip") == {}
    assert list(variant.resources("aws_route")) == ["network/public-default-route"]


def test_interface_endpoints_accept_only_https_from_the_vpc(variant):
    interface = {p: e for p, e in variant.resources("aws_vpc_endpoint").items()
                 if e["vpc_endpoint_type"] == "Interface"}
    assert sorted(e["service_name"] for e in interface.values()) == [
        "com.amazonaws.us-east-1.ecr.api", "com.amazonaws.us-east-1.ecr.dkr",
        "com.amazonaws.us-east-1.logs", "com.amazonaws.us-east-1.secretsmanager",
        "com.amazonaws.us-east-1.sqs"]
    sg = variant.ref("aws_security_group", "network/endpoint-sg")
    private = sorted(variant.ref("aws_subnet", f"network/private-{x}") for x in "ab")
    for endpoint in interface.values():
        assert endpoint["private_dns_enabled"] is True
        assert endpoint["security_group_ids"] == [sg]
        assert sorted(endpoint["subnet_ids"]) == private
    rules = [r for r in variant.resources("aws_vpc_security_group_ingress_rule").values()
             if r["security_group_id"] == sg]
    assert [(r["cidr_ipv4"], r["from_port"], r["to_port"]) for r in rules] == \
        [("10.0.0.0/16", 443, 443)]
    assert not [r for r in variant.resources("aws_vpc_security_group_egress_rule").values()
                if r["security_group_id"] == sg]


def test_one_shared_nat_gateway_carries_every_private_subnet_and_nothing_else(single_nat):
    stack = single_nat
    assert stack.resources("aws_instance") == {}  # a gateway, not the NAT instance
    [(path, nat)] = stack.resources("aws_nat_gateway").items()
    assert nat["subnet_id"] in {stack.ref("aws_subnet", f"network/public-{x}") for x in "abc"}
    [(ip_path, _)] = stack.resources("aws_eip").items()
    assert nat["allocation_id"] == stack.ref("aws_eip", ip_path, "allocation_id")
    gateway = stack.ref("aws_nat_gateway", path)
    for letter in "abc":
        [route] = routes_of(stack, route_table_of(stack, "private", letter))
        assert (route["destination_cidr_block"], route.get("nat_gateway_id")) == \
            ("0.0.0.0/0", gateway), letter
        assert not {"gateway_id", "network_interface_id"} & set(route)
    # The isolated tier has no route at all, and no inline one.
    for table in {route_table_of(stack, "isolated", x) for x in "abc"}:
        assert routes_of(stack, table) == []
    assert not stack.resource("aws_route_table", "network/isolated-rt").get("route")
    # The only internet routes: the public tier's to the IGW, the private tier's to the NAT.
    igw = stack.ref("aws_internet_gateway", "network/igw")
    targets = sorted(r.get("gateway_id") or r.get("nat_gateway_id") or str(r)
                     for r in stack.resources("aws_route").values())
    assert targets == sorted([igw] + [gateway] * 3)
