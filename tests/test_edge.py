"""Edge, storage, serverless, messaging and identity, as a reviewer checks them."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, SynthStack, require_tool
from lib.serverless.functions import package


def for_bucket(stack: SynthStack, type_: str) -> dict[str, dict]:
    """{bucket reference: the resource of `type_` attached to it}"""
    return {body["bucket"]: body for body in stack.resources(type_).values()}


# --- buckets ------------------------------------------------------------------------------------

def test_no_bucket_is_public_and_every_bucket_is_encrypted_and_tls_only(stack):
    buckets = {stack.ref("aws_s3_bucket", p): p for p in stack.resources("aws_s3_bucket")}
    assert len(buckets) == 4  # logs, media, static-assets, artifacts
    blocks = for_bucket(stack, "aws_s3_bucket_public_access_block")
    ownership = for_bucket(stack, "aws_s3_bucket_ownership_controls")
    encryption = for_bucket(stack, "aws_s3_bucket_server_side_encryption_configuration")
    policies = [p for p in stack.resources("aws_s3_bucket_policy").values()]
    for ref, path in buckets.items():
        block = blocks[ref]
        assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                              "ignore_public_acls", "restrict_public_buckets"))
        assert ownership[ref]["rule"]["object_ownership"] == "BucketOwnerEnforced"
        default = encryption[ref]["rule"][0]["apply_server_side_encryption_by_default"]
        if path == "storage/logs/bucket":
            assert default["sse_algorithm"] == "AES256"  # load balancers cannot write KMS
        else:
            assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": stack.ref(
                "aws_kms_key", "data-key/key", "arn")}
        [policy] = [p for p in policies if p["bucket"] == ref]
        statements = json.loads(policy["policy"])["Statement"]
        deny = statements[0]
        assert (deny["Effect"], deny["Principal"], deny["Condition"]) == (
            "Deny", "*", {"Bool": {"aws:SecureTransport": "false"}})
        assert not any(s.get("Principal") == "*" and s["Effect"] == "Allow" for s in statements)


def test_media_tiers_down_and_logs_expire(stack):
    rules = {r["bucket"]: {x["id"]: x for x in r["rule"]} for r in
             stack.resources("aws_s3_bucket_lifecycle_configuration").values()}
    media = rules[stack.ref("aws_s3_bucket", "storage/media/bucket")]["tier-down"]
    assert [(t["days"], t["storage_class"]) for t in media["transition"]] == \
        [(30, "STANDARD_IA"), (90, "GLACIER")]
    logs = rules[stack.ref("aws_s3_bucket", "storage/logs/bucket")]["expire-logs"]
    assert logs["expiration"] == [{"days": 30}]
    versioned = {v["bucket"] for v in stack.resources("aws_s3_bucket_versioning").values()}
    assert versioned == {stack.ref("aws_s3_bucket", p) for p in stack.resources("aws_s3_bucket")}


def test_every_data_bucket_logs_its_access_to_the_logs_bucket(stack):
    logging = for_bucket(stack, "aws_s3_bucket_logging")
    logs = stack.ref("aws_s3_bucket", "storage/logs/bucket", "bucket")
    for path in stack.resources("aws_s3_bucket"):
        ref = stack.ref("aws_s3_bucket", path)
        if path == "storage/logs/bucket":
            assert ref not in logging
        else:
            assert logging[ref]["target_bucket"] == logs


# --- CloudFront and WAF ---------------------------------------------------------------------

def test_cloudfront_only_where_the_environment_says(stacks):
    counts = {name: len(s.resources("aws_cloudfront_distribution")) for name, s in stacks.items()}
    assert counts == {"dev-stack": 0, "staging-stack": 1, "prod-stack": 1}


@pytest.mark.parametrize("name", ["staging-stack", "prod-stack"])
def test_cloudfront_reaches_its_bucket_only_through_origin_access_control(stacks, name):
    stack = stacks[name]
    dist = stack.resource("aws_cloudfront_distribution", "cdn-static/distribution")
    [s3_origin] = [o for o in dist["origin"] if o["origin_id"] == "static"]
    assert s3_origin["origin_access_control_id"] == stack.ref(
        "aws_cloudfront_origin_access_control", "cdn-static/oac")
    assert "s3_origin_config" not in s3_origin  # no legacy origin access identity
    policy = json.loads(stack.resource("aws_s3_bucket_policy",
                                       "storage/static-assets/policy")["policy"])["Statement"]
    [read] = [s for s in policy if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert read["Condition"] == {"StringEquals": {"AWS:SourceArn": stack.ref(
        "aws_cloudfront_distribution", "cdn-static/distribution", "arn")}}


@pytest.mark.parametrize("name", ["staging-stack", "prod-stack"])
def test_cloudfront_is_https_only_compressed_and_spa_ready(stacks, name):
    stack = stacks[name]
    dist = stack.resource("aws_cloudfront_distribution", "cdn-static/distribution")
    behaviours = [dist["default_cache_behavior"], *dist.get("ordered_cache_behavior", [])]
    assert all(b["viewer_protocol_policy"] == "redirect-to-https" and b["compress"] is True
               for b in behaviours)
    assert dist["default_root_object"] == "index.html"
    [api] = dist["ordered_cache_behavior"]
    assert (api["path_pattern"], api["target_origin_id"]) == ("/api/*", "api")
    [alb_origin] = [o for o in dist["origin"] if o["origin_id"] == "api"]
    # prod: the load balancer's domain over HTTPS; staging's zone awaits its delegation, so the
    # load balancer has no certificate yet and CloudFront reaches it by its own name over HTTP.
    assert (alb_origin["domain_name"], alb_origin["custom_origin_config"][
        "origin_protocol_policy"]) == {
        "prod-stack": ("webplat.example.com", "https-only"),
        "staging-stack": (stack.ref("aws_lb", "load-balancer/alb", "dns_name"), "http-only")}[name]
    headers = stack.resource("aws_cloudfront_response_headers_policy",
                             "cdn-static/security-headers")["security_headers_config"]
    assert headers["strict_transport_security"]["access_control_max_age_sec"] == 31536000
    assert headers["frame_options"]["frame_option"] == "DENY"
    assert dist["price_class"] == {"staging-stack": "PriceClass_100",
                                   "prod-stack": "PriceClass_All"}[name]
    delivery = stack.resource("aws_cloudwatch_log_delivery_destination",
                              "cdn-static/log-destination")
    assert delivery["delivery_destination_configuration"][0]["destination_resource_arn"] == \
        stack.ref("aws_s3_bucket", "storage/logs/bucket", "arn")


def distributions(stacks, presets, full) -> list[tuple[str, SynthStack, str, dict]]:
    """(label, stack, surface construct, distribution) over the shipped stacks, every preset
    and the full fixture (presets share stack names, so they are labelled by file). Not the
    distribution in front of an internal load balancer, which serves no surface
    (tests/test_internal_ingress.py)."""
    every = {**stacks, **{f"examples/{name}": s for name, s in presets.items()}, "full": full}
    return [(f"{label}: {path}", stack, path.rsplit("/", 1)[0], body)
            for label, stack in every.items()
            for path, body in stack.resources("aws_cloudfront_distribution").items()
            if path != "cdn-ingress/distribution"]


def test_no_error_response_turns_an_api_error_or_a_waf_block_into_a_200(stacks, presets, full):
    # CloudFront API Reference, "DistributionConfig": CustomErrorResponses belongs to the
    # distribution, not to a cache behaviour ("CacheBehavior" has no such member), so a rewrite
    # of 403/404 to `200 /index.html` also answers the API's 403/404 and a WAF block (403) with
    # the single-page app's HTML. Developer Guide, "Custom error pages and error caching".
    found = distributions(stacks, presets, full)
    with_api = [label for label, _, _, d in found
                if any(b["path_pattern"] == "/api/*" for b in d.get("ordered_cache_behavior", []))]
    assert len(with_api) >= 3  # staging, prod and presets: the rule is exercised
    for label, _, _, dist in found:
        assert not [e for e in dist.get("custom_error_response", [])
                    if e.get("response_code") == 200], label


def test_the_spa_rewrite_runs_on_the_bucket_behaviour_only(stacks, presets, full):
    # CloudFront Developer Guide, "Associate functions with distributions": a function is
    # associated with a cache behaviour, and only once published to LIVE.
    found = distributions(stacks, presets, full)
    assert len(found) >= 3
    for label, stack, site, dist in found:
        function = stack.resource("aws_cloudfront_function", f"{site}/spa-routes")
        assert (function["runtime"], function["publish"]) == ("cloudfront-js-2.0", True), label
        assert dist["default_cache_behavior"]["target_origin_id"] == "static"
        assert dist["default_cache_behavior"]["function_association"] == [{
            "event_type": "viewer-request",
            "function_arn": stack.ref("aws_cloudfront_function", f"{site}/spa-routes", "arn")}]
        for behaviour in dist.get("ordered_cache_behavior", []):  # /api/*: nothing rewritten
            assert "function_association" not in behaviour, label
            assert "lambda_function_association" not in behaviour, label


# Each URI and what the origin must be asked for.
SPA_SAMPLES = {
    "/": "/index.html",
    "/orders/42": "/index.html",
    "/settings/": "/index.html",
    "/index.html": "/index.html",
    "/assets/app.3f9c1.js": "/assets/app.3f9c1.js",
    "/assets/styles.css": "/assets/styles.css",
    "/favicon.ico": "/favicon.ico",
    "/robots.txt": "/robots.txt",
    "/fonts/inter.woff2": "/fonts/inter.woff2",
    "/docs/v1.2/guide.pdf": "/docs/v1.2/guide.pdf",
    "/.well-known/apple-app-site-association": "/.well-known/apple-app-site-association",
}


def test_the_spa_rewrite_leaves_files_alone_and_sends_app_routes_to_index_html(prod):
    # The function's own code, as synthesized, run by the project's Node.js with the event
    # shape of CloudFront Functions (Developer Guide, "CloudFront Functions event structure").
    [function] = prod.resources("aws_cloudfront_function").values()
    code = function["code"]
    assert len(code.encode()) <= 10240  # CloudFront Functions: at most 10 KB of code
    harness = code + (
        "\nconst uris = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(uris.map(u => handler({version: '1.0', context: {},"
        " viewer: {ip: '192.0.2.1'}, request: {method: 'GET', uri: u, querystring: {},"
        " headers: {}, cookies: {}}}).uri)));\n")
    node = require_tool("node")
    result = subprocess.run([node, "-e", harness, json.dumps(list(SPA_SAMPLES))],
                            capture_output=True, text=True, timeout=60, check=True)
    assert dict(zip(SPA_SAMPLES, json.loads(result.stdout))) == SPA_SAMPLES


def test_a_surface_domain_gets_a_us_east_1_certificate_and_tls_1_2(full):
    dist = full.resource("aws_cloudfront_distribution", "cdn-static/distribution")
    cert = dist["viewer_certificate"]
    assert cert["minimum_protocol_version"] == "TLSv1.2_2021"
    assert cert["acm_certificate_arn"] == full.ref("aws_acm_certificate_validation",
                                                   "cdn-static/certificate-validated",
                                                   "certificate_arn")
    assert full.resource("aws_acm_certificate", "cdn-static/certificate")["provider"] == \
        "aws.us_east_1"
    assert dist["aliases"] == ["static.example.com"]
    # A and AAAA aliases to the distribution, which serves IPv6
    assert dist["is_ipv6_enabled"] is True
    records = full.matching("aws_route53_record", "cdn-static/alias*").values()
    assert sorted((r["name"], r["type"]) for r in records) == [
        ("static.example.com", "A"), ("static.example.com", "AAAA")]
    for record in records:
        assert record["zone_id"] == "Z0123456789EXAMPLE"
        assert record["alias"]["name"] == full.ref("aws_cloudfront_distribution",
                                                   "cdn-static/distribution", "domain_name")


def test_waf_is_attached_where_the_environment_says(stacks):
    for name, stack in stacks.items():
        acls = stack.resources("aws_wafv2_web_acl")
        if name == "dev-stack":
            assert acls == {} and stack.resources("aws_wafv2_web_acl_association") == {}
            continue
        regional, cloudfront = acls["waf-regional/acl"], acls["waf-cloudfront/acl"]
        assert (regional["scope"], cloudfront["scope"]) == ("REGIONAL", "CLOUDFRONT")
        assert cloudfront["provider"] == "aws.us_east_1"
        [association] = stack.resources("aws_wafv2_web_acl_association").values()
        assert association["resource_arn"] == stack.ref("aws_lb", "load-balancer/alb", "arn")
        assert association["web_acl_arn"] == stack.ref("aws_wafv2_web_acl", "waf-regional/acl",
                                                       "arn")
        dist = stack.resource("aws_cloudfront_distribution", "cdn-static/distribution")
        assert dist["web_acl_id"] == stack.ref("aws_wafv2_web_acl", "waf-cloudfront/acl", "arn")
        for acl in (regional, cloudfront):
            statements = {r["name"]: r["statement"] for r in acl["rule"]}
            assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                    "AWSManagedRulesAmazonIpReputationList"} < set(statements)
            assert statements["rate-limit-per-ip"]["rate_based_statement"] == {
                "limit": 2000, "aggregate_key_type": "IP"}
            assert acl["default_action"] == {"allow": {}}


# --- messaging ------------------------------------------------------------------------------

def test_every_queue_has_a_dead_letter_queue(stack):
    queues = stack.resources("aws_sqs_queue")
    # A function's own dead-letter queue (`<function>/dead-letters`) takes failed invocations.
    main = {p: q for p, q in queues.items()
            if not p.endswith("-dlq") and not p.endswith("/dead-letters")}
    assert sorted(main) == ["messaging/email", "messaging/processing"]
    for path, queue in main.items():
        redrive = json.loads(queue["redrive_policy"])
        assert redrive == {"deadLetterTargetArn": stack.ref("aws_sqs_queue", f"{path}-dlq", "arn"),
                           "maxReceiveCount": 5}
        assert queue["receive_wait_time_seconds"] == 20
        assert queue["message_retention_seconds"] == 4 * 86400
    assert all(q["sqs_managed_sse_enabled"] is True for q in queues.values())
    for policy in stack.resources("aws_sqs_queue_policy").values():
        [deny] = json.loads(policy["policy"])["Statement"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(stack.resources("aws_sqs_queue_policy")) == len(queues)


def test_topics_are_encrypted_with_a_key_alarms_may_use(stack):
    topics = stack.resources("aws_sns_topic")
    assert sorted(t["name"] for t in topics.values()) == [
        f"webplat-{stack.name.removesuffix('-stack')}-{t}" for t in ("alerts", "notifications")]
    key = stack.ref("aws_kms_key", "messaging-key/key", "arn")
    assert all(t["kms_master_key_id"] == key for t in topics.values())
    policy = json.loads(stack.resource("aws_kms_key", "messaging-key/key")["policy"])
    services = next(s for s in policy["Statement"]
                    if s["Sid"] == "AwsServicesPublishIntoEncryptedResources")
    assert "cloudwatch.amazonaws.com" in services["Principal"]["Service"]


# --- API Gateway + Lambda ---------------------------------------------------------------------

def test_functions_run_in_private_subnets_with_their_own_group(stack):
    private = sorted(stack.ref("aws_subnet", p) for p in stack.matching("aws_subnet",
                                                                        "network/private-*"))
    for name in ("api", "worker"):
        fn = stack.resource("aws_lambda_function", f"{name}-function/function")
        assert sorted(fn["vpc_config"]["subnet_ids"]) == private
        assert fn["vpc_config"]["security_group_ids"] == [
            stack.ref("aws_security_group", f"{name}-function/sg"),
            stack.ref("aws_security_group", "app-tier/sg")]
        assert (fn["runtime"], fn["architectures"]) == ("python3.12", ["arm64"])
        assert fn["kms_key_arn"] == stack.ref("aws_kms_key", "data-key/key", "arn")
        assert fn["tracing_config"] == {"mode": "Active"}
        assert not [r for r in stack.resources("aws_vpc_security_group_ingress_rule").values()
                    if r["security_group_id"] == stack.ref("aws_security_group",
                                                           f"{name}-function/sg")]


def test_the_worker_consumes_only_the_processing_queue(stack):
    [mapping] = stack.resources("aws_lambda_event_source_mapping").values()
    queue = stack.ref("aws_sqs_queue", "messaging/processing", "arn")
    assert mapping["event_source_arn"] == queue
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    statements = json.loads(stack.resource("aws_iam_role_policy",
                                           "worker-function/role-policy")["policy"])["Statement"]
    consume = next(s for s in statements if s["Sid"] == "ConsumeItsQueue")
    assert consume["Resource"] == queue
    api = {s["Sid"]: s for s in json.loads(stack.resource(
        "aws_iam_role_policy", "api-function/role-policy")["policy"])["Statement"]}
    assert not any("sqs:ReceiveMessage" in s["Action"] for s in api.values())
    assert "ReadOwnSecrets" not in api  # no secret of its own, and the database takes IAM tokens
    assert api["DatabaseIamAuthentication"]["Action"] == "rds-db:connect"
    assert api["RedisIamAuthentication"]["Action"] == "elasticache:Connect"


def test_http_api_invokes_only_its_function_with_throttling_and_logs(stack):
    permission = stack.resource("aws_lambda_permission", "http-api/invoke")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["source_arn"] == stack.ref("aws_apigatewayv2_api", "http-api/api",
                                                 "execution_arn") + "/*/*"
    stage = stack.resource("aws_apigatewayv2_stage", "http-api/stage")
    assert stage["default_route_settings"] == {"throttling_burst_limit": 200,
                                               "throttling_rate_limit": 100}
    assert stage["access_log_settings"]["destination_arn"] == stack.ref(
        "aws_cloudwatch_log_group", "http-api/access-logs", "arn")


def test_function_zips_are_byte_stable(tmp_path, stack):
    first, hash_1 = package(ROOT / "functions" / "api", tmp_path / "one")
    second, hash_2 = package(ROOT / "functions" / "api", tmp_path / "two")
    assert first.read_bytes() == second.read_bytes() and hash_1 == hash_2
    fn = stack.resource("aws_lambda_function", "api-function/function")
    assert fn["source_code_hash"] == hash_1  # what every synth wrote


def test_function_zip_is_the_same_in_two_separate_synths(stacks, full):
    for name in ("api", "worker"):
        hashes = {s.resource("aws_lambda_function", f"{name}-function/function")
                  ["source_code_hash"] for s in (*stacks.values(), full)}
        assert len(hashes) == 1, name


# --- schedules and Cognito ----------------------------------------------------------------------

def test_functions_read_only_their_own_secrets_by_arn(full, dev):
    secret = full.resource("aws_secretsmanager_secret", "secrets/jwt-signing-key")
    assert secret["name"] == "/webplat/full/api/jwt-signing-key"
    arn = full.ref("aws_secretsmanager_secret", "secrets/jwt-signing-key", "arn")
    for name in ("api", "worker"):
        function = full.resource("aws_lambda_function", f"{name}-function/function")
        assert function["environment"]["variables"]["JWT_SIGNING_KEY_SECRET_ARN"] == arn
        [policy] = full.matching("aws_iam_role_policy", f"{name}-function/*").values()
        read = next(s for s in json.loads(policy["policy"])["Statement"]
                    if s.get("Sid") == "ReadOwnSecrets")
        assert arn in read["Resource"]
        assert full.ref("aws_secretsmanager_secret", "secrets/stripe-key", "arn") \
            not in read["Resource"]  # the backend's secret stays the backend's
    assert "JWT_SIGNING_KEY_SECRET_ARN" not in json.dumps(dev.json)


def test_the_lambda_concurrency_alarm_watches_the_account_limit(full, dev):
    alarm = full.resource("aws_cloudwatch_metric_alarm",
                          "observability/alarm-lambda-concurrency")
    assert (alarm["namespace"], alarm["metric_name"], alarm["threshold"]) == \
        ("AWS/Lambda", "ConcurrentExecutions", 800)
    assert dev.matching("aws_cloudwatch_metric_alarm", "*lambda-concurrency") == {}


def test_each_schedule_role_can_invoke_only_its_target(full):
    function_job = json.loads(full.resource("aws_iam_role_policy",
                                            "schedule-cleanup/role-policy")["policy"])
    worker = full.ref("aws_lambda_function", "worker-function/function", "arn")
    assert function_job["Statement"] == [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                          "Resource": [worker, f"{worker}:*"]}]
    task_job = json.loads(full.resource("aws_iam_role_policy",
                                        "schedule-nightly-report/role-policy")["policy"])
    run, pass_role = task_job["Statement"]
    family = "arn:aws:ecs:us-east-1:123456789012:task-definition/webplat-full-worker"
    assert run["Resource"] == [family, f"{family}:*"]
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": full.ref(
        "aws_ecs_cluster", "cluster/cluster", "arn")}}
    assert sorted(pass_role["Resource"]) == sorted([
        full.ref("aws_iam_role", "service-worker/execution-role", "arn"),
        full.ref("aws_iam_role", "service-worker/task-role", "arn")])
    schedule = full.resource("aws_scheduler_schedule", "schedule-nightly-report/schedule")
    assert schedule["schedule_expression"] == "cron(0 3 * * ? *)"
    # The job runs its own command on the worker's image, not a second long-running worker.
    assert json.loads(schedule["target"]["input"]) == {"containerOverrides": [
        {"name": "worker", "command": ["node", "dist/report.js"]}]}
    assert schedule["target"]["ecs_parameters"]["network_configuration"][
        "assign_public_ip"] is False


def test_a_function_a_schedule_invokes_keeps_its_failed_events(every_stack):
    """Lambda Developer Guide, "Invoke a Lambda function on a schedule": EventBridge Scheduler
    invokes the function asynchronously; "Capturing records of Lambda asynchronous invocations":
    after its retries Lambda discards a failed event unless the function has a dead-letter queue,
    which its execution role must be allowed to send to (sqs:SendMessage)."""
    scheduled = [(stack, stack.locate(target.split(".")[1])[1]) for stack in every_stack.values()
                 for schedule in stack.resources("aws_scheduler_schedule").values()
                 if (target := schedule["target"]["arn"]).startswith("${aws_lambda_function.")]
    assert scheduled  # tests/fixtures/full.toml: cleanup -> the worker function
    for stack, path in scheduled:
        construct = path.split("/")[0]
        queue = stack.resource("aws_sqs_queue", f"{construct}/dead-letters")
        arn = stack.ref("aws_sqs_queue", f"{construct}/dead-letters", "arn")
        assert stack.resource("aws_lambda_function", path)["dead_letter_config"] == {
            "target_arn": arn}
        assert queue["sqs_managed_sse_enabled"] is True
        statements = json.loads(stack.resource("aws_iam_role_policy", f"{construct}/role-policy")
                                ["policy"])["Statement"]
        assert [s["Resource"] for s in statements if "sqs:SendMessage" in s["Action"]] == [arn]
        assert stack.matching("aws_cloudwatch_metric_alarm",
                              f"observability/alarm-{queue['name']}-not-empty")
    # SNS invokes a subscribed function asynchronously too ("Using Lambda with Amazon SNS"):
    # the PagerDuty relay keeps its failed events (tests/test_alarm_destinations.py).
    subscribed = [(stack, stack.locate(endpoint[2:].split(".")[1])[1])
                  for stack in every_stack.values()
                  for sub in stack.resources("aws_sns_topic_subscription").values()
                  if (endpoint := sub["endpoint"]).startswith("${aws_lambda_function.")]
    assert all("dead_letter_config" in stack.resource("aws_lambda_function", path)
               for stack, path in subscribed)
    # A function only called synchronously (by API Gateway, by its queue's event source) has none.
    assert [(stack.name, path) for stack in every_stack.values()
            for path, fn in stack.resources("aws_lambda_function").items()
            if "dead_letter_config" in fn and (stack, path) not in scheduled + subscribed] == []


def test_cognito_mfa_differs_dev_and_prod(dev, prod):
    dev_pool = dev.resource("aws_cognito_user_pool", "user-pool/pool")
    prod_pool = prod.resource("aws_cognito_user_pool", "user-pool/pool")
    assert (dev_pool["mfa_configuration"], prod_pool["mfa_configuration"]) == ("OPTIONAL", "ON")
    assert prod_pool["user_pool_add_ons"] == {"advanced_security_mode": "ENFORCED"}
    assert "user_pool_add_ons" not in dev_pool
    assert (dev_pool["deletion_protection"], prod_pool["deletion_protection"]) == \
        ("INACTIVE", "ACTIVE")
    for pool in (dev_pool, prod_pool):
        assert pool["password_policy"]["minimum_length"] >= 12
        assert pool["auto_verified_attributes"] == ["email"]
    client = prod.resource("aws_cognito_user_pool_client", "user-pool/web-client")
    assert client["generate_secret"] is False
    assert client["allowed_oauth_flows"] == ["code"]
    assert client["callback_urls"] == ["https://webplat.example.com/api/auth/callback"]


def test_api_custom_domain_is_tls_1_2_with_a_validated_certificate(full):
    domain = full.resource("aws_apigatewayv2_domain_name", "http-api/domain")
    config = domain["domain_name_configuration"]
    assert (domain["domain_name"], config["endpoint_type"], config["security_policy"]) == \
        ("api.example.com", "REGIONAL", "TLS_1_2")
    assert config["certificate_arn"] == full.ref("aws_acm_certificate_validation",
                                                 "http-api/certificate-validated",
                                                 "certificate_arn")
    mapping = full.resource("aws_apigatewayv2_api_mapping", "http-api/mapping")
    assert mapping["api_id"] == full.ref("aws_apigatewayv2_api", "http-api/api")
    cors = full.resource("aws_apigatewayv2_api", "http-api/api")["cors_configuration"]
    assert cors["allow_origins"] == ["https://app.example.com"]
    assert full.json["output"]["api_url"]["value"] == "https://api.example.com"
    # dual-stack, so both an A and an AAAA alias to its regional endpoint
    assert config["ip_address_type"] == "dualstack"
    records = full.matching("aws_route53_record", "http-api/alias*").values()
    assert sorted((r["name"], r["type"]) for r in records) == [
        ("api.example.com", "A"), ("api.example.com", "AAAA")]


def test_a_scheduled_task_runs_on_its_services_capacity(full):
    """The worker runs on the EC2 capacity provider with an EC2-only task definition; Fargate
    would refuse its scheduled task at run time, so the schedule uses the service's strategy."""
    assert full.resource("aws_ecs_task_definition", "service-worker/task")[
        "requires_compatibilities"] == ["EC2"]
    ec2 = [{"capacity_provider": full.ref("aws_ecs_capacity_provider", "cluster/ec2-provider",
                                          "name"), "base": 0, "weight": 1}]
    assert full.resource("aws_ecs_service", "service-worker/service")[
        "capacity_provider_strategy"] == ec2
    ecs = full.resource("aws_scheduler_schedule", "schedule-nightly-report/schedule")[
        "target"]["ecs_parameters"]
    assert ecs["capacity_provider_strategy"] == ec2
    assert "launch_type" not in ecs  # the API takes a strategy or a launch type, not both


def test_function_zip_ignores_mtimes_modes_and_caches(tmp_path):
    """Zip entries can record timestamps and permissions, which differ per checkout: none of that
    may reach the bytes, or every clone (and every synth) would redeploy the same code."""
    source = tmp_path / "api"
    shutil.copytree(ROOT / "functions" / "api", source)
    (source / "lib").mkdir()
    (source / "lib" / "util.py").write_text("X = 1\n")
    zip_1, hash_1 = package(source, tmp_path / "build-1")
    for path in [source, *source.rglob("*")]:
        os.utime(path, (946684800, 946684800))  # 2000-01-01, not the copy's time
        path.chmod(0o777 if path.is_dir() else 0o755)
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "handler.cpython-312.pyc").write_bytes(b"cache")
    zip_2, hash_2 = package(source, tmp_path / "build-2")
    assert zip_2.read_bytes() == zip_1.read_bytes() and hash_2 == hash_1
    (source / "lib" / "util.py").write_text("X = 2\n")  # while the code itself does count
    assert package(source, tmp_path / "build-3")[1] != hash_1
