"""RDS Proxy (`database.proxy`, lib/data/proxy.py) as a reviewer checks it: who reaches it and what
it reaches, what it may read, TLS and IAM for every client, its logs, its pool settings, what it
costs, the deploy role's rights on it, and the inputs refused.

AWS's rules they state:
- "Setting up network prerequisites for RDS Proxy": the proxy and the database share a VPC, the
  proxy sits in at least two subnets in different Availability Zones.
- "Amazon RDS Proxy" (quotas and limitations): for an instance in a replication configuration,
  only the writer can be a target, never a read replica.
- "Setting up IAM authentication for RDS Proxy" / "Setting up database credentials for RDS
  Proxy": the proxy's role needs secretsmanager:GetSecretValue on its secrets and kms:Decrypt on
  their key; the role is assumed by rds.amazonaws.com.
- CreateDBProxy / ConnectionPoolConfiguration (RDS API Reference): IdleClientTimeout 1-28,800
  seconds (default 1,800), ConnectionBorrowTimeout 0-300 seconds (default 120).
- "Amazon RDS Proxy pricing": billed per vCPU-hour of the instance, at least 2 vCPUs.
"""

import json
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, ROOT, SynthStack
from contracts import Graph, decide, role_may_use_key
from lib.analysis.cost import estimate
from lib.analysis.diagram import mermaid
from lib.analysis.pricing import load_prices
from lib.config import ConfigError, load_environment
from lib.config.data import DatabaseConfig


@pytest.fixture(scope="module")
def proxied(fixture_stacks) -> SynthStack:
    """tests/fixtures/proxy.toml: staging profile, a read replica, the proxy, own timeouts."""
    return fixture_stacks["proxy-stack"]


def proxy(stack: SynthStack) -> dict:
    return stack.resource("aws_db_proxy", "database-proxy/proxy")


# --- the network ---------------------------------------------------------------------------------

def test_the_proxy_sits_in_the_isolated_subnets_of_every_az(proxied):
    isolated = {proxied.ref("aws_subnet", f"network/isolated-{az}") for az in "abc"}
    assert set(proxy(proxied)["vpc_subnet_ids"]) == isolated


def test_only_the_application_tier_reaches_the_proxy_and_it_reaches_only_the_database(proxied):
    group = proxied.ref("aws_security_group", "database-proxy/sg")
    assert proxy(proxied)["vpc_security_group_ids"] == [group]
    ingress = [r for r in proxied.resources("aws_vpc_security_group_ingress_rule").values()
               if r["security_group_id"] == group]
    assert [(r["referenced_security_group_id"], r["from_port"], r["to_port"]) for r in ingress] \
        == [(proxied.ref("aws_security_group", "app-tier/sg"), 5432, 5432)]
    assert not [r for r in ingress if "cidr_ipv4" in r or "cidr_ipv6" in r]
    egress = [r for r in proxied.resources("aws_vpc_security_group_egress_rule").values()
              if r["security_group_id"] == group]
    assert [(r["referenced_security_group_id"], r["from_port"]) for r in egress] == \
        [(proxied.ref("aws_security_group", "database/sg"), 5432)]


def test_the_database_admits_the_proxy(proxied):
    database = proxied.ref("aws_security_group", "database/sg")
    sources = {r["referenced_security_group_id"]
               for r in proxied.resources("aws_vpc_security_group_ingress_rule").values()
               if r["security_group_id"] == database and r["from_port"] == 5432}
    assert proxied.ref("aws_security_group", "database-proxy/sg") in sources


def test_the_proxy_targets_the_primary_not_the_replica(proxied):
    [target] = proxied.resources("aws_db_proxy_target").values()
    assert target["db_instance_identifier"] == \
        proxied.ref("aws_db_instance", "database/primary", "identifier")


# --- clients: TLS and IAM; the proxy's own credential ---------------------------------------------

def test_every_client_needs_tls_and_an_iam_token_and_no_sql_is_logged(proxied):
    body = proxy(proxied)
    assert body["require_tls"] is True and body["debug_logging"] is False
    assert body["engine_family"] == "POSTGRESQL"
    assert [(a["auth_scheme"], a["iam_auth"]) for a in body["auth"]] == [("SECRETS", "REQUIRED")]


def test_the_proxy_logs_in_with_its_own_secret_not_the_master_one(proxied):
    secret = proxied.ref("aws_secretsmanager_secret", "database-proxy-user/proxy-user", "arn")
    [auth] = proxy(proxied)["auth"]
    assert auth["secret_arn"] == secret
    body = proxied.resource("aws_secretsmanager_secret", "database-proxy-user/proxy-user")
    assert body["name"] == "/webplat/proxy/database/proxy-user"
    assert body["kms_key_id"] == proxied.ref("aws_kms_key", "secrets-key/key", "arn")
    assert "secret_string" not in json.dumps(proxied.resources("aws_secretsmanager_secret_version"))


def test_the_proxy_role_reads_that_one_secret_and_only_rds_assumes_it(proxied):
    role = proxied.resource("aws_iam_role", "database-proxy/role")
    [trust] = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "rds.amazonaws.com"}
    statements = proxied.inline_statements("database-proxy/role-policy")
    secret = proxied.ref("aws_secretsmanager_secret", "database-proxy-user/proxy-user", "arn")
    key = proxied.ref("aws_kms_key", "secrets-key/key", "arn")
    assert decide(statements, "secretsmanager:GetSecretValue", secret) == "allow"
    master = proxied.ref("aws_db_instance", "database/primary", "master_user_secret[0].secret_arn")
    assert decide(statements, "secretsmanager:GetSecretValue", master) != "allow"
    via = {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    assert decide(statements, "kms:Decrypt", key, context=via) == "allow"
    assert decide(statements, "kms:Decrypt", key) != "allow"  # only through Secrets Manager
    assert {a for s in statements for a in [s["Action"]]} == {
        "secretsmanager:GetSecretValue", "kms:Decrypt"}


def test_the_secrets_key_lets_the_proxy_role_decrypt_the_secret(proxied):
    # "Setting up database credentials for RDS Proxy": the proxy's role needs kms:Decrypt on
    # the key of its secret; AWS KMS Developer Guide, "Key policies in AWS KMS": the role's IAM
    # policy counts only where the key policy names the role or delegates to its account.
    graph = Graph(proxied)
    role = graph.ref(proxied.ref("aws_iam_role", "database-proxy/role"))
    key = graph.ref(proxied.ref("aws_kms_key", "secrets-key/key"))
    via = {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    assert role_may_use_key(role, key, "kms:Decrypt", via)


def test_the_proxy_is_created_once_its_role_may_read_the_secret(proxied):
    # "Getting started with RDS Proxy": the proxy reads its secrets with its role as it starts;
    # the role's inline policy is a resource of its own, which nothing else orders first.
    policy = Graph(proxied).ref(proxied.ref("aws_iam_role_policy", "database-proxy/role-policy"))
    assert policy.address in proxy(proxied)["depends_on"]


# --- logs and pool settings ----------------------------------------------------------------------

def test_the_log_group_is_created_first_encrypted_and_expiring(proxied):
    logs = proxied.resource("aws_cloudwatch_log_group", "database-proxy/logs")
    assert logs["name"] == f"/aws/rds/proxy/{proxy(proxied)['name']}"
    assert logs["kms_key_id"] == proxied.ref("aws_kms_key", "logs-key/key", "arn")
    config = load_environment(ROOT / "tests" / "fixtures" / "proxy.toml")
    assert logs["retention_in_days"] == config.logs.retention_days
    group = proxied.ref("aws_cloudwatch_log_group", "database-proxy/logs").split(".")
    assert f"{group[0][2:]}.{group[1]}" in proxy(proxied)["depends_on"]


def test_the_pool_settings_come_from_the_config(proxied):
    assert proxy(proxied)["idle_client_timeout"] == 900
    [targets] = proxied.resources("aws_db_proxy_default_target_group").values()
    assert targets["connection_pool_config"] == {"connection_borrow_timeout": 30}


def test_the_defaults_are_awss():
    fields = DatabaseConfig.model_fields
    assert fields["proxy"].default is False
    assert fields["proxy_idle_client_timeout_seconds"].default == 1800
    assert fields["proxy_connection_borrow_timeout_seconds"].default == 120


# --- what it costs and how it is drawn -----------------------------------------------------------

def test_the_proxy_is_billed_for_the_primarys_vcpus_at_least_two(proxied):
    prices = load_prices()
    items = [i for i in estimate("proxy", proxied.json, prices).items
             if i.item.startswith("RDS Proxy")]
    assert [(i.item, i.quantity) for i in items] == [("RDS Proxy (db.t4g.small, 2 vCPUs)", 2)]
    assert items[0].monthly_usd == round(2 * prices["rds.proxy.vcpu_hour"] * prices.hours, 2)


def test_the_diagram_puts_the_proxy_between_the_services_and_the_database(proxied):
    text = mermaid(proxied.json)
    [node] = [line.split("[")[0].strip() for line in text.splitlines()
              if "RDS Proxy" in line and "[" in line]
    assert any(line.strip().startswith("ecs_service") and line.endswith(node)
               for line in text.splitlines())
    assert any(line.strip().startswith(node) and "db_instance_database_primary" in line
               for line in text.splitlines())


# --- bad input: one line naming the file and the field, nothing written --------------------------

def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dev.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case, extra, field, words", [
    ("proxy settings without a proxy", "proxy_idle_client_timeout_seconds = 600\n",
     "database.proxy_idle_client_timeout_seconds", "proxy = false builds no proxy"),
    ("an engine the proxy does not take", 'proxy = true\nengine_version = "18"\n',
     "database.proxy", "does not take PostgreSQL 18"),
    ("idle timeout above 8 hours", "proxy = true\nproxy_idle_client_timeout_seconds = 28801\n",
     "database.proxy_idle_client_timeout_seconds", "28800"),
    ("idle timeout zero", "proxy = true\nproxy_idle_client_timeout_seconds = 0\n",
     "database.proxy_idle_client_timeout_seconds", ">= 1"),
    ("borrow timeout above 300", "proxy = true\nproxy_connection_borrow_timeout_seconds = 301\n",
     "database.proxy_connection_borrow_timeout_seconds", "300"),
    ("an app user too long for its proxy role", "proxy = true\napp_user = \"" + "a" * 60 + "\"\n",
     "database.app_user", "63 characters"),
])
def test_bad_proxy_input_is_refused_in_one_line(tmp_path, case, extra, field, words):
    path = write(tmp_path, MINIMAL + "[database]\n" + extra)
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    [line] = [x for x in str(error.value).splitlines() if f": {field}:" in x]
    assert str(path) in line and words in line.replace(",", ""), line


def test_one_az_cannot_host_a_proxy(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_environment(write(tmp_path, MINIMAL + "az_count = 1\n[database]\nproxy = true\n"))
    assert "network.az_count" in str(error.value)


# --- the deploy role -----------------------------------------------------------------------------

def test_the_deploy_role_manages_its_own_proxies_only(bootstrap):
    """A proxy's and its target group's ARNs hold ids (db-proxy:prx-..., target-group:prx-tg-...,
    Service Authorization Reference, Amazon RDS), so the tags scope them; the role it passes is
    the environment's own, to RDS only."""
    from test_isolation import documents

    statements = documents(bootstrap)["staging"]["deploy"]
    region = {"aws:RequestedRegion": "us-east-1"}

    def tagged(env: str, where: str = "Resource") -> dict:
        return {**region, f"aws:{where}Tag/Project": "webplat",
                f"aws:{where}Tag/Environment": env}
    rds = "arn:aws:rds:us-east-1:123456789012"
    proxy_arn, group = f"{rds}:db-proxy:prx-0123456789abcdef0", f"{rds}:target-group:prx-tg-01"
    assert decide(statements, "rds:CreateDBProxy", proxy_arn,
                  context=tagged("staging", "Request")) == "allow"
    for action, arn in (("rds:ModifyDBProxy", proxy_arn), ("rds:DeleteDBProxy", proxy_arn),
                        ("rds:ModifyDBProxyTargetGroup", group),
                        ("rds:RegisterDBProxyTargets", group)):
        assert decide(statements, action, arn, context=tagged("staging")) == "allow", action
        assert decide(statements, action, arn, context=tagged("prod")) != "allow", action
    assert decide(statements, "rds:RegisterDBProxyTargets", f"{rds}:db:webplat-staging-db",
                  context=region) == "allow"
    role = "arn:aws:iam::123456789012:role/webplat-staging-db-proxy"
    assert decide(statements, "iam:PassRole", role,
                  context={"iam:PassedToService": "rds.amazonaws.com"}) == "allow"
    logs = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/proxy/webplat-staging-db-proxy"
    assert decide(statements, "logs:CreateLogGroup", logs, context=region) == "allow"
    assert decide(statements, "logs:DeleteLogGroup", logs.replace("staging", "prod"),
                  context=tagged("prod")) != "allow"
