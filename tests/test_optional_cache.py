"""A cache that is optional (`cache.enabled = false`: none at all) or outside AWS
(`cache.external = true`: seed 001's Upstash), as a reviewer checks them on the synthesized JSON:
no ElastiCache of either kind, who may read the outside Redis's URL and how it is encrypted, that
its value is nowhere in the JSON, where the application tier may connect; and the config's
one-line refusals."""

import json
import re
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, SynthStack, synthesize
from lib.analysis.cost import estimate
from lib.analysis.diagram import mermaid
from lib.analysis.pricing import load_prices
from lib.compute.service_access import function_access
from lib.config import ConfigError, load_environment
from lib.core.access import ExternalCacheAccess

URL = "external-cache/url"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dev.toml"
    path.write_text(text)
    return path


def refusal(tmp_path: Path, text: str, field: str) -> str:
    """The one line that names `field` when `text` is loaded; nothing is written."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    assert sorted(tmp_path.iterdir()) == [path]
    [line] = [x for x in str(error.value).splitlines() if f"{field}:" in x or f"{field} " in x]
    assert "dev.toml" in str(error.value)
    return line


def elasticache(stack: SynthStack) -> list[str]:
    return [t for t in stack.json["resource"] if t.startswith("aws_elasticache_")]


def app_tier_egress(stack: SynthStack) -> set[tuple[str, int, int]]:
    sg = stack.ref("aws_security_group", "app-tier/sg")
    return {(r["cidr_ipv4"], r["from_port"], r["to_port"])
            for r in stack.resources("aws_vpc_security_group_egress_rule").values()
            if r["security_group_id"] == sg}


def elasticache_alarms(stack: SynthStack) -> list[dict]:
    return [a for a in stack.resources("aws_cloudwatch_metric_alarm").values()
            if a["namespace"] == "AWS/ElastiCache"]


# --- cache.external = true ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def external(fixture_stacks) -> SynthStack:
    return fixture_stacks["extcache-stack"]


def test_an_external_cache_builds_no_elasticache(external):
    assert elasticache(external) == []
    assert elasticache_alarms(external) == []
    outputs = external.json["output"]
    assert not any(name.startswith("redis_") for name in outputs if name != "redis_url_secret_arn")
    assert outputs["redis_url_secret_arn"]["value"] == \
        external.ref("aws_secretsmanager_secret", URL, "arn")


def test_the_url_secret_is_named_by_the_hierarchy_and_encrypted_with_the_secrets_key(external):
    # "CreateSecret - AWS Secrets Manager": KmsKeyId; without it the AWS managed key
    # aws/secretsmanager, which no key policy of ours governs.
    secret = external.resource("aws_secretsmanager_secret", URL)
    assert secret["name"] == "/webplat/extcache/cache/url"
    assert secret["kms_key_id"] == external.ref("aws_kms_key", "secrets-key/key", "arn")
    # A protected environment keeps it: its value is set out of band and would be lost.
    assert secret["lifecycle"]["prevent_destroy"] is True


def test_the_url_has_no_value_in_the_json(external):
    # A secret's value in Terraform is a secret version (or a rotation that writes one): neither
    # exists for it, so the URL and its password never reach the JSON or the state.
    arn = external.ref("aws_secretsmanager_secret", URL, "arn")
    ident = external.ref("aws_secretsmanager_secret", URL)
    text = json.dumps(external.json)
    for type_ in ("aws_secretsmanager_secret_version", "aws_secretsmanager_secret_rotation"):
        assert not any(body.get("secret_id") in (arn, ident)
                       for body in external.resources(type_).values()), type_
    assert "redis://" not in text and "rediss://" not in text


def _readers(stack: SynthStack, secret_arn: str) -> dict[str, dict]:
    """Role path -> the statement of its inline policy that allows GetSecretValue on the secret."""
    roles = {stack.ref("aws_iam_role", path): path for path in stack.resources("aws_iam_role")}
    readers = {}
    for body in stack.resources("aws_iam_role_policy").values():
        for s in json.loads(body["policy"])["Statement"]:
            resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            if s["Effect"] == "Allow" and "GetSecretValue" in str(s["Action"]) and \
                    (secret_arn in resources or "*" in resources):
                readers[roles[body["role"]]] = json.loads(body["policy"])
    return readers


def test_only_the_workloads_with_cache_access_may_read_the_url(external):
    # "Required IAM permissions for Amazon ECS secrets": the task execution role reads a secret
    # ECS injects, and kms:Decrypt on its customer managed key. Lambda has no injection: the
    # function's own role reads it ("Use Secrets Manager secrets in Lambda functions").
    arn = external.ref("aws_secretsmanager_secret", URL, "arn")
    readers = _readers(external, arn)
    # The seed services: only backend has cache access; both zip functions share api.access.
    assert sorted(readers) == ["api-function/role", "service-backend/execution-role",
                               "worker-function/role"]
    key = external.ref("aws_kms_key", "secrets-key/key", "arn")
    for path, policy in readers.items():
        [decrypt] = [s for s in policy["Statement"] if s["Action"] == "kms:Decrypt"
                     and s["Resource"] == key]
        assert decrypt["Condition"] == {"StringEquals": {
            "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}, path


def test_ecs_injects_the_url_and_the_functions_are_told_where_it_is(external):
    # "Pass Secrets Manager secrets through Amazon ECS environment variables": valueFrom is the
    # secret's full ARN.
    arn = external.ref("aws_secretsmanager_secret", URL, "arn")
    [backend] = json.loads(external.resource("aws_ecs_task_definition", "service-backend/task")
                           ["container_definitions"])
    assert {"name": "REDIS_URL", "valueFrom": arn} in backend["secrets"]
    assert not any(e["name"].startswith("REDIS_") for e in backend.get("environment", []))
    [frontend] = json.loads(external.resource("aws_ecs_task_definition", "service-frontend/task")
                            ["container_definitions"])
    assert arn not in json.dumps(frontend)
    for path in ("api-function/function", "worker-function/function"):
        variables = external.resource("aws_lambda_function", path)["environment"]["variables"]
        assert variables["REDIS_URL_SECRET_ARN"] == arn
        assert not any(k.startswith("REDIS_") and k != "REDIS_URL_SECRET_ARN"
                       for k in variables)


def test_the_app_tier_reaches_the_outside_redis_on_its_port_only(external):
    # "Security group rules - Amazon VPC": egress is denied unless a rule allows it. The URL's
    # host is on the internet (through NAT), on the port the provider gives.
    egress = app_tier_egress(external)
    assert ("0.0.0.0/0", 12000, 12000) in egress
    assert not any(port == 6379 for _, port, _ in egress)


def test_lambda_service_functions_read_the_url_themselves():
    # A service on Lambda goes through the same function_access as the zip functions.
    environment, statements = function_access(
        {}, {"STRIPE_KEY": "arn:stripe"}, "arn:key", "us-east-1", None,
        ExternalCacheAccess("arn:url"))
    assert environment == {"STRIPE_KEY_SECRET_ARN": "arn:stripe", "REDIS_URL_SECRET_ARN": "arn:url"}
    [read] = [s for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert sorted(read["Resource"]) == ["arn:stripe", "arn:url"]


# --- cache.enabled = false ----------------------------------------------------------------------

NO_CACHE = MINIMAL + """\
[cache]
enabled = false

[api]
access = ["database"]

[[services]]
name = "web"
kind = "web"
port = 8080
paths = ["/*"]
priority = 100
access = ["database", "media"]
"""


@pytest.fixture(scope="module")
def no_cache(tmp_path_factory) -> SynthStack:
    directory = tmp_path_factory.mktemp("no-cache")
    [stack] = synthesize(directory / "out", [write(directory, NO_CACHE)]).values()
    return stack


def test_no_cache_builds_nothing_of_a_cache(no_cache):
    assert elasticache(no_cache) == []
    assert elasticache_alarms(no_cache) == []
    assert not any(name.startswith("redis_") for name in no_cache.json["output"])
    assert not any(s["name"].endswith("/cache/url")
                   for s in no_cache.resources("aws_secretsmanager_secret").values())
    # No Redis port open anywhere; PostgreSQL stays.
    egress = app_tier_egress(no_cache)
    assert {port for _, port, _ in egress} == {443, 5432}
    assert "elasticache:Connect" not in json.dumps(no_cache.json)


def test_the_lean_profile_can_drop_its_serverless_cache(tmp_path):
    # The file turns the cache off: the profile's `serverless = true` is not carried over.
    config = load_environment(write(tmp_path, 'profile = "lean"\n' + MINIMAL + """\
[cache]
enabled = false

[[services]]
name = "api"
kind = "web"
port = 8080
paths = ["/*"]
access = ["database"]
"""))
    assert (config.cache.enabled, config.cache.serverless) == (False, False)


# --- the refusals ------------------------------------------------------------------------------

SERVICE_WITH_CACHE = """
[[services]]
name = "web"
kind = "web"
port = 8080
paths = ["/*"]
priority = 100
access = ["cache"]
"""


@pytest.mark.parametrize("extra, field", [
    ("serverless = true\n", "cache.serverless"),
    ('node_type = "cache.t4g.micro"\n', "cache.node_type"),
    ("max_data_storage_gb = 2\n", "cache.max_data_storage_gb"),
    ("external = true\n", "cache.external"),
    ("external_port = 6380\n", "cache.external_port"),
])
def test_settings_of_a_cache_are_refused_without_one(tmp_path, extra, field):
    line = refusal(tmp_path, NO_CACHE.replace("enabled = false\n", "enabled = false\n" + extra),
                   field)
    assert "enabled = false builds no cache" in line


@pytest.mark.parametrize("extra, field", [
    ("serverless = true\n", "cache.serverless"),
    ('node_type = "cache.t4g.micro"\n', "cache.node_type"),
    ("num_nodes = 2\n", "cache.num_nodes"),
    ('valkey_version = "8"\n', "cache.valkey_version"),
    ("snapshot_retention_days = 3\n", "cache.snapshot_retention_days"),
])
def test_elasticache_settings_are_refused_with_an_external_cache(tmp_path, extra, field):
    line = refusal(tmp_path, MINIMAL + "[cache]\nexternal = true\n" + extra, field)
    assert "external = true builds no ElastiCache" in line


def test_an_external_port_needs_an_external_cache(tmp_path):
    line = refusal(tmp_path, MINIMAL + '[cache]\nnode_type = "cache.t4g.micro"\nnum_nodes = 1\n'
                   "final_snapshot = false\nexternal_port = 6380\n", "cache.external_port")
    assert "set external = true" in line


def test_a_service_with_cache_access_is_refused_without_a_cache(tmp_path):
    text = NO_CACHE.replace('access = ["database", "media"]', 'access = ["database", "cache"]')
    assert "builds no cache" in refusal(tmp_path, text, "services.web.access")


def test_the_functions_cache_access_is_refused_without_a_cache(tmp_path):
    text = NO_CACHE.replace('[api]\naccess = ["database"]', '[api]\nenabled = true')
    assert "builds no cache" in refusal(tmp_path, text, "api.access")


def test_an_external_cache_without_nat_is_refused(tmp_path):
    # Lambda, ECS and App Runner's VPC connector reach the internet from private subnets only
    # through NAT ("Enable internet access for VPC-connected Lambda functions").
    text = MINIMAL + 'nat = "none"\n[cache]\nexternal = true\n' + SERVICE_WITH_CACHE
    assert "without NAT cannot reach" in refusal(tmp_path, text, "cache.external")


def test_a_secret_in_the_url_secrets_place_is_refused(tmp_path):
    text = MINIMAL + '[cache]\nexternal = true\n[[secrets]]\nname = "url"\nservice = "cache"\n' \
        + SERVICE_WITH_CACHE.replace('name = "web"', 'name = "cache"') + 'secrets = ["url"]\n'
    assert "rename it" in refusal(tmp_path, text, "secrets[0].name")


# --- cost and diagram --------------------------------------------------------------------------

def test_the_url_costs_one_secret_and_no_cache(external, no_cache):
    # "AWS Secrets Manager pricing": $0.40 per secret per month (pricing/us-east-1.toml); the
    # outside Redis is billed by its provider.
    prices = load_prices()
    with_url, without = (estimate(s.name, s.json, prices) for s in (external, no_cache))
    secrets = [i for i in with_url.items if i.item == "Secrets Manager secret"]
    assert [(i.quantity, i.monthly_usd) for i in secrets] == [(1, 0.40)]
    assert not [i for i in without.items if i.item == "Secrets Manager secret"]
    for result in (with_url, without):
        assert not [i for i in result.items if re.search(r"Redis|Valkey|ElastiCache", i.item)]


def test_the_diagram_draws_the_outside_redis_and_who_reaches_it(external, no_cache):
    drawn = mermaid(external.json)
    [node] = [line.split("[")[0].strip() for line in drawn.splitlines()
              if "Redis outside AWS" in line]
    sources = sorted(line.split("-->")[0].strip() for line in drawn.splitlines()
                     if line.strip().endswith(f'|"tcp 12000"| {node}'))
    assert [s.split("_")[0] + "_" + s.split("_")[1] for s in sources] == \
        ["ecs_service", "lambda_function", "lambda_function"]
    assert not re.search(r"Redis \d|Valkey", drawn)
    assert not re.search(r"Redis|Valkey", mermaid(no_cache.json))
