"""What every environment stack carries besides the network: provider, tags, backend, keys."""

import json

import pytest

from conftest import ROOT, SAMPLE, synthesize


def test_one_stack_per_environment(stacks):
    assert sorted(stacks) == ["dev-stack", "prod-stack", "staging-stack"]


def test_provider_pins_the_version_the_bindings_were_built_for(stacks):
    for stack in stacks.values():
        assert stack.json["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"


@pytest.mark.parametrize("name, env", [("dev-stack", "dev"), ("staging-stack", "staging"),
                                       ("prod-stack", "prod")])
def test_every_resource_is_tagged_through_the_provider(stacks, name, env):
    providers = stacks[name].json["provider"]["aws"]
    # staging and prod also have the us-east-1 provider CloudFront's certificates and WAF need
    # prod also has Chatbot's (us-east-2), for its alerts topic's Slack channel
    assert [p.get("alias") for p in providers] == {
        "dev": [None], "staging": [None, "us_east_1"],
        "prod": [None, "us_east_1", "us_east_2"]}[env]
    for provider in providers:
        assert provider["region"] == ("us-east-2" if provider.get("alias") == "us_east_2"
                                      else "us-east-1")
        assert provider["default_tags"] == [{"tags": {
            "Project": "webplat", "Environment": env, "ManagedBy": "cdktf",
            "CostCenter": "platform"}}]


def test_resources_are_named_project_env_component(stacks):
    for stack in stacks.values():
        env = stack.name.removesuffix("-stack")
        for type_, bodies in stack.json["resource"].items():
            for body in bodies.values():
                if "tags" in body:
                    assert body["tags"]["Name"].startswith(f"webplat-{env}-"), (type_, body)


def test_the_provider_refuses_any_account_but_the_configured_one(stacks):
    for stack in stacks.values():
        for provider in stack.json["provider"]["aws"]:
            assert provider["allowed_account_ids"] == ["123456789012"]
            assert not any(k.startswith("skip_") for k in provider)


def test_each_stack_keeps_its_state_in_its_own_place(stacks):
    """dev on the laptop (config/dev.toml: the local backend); staging and prod, which GitHub
    Actions deploys, in the bootstrap stack's bucket, each under its own key, encrypted, locked
    with S3's lock file and no DynamoDB table: the shipped files are a fresh setup, and
    Terraform 1.11 deprecates DynamoDB locking (Terraform docs, "Backend Type: s3", State
    Locking: "DynamoDB-based locking is deprecated and will be removed in a future minor
    version")."""
    assert stacks["dev-stack"].json["terraform"]["backend"] == {
        "local": {"path": "../../../terraform.dev-stack.tfstate"}}
    for env in ("staging", "prod"):
        assert stacks[f"{env}-stack"].json["terraform"]["backend"] == {"s3": {
            "bucket": "webplat-tfstate-123456789012", "use_lockfile": True,
            "key": f"webplat/{env}.tfstate", "region": "us-east-1"}}


def test_no_path_of_this_machine_is_synthesized(synth_dir):
    for path in synth_dir.rglob("*.json"):
        text = path.read_text()
        assert str(ROOT) not in text and str(synth_dir) not in text, path


def test_log_key_rotates_and_lets_only_this_accounts_log_groups_use_it(stacks):
    for stack in stacks.values():
        key = stack.resource("aws_kms_key", "logs-key/key")
        assert key["enable_key_rotation"] is True
        statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
        logs = statements["CloudWatchLogsEncryptsThisAccountsLogGroups"]
        assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
        assert logs["Condition"]["ArnLike"] == {"kms:EncryptionContext:aws:logs:arn":
                                                "arn:aws:logs:us-east-1:123456789012:log-group:*"}
        alias = stack.resource("aws_kms_alias", "logs-key/alias")
        env = stack.name.removesuffix("-stack")
        assert alias["name"] == f"alias/webplat-{env}-logs"
        assert alias["target_key_id"] == stack.ref("aws_kms_key", "logs-key/key", "key_id")


def test_prod_keys_survive_a_mistaken_delete_longer_than_dev(dev, prod):
    assert dev.resource("aws_kms_key", "logs-key/key")["deletion_window_in_days"] == 7
    assert prod.resource("aws_kms_key", "logs-key/key")["deletion_window_in_days"] == 30


def test_offline_target_skips_every_aws_lookup(tmp_path):
    stack = synthesize(tmp_path, [SAMPLE / "dev.toml"], target="offline")["dev-stack"]
    [provider] = stack.json["provider"]["aws"]  # dev: no CloudFront, no second provider
    assert provider["skip_credentials_validation"] is True
    assert provider["skip_requesting_account_id"] is True
    assert provider["skip_metadata_api_check"] == "true"
    assert "allowed_account_ids" not in provider


def test_secret_names_follow_the_hierarchy():
    from lib.core.naming import Naming

    naming = Naming("webplat", "prod", "123456789012", "us-east-1")
    assert naming.secret("backend", "stripe-key") == "/webplat/prod/backend/stripe-key"


def test_emulator_adjustments_apply_only_to_the_local_target(tmp_path, dev):
    local = synthesize(tmp_path, [SAMPLE / "dev.toml"], target="local")["dev-stack"]
    [provider] = local.json["provider"]["aws"]
    assert provider["endpoints"][0]["ec2"] == "http://127.0.0.1:4566"
    # A dropped connection is retried (answered from the first attempt, never done twice): two
    # attempts were not enough for a CI run's destroy.
    assert provider["max_retries"] >= 5
    assert local.resource("aws_elasticache_replication_group", "cache/group")["count"] == 0
    assert local.resource("aws_db_instance", "database/primary")["backup_window"] == "02:00-03:00"
    # the real stacks carry none of it
    assert "count" not in dev.resource("aws_elasticache_replication_group", "cache/group")
    assert dev.resource("aws_db_instance", "database/primary")["backup_window"] == "03:00-04:00"
    assert not any("count" in body for bodies in dev.json["resource"].values()
                   for body in bodies.values())
    assert "endpoints" not in dev.json["provider"]["aws"][0]


def test_prod_emulator_adjustments_stay_out_of_the_real_stack(tmp_path, prod, bootstrap):
    """What the local cycle switches off for moto (README, "Local deploy") is on in the real
    prod stack: deletion protection and prevent_destroy (the cycle destroys what it deploys, in
    the bootstrap stack too), the subnets' IPv6, the CloudFront headers and SPA rewrite."""
    synthesized = synthesize(tmp_path, [SAMPLE / "prod.toml"], target="local",
                             account=SAMPLE / "account.toml")
    local = synthesized["prod-stack"]
    for stack, on in ((prod, True), (local, False), (bootstrap, True),
                      (synthesized["bootstrap-stack"], False)):
        assert any(body.get("lifecycle", {}).get("prevent_destroy") for bodies in
                   stack.json["resource"].values() for body in bodies.values()) is on
    for stack, on in ((prod, True), (local, False)):
        assert stack.resource("aws_db_instance", "database/primary")["deletion_protection"] is on
        assert stack.resource("aws_lb", "load-balancer/alb")["enable_deletion_protection"] is on
        assert ("ipv6_cidr_block" in stack.resource("aws_subnet", "network/public-a")) is on
        behaviour = stack.resource("aws_cloudfront_distribution",
                                   "cdn-static/distribution")["default_cache_behavior"]
        assert ("response_headers_policy_id" in behaviour) is on
        assert ("function_association" in behaviour) is on
        for type_, path in (("aws_cloudfront_function", "cdn-static/spa-routes"),
                            ("aws_cloudfront_response_headers_policy",
                             "cdn-static/security-headers")):
            assert ("count" not in stack.resource(type_, path)) is on
