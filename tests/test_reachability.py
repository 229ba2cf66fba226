"""Reachability contracts (tests/reachability.py) over the synthesized JSON of every stack, every
preset and every test fixture; then, for each contract, a broken copy that it must reject."""

import copy

import pytest

from network_model import Stack, key_of
from reachability import RULES, checks


@pytest.fixture(scope="module")
def documents(stacks, presets, fixture_stacks) -> dict[str, dict]:
    return {**{f"config/{name}": s.json for name, s in stacks.items()},
            **{f"examples/{name}": s.json for name, s in presets.items()},
            **{f"tests/fixtures/{name}": s.json for name, s in fixture_stacks.items()}}


@pytest.fixture(scope="module")
def results(documents) -> dict:
    return {label: checks(doc) for label, doc in documents.items()}


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_every_stack_and_preset_keeps_the_contract(rule, results):
    found = [c for label, cs in results.items() for c in cs if c.rule == rule.name]
    problems = [f"{label}: {c.subject}: {c.problem}" for label, cs in results.items()
                for c in cs if c.rule == rule.name and c.problem]
    assert not problems, f"{rule.says} ({rule.doc}):\n" + "\n".join(problems)
    assert found, f"{rule.name} checked nothing in any stack"


def test_every_workload_is_found_from_the_json(documents):
    """Functions in a VPC, ECS services and scheduled tasks, container instances and App Runner
    services with VPC egress: each one is a workload, whatever its name."""
    for label, doc in documents.items():
        stack = Stack(doc)
        resources = doc.get("resource", {})
        expected = sum(bool((f.get("vpc_config") or {}).get("subnet_ids"))
                       for f in resources.get("aws_lambda_function", {}).values())
        expected += len(resources.get("aws_ecs_service", {}))
        expected += len(resources.get("aws_ecs_capacity_provider", {}))
        expected += sum("ecs_parameters" in s["target"]
                        for s in resources.get("aws_scheduler_schedule", {}).values())
        expected += sum(((s.get("network_configuration") or {}).get("egress_configuration") or {})
                        .get("egress_type") == "VPC"
                        for s in resources.get("aws_apprunner_service", {}).values())
        assert len(stack.workloads) == expected, label
        for w in stack.workloads:
            assert w.subnets and w.groups, (label, w.name)
            assert all(s.startswith("aws_subnet.") for s in w.subnets), (label, w.name)


# Every resource type that puts something into a subnet, and how the contracts treat it. A new
# one (an EFS mount target, a Batch environment...) fails here until reachability.py knows
# whether it is a workload, a path (NAT, endpoint, load balancer) or a store.
SUBNET_USERS = {
    "aws_lambda_function", "aws_ecs_service", "aws_scheduler_schedule", "aws_autoscaling_group",
    "aws_apprunner_vpc_connector",  # workloads
    "aws_nat_gateway", "aws_instance", "aws_vpc_endpoint", "aws_lb",  # on the way
    "aws_db_subnet_group", "aws_elasticache_subnet_group",  # stores
    "aws_elasticache_serverless_cache", "aws_db_proxy",
    "aws_network_acl", "aws_route_table_association",  # the network itself
    # a way in for people: its ACLs and groups are tests/test_client_vpn.py's
    "aws_ec2_client_vpn_network_association",
}


def references_a_subnet(value) -> bool:
    if isinstance(value, dict):
        return any(references_a_subnet(v) for k, v in value.items() if k != "//")
    if isinstance(value, list):
        return any(references_a_subnet(v) for v in value)
    return isinstance(value, str) and "${aws_subnet." in value


def test_every_resource_placed_in_a_subnet_is_known_to_the_contracts(documents):
    placed = {type_ for doc in documents.values()
              for type_, bodies in doc.get("resource", {}).items()
              if any(references_a_subnet(b) for b in bodies.values())}
    assert placed <= SUBNET_USERS, placed - SUBNET_USERS
    for label, doc in documents.items():
        resources = doc.get("resource", {})
        # The contracts know an instance as a NAT and a group as ECS capacity, nothing else.
        assert all(i.get("source_dest_check") is False
                   for i in resources.get("aws_instance", {}).values()), label
        scaled = {key_of(p["auto_scaling_group_provider"]["auto_scaling_group_arn"])
                  for p in resources.get("aws_ecs_capacity_provider", {}).values()}
        assert {f"aws_autoscaling_group.{n}" for n in resources.get("aws_autoscaling_group", {})
                } == scaled, label


# --- each contract can fail ------------------------------------------------------------------

def find(doc: dict, type_: str, path: str) -> tuple[str, dict]:
    """(logical id, body) of the resource at construct path `path` (without the stack)."""
    for logical, body in doc["resource"][type_].items():
        if body["//"]["metadata"]["path"].split("/", 1)[1] == path:
            return logical, body
    raise KeyError(path)


def drop(doc: dict, type_: str, *paths: str) -> dict:
    for path in paths:
        del doc["resource"][type_][find(doc, type_, path)[0]]
    return doc


def problems(doc: dict, rule: str) -> list[str]:
    return [f"{c.subject}: {c.problem}" for c in checks(doc) if c.rule == rule and c.problem]


@pytest.fixture
def dev_doc(dev) -> dict:
    return copy.deepcopy(dev.json)


@pytest.fixture
def full_doc(fixture_stacks) -> dict:
    """NAT gateways; both functions read their own secret (JWT_SIGNING_KEY_SECRET_ARN) through
    them. (dev's functions call no AWS API from the VPC: IAM database tokens are signed locally.)"""
    return copy.deepcopy(fixture_stacks["full-stack"].json)


@pytest.fixture
def lean_doc(fixture_stacks) -> dict:
    """No NAT; the functions reach Secrets Manager (their own secret) through its interface
    endpoint."""
    return copy.deepcopy(fixture_stacks["lean-stack"].json)


def test_api_route_rejects_a_private_tier_without_nat(dev_doc):
    drop(dev_doc, "aws_route", "network/private-default-route-a", "network/private-default-route-b")
    found = problems(dev_doc, "api-route")
    assert any("service-backend/service -> sqs (EMAIL_QUEUE_URL)" in p and
               "no default route (NAT)" in p for p in found), found
    assert any("service-worker/service -> sqs (QUEUE_URL)" in p for p in found), found
    # Before CI's first deploy a built service runs a public placeholder, which needs the NAT
    # (CI's images in ECR come through it too; without NAT they name ECR: test_first_deploy.py).
    assert any("service-backend/service -> internet (backend image public.ecr.aws/" in p
               for p in found) and any("-> logs" in p for p in found), found
    assert not any("-> s3" in p for p in found), "S3 has its gateway endpoint"


def test_api_route_rejects_a_nat_instance_that_checks_source_and_destination(dev_doc):
    find(dev_doc, "aws_instance", "network/nat-instance")[1]["source_dest_check"] = True
    assert any("source/destination checks" in p for p in problems(dev_doc, "api-route"))


def test_api_route_rejects_a_nat_gateway_without_an_internet_route(prod):
    doc = drop(copy.deepcopy(prod.json), "aws_route", "network/public-default-route")
    assert any("no route to an internet gateway" in p for p in problems(doc, "api-route"))


def test_api_route_does_not_count_an_endpoint_with_private_dns_off(lean_doc):
    find(lean_doc, "aws_vpc_endpoint", "network/secretsmanager-endpoint")[1][
        "private_dns_enabled"] = False
    found = problems(lean_doc, "api-route")
    assert found and all("no secretsmanager interface endpoint with private DNS" in p
                         for p in found), found


def test_api_dns_rejects_a_vpc_without_dns_hostnames(lean_doc):
    find(lean_doc, "aws_vpc", "network/vpc")[1]["enable_dns_hostnames"] = False
    found = problems(lean_doc, "api-dns")
    assert any("api-function/function -> secretsmanager" in p for p in found), found


def test_api_security_groups_reject_an_endpoint_that_admits_nobody(lean_doc):
    drop(lean_doc, "aws_vpc_security_group_ingress_rule", "network/endpoint-sg-https")
    found = problems(lean_doc, "api-security-groups")
    assert any("endpoint's groups do not admit HTTPS" in p for p in found), found


def test_api_security_groups_reject_a_function_without_https_out(full_doc):
    drop(full_doc, "aws_vpc_security_group_egress_rule", "api-function/https-out",
         "app-tier/https-out")
    found = problems(full_doc, "api-security-groups")
    assert any(p.startswith("api-function/function") and "HTTPS out" in p for p in found), found
    assert not any(p.startswith("worker-function/") for p in found), "it keeps its own rule"


def test_api_security_groups_reject_a_nat_instance_closed_to_the_private_tier(dev_doc):
    drop(dev_doc, "aws_vpc_security_group_ingress_rule", "network/nat-instance-from-private-0",
         "network/nat-instance-from-private-1")
    assert any("NAT instance's groups" in p for p in problems(dev_doc, "api-security-groups"))


def test_api_nacl_rejects_the_old_private_tier_return_range(full_doc):
    """Defect of issue 16: 32768-65535 drops a Lambda function's replies (1024-65535)."""
    nacl = find(full_doc, "aws_network_acl", "network/private-nacl")[1]
    [rule] = [r for r in nacl["ingress"] if r["cidr_block"] == "0.0.0.0/0"]
    rule["from_port"] = 32768
    found = problems(full_doc, "api-nacl")
    assert any(p.startswith("api-function/function") and "stops the reply in from 0.0.0.0/0 on "
               "1024-65535" in p for p in found), found
    assert not any(p.startswith("service-") for p in found), "tasks use 32768-61000"


def test_api_nacl_rejects_a_nat_subnet_that_sends_nothing_out(dev_doc):
    nacl = find(dev_doc, "aws_network_acl", "network/public-nacl")[1]
    nacl["egress"] = [dict(r, cidr_block=nacl["ingress"][3]["cidr_block"])
                      for r in nacl["egress"]]  # only to the VPC
    found = problems(dev_doc, "api-nacl")
    assert any("network/public-a's network ACL stops the request out to 0.0.0.0/0" in p
               for p in found), found


def test_store_security_groups_reject_a_database_closed_to_the_app_tier(dev_doc):
    drop(dev_doc, "aws_vpc_security_group_ingress_rule", "database/ingress-0")
    found = problems(dev_doc, "store-security-groups")
    assert any("-> DATABASE_HOST" in p and "do not admit 5432" in p for p in found), found
    assert not any("REDIS_HOST" in p for p in found)


def test_store_security_groups_reject_a_host_that_names_no_store(dev_doc):
    function = find(dev_doc, "aws_lambda_function", "api-function/function")[1]
    function["environment"]["variables"]["REDIS_HOST"] = "cache.example.internal"
    assert any("REDIS_HOST names no data store" in p
               for p in problems(dev_doc, "store-security-groups"))


def test_store_nacl_rejects_an_isolated_tier_that_cannot_answer(dev_doc):
    nacl = find(dev_doc, "aws_network_acl", "network/isolated-nacl")[1]
    nacl["egress"] = [dict(r, protocol="tcp", from_port=0, to_port=1023) for r in nacl["egress"]]
    found = problems(dev_doc, "store-nacl")
    assert any("isolated-a's network ACL stops the reply out" in p for p in found), found


def test_nacl_return_ports_reject_a_public_tier_narrower_than_the_nat_gateways(prod):
    doc = copy.deepcopy(prod.json)
    nacl = find(doc, "aws_network_acl", "network/public-nacl")[1]
    for rule in nacl["ingress"]:
        if rule.get("from_port") == 1024:
            rule["from_port"] = 32768
    found = problems(doc, "nacl-return-ports")
    assert any(p.startswith("nat_gateway in network/public-a") for p in found), found
    assert any(p.startswith("elb in network/public-a") for p in found), found


def test_load_balancer_targets_reject_a_service_closed_to_its_load_balancer(dev_doc):
    drop(dev_doc, "aws_vpc_security_group_ingress_rule", "service-backend/from-alb")
    found = problems(dev_doc, "load-balancer-targets")
    assert found == ["load-balancer/alb -> service-backend/service:8000: the service's groups "
                     "do not admit 8000 from it"]


def test_a_new_workload_is_checked_without_a_new_test():
    """A hand-made document: one function in a subnet with no way out, told a secret ARN by a
    literal the rules have never seen; the contract finds the need by its name and rejects it."""
    vpc = {"cidr_block": "10.9.0.0/16", "enable_dns_support": True, "enable_dns_hostnames": True}
    doc = {"resource": {
        "aws_vpc": {"v": vpc},
        "aws_subnet": {"s": {"vpc_id": "${aws_vpc.v.id}", "cidr_block": "10.9.1.0/24"}},
        "aws_security_group": {"g": {"vpc_id": "${aws_vpc.v.id}", "egress": [
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}]}},
        "aws_lambda_function": {"f": {
            "vpc_config": {"subnet_ids": ["${aws_subnet.s.id}"],
                           "security_group_ids": ["${aws_security_group.g.id}"]},
            "environment": {"variables": {
                "PAYMENTS_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x"}}}},
    }}
    assert [(c.rule, c.subject, c.problem) for c in checks(doc) if c.problem] == [
        ("api-route", "aws_lambda_function.f -> secretsmanager (PAYMENTS_SECRET_ARN) from "
         "aws_subnet.s", "no way out of aws_subnet.s: its route table has no default route (NAT),"
         " no secretsmanager gateway endpoint, and the VPC no secretsmanager interface endpoint "
         "with private DNS")]


def test_network_acl_rules_apply_in_order_and_the_first_match_wins():
    doc = {"resource": {"aws_subnet": {"s": {"cidr_block": "10.0.1.0/24"}}, "aws_network_acl": {
        "n": {"subnet_ids": ["${aws_subnet.s.id}"], "egress": [], "ingress": [
            {"rule_no": 100, "action": "allow", "protocol": "tcp", "cidr_block": "0.0.0.0/0",
             "from_port": 1024, "to_port": 65535},
            {"rule_no": 90, "action": "deny", "protocol": "tcp", "cidr_block": "203.0.113.0/24",
             "from_port": 5000, "to_port": 5000}]}}}}
    stack = Stack(doc)
    subnet = key_of("${aws_subnet.s.id}")
    assert stack.nacl_passes(subnet, False, "0.0.0.0/0", (1024, 4999))
    assert not stack.nacl_passes(subnet, False, "0.0.0.0/0", (1024, 65535))  # the deny first
    assert not stack.nacl_passes(subnet, False, "0.0.0.0/0", (80, 80))  # the implicit deny
    assert not stack.nacl_passes(subnet, True, "10.0.0.0/16", (443, 443))  # no egress rule
