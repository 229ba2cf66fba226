"""Contract: every name the stacks carry is one AWS takes.

Neither checkov nor moto checks name lengths, and `terraform plan` does not either: a 33-character
load balancer name fails only at `apply`. The rules (resource type, name attribute, maximum
length, allowed characters, the documentation page) live in one table, `lib.config.names.LIMITS`;
this file checks

- every name in every synthesized stack (`stacks`, `bootstrap`, `presets`) against it, and that
  the table covers every literal name the stacks carry;
- the LONGEST values the config accepts: a 20-character project, the longest environment the
  config then takes, the longest service, queue, topic, schedule, secret and surface names it
  takes, on ECS with every feature on and on App Runner, synthesized and checked the same way;
  one character more is refused on the field that breaks it, in one line that says how long it
  may be;
- that the names the config predicts (`generated_names`, what its length rules are worked out
  from) are the names the constructs really generate.
"""

from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE, SynthStack, synthesize
from lib.config import ConfigError, load_environment
from lib.config.names import LIMIT_BY_NAME, LIMITS, generated_names, name_problem

# Attributes that name a resource. A literal value of one of these in a stack must have a rule
# in LIMITS, unless it is listed here with the reason it needs none.
NAME_ATTRIBUTES = ("name", "name_prefix", "identifier", "replication_group_id", "function_name",
                   "family", "bucket", "dashboard_name", "alarm_name", "domain", "user_id",
                   "user_group_id", "final_snapshot_identifier", "service_name",
                   "vpc_connector_name", "auto_scaling_configuration_name")
NOT_NAMES = {
    ("aws_apigatewayv2_stage", "name"): "always `$default`, the HTTP API's default stage",
    ("aws_ssm_document", "name"): "AWS's own SSM-SessionManagerRunShell document",
    ("aws_route53_zone", "name"): "a DNS name from the config, checked by the DomainName type",
    ("aws_route53_record", "name"): "a DNS name from the config, checked by the DomainName type",
    ("aws_eip", "domain"): "the literal `vpc`, not a name",
    ("aws_db_parameter_group", "family"): "the engine family (`postgres16`), not a name",
    ("aws_elasticache_parameter_group", "family"): "the engine family (`redis7`), not a name",
    ("aws_elasticache_parameter_group", "name"): "CreateCacheParameterGroup documents no limit",
    ("aws_elasticache_user", "user_name"): "CreateUser documents no limit or pattern",
    ("aws_elasticache_replication_group", "final_snapshot_identifier"):
        "DeleteReplicationGroup and CreateSnapshot document no limit or pattern; the group id's "
        "own (40 characters) keeps `<group id>-final` to 46",
    ("aws_vpc_endpoint", "service_name"): "an AWS service name, not ours",
    ("aws_elasticache_serverless_cache", "user_group_id"):
        "a reference to the aws_elasticache_user_group of the same name, checked there",
}


def names_in(stack: SynthStack) -> list[tuple[str, str, str]]:
    """(type, attribute, value) of every literal name in a stack."""
    found = []
    for type_, bodies in stack.json.get("resource", {}).items():
        for body in bodies.values():
            for attribute in NAME_ATTRIBUTES:
                value = body.get(attribute)
                if isinstance(value, str) and "${" not in value:
                    found.append((type_, attribute, value))
    return found


def check(stack: SynthStack) -> tuple[int, list[str]]:
    """(names checked, problems) of one stack."""
    checked, problems = 0, []
    for type_, attribute, value in names_in(stack):
        if (type_, attribute) in NOT_NAMES:
            continue
        if (type_, attribute) not in LIMIT_BY_NAME:
            problems.append(f"{stack.name}: {type_}.{attribute} '{value}' has no rule in LIMITS")
            continue
        checked += 1
        problem = name_problem(type_, attribute, value)
        if problem:
            problems.append(f"{stack.name}: {problem}")
    return checked, problems


# --- the limit check itself ------------------------------------------------------------------

def test_the_limit_check_refuses_a_name_one_character_too_long():
    assert name_problem("aws_lb", "name", "a" * 32) is None
    problem = name_problem("aws_lb", "name", "a" * 33)
    assert problem == (f"'{'a' * 33}' is 33 characters; aws_lb.name takes 1-32 "
                       "(CreateLoadBalancer - Elastic Load Balancing)")
    assert "is 41 characters" in name_problem("aws_elasticache_replication_group",
                                              "replication_group_id", "r" * 41)


def test_the_limit_check_refuses_characters_aws_does_not_take():
    assert "does not take" in name_problem("aws_lb", "name", "shop-dev-alb-")
    assert "does not take" in name_problem("aws_lb", "name", "internal-shop")
    assert "does not take" in name_problem("aws_s3_bucket", "bucket", "Shop-dev-logs")
    assert "does not take" in name_problem("aws_db_instance", "identifier", "shop--db")
    assert "does not take" in name_problem("aws_kms_alias", "name", "alias/aws/shop")


def test_every_rule_names_its_documentation_page_and_a_sane_limit():
    assert len(LIMITS) == len(LIMIT_BY_NAME), "one rule per (type, attribute)"
    for limit in LIMITS:
        assert limit.page.strip() and limit.pattern
        assert limit.max_length is None or limit.min_length <= limit.max_length <= 512


# --- every synthesized stack -----------------------------------------------------------------

def test_every_name_in_the_shipped_stacks_and_bootstrap_fits(stacks, bootstrap):
    total, problems = 0, []
    for stack in [*stacks.values(), bootstrap]:
        checked, found = check(stack)
        total, problems = total + checked, problems + found
    assert not problems, "\n".join(problems)
    assert total > 300


def test_every_name_in_every_preset_fits(presets):
    total, problems = 0, []
    for stack in presets.values():
        checked, found = check(stack)
        total, problems = total + checked, problems + found
    assert not problems, "\n".join(problems)
    assert total > 300


# --- the longest values the config accepts ---------------------------------------------------

PROJECT = "abcdefghij-klmnopqrs"  # 20 characters, the longest project the config takes
ACCOUNT = f"""\
project = "{PROJECT}"
account_id = "123456789012"
region = "us-east-1"

[github]
repository = "acme/{PROJECT}"
"""


def ecs_config(env: str, web: str = "ww", worker: str = "kk", queue: str = "qq",
               topic: str = "tt", job: str = "jj", secret: str = "ss", surface: str = "ff") -> str:
    """Every feature on, with the names given: HTTPS, CloudFront and WAF, EC2 capacity, a read
    replica, the API and both functions, a schedule, a secret, a surface."""
    return f"""\
project = "{PROJECT}"
environment = "{env}"
profile = "prod"
account_id = "123456789012"
region = "us-east-1"

[network]
cidr = "10.4.0.0/16"

[compute]
capacity = "mixed"
[compute.ec2]
instance_type = "t4g.medium"

[ingress]
domain = "app.example.com"
zone_delegated = true  # a zone of its own, past its first phase: every HTTPS name exists

[edge]
cloudfront = true
waf = true

[storage]
surfaces = ["{surface}"]

[database]
read_replica = true

[auth]
callback_urls = ["https://app.example.com/callback"]

[api]
worker_queue = "{queue}"
secrets = ["{secret}"]

[[messaging.queues]]
name = "{queue}"
[[messaging.topics]]
name = "alerts"
[[messaging.topics]]
name = "{topic}"

[[schedules]]
name = "{job}"
expression = "rate(1 hour)"
target = "service:{worker}"

[[secrets]]
name = "{secret}"
service = "api"

[[services]]
name = "{web}"
port = 8080
paths = ["/*"]
priority = 10

[[services]]
name = "{worker}"
kind = "worker"
capacity = "ec2"
"""


def lean_config(env: str, cidr: str) -> str:
    """The head of a lean-profile file with the 20-character project."""
    return f"""\
project = "{PROJECT}"
environment = "{env}"
profile = "lean"
account_id = "123456789012"
region = "us-east-1"

[network]
cidr = "{cidr}"
"""


def apprunner_config(env: str, web: str = "ww") -> str:
    return lean_config(env, "10.5.0.0/16") + f"""
[compute]
platform = "apprunner"

[[services]]
name = "{web}"
port = 8080
"""


def lambda_config(env: str, web: str = "ww", worker: str = "kk") -> str:
    return lean_config(env, "10.6.0.0/16") + f"""
[compute]
images_pushed = true

[[messaging.queues]]
name = "jobs"

[[services]]
name = "{web}"
port = 8080
paths = ["/*"]

[[services]]
name = "{worker}"
kind = "worker"
port = 8080
queue = "jobs"
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shared/worker:1"
"""


def refused(path: Path, text: str) -> list[str] | None:
    path.write_text(text)
    try:
        load_environment(path)
    except ConfigError as err:
        return err.problems
    return None


def longest(tmp_path: Path, text_for, field: str, letter: str, top: int = 20) -> str:
    """The longest value (`letter` repeated) the config takes for one field, found by loading;
    one more character must be refused on that field, in one line that names that length."""
    path = tmp_path / "longest.toml"
    for n in range(top, 1, -1):  # names are 2-20 characters (the Slug type)
        value = letter * n
        if refused(path, text_for(value)) is None:
            break
    else:
        pytest.fail(f"no value of {field} is accepted")
    if n < top:
        (line,) = refused(path, text_for(letter * (n + 1)))
        assert line.startswith(f"{path}: {field.format(letter * (n + 1))}: "), line
        assert line.endswith(f"may be at most {n} characters"), line
    return value


@pytest.fixture(scope="module")
def longest_values(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("longest")
    env = longest(tmp, lambda v: ecs_config(v), "environment", "e")
    return {
        "env": env,
        "web": longest(tmp, lambda v: ecs_config(env, web=v), "services.{}.name", "w"),
        "worker": longest(tmp, lambda v: ecs_config(env, worker=v), "services.{}.name", "k"),
        "queue": longest(tmp, lambda v: ecs_config(env, queue=v), "messaging.queues.{}.name",
                         "q"),
        "topic": longest(tmp, lambda v: ecs_config(env, topic=v), "messaging.topics.{}.name",
                         "t"),
        "job": longest(tmp, lambda v: ecs_config(env, job=v), "schedules.{}.name", "j"),
        "secret": longest(tmp, lambda v: ecs_config(env, secret=v), "secrets.{}.name", "s"),
        "surface": longest(tmp, lambda v: ecs_config(env, surface=v), "storage.surfaces", "f"),
        "apprunner_web": longest(tmp, lambda v: apprunner_config("a" * len(env), web=v),
                                 "services.{}.name", "w"),
        "lambda_web": longest(tmp, lambda v: lambda_config("l" * len(env), web=v),
                              "services.{}.name", "w"),
        "lambda_worker": longest(tmp, lambda v: lambda_config("l" * len(env), worker=v),
                                 "services.{}.name", "k"),
    }


def test_the_longest_values_are_what_the_limits_leave(longest_values):
    """With a 20-character project: `<project>-<env>-alb` in 32 leaves 7 for the environment;
    a web service's target group `<prefix>-<name>` in 32 leaves 3; an App Runner auto scaling
    configuration `<prefix>-<name>` in 32 leaves 3; a surface's bucket
    `<prefix>-<surface>-assets-<account>` in 63 leaves 14; the rest reach the 20 a name may have
    (a Lambda service's role `<prefix>-<name>-function` in 64 leaves 26)."""
    lengths = {k: len(v) for k, v in longest_values.items()}
    assert lengths == {"env": 7, "web": 3, "worker": 20, "queue": 20, "topic": 20, "job": 20,
                       "secret": 20, "surface": 14, "apprunner_web": 3, "lambda_web": 20,
                       "lambda_worker": 20}


@pytest.fixture(scope="module")
def longest_files(tmp_path_factory, longest_values) -> dict[str, Path]:
    """The longest-values environment files, by the stack they make."""
    tmp = tmp_path_factory.mktemp("longest-files")
    v = longest_values
    ecs = tmp / "ecs.toml"
    ecs.write_text(ecs_config(v["env"], v["web"], v["worker"], v["queue"], v["topic"], v["job"],
                              v["secret"], v["surface"]))
    apprunner = tmp / "apprunner.toml"
    apprunner.write_text(apprunner_config("a" * len(v["env"]), v["apprunner_web"]))
    functions = tmp / "lambda.toml"
    functions.write_text(lambda_config("l" * len(v["env"]), v["lambda_web"], v["lambda_worker"]))
    return {f"{'e' * len(v['env'])}-stack": ecs, f"{'a' * len(v['env'])}-stack": apprunner,
            f"{'l' * len(v['env'])}-stack": functions}


@pytest.fixture(scope="module")
def longest_stacks(tmp_path_factory, longest_files) -> dict[str, SynthStack]:
    tmp = tmp_path_factory.mktemp("longest-out")
    account = tmp / "account.toml"
    account.write_text(ACCOUNT)
    return synthesize(tmp / "out", list(longest_files.values()), account=account)


def test_every_name_fits_with_the_longest_values_the_config_accepts(longest_stacks):
    assert sorted(longest_stacks) == ["aaaaaaa-stack", "bootstrap-stack", "eeeeeee-stack",
                                      "lllllll-stack"]
    total, problems = 0, []
    for stack in longest_stacks.values():
        checked, found = check(stack)
        total, problems = total + checked, problems + found
    assert not problems, "\n".join(problems)
    assert total > 150


def test_the_names_the_config_predicts_are_the_names_synthesized(longest_stacks, longest_files,
                                                                 stacks, presets):
    """generated_names mirrors the constructs' naming; the config's length rules come from it."""
    cases = [(SAMPLE / f"{env}.toml", stacks[f"{env}-stack"])
             for env in ("dev", "staging", "prod")]
    cases += [(ROOT / "examples" / f"{name}.toml", stack) for name, stack in presets.items()]
    cases += [(path, longest_stacks[name]) for name, path in longest_files.items()]
    predicted = 0
    for path, stack in cases:
        synthesized = set(names_in(stack))
        names = generated_names(load_environment(path))
        missing = [n for n in names if (n.type, n.attribute, n.value) not in synthesized]
        assert not missing, (stack.name, missing)
        predicted += len(names)
    assert predicted > 500
