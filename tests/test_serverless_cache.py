"""ElastiCache Serverless for Valkey (`cache.serverless`, the lean profile's cache) as a reviewer
checks it on examples/lean.toml: who can reach it, what encrypts it, who may authenticate and how,
what caps its bill; and the config's one-line refusals of settings of the other cache kind."""

import json
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, ROOT, SynthStack, synthesize
from lib.config import ConfigError, load_environment

CACHE = "serverless-cache/cache"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dev.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def lean(presets) -> SynthStack:
    return presets["lean"]


def test_the_lean_preset_has_a_valkey_serverless_cache_and_no_nodes(lean):
    cache = lean.resource("aws_elasticache_serverless_cache", CACHE)
    assert (cache["engine"], cache["name"]) == ("valkey", "webplat-lean-valkey")
    assert lean.resources("aws_elasticache_replication_group") == {}
    assert lean.resources("aws_elasticache_parameter_group") == {}


def test_only_the_app_tier_reaches_the_cache_on_its_port(lean):
    # "Valkey and Redis OSS configuration and limits - Amazon ElastiCache" (Serverless caches):
    # 6379 serves every command; 6380, for reads from replicas, stays closed like the rest.
    cache = lean.resource("aws_elasticache_serverless_cache", CACHE)
    sg = lean.ref("aws_security_group", "serverless-cache/sg")
    assert cache["security_group_ids"] == [sg]
    rules = [r for r in lean.resources("aws_vpc_security_group_ingress_rule").values()
             if r["security_group_id"] == sg]
    assert [(r["referenced_security_group_id"], r["ip_protocol"], r["from_port"], r["to_port"])
            for r in rules] == [(lean.ref("aws_security_group", "app-tier/sg"), "tcp", 6379,
                                 6379)]
    assert not any(r["security_group_id"] == sg for r in
                   lean.resources("aws_vpc_security_group_egress_rule").values())


def test_the_cache_lives_in_the_isolated_subnets_of_every_az(lean):
    # "Creating a serverless cache": subnets in two or more AZs of the VPC.
    cache = lean.resource("aws_elasticache_serverless_cache", CACHE)
    isolated = sorted(lean.ref("aws_subnet", p)
                      for p in lean.matching("aws_subnet", "network/isolated-*"))
    assert sorted(cache["subnet_ids"]) == isolated and len(isolated) >= 2


def test_the_cache_is_encrypted_at_rest_with_the_data_key(lean):
    # A serverless cache always encrypts in transit ("ElastiCache in-transit encryption (TLS)");
    # at rest it uses the key given, else an AWS owned one.
    cache = lean.resource("aws_elasticache_serverless_cache", CACHE)
    assert cache["kms_key_id"] == lean.ref("aws_kms_key", "data-key/key", "arn")


def test_only_the_iam_app_user_can_connect(lean):
    # "Authenticating with IAM - Amazon ElastiCache": Valkey 7.2+, user_id == user_name, mode iam.
    # "AWS::ElastiCache::UserGroup": a user named default must be in the group; engine valkey.
    cache = lean.resource("aws_elasticache_serverless_cache", CACHE)
    group = lean.resource("aws_elasticache_user_group", "serverless-cache/users")
    assert cache["user_group_id"] == group["user_group_id"]
    assert "aws_elasticache_user_group." + group["//"]["metadata"]["uniqueId"] in \
        cache["depends_on"]
    assert cache["major_engine_version"] in ("7", "8")
    users = lean.resources("aws_elasticache_user")
    default, app = users["serverless-cache/default-user"], users["serverless-cache/app-user"]
    assert sorted(group["user_ids"]) == sorted(
        [lean.ref("aws_elasticache_user", f"serverless-cache/{u}", "user_id")
         for u in ("default-user", "app-user")])
    assert {group["engine"], default["engine"], app["engine"]} == {"valkey"}
    assert (default["user_name"], default["authentication_mode"]) == \
        ("default", {"type": "no-password-required"})
    assert default["access_string"].startswith("off ")
    assert app["authentication_mode"] == {"type": "iam"}
    assert app["user_id"] == app["user_name"] == "webplat-lean-app"


def test_the_service_may_connect_to_exactly_this_cache_as_the_app_user(lean):
    # "Authenticating with IAM": the identity needs elasticache:Connect on the cache and the user.
    statements = [s for type_ in ("aws_iam_role_policy", "aws_iam_policy")
                  for body in lean.resources(type_).values()
                  for s in json.loads(body["policy"])["Statement"]
                  if "elasticache:Connect" in str(s.get("Action"))]
    assert statements, "no role may elasticache:Connect"
    for s in statements:
        assert (s["Effect"], s["Action"]) == ("Allow", "elasticache:Connect")
        assert sorted(s["Resource"]) == sorted([
            lean.ref("aws_elasticache_serverless_cache", CACHE, "arn"),
            lean.ref("aws_elasticache_user", "serverless-cache/app-user", "arn")])


def test_usage_limits_cap_the_bill_and_snapshots_are_daily(lean):
    cache = lean.resource("aws_elasticache_serverless_cache", CACHE)
    [limits] = cache["cache_usage_limits"]
    assert limits["data_storage"] == [{"maximum": 1, "unit": "GB"}]
    assert limits["ecpu_per_second"] == [{"maximum": 5000}]
    assert (cache["daily_snapshot_time"], cache["snapshot_retention_limit"]) == ("03:00", 5)


def test_alarms_watch_the_limits_by_the_serverless_dimension(lean):
    # "Serverless metrics and events for Valkey and Redis OSS - Amazon ElastiCache".
    alarms = {a["metric_name"]: a for a in lean.resources("aws_cloudwatch_metric_alarm").values()
              if a["namespace"] == "AWS/ElastiCache"}
    assert sorted(alarms) == ["BytesUsedForCache", "ElastiCacheProcessingUnits", "ThrottledCmds"]
    assert {json.dumps(a["dimensions"]) for a in alarms.values()} == \
        {json.dumps({"clusterId": "webplat-lean-valkey"})}
    assert alarms["BytesUsedForCache"]["threshold"] == 0.8 * 10 ** 9
    assert alarms["ElastiCacheProcessingUnits"]["threshold"] == 0.8 * 5000 * 60


def test_a_protected_environment_keeps_its_serverless_cache(fixture_stacks):
    valkey = fixture_stacks["valkey-stack"]
    cache = valkey.resource("aws_elasticache_serverless_cache", CACHE)
    assert cache["lifecycle"]["prevent_destroy"] is True
    # The staging profile's node sizing is not carried over; the file's own settings are.
    assert cache["major_engine_version"] == "7"
    assert cache["cache_usage_limits"][0]["data_storage"] == [{"maximum": 5, "unit": "GB"}]


def test_the_local_target_stands_in_for_the_serverless_cache(tmp_path):
    # moto 5.2.1 implements no CreateServerlessCache: the cache is not created locally.
    local = synthesize(tmp_path, [ROOT / "examples" / "lean.toml"], target="local")["lean-stack"]
    [cache] = local.json["resource"]["aws_elasticache_serverless_cache"].values()
    assert cache["count"] == 0


# --- the config's refusals ----------------------------------------------------------------------

SERVERLESS = MINIMAL + "[cache]\nserverless = true\n"


@pytest.mark.parametrize("extra, field", [
    ('node_type = "cache.t4g.micro"\n', "cache.node_type"),
    ("num_nodes = 2\n", "cache.num_nodes"),
    ("automatic_failover = false\n", "cache.automatic_failover"),
    ('maxmemory_policy = "allkeys-lru"\n', "cache.maxmemory_policy"),
    ('snapshot_window = "03:00-04:00"\n', "cache.snapshot_window"),
    ('engine_version = "7.1"\n', "cache.engine_version"),
    ("final_snapshot = true\n", "cache.final_snapshot"),
])
def test_node_settings_are_refused_with_serverless(tmp_path, extra, field):
    with pytest.raises(ConfigError) as error:
        load_environment(write(tmp_path, SERVERLESS + extra))
    [line] = [x for x in str(error.value).splitlines() if field in x]
    assert "with serverless = true only valkey_version" in line


@pytest.mark.parametrize("extra, field", [
    ('valkey_version = "8"\n', "cache.valkey_version"),
    ("max_data_storage_gb = 2\n", "cache.max_data_storage_gb"),
    ("max_ecpu_per_second = 2000\n", "cache.max_ecpu_per_second"),
    ('daily_snapshot_time = "02:00"\n', "cache.daily_snapshot_time"),
])
def test_serverless_settings_are_refused_on_a_node_cache(tmp_path, extra, field):
    with pytest.raises(ConfigError) as error:
        load_environment(write(tmp_path, MINIMAL + "[cache]\n" + extra))
    [line] = [x for x in str(error.value).splitlines() if field in x]
    assert "set serverless = true" in line


@pytest.mark.parametrize("version", ["6", "7.0", "7.1"])
def test_a_valkey_version_without_iam_authentication_is_refused(tmp_path, version):
    # "Authenticating with IAM - Amazon ElastiCache": Valkey 7.2 or later.
    with pytest.raises(ConfigError) as error:
        load_environment(write(tmp_path, SERVERLESS + f'valkey_version = "{version}"\n'))
    [line] = [x for x in str(error.value).splitlines() if "cache.valkey_version" in x]
    assert "allowed: 7, 8" in line


@pytest.mark.parametrize("extra, field", [
    ("max_ecpu_per_second = 999\n", "cache.max_ecpu_per_second"),
    ("max_data_storage_gb = 0\n", "cache.max_data_storage_gb"),
    ('daily_snapshot_time = "3am"\n', "cache.daily_snapshot_time"),
])
def test_usage_limits_and_snapshot_time_within_what_aws_takes(tmp_path, extra, field):
    with pytest.raises(ConfigError) as error:
        load_environment(write(tmp_path, SERVERLESS + extra))
    assert any(field in x for x in str(error.value).splitlines())


def test_a_file_switching_the_lean_profile_back_to_nodes_must_size_them(tmp_path):
    lean = 'profile = "lean"\n' + MINIMAL
    with pytest.raises(ConfigError) as error:
        load_environment(write(tmp_path, lean + "[cache]\nserverless = false\n"))
    lines = str(error.value).splitlines()
    for field in ("cache.node_type", "cache.num_nodes", "cache.final_snapshot"):
        assert any(field in x and "required for a node cache" in x for x in lines), field
    nodes = load_environment(write(tmp_path, lean + '[cache]\nserverless = false\n'
                                   'node_type = "cache.t4g.micro"\nnum_nodes = 1\n'
                                   'final_snapshot = false\n'))
    assert (nodes.cache.serverless, nodes.cache.node_type) == (False, "cache.t4g.micro")


def test_a_dev_file_may_switch_to_serverless_without_the_profiles_node_sizing(tmp_path):
    c = load_environment(write(tmp_path, SERVERLESS))
    assert (c.cache.serverless, c.cache.node_type, c.cache.num_nodes) == (True, None, None)
