"""Compute and ingress as a reviewer checks them: the load balancer is the only way in, services
sit in private subnets with least-privilege roles, paths route where they should, HTTPS exactly
where there is a domain, scaling bounds per environment, and App Runner mode builds no ECS."""

import json

import pytest

from conftest import ROOT, SAMPLE, SynthStack, synthesize

FIXTURES = ROOT / "tests" / "fixtures"


def rules_of(stack: SynthStack, kind: str, sg_path: str) -> list[dict]:
    sg = stack.ref("aws_security_group", sg_path)
    return [r for r in stack.resources(f"aws_vpc_security_group_{kind}_rule").values()
            if r["security_group_id"] == sg]


def container(stack: SynthStack, service: str) -> dict:
    task = stack.resource("aws_ecs_task_definition", f"service-{service}/task")
    return json.loads(task["container_definitions"])[0]  # the app; sidecars follow it


def policy(stack: SynthStack, service: str, role: str) -> list[dict]:
    body = stack.resource("aws_iam_role_policy", f"service-{service}/{role}-role-policy")
    return json.loads(body["policy"])["Statement"]


def function_policy(stack: SynthStack, function: str) -> list[dict]:
    assert len(stack.matching("aws_iam_role_policy", f"{function}-function/*")) == 1
    return stack.inline_statements(f"{function}-function/*")


def services_of(stack: SynthStack) -> list[str]:
    return sorted(p.split("/")[0].removeprefix("service-")
                  for p in stack.resources("aws_ecs_service"))


# --- the only way in ------------------------------------------------------------------------

def test_the_load_balancer_admits_web_traffic_only_from_the_allowed_ranges(stack, full):
    ports = {"dev-stack": {80}, "staging-stack": {80}, "prod-stack": {80, 443}}[stack.name]
    # IPv6 only where the load balancer serves its domain over HTTPS (prod): dual-stack there.
    # Staging's zone is created by its stack and not yet delegated: plain HTTP, IPv4 (phase one).
    ranges = ["0.0.0.0/0"] + (["::/0"] if stack.name == "prod-stack" else [])
    rules = rules_of(stack, "ingress", "load-balancer/sg")
    assert {(r["from_port"], r.get("cidr_ipv4") or r["cidr_ipv6"]) for r in rules} == \
        {(p, cidr) for p in ports for cidr in ranges}
    assert {(r["from_port"], r.get("cidr_ipv4") or r["cidr_ipv6"])
            for r in rules_of(full, "ingress", "load-balancer/sg")} == \
        {(80, "203.0.113.0/24"), (443, "203.0.113.0/24"), (80, "2001:db8::/32"),
         (443, "2001:db8::/32")}


@pytest.mark.parametrize("which", ["shipped", "full"])
def test_services_admit_only_the_load_balancer_on_their_container_port(stacks, full, which):
    checked = [full] if which == "full" else list(stacks.values())
    for stack in checked:
        alb = stack.ref("aws_security_group", "load-balancer/sg")
        for service in services_of(stack):
            rules = rules_of(stack, "ingress", f"service-{service}/sg")
            port = container(stack, service)["portMappings"]
            if not port:  # a worker
                assert rules == [], service
                continue
            assert [(r["referenced_security_group_id"], r["from_port"], r["to_port"])
                    for r in rules] == [(alb, port[0]["containerPort"], port[0]["containerPort"])]
            assert not any("cidr_ipv4" in r for r in rules)
        # ... and the load balancer may only talk to the services, on their ports
        targets = {(r["referenced_security_group_id"], r["from_port"])
                   for r in rules_of(stack, "egress", "load-balancer/sg")}
        assert targets == {(stack.ref("aws_security_group", f"service-{s}/sg"),
                            container(stack, s)["portMappings"][0]["containerPort"])
                           for s in services_of(stack) if container(stack, s)["portMappings"]}


def test_services_run_in_private_subnets_without_public_ips(stack, full):
    for s in (stack, full):
        private = sorted(s.ref("aws_subnet", p) for p in s.matching("aws_subnet",
                                                                    "network/private-*"))
        for path, service in s.resources("aws_ecs_service").items():
            network = service["network_configuration"]
            assert network["assign_public_ip"] is False, path
            assert sorted(network["subnets"]) == private, path
    alb = stack.resource("aws_lb", "load-balancer/alb")
    assert alb["internal"] is False
    assert sorted(alb["subnets"]) == sorted(stack.ref("aws_subnet", p)
                                            for p in stack.matching("aws_subnet", "network/public-*"))
    assert alb["drop_invalid_header_fields"] is True


def test_only_services_that_use_a_data_store_join_the_app_tier(full):
    app = full.ref("aws_security_group", "app-tier/sg")
    for service in services_of(full):
        groups = full.resource("aws_ecs_service", f"service-{service}/service")[
            "network_configuration"]["security_groups"]
        assert (app in groups) is (service in ("backend", "worker")), service


# --- least privilege ------------------------------------------------------------------------

def test_each_execution_role_reads_only_its_own_secrets(full):
    backend = {s["Sid"]: s for s in policy(full, "backend", "execution")}
    # its own secret only: the database takes IAM tokens, not the master user's secret
    assert backend["ReadOwnSecrets"]["Resource"] == [
        full.ref("aws_secretsmanager_secret", "secrets/stripe-key", "arn")]
    assert backend["DecryptOwnSecretsThroughSecretsManager"]["Resource"] == \
        full.ref("aws_kms_key", "secrets-key/key", "arn")
    assert backend["DecryptOwnSecretsThroughSecretsManager"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    frontend = {s["Sid"] for s in policy(full, "frontend", "execution")}
    assert frontend == {"WriteOwnLogs", "EcrLogin", "PullOwnImages"}
    docs = {s["Sid"] for s in policy(full, "docs", "execution")}  # an external image: no ECR
    assert docs == {"WriteOwnLogs"}


def test_execution_roles_pull_only_their_own_repository_and_log_to_their_own_group(stack):
    for service in services_of(stack):
        statements = {s["Sid"]: s for s in policy(stack, service, "execution")}
        assert statements["PullOwnImages"]["Resource"] == stack.ref(
            "aws_ecr_repository", f"{service}-images/repository", "arn")
        assert statements["WriteOwnLogs"]["Resource"] == stack.ref(
            "aws_cloudwatch_log_group", f"service-{service}/logs", "arn") + ":*"
        trust = json.loads(stack.resource("aws_iam_role", f"service-{service}/execution-role")
                           ["assume_role_policy"])["Statement"]
        assert trust[0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_task_roles_hold_only_what_the_service_is_granted(full, dev):
    backend = {s["Sid"]: s for s in policy(full, "backend", "task")}
    otel = {"OtelTraces", "OtelMetricsAsEmfLogs", "OtelMetrics"}
    # PublishScalingMetric: the metric it scales on, in its namespace only (test_scaling.py).
    assert set(backend) == {"DatabaseIamAuthentication", "RedisIamAuthentication", *otel,
                            "MediaObjects", "MediaList", "MediaKeyThroughS3",
                            "PublishScalingMetric"}
    assert backend["RedisIamAuthentication"]["Action"] == "elasticache:Connect"
    assert backend["RedisIamAuthentication"]["Resource"] == [
        full.ref("aws_elasticache_replication_group", "cache/group", "arn"),
        full.ref("aws_elasticache_user", "cache/app-user", "arn")]
    # the fixture runs the OpenTelemetry sidecar: the frontend may only ship telemetry
    assert {s["Sid"] for s in policy(full, "frontend", "task")} == otel
    assert dev.matching("aws_iam_role_policy", "service-frontend/task-role-policy") == {}


def test_media_access_is_the_one_bucket_and_its_key_only_through_s3(full):
    media = full.ref("aws_s3_bucket", "storage/media/bucket", "arn")
    for statements in ({s["Sid"]: s for s in policy(full, "backend", "task")},
                       {s["Sid"]: s for s in function_policy(full, "api")}):
        assert statements["MediaObjects"]["Resource"] == f"{media}/*"
        assert set(statements["MediaObjects"]["Action"]) == {
            "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
        assert statements["MediaList"] == {"Sid": "MediaList", "Effect": "Allow",
                                           "Action": "s3:ListBucket", "Resource": media}
        assert statements["MediaKeyThroughS3"]["Resource"] == full.ref("aws_kms_key",
                                                                      "data-key/key", "arn")
        assert statements["MediaKeyThroughS3"]["Condition"] == {
            "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    env = {e["name"]: e["value"] for e in container(full, "backend")["environment"]}
    assert env["MEDIA_BUCKET"] == full.ref("aws_s3_bucket", "storage/media/bucket", "bucket")
    # Services that did not ask for it get nothing in S3.
    for service in ("frontend", "worker", "docs"):
        text = json.dumps(full.matching("aws_iam_role_policy", f"service-{service}/*"))
        assert "s3:" not in text, service


def test_a_zero_target_turns_that_scaling_policy_off(full):
    policies = full.matching("aws_appautoscaling_policy", "service-worker/*")
    metrics = {p["target_tracking_scaling_policy_configuration"]
               ["predefined_metric_specification"]["predefined_metric_type"]
               for p in policies.values()}
    assert metrics == {"ECSServiceAverageCPUUtilization"}


@pytest.mark.parametrize("name, low", [("dev-stack", 0), ("staging-stack", 0),
                                       ("prod-stack", 1)])
def test_the_worker_scales_on_its_queue_backlog_from_its_minimum(stacks, name, low):
    stack = stacks[name]
    target = stack.resource("aws_appautoscaling_target", "service-worker/scaling-target")
    assert (target["min_capacity"], target["max_capacity"]) == (low, 4)
    policies = stack.matching("aws_appautoscaling_policy", "service-worker/*")
    # Only the backlog moves it: CPU tracking would scale in a worker that waits on I/O.
    assert {p["policy_type"] for p in policies.values()} == {"StepScaling"}
    email = stack.ref("aws_sqs_queue", "messaging/email", "name")
    steps = {}
    for which in ("backlog", "idle"):
        alarm = stack.resource("aws_cloudwatch_metric_alarm", f"service-worker/{which}-alarm")
        assert (alarm["namespace"], alarm["metric_name"], alarm["dimensions"]) == \
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": email})
        [action] = alarm["alarm_actions"]
        policy = policies[f"service-worker/scale-on-{which}"]
        assert action == stack.ref("aws_appautoscaling_policy",
                                   f"service-worker/scale-on-{which}", "arn")
        config = policy["step_scaling_policy_configuration"]
        [step] = config["step_adjustment"]
        steps[which] = (alarm["comparison_operator"], alarm["threshold"],
                        alarm["evaluation_periods"], config["adjustment_type"],
                        step["scaling_adjustment"])
    # One waiting message grows the service (by half, at least a task: it starts from zero);
    # five quiet minutes shed one task.
    assert steps == {
        "backlog": ("GreaterThanOrEqualToThreshold", 1, 1, "PercentChangeInCapacity", 50),
        "idle": ("LessThanOrEqualToThreshold", 0, 5, "ChangeInCapacity", -1)}
    assert policies["service-worker/scale-on-backlog"]["step_scaling_policy_configuration"][
        "min_adjustment_magnitude"] == 1


def test_the_worker_consumes_only_its_queue_and_the_backend_only_sends_to_it(stack):
    email = stack.ref("aws_sqs_queue", "messaging/email", "arn")
    worker = {s["Sid"]: s for s in policy(stack, "worker", "task")}
    assert set(worker) == {"ConsumeItsQueue"}
    assert worker["ConsumeItsQueue"]["Resource"] == email
    assert set(worker["ConsumeItsQueue"]["Action"]) == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes"}
    backend = {s["Sid"]: s for s in policy(stack, "backend", "task")}
    assert backend["SendToQueues"] == {"Sid": "SendToQueues", "Effect": "Allow",
                                       "Action": "sqs:SendMessage", "Resource": [email]}
    url = stack.ref("aws_sqs_queue", "messaging/email", "url")
    assert {"name": "QUEUE_URL", "value": url} in container(stack, "worker")["environment"]
    assert {"name": "EMAIL_QUEUE_URL", "value": url} in container(stack, "backend")["environment"]
    # Nobody else touches a queue.
    for service in ("frontend",):
        assert "sqs:" not in json.dumps(stack.matching("aws_iam_role_policy",
                                                       f"service-{service}/*"))


def test_services_get_the_database_and_redis_through_env_and_secrets(full):
    backend = container(full, "backend")
    env = {e["name"]: e["value"] for e in backend["environment"]}
    assert env["DATABASE_HOST"] == full.ref("aws_db_instance", "database/primary", "address")
    assert env["DATABASE_READER_HOST"] == full.ref("aws_db_instance", "database/replica",
                                                   "address")
    assert (env["DATABASE_USERNAME"], env["DATABASE_AUTH"], env["DATABASE_SSLMODE"]) == \
        ("app", "iam", "verify-full")
    assert env["REDIS_HOST"] == full.ref("aws_elasticache_replication_group", "cache/group",
                                         "primary_endpoint_address")
    assert (env["REDIS_TLS"], env["REDIS_AUTH"], env["LOG_LEVEL"]) == ("true", "iam", "info")
    secrets = {s["name"]: s["valueFrom"] for s in backend["secrets"]}
    assert secrets == {
        "STRIPE_KEY": full.ref("aws_secretsmanager_secret", "secrets/stripe-key", "arn")}
    assert container(full, "frontend")["secrets"] == []
    secret = full.resource("aws_secretsmanager_secret", "secrets/stripe-key")
    assert secret["name"] == "/webplat/full/backend/stripe-key"
    assert secret["kms_key_id"] == full.ref("aws_kms_key", "secrets-key/key", "arn")


# --- routing and TLS --------------------------------------------------------------------------

def test_paths_route_api_to_the_backend_and_the_rest_to_the_frontend(stack):
    rules = {path.split("/")[0]: rule for path, rule in
             stack.resources("aws_lb_listener_rule").items()}
    backend, frontend = rules["service-backend"], rules["service-frontend"]
    assert backend["condition"][0]["path_pattern"]["values"] == ["/api/*"]
    assert backend["action"][0]["target_group_arn"] == stack.ref(
        "aws_lb_target_group", "service-backend/target-group", "arn")
    assert frontend["condition"][0]["path_pattern"]["values"] == ["/*"]
    assert backend["priority"] < frontend["priority"]  # /api/* is matched before /*
    tg = stack.resource("aws_lb_target_group", "service-backend/target-group")
    assert (tg["port"], tg["target_type"], tg["health_check"]["path"]) == \
        (8000, "ip", "/api/v1/health")
    assert stack.resource("aws_lb_target_group", "service-frontend/target-group")["port"] == 3000


def test_dev_without_a_domain_serves_plain_http(dev):
    [listener] = dev.resources("aws_lb_listener").values()
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    assert listener["default_action"][0]["type"] == "fixed-response"
    assert dev.resources("aws_acm_certificate") == {}
    for rule in dev.resources("aws_lb_listener_rule").values():
        assert rule["listener_arn"] == dev.ref("aws_lb_listener", "load-balancer/http", "arn")


@pytest.mark.parametrize("which", ["prod", "full"])
def test_with_a_domain_http_redirects_and_https_uses_tls_1_3_and_1_2(prod, full, which):
    stack = prod if which == "prod" else full
    listeners = stack.resources("aws_lb_listener")
    http, https = listeners["load-balancer/http"], listeners["load-balancer/https"]
    assert http["default_action"][0]["redirect"] == {"port": "443", "protocol": "HTTPS",
                                                     "status_code": "HTTP_301"}
    assert (https["protocol"], https["ssl_policy"]) == ("HTTPS",
                                                        "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert https["certificate_arn"] == stack.ref("aws_acm_certificate_validation",
                                                 "load-balancer/certificate-validated",
                                                 "certificate_arn")
    cert = stack.resource("aws_acm_certificate", "load-balancer/certificate")
    assert cert["validation_method"] == "DNS"
    for rule in stack.resources("aws_lb_listener_rule").values():
        assert rule["listener_arn"] == stack.ref("aws_lb_listener", "load-balancer/https", "arn")
    alias = stack.resource("aws_route53_record", "load-balancer/alias")
    assert (alias["name"], alias["type"]) == (cert["domain_name"], "A")
    assert alias["alias"]["name"] == stack.ref("aws_lb", "load-balancer/alb", "dns_name")


@pytest.mark.parametrize("which", ["prod", "full"])
def test_with_a_domain_the_load_balancer_is_dual_stack(prod, full, which):
    stack = prod if which == "prod" else full
    assert stack.resource("aws_lb", "load-balancer/alb")["ip_address_type"] == "dualstack"
    domain = stack.resource("aws_acm_certificate", "load-balancer/certificate")["domain_name"]
    # full.toml's other names (ingress.hosts): tests/test_hosts.py
    records = {(r["name"], r["type"]): r["alias"]
               for p, r in stack.matching("aws_route53_record", "load-balancer/alias*").items()
               if r["name"] == domain}
    assert sorted(records) == [(domain, "A"), (domain, "AAAA")]
    for alias in records.values():
        assert alias["name"] == stack.ref("aws_lb", "load-balancer/alb", "dns_name")
        assert alias["zone_id"] == stack.ref("aws_lb", "load-balancer/alb", "zone_id")
    https_v6 = {r["cidr_ipv6"] for r in rules_of(stack, "ingress", "load-balancer/sg")
                if r["from_port"] == 443 and "cidr_ipv6" in r}
    assert https_v6 == ({"::/0"} if which == "prod" else {"2001:db8::/32"})


def test_without_a_domain_the_load_balancer_is_ipv4_only(dev):
    assert "ip_address_type" not in dev.resource("aws_lb", "load-balancer/alb")
    assert not any("cidr_ipv6" in r for r in rules_of(dev, "ingress", "load-balancer/sg"))
    assert dev.resources("aws_route53_record") == {}


@pytest.fixture(scope="session")
def prod_ipv4(tmp_path_factory) -> SynthStack:
    """config/prod.toml with `ingress.ipv6 = false`."""
    directory = tmp_path_factory.mktemp("prod-ipv4")
    text = (SAMPLE / "prod.toml").read_text()
    assert "[ingress]\n" in text
    config = directory / "prod.toml"
    config.write_text(text.replace("[ingress]\n", "[ingress]\nipv6 = false\n", 1))
    return synthesize(directory / "out", [config])["prod-stack"]


def test_ipv6_off_gives_an_ipv4_only_load_balancer_and_network(prod_ipv4):
    stack = prod_ipv4
    assert stack.resource("aws_lb", "load-balancer/alb")["ip_address_type"] == "ipv4"
    assert [r["type"] for r in stack.resources("aws_route53_record").values()
            if r["name"] == "webplat.example.com"] == ["A"]
    assert not any("cidr_ipv6" in r for r in rules_of(stack, "ingress", "load-balancer/sg"))
    assert "assign_generated_ipv6_cidr_block" not in stack.resource("aws_vpc", "network/vpc")
    assert not any("ipv6_cidr_block" in s for s in stack.resources("aws_subnet").values())
    assert not any("destination_ipv6_cidr_block" in r
                   for r in stack.resources("aws_route").values())


def test_access_logs_go_to_the_log_bucket_which_the_load_balancers_may_write(stack):
    alb = stack.resource("aws_lb", "load-balancer/alb")
    assert alb["access_logs"] == {"bucket": stack.ref("aws_s3_bucket", "storage/logs/bucket",
                                                      "bucket"),
                                  "enabled": True, "prefix": "alb"}
    statements = json.loads(stack.resource("aws_s3_bucket_policy", "storage/logs/policy")
                            ["policy"])["Statement"]
    delivery = next(s for s in statements if s["Sid"] == "LoadBalancerAccessLogs")
    assert delivery["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}  # us-east-1's ELB
    assert delivery["Resource"].endswith("/alb/AWSLogs/123456789012/*")


def test_deletion_protection_where_intended(stacks):
    protected = {name: s.resource("aws_lb", "load-balancer/alb")["enable_deletion_protection"]
                 for name, s in stacks.items()}
    assert protected == {"dev-stack": False, "staging-stack": True, "prod-stack": True}


# --- deployment and scaling -----------------------------------------------------------------

@pytest.mark.parametrize("name, capacity, low, high", [
    ("dev-stack", [("FARGATE_SPOT", 0, 1)], 1, 4),
    ("staging-stack", [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 1)], 1, 4),
    ("prod-stack", [("FARGATE", 0, 1)], 2, 4),
])
def test_capacity_and_scaling_bounds_per_environment(stacks, name, capacity, low, high):
    stack = stacks[name]
    for service in ("frontend", "backend"):
        ecs = stack.resource("aws_ecs_service", f"service-{service}/service")
        assert [(c["capacity_provider"], c["base"], c["weight"])
                for c in ecs["capacity_provider_strategy"]] == capacity
        assert ecs["desired_count"] == low
        target = stack.resource("aws_appautoscaling_target", f"service-{service}/scaling-target")
        assert (target["min_capacity"], target["max_capacity"]) == (low, high)
        policies = stack.matching("aws_appautoscaling_policy", f"service-{service}/*")
        metrics = {p["target_tracking_scaling_policy_configuration"]
                   ["predefined_metric_specification"]["predefined_metric_type"]:
                   p["target_tracking_scaling_policy_configuration"]["target_value"]
                   for p in policies.values()}
        assert metrics == {"ECSServiceAverageCPUUtilization": 70,
                           "ECSServiceAverageMemoryUtilization": 80,
                           "ALBRequestCountPerTarget": 1000}


def test_rolling_deployments_roll_back_and_ci_owns_built_images(stack, full):
    for s in (stack, full):
        for path, ecs in s.resources("aws_ecs_service").items():
            assert (ecs["deployment_maximum_percent"], ecs["deployment_minimum_healthy_percent"]) \
                == (200, 100)
            assert ecs["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
            ignored = ecs["lifecycle"]["ignore_changes"]
            external = path == "service-docs/service"
            assert ignored == (["desired_count"] if external
                               else ["desired_count", "task_definition"]), path
    # Terraform deploys an external image as written (a built one starts on a placeholder:
    # tests/test_first_deploy.py).
    assert container(full, "docs")["image"] == "public.ecr.aws/nginx/nginx:1.27"
    assert "command" not in container(full, "docs")


def test_task_definitions_log_to_their_own_encrypted_group_on_graviton(stack):
    for service in services_of(stack):
        task = stack.resource("aws_ecs_task_definition", f"service-{service}/task")
        assert (task["network_mode"], task["cpu"], task["memory"]) == ("awsvpc", "256", "512")
        assert task["runtime_platform"]["cpu_architecture"] == "ARM64"
        options = container(stack, service)["logConfiguration"]["options"]
        assert options["awslogs-group"] == stack.ref("aws_cloudwatch_log_group",
                                                     f"service-{service}/logs", "name")
        group = stack.resource("aws_cloudwatch_log_group", f"service-{service}/logs")
        assert group["retention_in_days"] == 30
        assert group["kms_key_id"] == stack.ref("aws_kms_key", "logs-key/key", "arn")
    assert container(stack, "backend")["readonlyRootFilesystem"] is True


def test_ecr_repositories_scan_encrypt_and_expire(stack, full):
    repo = stack.resource("aws_ecr_repository", "backend-images/repository")
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": stack.ref(
        "aws_kms_key", "data-key/key", "arn")}]
    rules = json.loads(stack.resource("aws_ecr_lifecycle_policy", "backend-images/lifecycle")
                       ["policy"])["rules"]
    assert [(r["selection"]["tagStatus"], r["selection"].get("tagPatternList"),
             r["selection"]["countType"], r["selection"]["countNumber"]) for r in rules] == [
        ("tagged", ["deployed-*"], "imageCountMoreThan", 100),
        ("tagged", ["v*"], "imageCountMoreThan", 10),
        ("tagged", ["sha-*"], "imageCountMoreThan", 30),
        ("untagged", None, "sinceImagePushed", 7)]  # tests/test_images.py: what they keep
    assert full.resource("aws_ecr_repository", "backend-images/repository")[
        "image_tag_mutability"] == "MUTABLE"
    assert full.matching("aws_ecr_repository", "docs-images/*") == {}


def test_cluster_has_container_insights_and_both_fargate_providers(stack):
    cluster = stack.resource("aws_ecs_cluster", "cluster/cluster")
    # dev saves the per-task custom metrics (its alarms use the free AWS/ECS metrics).
    insights = "disabled" if stack.name == "dev-stack" else "enabled"
    assert cluster["setting"] == [{"name": "containerInsights", "value": insights}]
    providers = stack.resource("aws_ecs_cluster_capacity_providers", "cluster/capacity-providers")
    assert providers["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]


def test_ec2_capacity_is_locked_down(full):
    template = full.resource("aws_launch_template", "cluster/launch-template")
    assert template["image_id"] == \
        "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
    assert template["metadata_options"]["http_tokens"] == "required"
    ebs = template["block_device_mappings"][0]["ebs"]
    assert ebs["encrypted"] == "true" and ebs["kms_key_id"] == full.ref("aws_kms_key",
                                                                        "data-key/key", "arn")
    assert rules_of(full, "ingress", "cluster/instance-sg") == []
    provider = full.resource("aws_ecs_capacity_provider", "cluster/ec2-provider")
    assert provider["auto_scaling_group_provider"]["managed_scaling"]["status"] == "ENABLED"
    worker = full.resource("aws_ecs_service", "service-worker/service")
    assert worker["capacity_provider_strategy"] == [{
        "capacity_provider": full.ref("aws_ecs_capacity_provider", "cluster/ec2-provider",
                                      "name"), "base": 0, "weight": 1}]
    assert "load_balancer" not in worker


# --- the lean alternative -----------------------------------------------------------------------

def test_app_runner_mode_builds_no_ecs_and_no_load_balancer(fixture_stacks):
    lean = fixture_stacks["lean-stack"]
    for prefix in ("aws_ecs_", "aws_lb", "aws_appautoscaling_", "aws_launch_template"):
        assert not [t for t in lean.json["resource"] if t.startswith(prefix)], prefix
    service = lean.resource("aws_apprunner_service", "service-api/service")
    egress = service["network_configuration"]["egress_configuration"]
    assert egress == {"egress_type": "VPC", "vpc_connector_arn": lean.ref(
        "aws_apprunner_vpc_connector", "vpc-connector", "arn")}
    connector = lean.resource("aws_apprunner_vpc_connector", "vpc-connector")
    assert connector["security_groups"] == [lean.ref("aws_security_group", "app-tier/sg")]
    assert service["encryption_configuration"]["kms_key"] == lean.ref("aws_kms_key",
                                                                      "data-key/key", "arn")
    scaling = lean.resource("aws_apprunner_auto_scaling_configuration_version",
                            "service-api/scaling")
    assert (scaling["min_size"], scaling["max_size"]) == (1, 3)
    assert "lean_url" not in lean.json["output"] and "api_url" in lean.json["output"]


def test_storage_autoscaling_can_be_switched_off(full, dev):
    """0 in config is Terraform's "no autoscaling" (a free-tier-sized database stays at 20 GB)."""
    assert full.resource("aws_db_instance", "database/primary")["max_allocated_storage"] == 0
    assert dev.resource("aws_db_instance", "database/primary")["max_allocated_storage"] == 100
