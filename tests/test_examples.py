"""The seed presets (examples/*.toml): each real-world design in the seeds is reproducible from one
config file. Every preset is synthesized once per session, and each seed's headline numbers are
read back from the synthesized JSON (see examples/README.md for what each preset covers)."""

import json

import pytest

from conftest import ROOT, SynthStack, synthesize
from lib.config import catalog, read_environment_file

EXAMPLES = ROOT / "examples"
# preset -> the seed it reproduces, by its number (examples/README.md names each seed)
PRESETS = {
    "mirama": "000",
    "fastify-monorepo": "001",
    "mobilytics": "002",
    "portfolio": "003",
    "portfolio-prod": "003",
    "rayman": "004",
    "rayman-staging": "004",
    "rayman-dev": "004",
}


@pytest.fixture(scope="session")
def portfolio(presets) -> SynthStack:
    return presets["portfolio"]


@pytest.fixture(scope="session")
def mobilytics(presets) -> SynthStack:
    return presets["mobilytics"]


@pytest.fixture(scope="session")
def fastify(presets) -> SynthStack:
    return presets["fastify-monorepo"]


@pytest.fixture(scope="session")
def mirama(presets) -> SynthStack:
    return presets["mirama"]


# --- helpers ----------------------------------------------------------------------------------

def only(stack: SynthStack, type_: str, path: str | None = None) -> dict:
    found = stack.resources(type_)
    if path is not None:
        return stack.resource(type_, path)
    assert len(found) == 1, f"{stack.name}: expected one {type_}, have {sorted(found)}"
    return next(iter(found.values()))


def subnet_cidrs(stack: SynthStack, tier: str) -> list[tuple[str, str]]:
    """(availability zone, CIDR) of a tier's subnets, in AZ order."""
    return sorted((s["availability_zone"], s["cidr_block"])
                  for s in stack.resources("aws_subnet").values() if s["tags"]["Tier"] == tier)


def route(stack: SynthStack, service: str) -> tuple[dict, dict]:
    """A web service's listener rule and the target group it forwards to, followed by reference."""
    rule = stack.resource("aws_lb_listener_rule", f"service-{service}/route")
    (action,) = rule["action"]
    assert action["type"] == "forward"
    logical_id = action["target_group_arn"].removeprefix("${aws_lb_target_group.").split(".")[0]
    type_, path = stack.locate(logical_id)
    assert type_ == "aws_lb_target_group"
    return rule, stack.resource(type_, path)


def scaling(stack: SynthStack, service: str) -> tuple[int, int]:
    target = stack.resource("aws_appautoscaling_target", f"service-{service}/scaling-target")
    return target["min_capacity"], target["max_capacity"]


def task_size(stack: SynthStack, service: str) -> tuple[str, str]:
    task = stack.resource("aws_ecs_task_definition", f"service-{service}/task")
    return task["cpu"], task["memory"]


def bucket_names(stack: SynthStack) -> set[str]:
    return {b["bucket"] for b in stack.resources("aws_s3_bucket").values()}


def current_minor_of(seed: str, seed_version: str) -> str:
    """The PostgreSQL version a preset pins for a seed's literal minor. Seeds 003 and 004 pin minors
    RDS no longer creates (16.3, 15.4: retired in 2025), and a preset must deploy today, so it pins
    the newest minor of the seed's major from the dated catalog (pricing/aws-catalog.toml); RDS
    upgrades minors within a major by itself, so this is what the seed's database runs now. The
    check stays tied to the seed: each of its presets says, beside the version it pins, which one
    the seed names (in its file or one it extends), and the major must be the seed's."""
    for preset in (p for p, s in PRESETS.items() if s == seed):
        chain = read_environment_file(ROOT / "examples" / f"{preset}.toml").chain
        text = "".join(path.read_text() for path in chain)
        assert f"seed {seed}: PostgreSQL {seed_version}," in text, (preset, seed_version)
    major = int(seed_version.split(".")[0])
    assert major in catalog.POSTGRES, f"seed {seed}'s major {major} is past standard support"
    return catalog.newest_postgres_minor(major)


def maxmemory_policy(stack: SynthStack) -> str:
    (parameter,) = only(stack, "aws_elasticache_parameter_group")["parameter"]
    assert parameter["name"] == "maxmemory-policy"
    return parameter["value"]


# --- every preset -----------------------------------------------------------------------------

def test_every_seed_has_a_preset(presets):
    # the five seed designs examples/README.md names, 000 to 004
    assert sorted(set(PRESETS.values())) == ["000", "001", "002", "003", "004"]
    # examples/ may hold more than the seed presets (e.g. lean.toml); each one synthesizes
    assert set(PRESETS) <= set(presets)


def test_presets_are_not_environments_of_this_project(monkeypatch):
    """examples/ is never picked up by the default synth (config/*.toml only)."""
    from lib.config import CONFIG_DIR, ENV_CONFIG_FILES, config_paths

    monkeypatch.delenv(ENV_CONFIG_FILES, raising=False)
    assert config_paths() and all(p.parent == CONFIG_DIR for p in config_paths())


def test_the_readme_covers_every_preset():
    readme = (EXAMPLES / "README.md").read_text()
    for name, seed in PRESETS.items():
        assert f"examples/{name}.toml" in readme, name
        assert f"Seed {seed}" in readme, seed


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_synthesizes_for_its_project_and_the_placeholder_account(presets, name):
    stack = presets[name]
    project = name.removesuffix("-dev").removesuffix("-staging").removesuffix("-prod")
    for provider in stack.json["provider"]["aws"]:
        assert provider["allowed_account_ids"] == ["123456789012"]
        # An aliased provider is another Region's: AWS Chatbot's us-east-2 (a topic's `slack`),
        # CloudFront's us-east-1, a backup copy's (`database.backup_copy_region`).
        assert provider["region"] == provider.get("alias", "us_east_1").replace("_", "-")
        assert provider["default_tags"][0]["tags"]["Project"] == project


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_keeps_data_stores_private_and_encrypted(presets, name):
    stack = presets[name]
    for db in stack.resources("aws_db_instance").values():
        assert db["publicly_accessible"] is False and db["storage_encrypted"] is True
    group = only(stack, "aws_elasticache_replication_group")
    assert group["transit_encryption_mode"] == "required"


# --- seed 003: Portfolio (dev) ----------------------------------------------------------------

def test_portfolio_network_is_the_seeds_two_az_layout(portfolio):
    assert only(portfolio, "aws_vpc")["cidr_block"] == "10.0.0.0/16"
    assert subnet_cidrs(portfolio, "public") == [("us-east-1a", "10.0.1.0/24"),
                                                 ("us-east-1b", "10.0.2.0/24")]
    assert subnet_cidrs(portfolio, "private") == [("us-east-1a", "10.0.10.0/24"),
                                                  ("us-east-1b", "10.0.11.0/24")]
    # one NAT gateway per AZ, each in its AZ's public subnet
    nats = portfolio.resources("aws_nat_gateway")
    assert sorted(nats) == ["network/nat-a", "network/nat-b"]
    assert nats["network/nat-a"]["subnet_id"] == portfolio.ref("aws_subnet", "network/public-a")
    assert nats["network/nat-b"]["subnet_id"] == portfolio.ref("aws_subnet", "network/public-b")


@pytest.fixture(scope="session")
def portfolio_delegated(tmp_path_factory) -> SynthStack:
    """examples/portfolio.toml once its zone is delegated (`ingress.zone_delegated = true`)."""
    directory = tmp_path_factory.mktemp("portfolio-delegated")
    text = (EXAMPLES / "portfolio.toml").read_text()
    assert "\nzone_delegated = false\n" in text
    config = directory / "portfolio.toml"
    config.write_text(text.replace("\nzone_delegated = false\n", "\nzone_delegated = true\n"))
    # the base it extends, beside it
    (directory / "portfolio.base.toml").write_text((EXAMPLES / "portfolio.base.toml").read_text())
    return synthesize(directory / "out", [config])["dev-stack"]


@pytest.mark.parametrize("phase", ["first deploy", "delegated"])
def test_portfolio_routes_api_to_the_backend_on_8000_and_the_rest_to_the_frontend(
        portfolio, portfolio_delegated, phase):
    stack = portfolio if phase == "first deploy" else portfolio_delegated
    rule, group = route(stack, "backend")
    assert rule["condition"] == [{"path_pattern": {"values": ["/api/*"]}}]
    assert group["port"] == 8000 and group["health_check"]["path"] == "/api/v1/health"
    frontend_rule, frontend = route(stack, "frontend")
    assert frontend_rule["condition"] == [{"path_pattern": {"values": ["/*"]}}]
    assert frontend["port"] == 3000 and frontend["health_check"]["path"] == "/"
    assert rule["priority"] < frontend_rule["priority"]  # /api/* is matched before /*
    # seed 003's own zone dev.therpiproject.com, created by the stack, its name servers output
    zone = only(stack, "aws_route53_zone")
    assert zone["name"] == "dev.therpiproject.com"
    assert stack.json["output"]["name_servers"]["value"] == stack.ref(
        "aws_route53_zone", "load-balancer/zone", "name_servers")
    http = stack.resource("aws_lb_listener", "load-balancer/http")
    if phase == "first deploy":  # nothing waits on a certificate in the undelegated zone
        assert stack.resources("aws_acm_certificate_validation") == {}
        assert rule["listener_arn"] == stack.ref("aws_lb_listener", "load-balancer/http", "arn")
        assert http["default_action"][0]["type"] == "fixed-response"
        return
    # the seed's 80 -> 443: both rules hang off the HTTPS listener; HTTP redirects to it
    https = stack.ref("aws_lb_listener", "load-balancer/https", "arn")
    assert rule["listener_arn"] == https == frontend_rule["listener_arn"]
    assert http["default_action"][0]["redirect"]["protocol"] == "HTTPS"


def test_portfolio_services_are_quarter_vcpu_and_scale_1_to_4_on_cpu_70(portfolio):
    for service in ("frontend", "backend"):
        assert task_size(portfolio, service) == ("256", "512")
        assert scaling(portfolio, service) == (1, 4)
        cpu = portfolio.resource("aws_appautoscaling_policy", f"service-{service}/scale-on-cpu")
        assert cpu["target_tracking_scaling_policy_configuration"]["target_value"] == 70
        # CPU only, as the seed: no memory or request-count policy
        assert list(portfolio.matching("aws_appautoscaling_policy", f"service-{service}/*")) \
            == [f"service-{service}/scale-on-cpu"]
        service_body = portfolio.resource("aws_ecs_service", f"service-{service}/service")
        assert service_body["capacity_provider_strategy"] == [
            {"base": 0, "capacity_provider": "FARGATE", "weight": 1}]


def test_portfolio_database_is_postgres_16_on_db_t4g_micro_with_20_gb_gp3(portfolio):
    db = only(portfolio, "aws_db_instance")
    # seed 003: "PostgreSQL 16.3", retired by RDS: the newest 16 minor (see current_minor_of)
    assert (db["engine"], db["engine_version"]) == ("postgres", current_minor_of("003", "16.3"))
    assert db["instance_class"] == "db.t4g.micro"
    assert (db["allocated_storage"], db["storage_type"]) == (20, "gp3")
    assert db["multi_az"] is False and db["deletion_protection"] is True
    assert db["backup_retention_period"] == 7
    assert (db["backup_window"], db["maintenance_window"]) == ("03:00-04:00",
                                                               "mon:04:00-mon:05:00")
    assert db["monitoring_interval"] == 60
    assert db["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]


def test_portfolio_redis_is_7_1_on_one_cache_t4g_micro(portfolio):
    group = only(portfolio, "aws_elasticache_replication_group")
    assert group["engine_version"] == "7.1" and group["node_type"] == "cache.t4g.micro"
    assert group["num_cache_clusters"] == 1 and group["automatic_failover_enabled"] is False
    assert (group["snapshot_retention_limit"], group["snapshot_window"]) == (5, "03:00-05:00")
    assert maxmemory_policy(portfolio) == "allkeys-lru"


def test_portfolio_keeps_10_release_images_30_day_logs_and_nothing_the_seed_defers(portfolio):
    for policy in portfolio.resources("aws_ecr_lifecycle_policy").values():
        _, release, _, untagged = json.loads(policy["policy"])["rules"]
        assert release["selection"]["countNumber"] == 10
        assert release["selection"]["tagPatternList"] == ["v*"]
        assert untagged["selection"]["countNumber"] == 7
    assert {g["retention_in_days"] for g in portfolio.resources("aws_cloudwatch_log_group")
            .values()} == {30}
    for deferred in ("aws_cloudfront_distribution", "aws_wafv2_web_acl", "aws_sqs_queue",
                     "aws_lambda_function", "aws_cognito_user_pool"):
        assert not portfolio.resources(deferred), deferred  # "Future Enhancements" in seed 003
    assert bucket_names(portfolio) == {"portfolio-dev-logs-123456789012"}


def test_portfolio_has_container_insights_a_dashboard_and_cpu_memory_alarms_at_80(portfolio):
    cluster = only(portfolio, "aws_ecs_cluster")
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    assert only(portfolio, "aws_cloudwatch_dashboard")["dashboard_name"] == "portfolio-dev"
    for service in ("frontend", "backend"):
        for metric in ("cpu", "memory"):
            alarm = portfolio.resource("aws_cloudwatch_metric_alarm",
                                       f"observability/alarm-portfolio-dev-{service}-{metric}")
            assert (alarm["threshold"], alarm["evaluation_periods"]) == (80, 2)


# --- seed 004: Rayman, its per-environment table ----------------------------------------------

RAYMAN_TABLE = {
    # preset: (VPC CIDR, AZs, NAT gateways, RDS class, GB, Multi-AZ, Redis node, nodes, CloudFront)
    "rayman-dev": ("10.0.0.0/16", 2, 1, "db.t3.micro", 20, False, "cache.t3.micro", 1, False),
    "rayman-staging": ("10.1.0.0/16", 3, 3, "db.t3.small", 50, True, "cache.t3.small", 2, True),
    "rayman": ("10.2.0.0/16", 3, 3, "db.t3.medium", 100, True, "cache.t3.medium", 3, True),
}


@pytest.mark.parametrize("name", sorted(RAYMAN_TABLE))
def test_rayman_matches_its_environment_table(presets, name):
    cidr, azs, nat_count, db_class, gb, multi_az, node, nodes, cloudfront = RAYMAN_TABLE[name]
    stack = presets[name]
    assert only(stack, "aws_vpc")["cidr_block"] == cidr
    zones = [f"us-east-1{letter}" for letter in "abc"[:azs]]
    for tier in ("public", "private", "isolated"):
        assert [az for az, _ in subnet_cidrs(stack, tier)] == zones
    assert len(stack.resources("aws_nat_gateway")) == nat_count
    db = only(stack, "aws_db_instance")
    assert (db["engine_version"], db["instance_class"], db["allocated_storage"],
            db["multi_az"]) == (current_minor_of("004", "15.4"), db_class, gb, multi_az)
    assert db["backup_retention_period"] == 7 and db["performance_insights_enabled"] is True
    group = only(stack, "aws_elasticache_replication_group")
    assert (group["engine_version"], group["node_type"], group["num_cache_clusters"]) == \
        ("7.0", node, nodes)
    assert group["automatic_failover_enabled"] is (nodes > 1)
    assert len(stack.resources("aws_cloudfront_distribution")) == (1 if cloudfront else 0)


@pytest.mark.parametrize("name", sorted(RAYMAN_TABLE))
def test_rayman_has_api_gateway_lambda_queues_topics_and_its_three_buckets(presets, name):
    stack = presets[name]
    env = stack.name.removesuffix("-stack")
    assert only(stack, "aws_apigatewayv2_api")["protocol_type"] == "HTTP"
    assert sorted(f["function_name"] for f in stack.resources("aws_lambda_function").values()) \
        == [f"rayman-{env}-api", f"rayman-{env}-worker"]
    mapping = only(stack, "aws_lambda_event_source_mapping")
    assert mapping["event_source_arn"] == stack.ref("aws_sqs_queue", "messaging/processing",
                                                    "arn")
    queues = {q["name"]: q for q in stack.resources("aws_sqs_queue").values()}
    assert sorted(queues) == sorted(f"rayman-{env}-{q}" for q in
                                    ("processing", "processing-dlq", "email", "email-dlq"))
    for name_ in (f"rayman-{env}-processing", f"rayman-{env}-email"):
        assert queues[name_]["message_retention_seconds"] == 4 * 86400  # 4 days
        assert queues[name_]["receive_wait_time_seconds"] == 20  # long polling
        assert json.loads(queues[name_]["redrive_policy"])["maxReceiveCount"] == 5
    assert sorted(t["name"] for t in stack.resources("aws_sns_topic").values()) == \
        [f"rayman-{env}-alerts", f"rayman-{env}-notifications"]
    assert bucket_names(stack) == {f"rayman-{env}-{b}-123456789012"
                                   for b in ("media", "static-assets", "logs")}
    assert not stack.resources("aws_cognito_user_pool")
    assert stack.json["terraform"]["backend"]["s3"]["bucket"] == "rayman-tfstate-123456789012"
    # The seed's DynamoDB lock table is deprecated by Terraform 1.11: S3's lock file instead.
    assert stack.json["terraform"]["backend"]["s3"]["use_lockfile"] is True
    assert "dynamodb_table" not in stack.json["terraform"]["backend"]["s3"]
    alarm = stack.resource("aws_cloudwatch_metric_alarm", "observability/alarm-http-api-5xx")
    assert alarm["threshold"] == 10  # seed 004: API Gateway 5xx errors > 10/min
    concurrency = stack.resource("aws_cloudwatch_metric_alarm",
                                 "observability/alarm-lambda-concurrency")
    assert concurrency["threshold"] == 800  # seed 004: Lambda concurrency near the limit
    # seed 004: the functions write media uploads and read the API keys and JWT secret
    api = stack.resource("aws_lambda_function", "api-function/function")["environment"]["variables"]
    assert api["MEDIA_BUCKET"] == stack.ref("aws_s3_bucket", "storage/media/bucket", "bucket")
    assert {"THIRD_PARTY_API_KEYS_SECRET_ARN", "JWT_SECRET_SECRET_ARN"} <= set(api)
    assert {s["name"] for s in stack.resources("aws_secretsmanager_secret").values()} == {
        f"/rayman/{env}/api/third-party-api-keys", f"/rayman/{env}/api/jwt-secret"}


@pytest.mark.parametrize("name", sorted(RAYMAN_TABLE))
def test_rayman_copies_prods_backups_to_a_second_region(presets, name):
    """seed 004, Disaster Recovery: "Cross-region snapshot copy (for prod)"; it names no Region."""
    stack = presets[name]
    copies = stack.resources("aws_db_instance_automated_backups_replication")
    if name != "rayman":
        assert copies == {}
        return
    copy = only(stack, "aws_db_instance_automated_backups_replication")
    assert copy["source_db_instance_arn"] == stack.ref("aws_db_instance", "database/primary", "arn")
    assert copy["provider"] == "aws.us_west_2" and copy["retention_period"] == 7


# --- seed 002: Mobilytics (prod) --------------------------------------------------------------

def test_mobilytics_spans_three_azs_with_a_nat_each_and_its_interface_endpoints(mobilytics):
    assert len(subnet_cidrs(mobilytics, "public")) == 3
    assert len(mobilytics.resources("aws_nat_gateway")) == 3
    interface = sorted(e["service_name"].removeprefix("com.amazonaws.us-east-1.")
                       for e in mobilytics.resources("aws_vpc_endpoint").values()
                       if e["vpc_endpoint_type"] == "Interface")
    assert interface == ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "ssmmessages"]


def test_mobilytics_runs_the_api_on_two_tasks_and_headless_bullmq_workers(mobilytics):
    assert scaling(mobilytics, "app-api")[0] == 2  # minimum 2 tasks across AZs
    rule, group = route(mobilytics, "app-api")
    assert group["health_check"]["path"] == "/health"
    assert not mobilytics.matching("aws_lb_target_group", "service-bullmq-workers/*")
    workers = mobilytics.resource("aws_ecs_task_definition", "service-bullmq-workers/task")
    assert json.loads(workers["container_definitions"])[0]["portMappings"] == []
    for service in ("app-api", "bullmq-workers"):  # OpenTelemetry sidecar in every task
        task = mobilytics.resource("aws_ecs_task_definition", f"service-{service}/task")
        assert [c["name"] for c in json.loads(task["container_definitions"])][1:] == \
            ["otel-collector"]
    secret = only(mobilytics, "aws_secretsmanager_secret", "secrets/database-url")
    assert secret["name"] == "/mobilytics/prod/app-api/database-url"
    # seed 002's nightly mirror refresh: a task of the workers' image with its own command
    job = mobilytics.resource("aws_scheduler_schedule", "schedule-mirror-refresh/schedule")
    assert job["schedule_expression"] == "cron(0 2 * * ? *)"
    assert json.loads(job["target"]["input"])["containerOverrides"] == [
        {"name": "bullmq-workers", "command": ["node", "dist/jobs/mirror-refresh.js"]}]


def test_mobilytics_data_is_multi_az_with_a_replica_and_a_noeviction_redis(mobilytics):
    dbs = mobilytics.resources("aws_db_instance")
    assert sorted(dbs) == ["database/primary", "database/replica"]
    assert dbs["database/primary"]["multi_az"] is True
    group = only(mobilytics, "aws_elasticache_replication_group")
    assert group["automatic_failover_enabled"] is True and group["multi_az_enabled"] is True
    assert maxmemory_policy(mobilytics) == "noeviction"  # BullMQ's requirement
    # seed 002, Open Questions: a disaster recovery strategy with "cross-region replicas,
    # backups": the primary's automated backups in a second Region (the seed names none).
    copy = only(mobilytics, "aws_db_instance_automated_backups_replication")
    assert copy["source_db_instance_arn"] == mobilytics.ref("aws_db_instance", "database/primary",
                                                            "arn")
    assert copy["provider"] == "aws.us_west_2"


def test_mobilytics_serves_support_and_portal_through_cloudfront_behind_waf(mobilytics):
    distributions = mobilytics.resources("aws_cloudfront_distribution")
    # The API on api.mobilytics.com through a distribution of its own: the ALB is internal.
    assert {p: d["aliases"] for p, d in distributions.items()} == {
        "cdn-support/distribution": ["support.mobilytics.com"],
        "cdn-portal/distribution": ["portal.mobilytics.com"],
        "cdn-ingress/distribution": ["api.mobilytics.com"]}
    for distribution in distributions.values():
        assert distribution["web_acl_id"] == mobilytics.ref("aws_wafv2_web_acl",
                                                            "waf-cloudfront/acl", "arn")
    assert mobilytics.resources("aws_wafv2_web_acl_association") == {}  # no regional ACL
    assert bucket_names(mobilytics) == {f"mobilytics-prod-{b}-123456789012" for b in
                                        ("support-assets", "portal-assets", "artifacts", "logs")}
    api = mobilytics.resource("aws_route53_record", "cdn-ingress/alias")
    assert api["name"] == "api.mobilytics.com"
    assert mobilytics.json["terraform"]["backend"]["s3"]["use_lockfile"] is True
    assert "dynamodb_table" not in mobilytics.json["terraform"]["backend"]["s3"]
    # BullMQ queues live in Redis: the only queue is the PagerDuty relay's dead-letter queue.
    assert list(mobilytics.resources("aws_sqs_queue")) == ["alerts-pagerduty/function/dead-letters"]


# --- seed 001: Fastify monorepo (prod) --------------------------------------------------------

def test_fastify_runs_the_api_on_fargate_with_a_free_tier_database(fastify):
    rule, group = route(fastify, "backend")
    assert rule["condition"] == [{"path_pattern": {"values": ["/*"]}}]
    assert group["health_check"]["path"] == "/health"
    db = only(fastify, "aws_db_instance")
    assert (db["instance_class"], db["allocated_storage"], db["multi_az"]) == \
        ("db.t3.micro", 20, False)
    # the frontend is on Vercel: nothing static, no CDN, no functions, no user pool on AWS
    for absent in ("aws_cloudfront_distribution", "aws_lambda_function",
                   "aws_cognito_user_pool", "aws_sqs_queue"):
        assert not fastify.resources(absent), absent
    assert bucket_names(fastify) == {"fastify-monorepo-prod-logs-123456789012"}
    assert len(fastify.resources("aws_nat_gateway")) == 3  # the prod profile: a NAT per AZ
    assert db["max_allocated_storage"] == 0  # stays at the free tier's 20 GB


# --- seed 000: Mirama (prod) ------------------------------------------------------------------

def test_mirama_runs_next_js_on_the_ec2_auto_scaling_group_with_cognito(mirama):
    task = mirama.resource("aws_ecs_task_definition", "service-web/task")
    assert task["requires_compatibilities"] == ["EC2"]
    service = mirama.resource("aws_ecs_service", "service-web/service")
    (strategy,) = service["capacity_provider_strategy"]
    assert strategy["capacity_provider"] == mirama.ref("aws_ecs_capacity_provider",
                                                       "cluster/ec2-provider", "name")
    assert only(mirama, "aws_autoscaling_group")
    assert only(mirama, "aws_cognito_user_pool")
    assert only(mirama, "aws_db_instance")["engine"] == "postgres"
    assert only(mirama, "aws_elasticache_replication_group")["engine"] == "redis"
    assert not mirama.resources("aws_cloudfront_distribution")
