"""The same project on CDK Terrain (cdktn), the fork of the archived CDK for Terraform, checked
offline on every run (README, "CDK Terrain (cdktn)").

tests/cdktn_synth.py runs in the fork's own environment (.cdktn/, `make install`), in the
background from collection on (tests/conftest.py): it synthesizes every stack the product's tests
synthesize with cdktn 0.24 and cdktn-provider-aws 25.x (hashicorp/aws 6.x), then `terraform
validate`s all of them against hashicorp/aws 5.100.0. The tests here compare that output with this
session's default synth and check it against the Terraform AWS Provider Version 6 Upgrade Guide.
"""

import base64
import json
import re

import pytest

from cdktn_synth import (CANARY, VALIDATE_REPORT, argument_paths, covering, module_name,
                         stack_files)
from conftest import CDKTN_INSTALLED, CDKTN_OUT, background_result

pytestmark = pytest.mark.slow

# The only fields the fork's output may differ in, with what they hold there: the CDK's version
# in each stack's metadata, and the provider requirement (cdktf 0.21 writes the short source
# "aws", which Terraform reads as hashicorp/aws; cdktn writes it in full).
EXPECTED_DIFFERENCES = {
    ("//", "metadata", "version"): ("0.21.0", "0.24.0"),
    ("terraform", "required_providers", "aws", "source"): ("aws", "hashicorp/aws"),
    ("terraform", "required_providers", "aws", "version"): ("5.100.0", "6."),
}


@pytest.fixture(scope="module")
def fork() -> dict[str, dict]:
    """{label: the fork's cdk.tf.json}, once tests/cdktn_synth.py has finished."""
    returncode, output = background_result(
        "cdktn", f"{CDKTN_INSTALLED.parent} is missing: CDK Terrain is not installed (run "
        "`make install`)", timeout=900)
    assert returncode == 0, output[-6000:]
    return {label: json.loads(path.read_text()) for label, path in stack_files(CDKTN_OUT).items()}


@pytest.fixture(scope="module")
def default(synth_dir, fixture_stacks, presets) -> dict[str, dict]:
    """The same stacks from this session's default synth (cdktf 0.21, hashicorp/aws 5.100.0)."""
    stacks = {f"sample/{d.name}": json.loads((d / "cdk.tf.json").read_text())
              for d in sorted((synth_dir / "stacks").iterdir())}
    stacks.update({f"fixtures/{name}": s.json for name, s in fixture_stacks.items()})
    stacks.update({f"examples/{preset}/{s.name}": s.json for preset, s in presets.items()})
    return stacks


def differences(left, right, path=()) -> dict[tuple, tuple]:
    """{path: (left value, right value)} of every leaf where two JSON documents differ; a key
    only one side has is a difference with None on the other."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = {}
        for key in sorted(set(left) | set(right)):
            found.update(differences(left.get(key), right.get(key), (*path, key)))
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        found = {}
        for index, (a, b) in enumerate(zip(left, right)):
            found.update(differences(a, b, (*path, index)))
        return found
    return {} if left == right else {path: (left, right)}


def addresses(stack: dict) -> dict[str, str]:
    """{`type.logical_id`: construct path} of every resource: what Terraform state is keyed on."""
    return {f"{type_}.{logical_id}": body["//"]["metadata"]["path"]
            for type_, bodies in stack.get("resource", {}).items()
            for logical_id, body in bodies.items()}


def unexpected(default_stack: dict, fork_stack: dict) -> list[str]:
    """Every difference but the expected ones, one line each."""
    found = []
    for path, (ours, theirs) in differences(default_stack, fork_stack).items():
        expected = EXPECTED_DIFFERENCES.get(path)
        if expected is None or ours != expected[0] or not str(theirs).startswith(expected[1]):
            found.append(f"{'.'.join(map(str, path))}: {ours!r} -> {theirs!r}")
    return found


def test_the_fork_synthesizes_every_stack(fork, default):
    assert sorted(fork) == sorted(default)
    assert len(fork) >= 24  # the sample's four, ten fixtures, ten presets


def test_same_resources_logical_ids_and_construct_paths(fork, default):
    """State is keyed on `type.logical_id`: the same addresses mean a migrated stack plans
    against the state it has (README, "Moving to CDK Terrain")."""
    for label, stack in default.items():
        assert addresses(fork[label]) == addresses(stack), label
        assert sorted(fork[label].get("output", {})) == sorted(stack.get("output", {})), label
        assert fork[label]["provider"] == stack["provider"], label


def test_only_the_expected_fields_differ(fork, default):
    problems = {label: found for label, stack in default.items()
                if (found := unexpected(stack, fork[label]))}
    assert problems == {}
    for path in EXPECTED_DIFFERENCES:
        assert all(differences(s, fork[label]).get(path) for label, s in default.items()), path


def test_the_covering_stacks_hold_every_argument_path():
    """A stack whose argument paths the others hold is left out of the validation; one with a
    path of its own is not."""
    a = {"provider": {"aws": [{"region": "x"}]}, "resource": {"aws_vpc": {"v": {"cidr_block": 1}}}}
    b = {"provider": {"aws": [{"region": "y"}]},
         "resource": {"aws_vpc": {"v": {"cidr_block": 2, "tags": {"Name": "n"}}}}}
    assert covering({"a": a, "b": b}) == ["b"]
    c = {"provider": {"aws": [{"region": "y", "alias": "z"}]}, "resource": {}}
    assert covering({"a": a, "b": b, "c": c}) == ["b", "c"]


def test_the_comparison_sees_a_changed_id_field_or_value(default):
    """The checks above on a planted change: a renamed logical id, a new argument, a changed
    value; and the expected differences alone pass."""
    stack = default["sample/dev-stack"]
    type_, bodies = next(iter(stack["resource"].items()))
    logical_id = sorted(bodies)[0]
    others = {k: v for k, v in bodies.items() if k != logical_id}
    renamed = {**stack, "resource": {**stack["resource"], type_: {
        **others, f"{logical_id}2": bodies[logical_id]}}}
    assert addresses(renamed) != addresses(stack)
    argument = json.loads(json.dumps(stack))
    argument["resource"][type_][logical_id]["region"] = "us-east-1"
    assert unexpected(stack, argument) == [f"resource.{type_}.{logical_id}.region: None -> "
                                           "'us-east-1'"]
    upgraded = json.loads(json.dumps(stack))
    upgraded["//"]["metadata"]["version"] = "0.24.0"
    upgraded["terraform"]["required_providers"]["aws"] = {
        "source": "hashicorp/aws", "version": "6.69.1"}
    assert unexpected(stack, upgraded) == []
    upgraded["terraform"]["required_providers"]["aws"]["version"] = "7.0.0"
    assert len(unexpected(stack, upgraded)) == 1


# --- terraform validate against hashicorp/aws 5.100.0 ----------------------------------------

ERROR_MODULE = re.compile(r"^Error: .*?\n(?:.*\n)*?\s+on (\S+?)/main\.tf\.json line", re.M)


def test_terraform_validate_with_aws_5_finds_no_argument_only_version_6_has(fork):
    """The stacks that hold every argument path, as modules of one configuration
    (tests/cdktn_synth.py); the canary, the dev stack with a bucket's `region` (an argument
    since version 6, "Enhanced Region Support"), must fail, and nothing else may."""
    report = json.loads((CDKTN_OUT / VALIDATE_REPORT).read_text())
    assert report["step"] == "validate", report["output"][-3000:]
    validated = [label for label in fork if module_name(label) in report["modules"]]
    assert set(report["modules"]) == {module_name(label) for label in validated} | {CANARY}
    every_path = set().union(*(argument_paths(stack) for stack in fork.values()))
    assert set().union(*(argument_paths(fork[label]) for label in validated)) == every_path
    failing = set(ERROR_MODULE.findall(report["output"]))
    assert report["returncode"] == 1 and failing == {CANARY}, report["output"][-6000:]
    assert '"region"' in report["output"]


# --- AWS provider 6 on the fork's output ------------------------------------------------------
# Each rule: "Terraform AWS Provider Version 6 Upgrade Guide" (the section named in the
# docstring), and for the arguments it checks, the resource's page in the provider's docs.

def resources(stacks: dict[str, dict], type_: str) -> dict[str, dict]:
    return {f"{label}: {logical_id}": body for label, stack in stacks.items()
            for logical_id, body in stack.get("resource", {}).get(type_, {}).items()}


def nat_instance_user_data(stacks: dict[str, dict]) -> list[str]:
    """Resource `aws_instance`: `user_data` is stored in clear text in version 6 and taken as
    text, so base64 user data must be `user_data_base64`. The NAT instance gets its user data
    through its launch template (`user_data`: base64 there in both versions), and sets neither
    on the instance; `cpu_core_count`/`cpu_threads_per_core` are gone (`cpu_options`)."""
    found = []
    for where, body in resources(stacks, "aws_instance").items():
        found += [f"{where}: {key}" for key in
                  ("user_data", "cpu_core_count", "cpu_threads_per_core") if key in body]
        if "launch_template" not in body:
            found.append(f"{where}: no launch template carries its user data")
    for where, body in resources(stacks, "aws_launch_template").items():
        if "user_data" in body and not base64.b64decode(body["user_data"]).startswith(b"#!"):
            found.append(f"{where}: user_data is not a base64-encoded script")
    return found


def resource_region(stacks: dict[str, dict]) -> list[str]:
    """Enhanced Region Support: version 6 adds `region` to most resources. The project keeps its
    aliased providers (us-east-1 for CloudFront's certificates, WAF and log deliveries; the
    Chatbot and GuardDuty regions): version 6 supports them unchanged and the state keeps its
    provider addresses. So no resource sets `region`, and each names a provider the stack
    declares, with a region."""
    found = []
    for label, stack in stacks.items():
        aliases = {f"aws.{p['alias']}" for p in stack["provider"]["aws"]
                   if "alias" in p and p.get("region")}
        for type_, bodies in stack.get("resource", {}).items():
            for logical_id, body in bodies.items():
                if "region" in body:
                    found.append(f"{label}: {type_}.{logical_id} sets region")
                if "provider" in body and body["provider"] not in aliases:
                    found.append(f"{label}: {type_}.{logical_id}: {body['provider']} undeclared")
    return found


def bucket_region(stacks: dict[str, dict]) -> list[str]:
    """Resource `aws_s3_bucket`: `bucket_region` replaces the `region` attribute, which is now the
    Enhanced Region Support argument. Nothing reads a bucket's `region` (the region comes from the
    config), so nothing silently reads the argument instead."""
    pattern = re.compile(r"\$\{aws_s3_bucket\.[\w-]+\.region\}")
    return [label for label, stack in stacks.items() if pattern.search(json.dumps(stack))]


# Nullable Boolean Validation Update: these accept only "", true or false (never 0 or 1).
NULLABLE_BOOLS = {
    "aws_elasticache_replication_group": (("at_rest_encryption_enabled",),
                                          ("auto_minor_version_upgrade",)),
    "aws_lb_target_group": (("preserve_client_ip",),),
    "aws_launch_template": (("block_device_mappings", "ebs", "delete_on_termination"),
                            ("block_device_mappings", "ebs", "encrypted"), ("ebs_optimized",),
                            ("network_interfaces", "associate_public_ip_address"),
                            ("network_interfaces", "delete_on_termination")),
}


def values_at(body, path: tuple[str, ...]) -> list:
    if not path:
        return [body]
    if isinstance(body, list):
        return [v for item in body for v in values_at(item, path)]
    if isinstance(body, dict) and path[0] in body:
        return values_at(body[path[0]], path[1:])
    return []


def nullable_booleans(stacks: dict[str, dict]) -> list[str]:
    """Nullable Boolean Validation Update (the table of resources and attributes)."""
    return [f"{where}: {'.'.join(path)} = {value!r}"
            for type_, paths in NULLABLE_BOOLS.items()
            for where, body in resources(stacks, type_).items() for path in paths
            for value in values_at(body, path)
            if not isinstance(value, bool) and value not in ("", "true", "false")]


def removed_arguments(stacks: dict[str, dict]) -> list[str]:
    """Resources `aws_eip` (`vpc`: use `domain`), `aws_flow_log` (`log_group_name`: use
    `log_destination`), `aws_ecs_task_definition` (`inference_accelerator`), `aws_launch_template`
    (`elastic_gpu_specifications`, `elastic_inference_accelerator`),
    `aws_cloudfront_response_headers_policy` (`etag`, computed only), `aws_guardduty_detector`
    (`datasources`, deprecated: `aws_guardduty_detector_feature`), and Removed Provider Arguments
    (`endpoints` of OpsWorks, SimpleDB, WorkLink) and S3 Global Endpoint Deprecation."""
    removed = {"aws_eip": ("vpc",), "aws_flow_log": ("log_group_name",),
               "aws_ecs_task_definition": ("inference_accelerator",),
               "aws_launch_template": ("elastic_gpu_specifications",
                                       "elastic_inference_accelerator"),
               "aws_cloudfront_response_headers_policy": ("etag",),
               "aws_guardduty_detector": ("datasources",)}
    found = [f"{where}: {key}" for type_, keys in removed.items()
             for where, body in resources(stacks, type_).items() for key in keys if key in body]
    for where, body in resources(stacks, "aws_eip").items():
        if body.get("domain") != "vpc":
            found.append(f"{where}: domain is not vpc")
    for label, stack in stacks.items():
        for provider in stack["provider"]["aws"]:
            endpoints = {k for e in provider.get("endpoints", []) for k in e}
            found += [f"{label}: provider endpoint {k}" for k in
                      endpoints & {"opsworks", "simpledb", "sdb", "worklink"}]
            if provider.get("s3_us_east_1_regional_endpoint") == "legacy":
                found.append(f"{label}: s3_us_east_1_regional_endpoint = legacy")
    return found


def elasticache(stacks: dict[str, dict]) -> list[str]:
    """Resources `aws_elasticache_replication_group`, `aws_elasticache_user`,
    `aws_elasticache_user_group`: an uppercase `engine` is deprecated (an error in 7.0); a
    replication group with `auth_token` must set `auth_token_update_strategy`, which lost its
    default."""
    found = [f"{where}: engine {body['engine']!r}"
             for type_ in ("aws_elasticache_replication_group", "aws_elasticache_user",
                           "aws_elasticache_user_group")
             for where, body in resources(stacks, type_).items()
             if body.get("engine", "").lower() != body.get("engine", "")]
    found += [f"{where}: auth_token without auth_token_update_strategy" for where, body in
              resources(stacks, "aws_elasticache_replication_group").items()
              if "auth_token" in body and "auth_token_update_strategy" not in body]
    return found


def load_balancing_and_waf(stacks: dict[str, dict]) -> list[str]:
    """Resource `aws_lb_listener`: `mutual_authentication`'s trust store arguments only with
    `mode = "verify"`, which then needs `trust_store_arn`. Resource `aws_wafv2_web_acl`: the Bot
    Control rule set's `enable_machine_learning` now defaults to false, so a web ACL using it
    must say which it wants."""
    found = []
    for where, body in resources(stacks, "aws_lb_listener").items():
        for auth in values_at(body, ("mutual_authentication",)):
            if (auth.get("mode") == "verify") != ("trust_store_arn" in auth):
                found.append(f"{where}: mutual_authentication {auth}")
    for where, body in resources(stacks, "aws_wafv2_web_acl").items():
        text = json.dumps(body)
        if "AWSManagedRulesBotControlRuleSet" in text and "enable_machine_learning" not in text:
            found.append(f"{where}: Bot Control without enable_machine_learning")
    return found


def database(stacks: dict[str, dict]) -> list[str]:
    """Resource `aws_db_instance`: `character_set_name` no longer goes with
    `replicate_source_db`, `restore_to_point_in_time`, `s3_import` or `snapshot_identifier`."""
    return [where for where, body in resources(stacks, "aws_db_instance").items()
            if "character_set_name" in body and body.keys() & {
                "replicate_source_db", "restore_to_point_in_time", "s3_import",
                "snapshot_identifier"}]


RULES = (nat_instance_user_data, resource_region, bucket_region, nullable_booleans,
         removed_arguments, elasticache, load_balancing_and_waf, database)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_fork_output_keeps_the_version_6_rules(fork, rule):
    assert rule(fork) == []


def test_the_stacks_hold_what_the_rules_check(fork):
    """A rule over resources no stack has proves nothing: the NAT instance and its template, the
    aliased providers, the buckets, EIPs, flow logs, Redis, GuardDuty, WAF are all there."""
    held = {type_ for stack in fork.values() for type_ in stack.get("resource", {})}
    assert {"aws_instance", "aws_launch_template", "aws_s3_bucket", "aws_eip", "aws_flow_log",
            "aws_elasticache_replication_group", "aws_elasticache_user", "aws_guardduty_detector",
            "aws_wafv2_web_acl", "aws_lb_listener", "aws_db_instance",
            "aws_ecs_task_definition", "aws_cloudfront_response_headers_policy"} <= held
    assert any("provider" in body for stack in fork.values()
               for bodies in stack["resource"].values() for body in bodies.values())


PLANTED = {
    nat_instance_user_data: ("aws_instance", {"user_data": "IyEvYmluL2Jhc2gK"}),
    resource_region: ("aws_s3_bucket", {"region": "us-east-1"}),
    bucket_region: ("aws_s3_bucket", {"tags": {"Region": "${aws_s3_bucket.b.region}"}}),
    nullable_booleans: ("aws_elasticache_replication_group", {"at_rest_encryption_enabled": 1}),
    removed_arguments: ("aws_eip", {"vpc": True}),
    elasticache: ("aws_elasticache_user", {"engine": "REDIS"}),
    load_balancing_and_waf: ("aws_lb_listener", {"mutual_authentication": {"mode": "verify"}}),
    database: ("aws_db_instance", {"character_set_name": "AL32UTF8",
                                   "replicate_source_db": "primary"}),
}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_each_rule_sees_a_planted_violation(rule):
    type_, body = PLANTED[rule]
    base = {"launch_template": {"id": "lt"}} if type_ == "aws_instance" else {}
    stack = {"provider": {"aws": [{"region": "us-east-1"}]},
             "resource": {type_: {"planted": {**base, **body}}}}
    assert rule({"planted": stack}) != []
