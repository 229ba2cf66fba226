"""Delivery, security and observability: remote state, backends, GitHub OIDC roles, workflows,
the account baseline, alarms and the dashboard."""

import json

import pytest

import contracts
from conftest import ROOT, SynthStack, run, synthesize
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
    assert fixture_stacks["full-stack"].json["terraform"]["backend"] == {"s3": {
        "bucket": "webplat-tfstate-123456789012", "key": "webplat/full.tfstate",
        "region": "us-east-1", "dynamodb_table": "webplat-tflock", "encrypt": True}}
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
    assert plan["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == \
        "repo:acme/webplat:pull_request"
    for statement in (deploy, plan):  # exact matches only: no StringLike, no wildcards
        assert list(statement["Condition"]) == ["StringEquals"]
        assert "*" not in json.dumps(statement["Condition"])


def policies(bootstrap: SynthStack, env: str) -> dict[str, list[dict]]:
    return {path.split("/")[1].removesuffix("-policy"): json.loads(body["policy"])["Statement"]
            for path, body in bootstrap.matching("aws_iam_policy", f"github-{env}/*").items()}


def deploy_statements(bootstrap: SynthStack, env: str) -> list[dict]:
    return [s for name, group in policies(bootstrap, env).items() if name != "plan" for s in group]


def decide(statements: list[dict], action: str, resource: str, context: dict | None = None) -> str:
    """IAM's answer for one request under an identity policy (contracts.decide, which the
    delivery contracts use too): "deny", "allow" or "implicit"."""
    return contracts.decide(statements, action, resource, context=context)


ACCOUNT = "arn:aws:iam::123456789012"
IN_REGION = {"aws:RequestedRegion": "us-east-1"}


def test_deploy_role_is_scoped_to_its_environment(bootstrap):
    statements = [s for name, group in policies(bootstrap, "staging").items()
                  if name not in ("plan", "guardrails") for s in group]
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["StateObject"]["Resource"][0].endswith("/webplat/staging.tfstate}") or \
        by_sid["StateObject"]["Resource"][0].endswith("/webplat/staging.tfstate")
    for sid, statement in by_sid.items():
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) \
            else [statement["Action"]]
        assert "*" not in actions, sid  # never every action of every service
        if sid.startswith("Named"):
            resources = statement["Resource"]
            assert all("webplat-staging" in r or "/webplat/staging/" in r for r in resources), sid
    assert by_sid["ServicesWithoutNameScopeInTheRegion"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": ["us-east-1"]}}
    assert by_sid["OwnKeysOnly"]["Condition"] == {
        "ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/webplat-staging-*"}}
    assert by_sid["NamedIamRoles"]["Resource"][0] == \
        "arn:aws:iam::123456789012:role/webplat-staging-*"
    # deploy needs ECR push, ECS deploy, S3 sync and CloudFront invalidation
    assert "ecr:*" in by_sid["NamedRepositories"]["Action"]
    assert "ecs:*" in by_sid["NamedEcs"]["Action"]
    assert "s3:*" in by_sid["NamedBuckets"]["Action"]
    assert "cloudfront:*" in by_sid["ServicesWithoutNameScopeInTheRegion"]["Action"]
    for name, group in policies(bootstrap, "staging").items():
        assert len(json.dumps({"Version": "2012-10-17", "Statement": group})) < 6144, name


def test_plan_role_reads_configuration_but_no_data(bootstrap):
    plan = {s["Sid"]: s for s in policies(bootstrap, "prod")["plan"]}
    assert plan["NoDataReads"]["Effect"] == "Deny"
    assert {"secretsmanager:GetSecretValue", "sqs:ReceiveMessage",
            "logs:GetLogEvents"} <= set(plan["NoDataReads"]["Action"])
    assert plan["NoObjectContentsButTheState"]["Effect"] == "Deny"
    assert plan["StateObject"]["Action"] == ["s3:GetObject"]  # plans never write state
    attached = {a["policy_arn"] for a in bootstrap.matching(
        "aws_iam_role_policy_attachment", "github-prod/plan-*").values()}
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in attached


def test_a_github_environment_and_the_branch_can_be_renamed(tmp_path):
    account = tmp_path / "account.toml"
    account.write_text((ROOT / "config" / "account.toml").read_text().replace(
        'repository = "acme/webplat"', 'repository = "acme/webplat"\nbranch = "release"'))
    out = synthesize(tmp_path / "out", [FIXTURES / "full.toml"], account=account)
    deploy = trust(out["bootstrap-stack"], "github-full/deploy-role")["Condition"]["StringEquals"]
    assert deploy["token.actions.githubusercontent.com:sub"] == \
        "repo:acme/webplat:environment:production"
    assert deploy["token.actions.githubusercontent.com:ref"] == "refs/heads/release"


def test_plan_role_can_refresh_and_lock_but_reads_no_data(bootstrap):
    plan = policies(bootstrap, "prod")["plan"]
    state = bootstrap.ref("aws_s3_bucket", "state/bucket/bucket", "arn")
    lock = bootstrap.ref("aws_dynamodb_table", "state/lock-table", "arn")
    # A deny wins over ReadOnlyAccess and over the lock allow: what plan needs must not match one.
    assert decide(plan, "lambda:GetFunction",
                  "arn:aws:lambda:us-east-1:123456789012:function:webplat-prod-api") == "implicit"
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"):
        assert decide(plan, action, lock) == "allow", action
    assert decide(plan, "s3:GetObject", f"{state}/webplat/prod.tfstate") == "allow"
    assert decide(plan, "ssm:GetParameters", "arn:aws:ssm:us-east-1::parameter/aws/service/"
                  "ami-amazon-linux-latest/al2023-ami-kernel-default-arm64") == "implicit"
    for action, resource in [
            ("secretsmanager:GetSecretValue",
             "arn:aws:secretsmanager:us-east-1:123456789012:secret:/webplat/prod/api/key-AbCdEf"),
            ("secretsmanager:GetSecretValue",
             "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbCdEf"),
            ("sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:webplat-prod-processing"),
            ("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/orders"),
            ("dynamodb:Scan", "arn:aws:dynamodb:us-east-1:123456789012:table/orders"),
            ("s3:GetObject", "arn:aws:s3:::webplat-prod-media-123456789012/uploads/a.jpg"),
            ("s3:GetObject", f"{state}/webplat/dev.tfstate"),
            ("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/db/password"),
            ("logs:GetLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/webplat/prod/x")]:
        assert decide(plan, action, resource) == "deny", (action, resource)


def test_deploy_role_cannot_change_any_github_role_or_its_policies(bootstrap):
    statements = deploy_statements(bootstrap, "staging")
    github_policies = [body["name"] for body in bootstrap.resources("aws_iam_policy").values()]
    assert "webplat-staging-github-regional" in github_policies
    for role in ("webplat-staging-github-deploy", "webplat-staging-github-plan",
                 "webplat-prod-github-deploy"):
        for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                       "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary",
                       "iam:TagRole", "iam:DeleteRole", "iam:PassRole"):
            assert decide(statements, action, f"{ACCOUNT}:role/{role}",
                          {"iam:PassedToService": "lambda.amazonaws.com"}) == "deny", (action, role)
    for policy in github_policies:
        for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
                       "iam:DeletePolicy"):
            assert decide(statements, action, f"{ACCOUNT}:policy/{policy}") == "deny", policy
    assert decide(statements, "iam:UpdateOpenIDConnectProviderThumbprint",
                  f"{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com") == "deny"
    # ...while the environment's own roles stay deployable
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                   "iam:DeleteRole", "iam:TagRole"):
        assert decide(statements, action, f"{ACCOUNT}:role/webplat-staging-backend-task") == \
            "allow", action


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
                                                       "prod"}) == "implicit"
    assert decide(statements, "rds:CreateDBInstance",
                  "arn:aws:rds:us-east-1:123456789012:og:default:postgres-16") == "allow"


def test_workflows_pass_actionlint():
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) >= 4
    result = run(["actionlint", *workflows], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_deploy_dev_then_gated_staging_and_prod():
    deploy = (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    assert deploy.index("environment: dev") < deploy.index("environment: staging") < \
        deploy.index("environment: prod")
    reusable = (ROOT / ".github" / "workflows" / "deploy-environment.yml").read_text()
    assert "environment: ${{ inputs.environment }}" in reusable
    assert "id-token: write" in reusable
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "make test" in ci and "cdktf diff" in ci


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
