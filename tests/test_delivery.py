"""Delivery, security and observability: remote state, backends, GitHub OIDC roles, workflows,
the account baseline, alarms and the dashboard."""

import json

import pytest
import yaml

import contracts
import iam_reference
from conftest import ROOT, SAMPLE, SynthStack, run, synthesize
from contracts import listed

FIXTURES = ROOT / "tests" / "fixtures"


def trust(stack: SynthStack, path: str) -> dict:
    [statement] = json.loads(stack.resource("aws_iam_role", path)["assume_role_policy"])[
        "Statement"]
    return statement


# --- remote state ----------------------------------------------------------------------------

def test_state_bucket_is_versioned_encrypted_private_and_tls_only(bootstrap):
    bucket = bootstrap.resource("aws_s3_bucket", "state/bucket/bucket")
    assert bucket["bucket"] == "webplat-tfstate-123456789012"
    ref = bootstrap.ref("aws_s3_bucket", "state/bucket/bucket")
    key = bootstrap.ref("aws_kms_key", "state-key/key", "arn")
    [sse] = [r for r in bootstrap.resources(
        "aws_s3_bucket_server_side_encryption_configuration").values() if r["bucket"] == ref]
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms", "kms_master_key_id": key}
    [versioning] = [v for v in bootstrap.resources("aws_s3_bucket_versioning").values()
                    if v["bucket"] == ref]
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    [block] = [b for b in bootstrap.resources("aws_s3_bucket_public_access_block").values()
               if b["bucket"] == ref]
    assert all(block[k] for k in ("block_public_acls", "block_public_policy",
                                  "ignore_public_acls", "restrict_public_buckets"))
    [lifecycle] = [x for x in bootstrap.resources("aws_s3_bucket_lifecycle_configuration")
                   .values() if x["bucket"] == ref]
    old_versions = {r["id"]: r for r in lifecycle["rule"]}["keep-old-state-90-days"]
    assert old_versions["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
    [policy] = [p for p in bootstrap.resources("aws_s3_bucket_policy").values()
                if p["bucket"] == ref]
    deny = json.loads(policy["policy"])["Statement"][0]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lock_table_has_pitr_and_encryption(bootstrap):
    table = bootstrap.resource("aws_dynamodb_table", "state/lock-table")
    assert (table["name"], table["hash_key"], table["billing_mode"]) == (
        "webplat-tflock", "LockID", "PAY_PER_REQUEST")
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {
        "enabled": True, "kms_key_arn": bootstrap.ref("aws_kms_key", "state-key/key", "arn")}
    assert table["deletion_protection_enabled"] is True


def test_bootstrap_keeps_its_own_state_local(bootstrap):
    assert bootstrap.json["terraform"]["backend"] == {
        "local": {"path": "../../../terraform.bootstrap-stack.tfstate"}}


def test_backend_blocks_per_kind(stacks, fixture_stacks):
    assert stacks["dev-stack"].json["terraform"]["backend"] == {
        "local": {"path": "../../../terraform.dev-stack.tfstate"}}
    # tests/fixtures/full.toml still names the lock table, as a state migrating from DynamoDB
    # locking does: both locks ("the S3 and DynamoDB arguments can be configured
    # simultaneously", Terraform docs, "Backend Type: s3").
    assert fixture_stacks["full-stack"].json["terraform"]["backend"] == {"s3": {
        "bucket": "webplat-tfstate-123456789012", "key": "webplat/full.tfstate",
        "region": "us-east-1", "dynamodb_table": "webplat-tflock", "use_lockfile": True}}
    # No `encrypt` without `kms_key`: Terraform's S3 backend then asks for SSE-S3 (AES256) on
    # every write, which overrides the bucket's default SSE-KMS with the state key ("Setting
    # default server-side encryption behavior for Amazon S3 buckets": a PUT that names an
    # encryption is stored with it); without it S3 applies the bucket's default.
    for stack in (*stacks.values(), *fixture_stacks.values()):
        s3 = stack.json["terraform"].get("backend", {}).get("s3")
        if s3 is not None:
            assert s3.get("encrypt") is (True if "kms_key_id" in s3 else None), stack.name
    assert fixture_stacks["lean-stack"].json["terraform"]["cloud"] == {
        "organization": "acme", "workspaces": {"name": "webplat-lean",
                                                "project": "Default Project"}}


def test_a_terraform_cloud_run_needs_only_the_synthesized_directory(fixture_stacks):
    lean = fixture_stacks["lean-stack"]
    for fn in lean.resources("aws_lambda_function").values():
        assert fn["filename"].startswith("assets/")  # relative, inside the stack directory
        assert (lean.directory / fn["filename"]).is_file()


# --- GitHub OIDC ------------------------------------------------------------------------------

@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_deploy_roles_trust_exactly_one_repository_and_environment(bootstrap, env):
    provider = bootstrap.resource("aws_iam_openid_connect_provider", "github-oidc")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    deploy = trust(bootstrap, f"github-{env}/deploy-role")
    assert deploy["Principal"] == {"Federated": bootstrap.ref(
        "aws_iam_openid_connect_provider", "github-oidc", "arn")}
    # the environment's jobs, and only on the configured branch (config/account.toml: main)
    assert deploy["Condition"] == {"StringEquals": {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": f"repo:acme/webplat:environment:{env}",
        "token.actions.githubusercontent.com:ref": "refs/heads/main"}}
    plan = trust(bootstrap, f"github-{env}/plan-role")
    # pull requests for dev only; staging's and prod's plans run on main (tests/test_isolation.py)
    assert plan["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == \
        ("repo:acme/webplat:pull_request" if env == "dev" else
         "repo:acme/webplat:ref:refs/heads/main")
    for statement in (deploy, plan):  # exact matches only: no StringLike, no wildcards
        assert list(statement["Condition"]) == ["StringEquals"]
        assert "*" not in json.dumps(statement["Condition"])


def policies(bootstrap: SynthStack, env: str) -> dict[str, list[dict]]:
    """The environment's delivery policies by name suffix (plan, boundary, deploy-*)."""
    return {path.split("/")[1]: json.loads(body["policy"])["Statement"]
            for path, body in bootstrap.matching("aws_iam_policy",
                                                 f"delivery-{env}/*").items()}


def deploy_statements(bootstrap: SynthStack, env: str) -> list[dict]:
    return [s for name, group in policies(bootstrap, env).items() if name.startswith("deploy")
            for s in group]


def decide(statements: list[dict], action: str, resource: str, context: dict | None = None) -> str:
    """IAM's answer for one request under an identity policy (contracts.decide, which the
    delivery contracts use too): "deny", "allow" or "implicit"."""
    return contracts.decide(statements, action, resource, context=context)


ACCOUNT = "arn:aws:iam::123456789012"
IN_REGION = {"aws:RequestedRegion": "us-east-1"}


def test_a_github_environment_and_the_branch_can_be_renamed(tmp_path):
    account = tmp_path / "account.toml"
    account.write_text((SAMPLE / "account.toml").read_text().replace(
        'repository = "acme/webplat"', 'repository = "acme/webplat"\nbranch = "release"'))
    out = synthesize(tmp_path / "out", [FIXTURES / "full.toml"], account=account,
                     environment_stacks=False)
    deploy = trust(out["bootstrap-stack"], "github-full/deploy-role")["Condition"]["StringEquals"]
    assert deploy["token.actions.githubusercontent.com:sub"] == \
        "repo:acme/webplat:environment:production"
    assert deploy["token.actions.githubusercontent.com:ref"] == "refs/heads/release"


def test_deploy_role_passes_roles_only_to_the_services_the_stacks_use(bootstrap, stacks,
                                                                      fixture_stacks):
    statements = deploy_statements(bootstrap, "staging")
    role = f"{ACCOUNT}:role/webplat-staging-backend-task"
    used = {service for stack in [*stacks.values(), *fixture_stacks.values()]
            for body in stack.resources("aws_iam_role").values()
            for statement in json.loads(body["assume_role_policy"])["Statement"]
            for service in listed(statement["Principal"].get("Service", []))}
    assert {"ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com",
            "scheduler.amazonaws.com", "tasks.apprunner.amazonaws.com"} <= used
    for service in used:
        assert decide(statements, "iam:PassRole", role,
                      {"iam:PassedToService": service}) == "allow", service
    for service in ("cloudformation.amazonaws.com", "codebuild.amazonaws.com",
                    "sagemaker.amazonaws.com"):
        assert decide(statements, "iam:PassRole", role,
                      {"iam:PassedToService": service}) == "deny", service
    assert decide(statements, "iam:PassRole", role) == "deny"  # no service named: no pass


def test_deploy_role_may_run_the_environments_one_off_tasks_and_follow_them(bootstrap):
    """images.yml runs a migration with the deploy role (tools/run_task.py). RunTask is
    authorized on the task definition, with the cluster as the `ecs:cluster` condition key, and
    passing the task's two roles to ecs-tasks (Service Authorization Reference, "Actions,
    resources, and condition keys for Amazon Elastic Container Service"; Amazon ECS Developer
    Guide, "Amazon ECS task execution IAM role")."""
    statements = deploy_statements(bootstrap, "staging")
    ecs = "arn:aws:ecs:us-east-1:123456789012"
    context = {"aws:RequestedRegion": "us-east-1",
               "ecs:cluster": f"{ecs}:cluster/webplat-staging-cluster"}
    assert decide(statements, "ecs:RunTask", f"{ecs}:task-definition/webplat-staging-migrate:7",
                  context) == "allow"
    assert decide(statements, "ecs:DescribeTasks",
                  f"{ecs}:task/webplat-staging-cluster/0123abcd", context) == "allow"
    for role in ("migrate-task", "migrate-execution"):
        assert decide(statements, "iam:PassRole", f"{ACCOUNT}:role/webplat-staging-{role}",
                      {"iam:PassedToService": "ecs-tasks.amazonaws.com"}) == "allow"
    # Another project's task definition: not the deploy role's.
    assert decide(statements, "ecs:RunTask", f"{ecs}:task-definition/other-staging-migrate:1",
                  context) != "allow"
    # Its own task in prod's cluster (prod's subnets and security groups, the one its database
    # admits), or in the account's default cluster (no cluster named): denied.
    for cluster in ({"ecs:cluster": f"{ecs}:cluster/webplat-prod-cluster"}, {}):
        for action in ("ecs:RunTask", "ecs:StartTask"):
            assert decide(statements, action, f"{ecs}:task-definition/webplat-staging-migrate:7",
                          {"aws:RequestedRegion": "us-east-1", **cluster}) == "deny", cluster


def test_deploy_role_assumes_no_other_role(bootstrap):
    statements = deploy_statements(bootstrap, "staging")
    for role in ("OrganizationAccountAccessRole", "webplat-staging-backend-task",
                 "webplat-prod-github-deploy"):
        assert decide(statements, "sts:AssumeRole", f"{ACCOUNT}:role/{role}", IN_REGION) == \
            "deny", role
    sts = {a for s in statements if s["Effect"] == "Allow" for a in listed(s.get("Action", []))
           if a.startswith("sts:")}
    assert sts == {"sts:GetCallerIdentity"}


def test_deploy_role_has_what_a_first_deploy_needs(bootstrap, stacks, fixture_stacks):
    statements = deploy_statements(bootstrap, "dev")
    # EC2 resolves `resolve:ssm:` image ids (NAT instance, ECS capacity) with the caller's rights
    images = {lt["image_id"].removeprefix("resolve:ssm:")
              for stack in (stacks["dev-stack"], fixture_stacks["full-stack"])
              for lt in stack.resources("aws_launch_template").values()
              if lt["image_id"].startswith("resolve:ssm:")}
    assert len(images) >= 2, images
    for parameter in images:
        assert decide(statements, "ssm:GetParameters",
                      f"arn:aws:ssm:us-east-1::parameter{parameter}") == "allow", parameter
    # RDS creates the master password secret (rds!...) as the caller, and never shows its value
    rds_secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbCdEf"
    for action in ("secretsmanager:CreateSecret", "secretsmanager:TagResource",
                   "secretsmanager:DeleteSecret"):
        assert decide(statements, action, rds_secret) == "allow", action
    assert decide(statements, "secretsmanager:GetSecretValue", rds_secret) == "implicit"
    # vended log deliveries (API access logs, Redis logs, WAF logs) set a log resource policy
    for action in ("logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                   "logs:CreateLogDelivery"):
        assert decide(statements, action, "*", IN_REGION) == "allow", action
    # a new key has no alias yet: its environment's tags let Terraform finish creating it
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    own = {"aws:ResourceTag/Project": "webplat", "aws:ResourceTag/Environment": "dev"}
    assert decide(statements, "kms:EnableKeyRotation", key, own) == "allow"
    assert decide(statements, "kms:CreateGrant", key, {**own, "aws:ResourceTag/Environment":
                                                       "prod"}) == "deny"  # the guardrail
    assert decide(statements, "rds:CreateDBInstance",
                  "arn:aws:rds:us-east-1:123456789012:og:default:postgres-16") == "allow"


# What Terraform does to a service's function under compute.platform = "lambda" (a container
# image; an alias `live` with provisioned concurrency; reserved concurrency; API Gateway's
# invoke permission; a worker's SQS event source mapping), what images.yml adds (publish, move the
# alias), and the repository policy that lets lambda.amazonaws.com pull. Lambda also checks that
# the caller of CreateFunction/UpdateFunctionCode may ecr:BatchGetImage and
# ecr:GetDownloadUrlForLayer on the image's repository (AWS Lambda Developer Guide, "Create a
# Lambda function using a container image", Amazon ECR permissions).
CONTAINER_FUNCTION_ACTIONS = (
    "lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionCodeSigningConfig", "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction", "lambda:TagResource",
    "lambda:ListTags", "lambda:PublishVersion", "lambda:ListVersionsByFunction",
    "lambda:CreateAlias", "lambda:GetAlias", "lambda:UpdateAlias", "lambda:DeleteAlias",
    "lambda:PutProvisionedConcurrencyConfig", "lambda:GetProvisionedConcurrencyConfig",
    "lambda:DeleteProvisionedConcurrencyConfig", "lambda:PutFunctionConcurrency",
    "lambda:GetFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:AddPermission",
    "lambda:RemovePermission", "lambda:GetPolicy", "lambda:CreateEventSourceMapping",
    "lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping",
    "lambda:DeleteEventSourceMapping", "ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy",
    "ecr:DeleteRepositoryPolicy", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_deploy_role_runs_container_image_functions_of_its_environment_only(bootstrap, env):
    """Each action on the resource types the Service Authorization Reference gives it ("Actions,
    resources, and condition keys for AWS Lambda": a provisioned concurrency config is authorized
    on the alias or version ARN, an event source mapping on its own; "... for Amazon Elastic
    Container Registry": a repository policy on the repository): allowed on the environment's
    function `<project>-<env>-<service>` and repository `<project>-<env>/<service>`, not on
    another environment's."""
    statements = deploy_statements(bootstrap, env)
    other = "prod" if env != "prod" else "dev"

    def requests(name: str, environment: str):
        act = iam_reference.action(name)
        kinds = [rt for rt in act.resource_types if rt.name in (
            "function", "function alias", "function version", "eventSourceMapping",
            "repository")]
        assert kinds or not act.resource_types, name
        for rt in kinds:
            context = {"aws:RequestedRegion": "us-east-1"}
            if iam_reference.supports(rt.condition_keys, "aws:ResourceTag/Environment"):
                context |= {"aws:ResourceTag/Project": "webplat",
                            "aws:ResourceTag/Environment": environment}
            separator = "/" if rt.name == "repository" else "-"  # <p>-<env>/<service>
            name = f"webplat-{environment}{separator}backend"
            yield iam_reference.fill(rt.arn, "aws", "us-east-1", "123456789012", name), context
        if not act.resource_types:  # created on "*": nothing of another environment's to name
            yield "*", {"aws:RequestedRegion": "us-east-1", "aws:RequestTag/Project": "webplat",
                        "aws:RequestTag/Environment": environment}

    for name in CONTAINER_FUNCTION_ACTIONS:
        for resource, context in requests(name, env):
            assert decide(statements, name, resource, context) == "allow", (name, resource)
        for resource, context in requests(name, other):
            if resource != "*":
                assert decide(statements, name, resource, context) != "allow", (name, resource)
            else:  # the guardrail: nothing created with another environment's tags
                assert decide(statements, name, resource, context) == "deny", name


def test_workflows_pass_actionlint():
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) >= 4
    result = run(["actionlint", *workflows], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def test_workflows_deploy_dev_then_gated_staging_and_prod():
    jobs = workflow("deploy.yml")["jobs"]
    assert [jobs[e]["with"]["environment"] for e in ("dev", "staging", "prod")] == \
        ["dev", "staging", "prod"]
    assert (jobs["staging"]["needs"], jobs["prod"]["needs"]) == ("dev", "staging")
    # staging and prod are planned on main first (their plan roles trust main only); dev's plan
    # role takes pull requests, where ci.yml plans it
    assert {e: jobs[e]["with"]["plan_first"] for e in jobs} == {
        "dev": False, "staging": True, "prod": True}
    reusable = workflow("deploy-environment.yml")["jobs"]
    assert reusable["deploy"]["environment"] == "${{ inputs.environment }}"
    assert reusable["deploy"]["needs"] == "plan"
    assert "environment" not in reusable["plan"]  # its token's sub is repo:<repo>:ref:<main>
    ci = workflow("ci.yml")["jobs"]
    assert "make test" in json.dumps(ci["test"])
    assert ci["plan"]["strategy"]["matrix"]["env"] == ["dev"]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / ".github" / "workflows").glob(
    "*.yml")))
def test_every_workflow_that_applies_refuses_a_local_backend_first(name):
    """A runner's files are gone when its job ends: a local state file with them, and the next
    run would create every resource again. Each job that runs `cdktf deploy` checks the backend
    before it gets any AWS credentials."""
    for job in workflow(name)["jobs"].values():
        steps = [json.dumps(step) for step in job.get("steps", [])]
        deploys = [i for i, step in enumerate(steps) if "cdktf deploy" in step]
        if not deploys:
            continue
        checks = [i for i, step in enumerate(steps) if "tools/check_backend.py" in step]
        credentials = [i for i, step in enumerate(steps) if "configure-aws-credentials" in step]
        assert checks and checks[0] < min(credentials + deploys), name


def test_the_backend_check_refuses_local_state_in_one_line(capsys):
    from tools import check_backend  # reads the session's config/, the sample, whose dev is local
    assert check_backend.main(["dev"]) == 2
    refused = capsys.readouterr()
    assert refused.out == "" and refused.err.count("\n") == 1
    assert refused.err.startswith('tests/fixtures/sample/dev.toml: backend.kind: "local" keeps the '
                                  'state')
    assert check_backend.main(["prod"]) == 0
    assert check_backend.main(["qa"]) == 2
    assert "tests/fixtures/sample/qa.toml" in capsys.readouterr().err


# --- one account per environment -----------------------------------------------------------------

ACCOUNT_ID, PROD_ACCOUNT = "123456789012", "210987654321"


def test_an_account_per_environment_gets_its_own_bootstrap_with_only_its_roles(tmp_path):
    """README "Accounts": dev and staging in one account (config/account.toml), prod in another
    (config/account-prod.toml). Each bootstrap stack holds the state, boundary and roles of its
    own account's environments only, and prod's roles live where prod does."""
    prod = tmp_path / "prod.toml"
    prod.write_text((SAMPLE / "prod.toml").read_text().replace(ACCOUNT_ID, PROD_ACCOUNT))
    account_prod = tmp_path / "account-prod.toml"
    account_prod.write_text((SAMPLE / "account.toml").read_text().replace(
        ACCOUNT_ID, PROD_ACCOUNT))
    out = synthesize(tmp_path / "out", [SAMPLE / "dev.toml",
                                        SAMPLE / "staging.toml", prod],
                     account=[SAMPLE / "account.toml", account_prod])
    shared, own = out["bootstrap-stack"], out["bootstrap-prod-stack"]
    for stack, envs in ((shared, {"dev", "staging"}), (own, {"prod"})):
        roles = {body["name"] for body in stack.resources("aws_iam_role").values()
                 if "github" in body["name"]}
        assert roles == {f"webplat-{e}-github-{k}" for e in envs for k in ("plan", "deploy")}
    assert own.resource("aws_s3_bucket", "state/bucket/bucket")["bucket"] == \
        f"webplat-tfstate-{PROD_ACCOUNT}"
    assert own.json["terraform"]["backend"]["local"]["path"].endswith(
        "terraform.bootstrap-prod-stack.tfstate")
    assert {body["permissions_boundary"] for body in
            out["prod-stack"].resources("aws_iam_role").values()} == {
        f"arn:aws:iam::{PROD_ACCOUNT}:policy/webplat-prod-boundary"}


def test_two_account_files_for_one_account_are_refused(tmp_path, monkeypatch):
    from lib.config import ConfigError, loader
    for name in ("account.toml", "account-prod.toml"):
        (tmp_path / name).write_text((SAMPLE / "account.toml").read_text())
    monkeypatch.setattr(loader, "CONFIG_DIR", tmp_path)
    with pytest.raises(ConfigError) as err:
        loader.load_accounts()
    assert str(err.value).count("\n") == 0
    assert f"account_id: {ACCOUNT_ID} is already bootstrapped by" in str(err.value)


# --- baseline -----------------------------------------------------------------------------------

def test_account_baseline(bootstrap):
    trail = bootstrap.resource("aws_cloudtrail", "baseline/trail")
    assert trail["is_multi_region_trail"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["kms_key_id"] == bootstrap.ref("aws_kms_key", "audit-key/key", "arn")
    state = bootstrap.ref("aws_s3_bucket", "state/bucket/bucket", "arn")
    assert trail["event_selector"][0]["data_resource"][0]["values"] == [f"{state}/"]
    assert bootstrap.resource("aws_guardduty_detector", "baseline/guardduty")["enable"] is True
    recorder = bootstrap.resource("aws_config_configuration_recorder", "baseline/config-recorder")
    assert recorder["recording_group"]["all_supported"] is True
    status = bootstrap.resource("aws_config_configuration_recorder_status", "baseline/config-on")
    assert status["is_enabled"] is True
    session = json.loads(bootstrap.resource("aws_ssm_document",
                                            "baseline/session-preferences")["content"])
    assert session["inputs"]["s3EncryptionEnabled"] is True


# --- observability ---------------------------------------------------------------------------

def alarms(stack: SynthStack) -> dict[str, dict]:
    return {a["alarm_name"]: a for a in stack.resources("aws_cloudwatch_metric_alarm").values()}


@pytest.mark.parametrize("name", ["dev-stack", "staging-stack", "prod-stack"])
def test_alarms_cover_every_service_queue_and_store_and_go_to_alerts(stacks, name):
    stack = stacks[name]
    p = f"webplat-{name.removesuffix('-stack')}"
    found = alarms(stack)
    expected = {f"{p}-{svc}-{kind}" for svc in ("frontend", "backend")
                for kind in ("cpu", "memory", "unhealthy", "5xx", "p99")}
    expected |= {f"{p}-db-{k}" for k in ("cpu", "free-storage", "connections")}
    expected |= {f"{p}-{q}-oldest-message" for q in ("processing", "email")}
    expected |= {f"{p}-{q}-dlq-not-empty" for q in ("processing", "email")}
    expected |= {f"{p}-{fn}-{m}" for fn in ("api", "worker") for m in ("errors", "throttles")}
    expected |= {f"{p}-redis-001-{k}" for k in ("memory", "evictions", "cpu")}
    expected |= {f"{p}-http-api-5xx"}
    assert expected <= set(found)
    topic = stack.ref("aws_sns_topic", "messaging/alerts-topic", "arn")
    for name, alarm in found.items():
        if all("aws_appautoscaling_policy." in a for a in alarm["alarm_actions"]):
            continue  # a step-scaling trigger (a worker's queue backlog), not a notification
        assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic], name
    cpu = found[f"{p}-backend-cpu"]
    assert (cpu["threshold"], cpu["evaluation_periods"], cpu["comparison_operator"]) == (
        80, 2, "GreaterThanThreshold")
    dlq = found[f"{p}-processing-dlq-not-empty"]
    assert (dlq["threshold"], dlq["dimensions"]) == (0, {"QueueName": f"{p}-processing-dlq"})
    storage = found[f"{p}-db-free-storage"]
    allocated = stack.resource("aws_db_instance", "database/primary")["allocated_storage"]
    assert storage["threshold"] == allocated * 1024 ** 3 * 0.10
    assert storage["comparison_operator"] == "LessThanThreshold"


def test_replica_lag_is_watched_when_there_is_a_replica(stacks, fixture_stacks):
    assert "webplat-full-db-replica-lag" in alarms(fixture_stacks["full-stack"])
    assert not [a for a in alarms(stacks["prod-stack"]) if a.endswith("replica-lag")]


def test_dashboard_is_valid_json_naming_real_resources(prod):
    dashboard = prod.resource("aws_cloudwatch_dashboard", "observability/dashboard")
    body = json.loads(dashboard["dashboard_body"])
    named = json.dumps(body)
    assert dashboard["dashboard_name"] == "webplat-prod"
    for resource in ("webplat-prod-backend", "webplat-prod-frontend", "webplat-prod-cluster",
                     "webplat-prod-db", "webplat-prod-redis-003", "webplat-prod-processing-dlq",
                     "webplat-prod-api", prod.ref("aws_apigatewayv2_api", "http-api/api")):
        assert resource in named, resource
    ecs_names = {s["name"] for s in prod.resources("aws_ecs_service").values()}
    assert {"webplat-prod-frontend", "webplat-prod-backend"} <= ecs_names
    assert {w["properties"]["title"] for w in body["widgets"]} >= {
        "Service webplat-prod-backend", "Database", "Redis", "Queues", "Functions", "HTTP API"}


def test_otel_sidecar_when_switched_on(fixture_stacks):
    full = fixture_stacks["full-stack"]
    task = full.resource("aws_ecs_task_definition", "service-backend/task")
    app, collector = json.loads(task["container_definitions"])
    assert collector["name"] == "otel-collector" and collector["essential"] is False
    assert {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://localhost:4317"} in \
        app["environment"]
    statements = json.loads(full.resource("aws_iam_role_policy",
                                          "service-backend/task-role-policy")["policy"])
    assert "xray:PutTraceSegments" in next(s for s in statements["Statement"]
                                           if s["Sid"] == "OtelTraces")["Action"]
