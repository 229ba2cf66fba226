"""The data layer as a reviewer checks it: who can reach PostgreSQL and Redis, what is encrypted with
which key, where they live, how they are tuned, and what differs between dev and prod."""

import json

import pytest

from conftest import SAMPLE, SynthStack, synthesize


def ingress_rules(stack: SynthStack, sg_path: str) -> list[dict]:
    sg = stack.ref("aws_security_group", sg_path)
    return [r for r in stack.resources("aws_vpc_security_group_ingress_rule").values()
            if r["security_group_id"] == sg]


def egress_rules(stack: SynthStack, sg_path: str) -> list[dict]:
    sg = stack.ref("aws_security_group", sg_path)
    return [r for r in stack.resources("aws_vpc_security_group_egress_rule").values()
            if r["security_group_id"] == sg]


def isolated_subnets(stack: SynthStack) -> list[str]:
    return sorted(stack.ref("aws_subnet", p) for p in stack.matching("aws_subnet",
                                                                      "network/isolated-*"))


# --- who can reach the data stores ----------------------------------------------------------

@pytest.mark.parametrize("store, port", [("database", 5432), ("cache", 6379)])
def test_only_the_app_tier_reaches_the_data_stores(stack, store, port):
    app = stack.ref("aws_security_group", "app-tier/sg")
    rules = ingress_rules(stack, f"{store}/sg")
    assert [(r["referenced_security_group_id"], r["ip_protocol"], r["from_port"], r["to_port"])
            for r in rules] == [(app, "tcp", port, port)]
    assert not any("cidr_ipv4" in r or "cidr_ipv6" in r for r in rules)
    assert egress_rules(stack, f"{store}/sg") == []
    sg = stack.resource("aws_security_group", f"{store}/sg")
    assert not sg.get("ingress") and not sg.get("egress")


def test_no_other_security_group_admits_the_data_ports(stack):
    for rule in stack.resources("aws_vpc_security_group_ingress_rule").values():
        if rule.get("from_port") in (5432, 6379):
            assert rule["security_group_id"] in {stack.ref("aws_security_group", "database/sg"),
                                                 stack.ref("aws_security_group", "cache/sg")}


def test_the_app_tier_only_talks_https_out_and_data_ports_to_the_isolated_tier(stack):
    isolated = {s["cidr_block"] for s in stack.matching("aws_subnet", "network/isolated-*")
                .values()}
    rules = egress_rules(stack, "app-tier/sg")
    assert {(r["from_port"], r["cidr_ipv4"]) for r in rules if r["from_port"] != 443} == \
        {(port, cidr) for port in (5432, 6379) for cidr in isolated}
    assert [r["cidr_ipv4"] for r in rules if r["from_port"] == 443] == ["0.0.0.0/0"]
    assert ingress_rules(stack, "app-tier/sg") == []


def test_data_stores_live_in_the_isolated_subnets_and_are_not_public(stack):
    assert sorted(stack.resource("aws_db_subnet_group", "database/subnets")["subnet_ids"]) == \
        isolated_subnets(stack)
    assert sorted(stack.resource("aws_elasticache_subnet_group", "cache/subnets")
                  ["subnet_ids"]) == isolated_subnets(stack)
    db = stack.resource("aws_db_instance", "database/primary")
    assert db["publicly_accessible"] is False
    assert db["vpc_security_group_ids"] == [stack.ref("aws_security_group", "database/sg")]
    redis = stack.resource("aws_elasticache_replication_group", "cache/group")
    assert redis["security_group_ids"] == [stack.ref("aws_security_group", "cache/sg")]


# --- encryption and credentials ----------------------------------------------------------------

def test_database_is_encrypted_with_the_data_key_and_its_secret_with_the_secrets_key(stack):
    db = stack.resource("aws_db_instance", "database/primary")
    data_key = stack.ref("aws_kms_key", "data-key/key", "arn")
    assert (db["storage_encrypted"], db["kms_key_id"]) == (True, data_key)
    assert (db["performance_insights_enabled"], db["performance_insights_kms_key_id"]) == \
        (True, data_key)
    assert db["manage_master_user_password"] is True
    assert db["master_user_secret_kms_key_id"] == stack.ref("aws_kms_key", "secrets-key/key", "arn")
    assert "password" not in db
    assert db["iam_database_authentication_enabled"] is True


def test_every_key_rotates_and_has_an_alias(stack):
    env = stack.name.removesuffix("-stack")
    for purpose in ("logs", "data", "secrets"):
        assert stack.resource("aws_kms_key", f"{purpose}-key/key")["enable_key_rotation"] is True
        assert stack.resource("aws_kms_alias", f"{purpose}-key/alias")["name"] == \
            f"alias/webplat-{env}-{purpose}"


def test_redis_is_encrypted_in_transit_and_at_rest(stack):
    redis = stack.resource("aws_elasticache_replication_group", "cache/group")
    assert redis["at_rest_encryption_enabled"] == "true"
    assert redis["kms_key_id"] == stack.ref("aws_kms_key", "data-key/key", "arn")
    assert (redis["transit_encryption_enabled"], redis["transit_encryption_mode"]) == \
        (True, "required")


def test_redis_authenticates_with_iam_and_holds_no_token(stack):
    redis = stack.resource("aws_elasticache_replication_group", "cache/group")
    assert "auth_token" not in redis
    group = stack.resource("aws_elasticache_user_group", "cache/users")
    assert redis["user_group_ids"] == [group["user_group_id"]]
    assert "aws_elasticache_user_group." + group["//"]["metadata"]["uniqueId"] in \
        redis["depends_on"]
    users = stack.resources("aws_elasticache_user")
    default, app = users["cache/default-user"], users["cache/app-user"]
    assert sorted(group["user_ids"]) == sorted(
        [stack.ref("aws_elasticache_user", "cache/default-user", "user_id"),
         stack.ref("aws_elasticache_user", "cache/app-user", "user_id")])
    assert default["user_name"] == "default"
    assert default["access_string"].startswith("off ")
    assert default["authentication_mode"] == {"type": "no-password-required"}
    assert app["authentication_mode"] == {"type": "iam"}
    assert app["user_id"] == app["user_name"]  # IAM authentication requires it
    assert "-@admin" in app["access_string"]
    assert not any("passwords" in u["authentication_mode"] for u in users.values())


# --- tuning and operations ----------------------------------------------------------------------

def test_postgres_parameters(stack):
    group = stack.resource("aws_db_parameter_group", "database/parameters")
    assert group["family"] == "postgres16"
    params = {p["name"]: (p["value"], p["apply_method"]) for p in group["parameter"]}
    assert params["rds.force_ssl"] == ("1", "immediate")
    assert params["shared_preload_libraries"] == ("pg_stat_statements", "pending-reboot")
    assert params["log_min_duration_statement"][0] == "500"
    assert params["idle_in_transaction_session_timeout"][0] == "60000"
    assert params["tcp_keepalives_idle"][0] == "60"
    db = stack.resource("aws_db_instance", "database/primary")
    assert db["parameter_group_name"] == stack.ref("aws_db_parameter_group",
                                                   "database/parameters", "name")


def test_postgres_engine_storage_backups_and_windows(stack):
    db = stack.resource("aws_db_instance", "database/primary")
    assert (db["engine"], db["engine_version"], db["storage_type"]) == ("postgres", "16", "gp3")
    assert db["max_allocated_storage"] == 5 * db["allocated_storage"]
    assert (db["backup_retention_period"], db["backup_window"], db["maintenance_window"]) == \
        (7, "03:00-04:00", "mon:04:00-mon:05:00")
    assert db["copy_tags_to_snapshot"] is True and db["auto_minor_version_upgrade"] is True


def test_postgres_monitoring_and_log_exports(stack):
    db = stack.resource("aws_db_instance", "database/primary")
    assert db["monitoring_interval"] == 60
    assert db["monitoring_role_arn"] == stack.ref("aws_iam_role", "database/monitoring-role", "arn")
    trust = json.loads(stack.resource("aws_iam_role", "database/monitoring-role")
                       ["assume_role_policy"])
    assert [s["Principal"] for s in trust["Statement"]] == [
        {"Service": "monitoring.rds.amazonaws.com"}]
    attachment = stack.resource("aws_iam_role_policy_attachment", "database/monitoring-role-managed-0")
    assert attachment["policy_arn"].endswith("service-role/AmazonRDSEnhancedMonitoringRole")
    assert db["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    env = stack.name.removesuffix("-stack")
    for export in ("postgresql", "upgrade"):
        group = stack.resource("aws_cloudwatch_log_group", f"database/primary-{export}-logs")
        assert group["name"] == f"/aws/rds/instance/webplat-{env}-db/{export}"
        assert group["kms_key_id"] == stack.ref("aws_kms_key", "logs-key/key", "arn")
        assert group["retention_in_days"] == 30
        assert f"aws_cloudwatch_log_group.{group['//']['metadata']['uniqueId']}" in db["depends_on"]


def test_redis_engine_eviction_snapshots_and_logs(stack):
    redis = stack.resource("aws_elasticache_replication_group", "cache/group")
    assert (redis["engine"], redis["engine_version"], redis["port"]) == ("redis", "7.1", 6379)
    params = stack.resource("aws_elasticache_parameter_group", "cache/parameters")
    assert params["family"] == "redis7"
    assert params["parameter"] == [{"name": "maxmemory-policy", "value": "allkeys-lru"}]
    assert (redis["snapshot_retention_limit"], redis["snapshot_window"]) == (5, "03:00-05:00")
    delivered = {d["log_type"]: d["destination"] for d in redis["log_delivery_configuration"]}
    for kind in ("slow-log", "engine-log"):
        assert delivered[kind] == stack.ref("aws_cloudwatch_log_group", f"cache/{kind}-logs",
                                            "name")
        group = stack.resource("aws_cloudwatch_log_group", f"cache/{kind}-logs")
        assert group["kms_key_id"] == stack.ref("aws_kms_key", "logs-key/key", "arn")


# --- per-environment differences -------------------------------------------------------------

@pytest.mark.parametrize("name, db_class, multi_az, protected, node, nodes", [
    ("dev-stack", "db.t4g.micro", False, False, "cache.t4g.micro", 1),
    ("staging-stack", "db.t4g.small", False, True, "cache.t4g.small", 2),
    ("prod-stack", "db.t4g.medium", True, True, "cache.t4g.medium", 3),
])
def test_per_environment_sizes_and_protection(stacks, name, db_class, multi_az, protected,
                                              node, nodes):
    stack = stacks[name]
    db = stack.resource("aws_db_instance", "database/primary")
    assert (db["instance_class"], db["multi_az"]) == (db_class, multi_az)
    assert db["deletion_protection"] is protected
    assert db["skip_final_snapshot"] is (not protected)
    assert db.get("final_snapshot_identifier") == (
        f"webplat-{name.removesuffix('-stack')}-db-final" if protected else None)
    redis = stack.resource("aws_elasticache_replication_group", "cache/group")
    assert (redis["node_type"], redis["num_cache_clusters"]) == (node, nodes)
    assert redis["automatic_failover_enabled"] is (nodes >= 2)
    assert redis["multi_az_enabled"] is (nodes >= 2)
    # Deleting a replication group deletes its automatic snapshots, and a replacement deletes
    # it too: only a final snapshot keeps the data (ElastiCache API Reference,
    # "DeleteReplicationGroup": FinalSnapshotIdentifier). The daily ones stay on everywhere.
    assert redis.get("final_snapshot_identifier") == (
        f"webplat-{name.removesuffix('-stack')}-redis-final" if protected else None)
    assert redis["snapshot_retention_limit"] >= 1


def test_outputs_tell_the_app_where_everything_is(stack):
    outputs = stack.json["output"]
    assert outputs["database_secret_arn"]["value"].endswith(".master_user_secret[0].secret_arn}")
    assert outputs["database_endpoint"]["value"] == stack.ref("aws_db_instance",
                                                              "database/primary", "address")
    assert outputs["redis_primary_endpoint"]["value"] == stack.ref(
        "aws_elasticache_replication_group", "cache/group", "primary_endpoint_address")
    assert outputs["redis_user"]["value"] == \
        f"webplat-{stack.name.removesuffix('-stack')}-app"


# --- switches not used by the shipped environments -------------------------------------------

@pytest.fixture(scope="session")
def with_replica(tmp_path_factory) -> SynthStack:
    directory = tmp_path_factory.mktemp("replica")
    config = directory / "reporting.toml"
    config.write_text((SAMPLE / "prod.toml").read_text()
                      .replace('environment = "prod"', 'environment = "reporting"\nprofile = "prod"')
                      .replace("multi_az = true", "multi_az = true\nread_replica = true\n"
                               'engine_version = "16.13"'))
    return synthesize(directory / "out", [config])["reporting-stack"]


def test_read_replica_follows_the_primary_with_the_same_guards(with_replica):
    primary = with_replica.resource("aws_db_instance", "database/primary")
    replica = with_replica.resource("aws_db_instance", "database/replica")
    assert replica["replicate_source_db"] == with_replica.ref("aws_db_instance",
                                                              "database/primary", "identifier")
    for key in ("vpc_security_group_ids", "publicly_accessible", "storage_encrypted",
                "kms_key_id", "parameter_group_name", "iam_database_authentication_enabled",
                "deletion_protection"):
        assert replica[key] == primary[key], key
    assert "username" not in replica and "manage_master_user_password" not in replica
    assert primary["engine_version"] == "16.13"
    assert with_replica.json["output"]["database_reader_endpoint"]["value"] == \
        with_replica.ref("aws_db_instance", "database/replica", "address")
