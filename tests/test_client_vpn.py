"""AWS Client VPN (`[access.client_vpn]`) as a reviewer checks it: off unless a file turns it on;
mutual TLS with the certificates the file names; users reaching only what `reach` lists, through
authorization rules for those tiers and security-group rules that name the VPN's group (the data
stores only when listed); logs encrypted and kept; what it costs; what the diagram shows; the
deploy role managing its own environment's endpoint only; AWS's rules for the range, the
subnets and the certificates; and the refusals, one line each.

Two stacks: seed 002's preset (examples/mobilytics.toml: the defaults, reaching the API, the
database and Redis) and tests/fixtures/client-vpn.toml (two associations, TCP 1194, the
database alone)."""

import sys
from ipaddress import IPv4Network

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, ROOT, SynthStack, run, snapshot, synthesize
from contracts import Graph, decide
from lib.analysis.cost import estimate
from lib.analysis.diagram import mermaid
from lib.analysis.pricing import Prices
from lib.config import ConfigError, load_environment
from network_model import Stack
from reachability import nacl_flow

ENDPOINT, SG = "client-vpn/endpoint", "client-vpn/sg"
FIXTURE = ROOT / "tests" / "fixtures" / "client-vpn.toml"
PRESET = ROOT / "examples" / "mobilytics.toml"
SERVER = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-1111-1111-1111-111111111111"
CLIENT_CA = "arn:aws:acm:us-east-1:123456789012:certificate/22222222-2222-2222-2222-222222222222"


@pytest.fixture(scope="module")
def preset(presets) -> SynthStack:
    return presets["mobilytics"]


@pytest.fixture(scope="module")
def fixture(fixture_stacks) -> SynthStack:
    return fixture_stacks["vpn-stack"]


def endpoint(stack: SynthStack) -> dict:
    return stack.resource("aws_ec2_client_vpn_endpoint", ENDPOINT)


def rules(stack: SynthStack, type_: str, group: str) -> list[dict]:
    """The `type_` (ingress or egress) rules of the security group at construct path `group`."""
    ref = stack.ref("aws_security_group", group)
    return [r for r in stack.resources(type_).values() if r["security_group_id"] == ref]


def admitted(stack: SynthStack, group: str) -> set[tuple[str, int]]:
    """(source, port) of every ingress rule of `group`: a group's construct path, or a CIDR."""
    paths = {stack.ref("aws_security_group", p): p for p in stack.resources("aws_security_group")}
    return {(paths.get(r.get("referenced_security_group_id")) or r.get("cidr_ipv4"),
             r["from_port"]) for r in rules(stack, "aws_vpc_security_group_ingress_rule", group)}


def authorized(stack: SynthStack) -> dict[str, str]:
    """Authorization rule name -> the network it authorizes."""
    return {path.rsplit("/authorize-", 1)[1]: body["target_network_cidr"]
            for path, body in stack.resources("aws_ec2_client_vpn_authorization_rule").items()}


def subnet_cidrs(stack: SynthStack, tier: str) -> dict[str, str]:
    return {path.split("-")[-1]: body["cidr_block"]
            for path, body in stack.matching("aws_subnet", f"network/{tier}-*").items()}


# --- off unless asked --------------------------------------------------------------------------

def test_no_shipped_environment_has_a_client_vpn(stacks):
    for name, stack in stacks.items():
        assert not stack.resources("aws_ec2_client_vpn_endpoint"), name
        assert "client-vpn/sg" not in stack.resources("aws_security_group"), name


# --- the endpoint ------------------------------------------------------------------------------

def test_users_authenticate_with_mutual_tls_from_the_certificates_in_the_file(preset, fixture):
    # AWS Client VPN Administrator Guide, "Mutual authentication in AWS Client VPN": the server
    # certificate, and the client CA's chain for certificate-authentication, both in ACM.
    for stack in (preset, fixture):
        body = endpoint(stack)
        assert body["server_certificate_arn"] == SERVER
        assert body["authentication_options"] == [
            {"type": "certificate-authentication", "root_certificate_chain_arn": CLIENT_CA}]


def test_split_tunnel_to_the_vpc_resolver_without_portal_or_connect_handler(preset, fixture):
    # Amazon VPC User Guide, "Amazon DNS server": the resolver is the VPC range's base plus two.
    # "Rules and best practices": no self-service portal with mutual authentication.
    for stack, vpc in ((preset, "10.2.0.0/16"), (fixture, "10.7.0.0/16")):
        body = endpoint(stack)
        assert body["split_tunnel"] is True
        assert body["dns_servers"] == [str(IPv4Network(vpc).network_address + 2)]
        assert body["self_service_portal"] == "disabled"
        assert body["client_connect_options"] == {"enabled": False}
        assert body["vpc_id"] == stack.ref("aws_vpc", "network/vpc")
        assert body["security_group_ids"] == [stack.ref("aws_security_group", SG)]


def test_transport_port_session_and_client_range_follow_the_file(preset, fixture):
    defaults = endpoint(preset)
    assert (defaults["transport_protocol"], defaults["vpn_port"],
            defaults["session_timeout_hours"], defaults["client_cidr_block"]) == \
        ("udp", 443, 8, "172.16.0.0/22")
    chosen = endpoint(fixture)
    assert (chosen["transport_protocol"], chosen["vpn_port"], chosen["session_timeout_hours"],
            chosen["client_cidr_block"]) == ("tcp", 1194, 12, "192.168.100.0/22")


def test_connection_logs_go_to_an_encrypted_group_kept_as_long_as_the_security_logs(
        preset, fixture):
    for stack, source in ((preset, PRESET), (fixture, FIXTURE)):
        options = endpoint(stack)["connection_log_options"]
        assert options["enabled"] is True
        group = stack.resource("aws_cloudwatch_log_group", "client-vpn/connection-logs")
        assert options["cloudwatch_log_group"] == \
            stack.ref("aws_cloudwatch_log_group", "client-vpn/connection-logs", "name")
        assert group["kms_key_id"] == stack.ref("aws_kms_key", "logs-key/key", "arn")
        config = load_environment(source)
        assert group["name"] == f"/{config.project}/{config.environment}/client-vpn"
        assert group["retention_in_days"] == config.logs.security_retention_days
    # a year in prod, as its flow logs (the prod profile refuses less)
    assert preset.resource("aws_cloudwatch_log_group", "client-vpn/connection-logs")[
        "retention_in_days"] >= 365


def test_one_association_by_default_and_one_per_az_when_asked(preset, fixture):
    # "AWS Client VPN target networks": one subnet per AZ; AWS recommends two for redundancy,
    # the default keeps one (each is billed by the hour).
    for stack, expected in ((preset, ["a"]), (fixture, ["a", "b"])):
        found = stack.resources("aws_ec2_client_vpn_network_association")
        assert sorted(found) == [f"client-vpn/association-{x}" for x in expected]
        for path, body in found.items():
            assert body["client_vpn_endpoint_id"] == \
                stack.ref("aws_ec2_client_vpn_endpoint", ENDPOINT)
            assert body["subnet_id"] == \
                stack.ref("aws_subnet", f"network/private-{path.rsplit('-', 1)[1]}")


# --- what users reach --------------------------------------------------------------------------

def test_authorization_names_only_the_reached_tiers_and_the_resolver(preset, fixture):
    # "AWS Client VPN authorization rules": access is denied unless a rule grants it; the
    # resolver must be reachable ("How does DNS work with my AWS Client VPN endpoint?").
    private, isolated = subnet_cidrs(preset, "private"), subnet_cidrs(preset, "isolated")
    assert authorized(preset) == {"dns": "10.2.0.2/32",
                                  **{f"private-{z}": c for z, c in private.items()},
                                  **{f"isolated-{z}": c for z, c in isolated.items()}}
    # reach = ["database"]: the isolated tier, not the private one
    assert authorized(fixture) == {"dns": "10.7.0.2/32", **{
        f"isolated-{z}": c for z, c in subnet_cidrs(fixture, "isolated").items()}}
    for stack in (preset, fixture):
        vpc = stack.resource("aws_vpc", "network/vpc")["cidr_block"]
        for rule in stack.resources("aws_ec2_client_vpn_authorization_rule").values():
            assert rule["target_network_cidr"] not in (vpc, "0.0.0.0/0")
            # mutual TLS has no groups: every client with a valid certificate
            assert rule["authorize_all_groups"] is True and "access_group_id" not in rule


def test_each_web_service_admits_the_vpn_on_its_port_and_the_workers_do_not(preset):
    # "Client authorization in AWS Client VPN": an application admits users with a rule naming
    # the security group applied to the endpoint.
    assert admitted(preset, "service-app-api/sg") == {("load-balancer/sg", 3000), (SG, 3000)}
    assert admitted(preset, "service-bullmq-workers/sg") == set()


def test_the_data_stores_admit_the_vpn_only_where_reach_lists_them(preset, fixture):
    # the preset's RDS Proxy (database.proxy) reaches the database too
    assert admitted(preset, "database/sg") == {("app-tier/sg", 5432), (SG, 5432),
                                               ("database-proxy/sg", 5432)}
    assert admitted(preset, "cache/sg") == {("app-tier/sg", 6379), (SG, 6379)}
    # reach = ["database"]: the cache and the services stay as without a VPN
    assert admitted(fixture, "database/sg") == {("app-tier/sg", 5432), (SG, 5432)}
    assert admitted(fixture, "cache/sg") == {("app-tier/sg", 6379)}
    for service in ("frontend", "backend"):
        assert admitted(fixture, f"service-{service}/sg") == {("load-balancer/sg", {
            "frontend": 3000, "backend": 8000}[service])}


def test_no_group_admits_the_client_range_and_the_vpn_reaches_only_what_admits_it(
        preset, fixture):
    for stack in (preset, fixture):
        client_range = endpoint(stack)["client_cidr_block"]
        assert not [r for r in stack.resources("aws_vpc_security_group_ingress_rule").values()
                    if r.get("cidr_ipv4") == client_range]
        assert admitted(stack, SG) == set()  # users arrive through the tunnel, not the group
        resolver = endpoint(stack)["dns_servers"][0] + "/32"
        egress = {(r["ip_protocol"], r["from_port"], r.get("cidr_ipv4") or
                   r["referenced_security_group_id"])
                  for r in rules(stack, "aws_vpc_security_group_egress_rule", SG)}
        reached = {("tcp", r["from_port"], r["security_group_id"])
                   for r in stack.resources("aws_vpc_security_group_ingress_rule").values()
                   if r.get("referenced_security_group_id") ==
                   stack.ref("aws_security_group", SG)}
        assert egress == {("udp", 53, resolver), ("tcp", 53, resolver), *reached}


def test_the_network_acls_pass_the_vpn_s_connections_both_ways(preset):
    # "Rules and best practices for using AWS Client VPN": clients' addresses are translated to
    # the endpoint's in the associated subnet, and their ports may be too ("Ephemeral ports",
    # Amazon VPC User Guide: replies come back to the client's port, here any of 1024-65535).
    network = Stack(preset.json)
    key = {preset.locate(k)[1]: f"aws_subnet.{k}" for k in preset.json["resource"]["aws_subnet"]}
    source = key["network/private-a"]
    for tier, port in (("private", 3000), ("isolated", 5432), ("isolated", 6379)):
        for zone in "abc":
            target = key[f"network/{tier}-{zone}"]
            assert nacl_flow(network, source, network.cidr(source), target,
                             network.cidr(target), port, (1024, 65535)) == [], (tier, zone)


# --- AWS's rules, over every stack that has an endpoint ----------------------------------------

def test_every_endpoint_keeps_aws_s_rules(every_stack):
    """"Rules and best practices for using AWS Client VPN": a client range of /12 to /22 that
    does not overlap the VPC. "AWS Client VPN target networks": associated subnets /27 or larger,
    one per AZ, in the endpoint's VPC. AWS Certificate Manager User Guide, "Supported Regions":
    certificates are regional, so they are the stack's region's."""
    checked = 0
    for label, stack in every_stack.items():
        for body in stack.resources("aws_ec2_client_vpn_endpoint").values():
            checked += 1
            client = IPv4Network(body["client_cidr_block"])
            vpc = IPv4Network(stack.resource("aws_vpc", "network/vpc")["cidr_block"])
            assert 12 <= client.prefixlen <= 22 and not client.overlaps(vpc), label
            region = stack.json["provider"]["aws"][0]["region"]
            for arn in (body["server_certificate_arn"],
                        body["authentication_options"][0]["root_certificate_chain_arn"]):
                assert arn.split(":")[3] == region, (label, arn)
            graph = Graph(stack)
            subnets = [graph.ref(a["subnet_id"]).body for a in
                       stack.resources("aws_ec2_client_vpn_network_association").values()]
            zones = [s["availability_zone"] for s in subnets]
            assert len(zones) == len(set(zones)), label
            assert all(IPv4Network(s["cidr_block"]).prefixlen <= 27 for s in subnets), label
    assert checked >= 2  # the preset and the fixture


# --- the deploy role ---------------------------------------------------------------------------

def deploy_statements(bootstrap: SynthStack, env: str) -> list[dict]:
    graph = Graph(bootstrap)
    return [s for body in bootstrap.matching("aws_iam_policy", f"delivery-{env}/deploy*")
            .values() for s in graph.statements(body["policy"])]


def test_the_deploy_role_manages_its_own_environment_s_client_vpn_only(bootstrap):
    # Service Authorization Reference, Amazon EC2: CreateClientVpnEndpoint is authorized on the
    # new endpoint (aws:RequestTag), the security group and the VPC; associations and
    # authorization rules on the endpoint (aws:ResourceTag), the subnet for an association.
    prod, staging = deploy_statements(bootstrap, "prod"), deploy_statements(bootstrap, "staging")
    arn = "arn:aws:ec2:us-east-1:123456789012:{}"
    region = {"aws:RequestedRegion": "us-east-1"}
    new = {**region, "aws:RequestTag/Project": "webplat", "aws:RequestTag/Environment": "prod"}
    own = {**region, "aws:ResourceTag/Project": "webplat", "aws:ResourceTag/Environment": "prod"}
    requests = [("CreateClientVpnEndpoint", "client-vpn-endpoint/*", new),
                ("CreateClientVpnEndpoint", "security-group/sg-1", own),
                ("CreateClientVpnEndpoint", "vpc/vpc-1", own),
                ("ModifyClientVpnEndpoint", "client-vpn-endpoint/cvpn-endpoint-1", own),
                ("AssociateClientVpnTargetNetwork", "client-vpn-endpoint/cvpn-endpoint-1", own),
                ("AssociateClientVpnTargetNetwork", "subnet/subnet-1", own),
                ("AuthorizeClientVpnIngress", "client-vpn-endpoint/cvpn-endpoint-1", own),
                ("RevokeClientVpnIngress", "client-vpn-endpoint/cvpn-endpoint-1", own),
                ("DisassociateClientVpnTargetNetwork", "client-vpn-endpoint/cvpn-endpoint-1",
                 own),
                ("DeleteClientVpnEndpoint", "client-vpn-endpoint/cvpn-endpoint-1", own)]
    for action, resource, context in requests:
        assert decide(prod, f"ec2:{action}", arn.format(resource), context=context) == "allow", \
            (action, resource)
        assert decide(staging, f"ec2:{action}", arn.format(resource), context=context) == \
            "deny", (action, resource)
    # The account's first endpoint creates Client VPN's service-linked role, which writes the
    # connection logs and reads the certificates ("Using service-linked roles for Client VPN").
    assert decide(prod, "iam:CreateServiceLinkedRole",
                  "arn:aws:iam::123456789012:role/aws-service-role/clientvpn.amazonaws.com/"
                  "AWSServiceRoleForClientVPN",
                  context={**region, "iam:AWSServiceName": "clientvpn.amazonaws.com"}) == "allow"


# --- cost and diagram --------------------------------------------------------------------------

def test_associations_cost_by_the_hour_and_connections_by_the_assumed_hours():
    # AWS Client VPN pricing: each association by the hour, connected or not; each connection by
    # the hour. Round prices, so the dollars are checkable by hand.
    prices = Prices({"hours_per_month": 100, "clientvpn": {"association_hour": 0.1,
                                                           "connection_hour": 0.05},
                     "usage": {"vpn_connection_hours_per_month": 40}})
    document = {"resource": {
        "aws_ec2_client_vpn_endpoint": {"e": {"client_cidr_block": "172.16.0.0/22"}},
        "aws_ec2_client_vpn_network_association": {"a": {}, "b": {}},
        "aws_ec2_client_vpn_authorization_rule": {"r": {}}}}
    result = estimate("s", document, prices)
    lines = {i.item: (i.quantity, i.monthly_usd) for i in result.items}
    assert lines == {"Client VPN endpoint association": (2, 20.00),  # 2 x 100 h x $0.10
                     "Client VPN connections": (40, 2.00)}  # 40 h x $0.05
    assert result.not_priced == {}


def test_the_diagram_draws_the_endpoint_in_the_private_tier_and_what_it_reaches(preset, fixture):
    lines = mermaid(preset.json).splitlines()
    vpn = next(line.strip().split("[")[0] for line in lines
               if "Client VPN, mutual TLS" in line)
    private = next(i for i, line in enumerate(lines)
                   if line.strip().startswith("subgraph private"))
    end = next(i for i in range(private, len(lines)) if lines[i].strip() == "end")
    assert any(vpn in line for line in lines[private:end])
    assert any(line.endswith(f'-->|"udp 443"| {vpn}') for line in lines)
    reached = {line.split("|")[1].strip('"') for line in lines
               if line.strip().startswith(f"{vpn} -->")}
    assert reached == {"tcp 3000", "tcp 5432", "tcp 6379"}
    fixture_lines = mermaid(fixture.json).splitlines()
    assert {line.split("|")[1].strip('"') for line in fixture_lines
            if line.strip().startswith(f"{vpn} -->")} == {"tcp 5432"}


# --- the local target --------------------------------------------------------------------------

def test_the_local_target_leaves_client_vpn_out(tmp_path, fixture):
    # moto 5.2.1 implements no Client VPN API (lib/targets/local.py NOT_EMULATED).
    local = synthesize(tmp_path, [FIXTURE], target="local")["vpn-stack"]
    for type_ in ("aws_ec2_client_vpn_endpoint", "aws_ec2_client_vpn_network_association",
                  "aws_ec2_client_vpn_authorization_rule"):
        for body in local.resources(type_).values():
            assert body["count"] == 0, type_
        for body in fixture.resources(type_).values():
            assert "count" not in body, type_
    assert "count" not in local.resource("aws_security_group", SG)
    assert not {k for k in local.json["output"] if k.startswith("client_vpn")}
    assert {k for k in fixture.json["output"] if k.startswith("client_vpn")} == {
        "client_vpn_endpoint_id", "client_vpn_log_group"}


# --- bad input ---------------------------------------------------------------------------------

VPN = MINIMAL + """
[access.client_vpn]
enabled = true
server_certificate_arn = "{server}"
client_root_certificate_chain_arn = "{client}"
"""


def vpn(extra: str = "", server: str = SERVER, client: str = CLIENT_CA, before: str = "") -> str:
    """A dev file with the endpoint on: `before` goes before the file's keys, `extra` after its
    [access.client_vpn] keys."""
    return before + VPN.format(server=server, client=client) + extra


BAD = [
    ("a /24 client range", vpn('client_cidr = "172.16.0.0/24"\n'), "client_cidr",
     "'172.16.0.0/24' is a /24; a Client VPN client range is /12 to /22"),
    ("a /11 client range", vpn('client_cidr = "10.32.0.0/11"\n'), "client_cidr",
     "is a /11; a Client VPN client range is /12 to /22"),
    ("a client range inside the VPC", vpn('client_cidr = "10.0.4.0/22"\n'), "client_cidr",
     "'10.0.4.0/22' overlaps the VPC's 10.0.0.0/16"),
    ("a certificate of another region",
     vpn(server=SERVER.replace("us-east-1", "eu-west-1")), "server_certificate_arn",
     "is in eu-west-1; the endpoint takes a certificate of its own region, us-east-1"),
    ("a client CA of another account",
     vpn(client=CLIENT_CA.replace("123456789012", "210987654321")),
     "client_root_certificate_chain_arn", "belongs to account 210987654321"),
    ("an IAM server certificate", vpn(
        server="arn:aws:iam::123456789012:server-certificate/vpn"), "server_certificate_arn",
     "is not an ACM certificate ARN"),
    ("no client CA", MINIMAL + f'[access.client_vpn]\nenabled = true\n'
     f'server_certificate_arn = "{SERVER}"\n', "client_root_certificate_chain_arn",
     "is required with enabled = true"),
    ("more associations than AZs", vpn("associations = 3\n"), "associations",
     "3 is more than the 2 AZs"),
    ("private subnets smaller than /27",
     vpn().replace('cidr = "10.0.0.0/16"\n', 'cidr = "10.0.0.0/24"\nsubnet_prefix_length = 28\n'),
     "enabled", "the private subnets are /28"),
    ("nothing to reach", vpn("reach = []\n"), "reach", "lists nothing to reach"),
    ("a target twice", vpn('reach = ["database", "database"]\n'), "reach", "lists a target twice"),
    ("an unknown target", vpn('reach = ["bastion"]\n'), "reach[0]", "'bastion' is not allowed"),
    ("the cache without ElastiCache", vpn('reach = ["cache"]\n\n[cache]\nenabled = false\n'),
     "reach", "'cache' needs ElastiCache"),
    ("services without ECS", vpn('reach = ["services"]\n', before='profile = "lean"\n'),
     "reach", "'services' needs ECS web services"),
    ("a port AWS does not offer", vpn("port = 8443\n"), "port", None),
    ("a session AWS does not offer", vpn("session_timeout_hours = 6\n"),
     "session_timeout_hours", None),
]


@pytest.mark.parametrize("text, field, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_client_vpn_setting_is_one_line_naming_the_field(tmp_path, text, field, words):
    path = tmp_path / "dev.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    # one line for the setting (a file may have other problems, e.g. services using no cache)
    [line] = [x for x in str(error.value).splitlines() if ": access." in x]
    assert line.startswith(f"{path}: access.client_vpn.{field}: "), line
    if words:
        assert words in line, line


def test_switched_off_its_settings_stay_in_the_file_unchecked(tmp_path):
    path = tmp_path / "dev.toml"
    # `enabled = false` turns the VPN off for a while: 5 associations in 2 AZs waits for the
    # day it is on again.
    path.write_text(vpn("associations = 5\n").replace("enabled = true", "enabled = false"))
    assert load_environment(path).access.client_vpn.server_certificate_arn == SERVER


def test_a_client_vpn_mistake_writes_nothing(tmp_path):
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "dev-stack").mkdir(parents=True)
    (out / "stacks" / "dev-stack" / "cdk.tf.json").write_text('{"earlier": "synth"}')
    config = tmp_path / "dev.toml"
    config.write_text(vpn('client_cidr = "10.0.0.0/22"\n'))
    before = snapshot(out)
    result = run([sys.executable, str(ROOT / "main.py")], cwd=tmp_path,
                 PLATFORM_CONFIG=str(config))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"{config}: access.client_vpn.client_cidr: '10.0.0.0/22' overlaps " \
                            "the VPC's 10.0.0.0/16; AWS refuses a client range that overlaps " \
                            "the VPC\n"
    assert snapshot(out) == before
