"""Snapshots and retention as a reviewer checks them (issue 18 item 3): what a deletion of a data
store leaves behind, and how long each environment keeps the logs an investigation reads."""

import json

import pytest

import contracts
from conftest import MINIMAL_CONFIG, SynthStack
from lib.config import ConfigError, load_environment
from lib.config.catalog import LOG_RETENTION_DAYS

ACCOUNT, REGION = "123456789012", "us-east-1"
# config/*.toml take their profile's logs.security_retention_days
SECURITY_DAYS = {"dev-stack": 30, "staging-stack": 365, "prod-stack": 365}


def security_log_groups(stack: SynthStack) -> dict[str, dict]:
    """The VPC flow log group and the WAF log groups (WAF names them aws-waf-logs-*)."""
    groups = {path: body for path, body in stack.resources("aws_cloudwatch_log_group").items()
              if path == "network/flow-log-group" or body["name"].startswith("aws-waf-logs-")}
    assert "network/flow-log-group" in groups
    return groups


@pytest.mark.parametrize("name", sorted(SECURITY_DAYS))
def test_security_logs_are_kept_a_year_in_staging_and_prod(stacks, name):
    stack = stacks[name]
    groups = security_log_groups(stack)
    if name != "dev-stack":  # dev has no WAF
        assert {"waf-regional/logs", "waf-cloudfront/logs"} <= set(groups), sorted(groups)
    assert {path: g["retention_in_days"] for path, g in groups.items()} == {
        path: SECURITY_DAYS[name] for path in groups}
    # The operational logs keep their own, shorter retention (logs.retention_days).
    assert stack.resource("aws_cloudwatch_log_group", "service-backend/logs")[
        "retention_in_days"] == 30


def test_every_retention_is_one_cloudwatch_logs_takes(stacks, presets, fixture_stacks):
    """CloudWatch Logs takes only these retentions (CloudWatch Logs API Reference,
    "PutRetentionPolicy": retentionInDays); anything else fails the apply, not the plan."""
    assert LOG_RETENTION_DAYS == (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                                  1096, 1827, 2192, 2557, 2922, 3288, 3653)
    for stack in (*stacks.values(), *presets.values(), *fixture_stacks.values()):
        for path, group in stack.resources("aws_cloudwatch_log_group").items():
            assert group["retention_in_days"] in LOG_RETENTION_DAYS, (stack.name, path)


def write(tmp_path, name: str, logs: str) -> str:
    text = MINIMAL_CONFIG.replace("[network]", f"[logs]\n{logs}\n\n[network]")
    if name == "prod":  # prod must serve HTTPS and send users to https:// only
        text = text.replace("[network]", '[ingress]\ndomain = "shop.example.com"\n'
                            'hosted_zone_id = "Z0123456789EXAMPLE"\n\n[auth]\n'
                            'callback_urls = ["https://shop.example.com/cb"]\n\n[network]')
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_staging_and_prod_refuse_less_than_a_year_in_one_line(tmp_path, name):
    with pytest.raises(ConfigError) as caught:
        load_environment(write(tmp_path, name, "security_retention_days = 180"))
    assert caught.value.problems == [
        f"{tmp_path / f'{name}.toml'}: logs.security_retention_days: 180 is less than the 365 "
        f"days a {name} environment keeps its flow and WAF logs; use one of 365, 400, 545, 731, "
        "1096, 1827, 2192, 2557, 2922, 3288, 3653"]
    longer = load_environment(write(tmp_path, name, "security_retention_days = 731"))
    assert longer.logs.security_retention_days == 731


def test_dev_may_keep_them_shorter_but_only_as_cloudwatch_allows(tmp_path):
    assert load_environment(write(tmp_path, "dev", "security_retention_days = 7")) \
        .logs.security_retention_days == 7
    with pytest.raises(ConfigError) as caught:
        load_environment(write(tmp_path, "dev", "security_retention_days = 100"))
    [problem] = caught.value.problems
    assert problem.startswith(f"{tmp_path / 'dev.toml'}: logs.security_retention_days: ")


def test_the_audit_trail_is_kept_a_year(bootstrap):
    """CloudTrail, AWS Config and Session Manager logs: the account's audit bucket
    (config/account.toml log_retention_days, 365 by default)."""
    bucket = bootstrap.ref("aws_s3_bucket", "baseline/audit-bucket/bucket")
    [lifecycle] = [x for x in bootstrap.resources("aws_s3_bucket_lifecycle_configuration")
                   .values() if x["bucket"] == bucket]
    expiry = {r["id"]: r for r in lifecycle["rule"]}["expire-audit"]["expiration"]
    assert expiry == [{"days": 365}]


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_deploy_role_may_take_the_final_snapshots(bootstrap, env):
    """ElastiCache API Reference, "DeleteReplicationGroup": a final snapshot needs
    elasticache:CreateSnapshot, without which the deletion fails with AccessDenied."""
    statements = [s for path, body in bootstrap.matching("aws_iam_policy",
                                                         f"delivery-{env}/deploy-*").items()
                  for s in json.loads(body["policy"])["Statement"]]
    prefix = f"arn:aws:elasticache:{REGION}:{ACCOUNT}"
    own = {"aws:RequestedRegion": REGION, "aws:ResourceTag/Project": "webplat",
           "aws:ResourceTag/Environment": env}
    for resource in (f"{prefix}:replicationgroup:webplat-{env}-redis",
                     f"{prefix}:snapshot:webplat-{env}-redis-final"):
        for action in ("elasticache:CreateSnapshot", "elasticache:DeleteReplicationGroup"):
            assert contracts.decide(statements, action, resource, context=own) == "allow", \
                (action, resource)
    other = "dev" if env == "prod" else "prod"
    assert contracts.decide(statements, "elasticache:CreateSnapshot",
                            f"{prefix}:snapshot:webplat-{other}-redis-final",
                            context={**own, "aws:ResourceTag/Environment": other}) != "allow"
