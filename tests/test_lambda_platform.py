"""`compute.platform = "lambda"`: services as functions from their container images with the AWS
Lambda Web Adapter, web services behind the HTTP API, workers fed by their queue. What Lambda,
the adapter and API Gateway accept (each rule with the page that states it), checked on the
synthesized JSON of the lean preset and of tests/fixtures/lambda.toml (every Lambda switch), and
the bad inputs the config refuses in one line."""

import json

import pytest

from conftest import ROOT, synthesize
from lib.config import load_environment
from lib.config.lambda_platform import route_keys
from test_config import MINIMAL, problems, write

LAMBDA = 'profile = "lean"\n' + MINIMAL


@pytest.fixture(scope="module")
def fn(fixture_stacks):
    return fixture_stacks["fn-stack"]


@pytest.fixture(scope="module")
def lean(presets):
    return presets["lean"]


def function(stack, name: str) -> dict:
    return stack.resource("aws_lambda_function", f"service-{name}/function")


# --- what runs --------------------------------------------------------------------------------

def test_the_lean_profile_runs_its_service_on_lambda_without_nat_or_load_balancer(lean):
    c = load_environment(ROOT / "examples" / "lean.toml")
    assert (c.compute.platform, c.network.nat) == ("lambda", "none")
    for prefix in ("aws_ecs_", "aws_lb", "aws_apprunner_", "aws_nat_gateway", "aws_instance"):
        assert not [t for t in lean.json["resource"] if t.startswith(prefix)], prefix
    api = function(lean, "api")
    assert api["package_type"] == "Image" and api["function_name"] == "webplat-lean-api"
    assert lean.json["output"]["url"]["value"] == lean.ref(
        "aws_apigatewayv2_stage", "http-api/stage", "invoke_url")


def test_a_function_runs_its_image_from_its_repository_and_ci_deploys_later_ones(lean, fn):
    api = function(lean, "api")
    repository = lean.ref("aws_ecr_repository", "api-images/repository", "repository_url")
    # Terraform creates it from <repository>:<image_tag>; CI then deploys digests
    # (update-function-code), which a later apply must not roll back.
    assert api["image_uri"] == f"{repository}:bootstrap"
    assert api["lifecycle"] == {"ignore_changes": ["image_uri"]}
    # An external image is deployed by Terraform as written.
    mailer = function(fn, "mailer")
    assert mailer["image_uri"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/shared/mailer:1.4.2"
    assert "lifecycle" not in mailer
    # "Create a Lambda function using a container image": the image targets one architecture.
    assert api["architectures"] == ["arm64"] and mailer["architectures"] == ["x86_64"]


def test_lambda_may_pull_a_repository_for_its_own_function_only(lean):
    # "Create a Lambda function using a container image", Amazon ECR permissions: the repository
    # policy lets lambda.amazonaws.com BatchGetImage and GetDownloadUrlForLayer; Lambda checks it
    # when it creates the function, so the function waits for it.
    policy = lean.resource("aws_ecr_repository_policy", "api-images/lambda-pull")
    [statement] = json.loads(policy["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert sorted(statement["Action"]) == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    arn = "arn:aws:lambda:us-east-1:123456789012:function:webplat-lean-api"
    assert statement["Condition"] == {"StringLike": {"aws:SourceArn": [arn, f"{arn}:*"]}}
    assert lean.ref("aws_ecr_repository_policy", "api-images/lambda-pull").split(".id")[0][2:] \
        in function(lean, "api")["depends_on"]


def test_the_web_adapter_is_told_the_apps_port_and_readiness_path(fn):
    # "AWS Lambda Web Adapter", environment variables: AWS_LWA_PORT (default 8080) and
    # AWS_LWA_READINESS_CHECK_PATH (default /).
    web = function(fn, "web")["environment"]["variables"]
    assert (web["AWS_LWA_PORT"], web["AWS_LWA_READINESS_CHECK_PATH"]) == ("8080", "/status")
    assert "AWS_LWA_ERROR_STATUS_CODES" not in web  # a web app's 5xx reaches the client as is
    mailer = function(fn, "mailer")["environment"]["variables"]
    # Non-HTTP events are POSTed to AWS_LWA_PASS_THROUGH_PATH; statuses in
    # AWS_LWA_ERROR_STATUS_CODES fail the invocation, so a failed batch is retried.
    assert (mailer["AWS_LWA_PORT"], mailer["AWS_LWA_PASS_THROUGH_PATH"],
            mailer["AWS_LWA_ERROR_STATUS_CODES"]) == ("8081", "/events", "500-599")


# --- who can reach what --------------------------------------------------------------------------

def test_each_path_is_a_route_to_the_function_of_its_service(fn):
    integrations = {path.split("/")[1]: body for path, body in
                    fn.resources("aws_apigatewayv2_integration").items()}
    target = {f"integrations/{fn.ref('aws_apigatewayv2_integration', f'http-api/{i}')}": i
              for i in integrations}
    routes = {body["route_key"]: target[body["target"]]
              for body in fn.resources("aws_apigatewayv2_route").values()}
    # "Working with routes for HTTP APIs": a greedy {proxy+} catches child resources only, so a
    # prefix is two routes; $default takes what no route matches (the zip API function here).
    assert routes == {"ANY /app": "web-integration", "ANY /app/{proxy+}": "web-integration",
                      "ANY /status": "web-integration", "$default": "integration"}
    # Provisioned concurrency applies only to the alias it is configured on: the API invokes it.
    assert integrations["web-integration"]["integration_uri"] == fn.ref(
        "aws_lambda_alias", "service-web/live", "arn")
    assert {i["payload_format_version"] for i in integrations.values()} == {"2.0"}


def test_only_this_http_api_may_invoke_the_web_functions(fn, lean):
    for stack in (fn, lean):
        execution = stack.ref("aws_apigatewayv2_api", "http-api/api", "execution_arn")
        permissions = stack.resources("aws_lambda_permission")
        assert permissions
        for body in permissions.values():
            assert (body["principal"], body["source_arn"]) == \
                ("apigateway.amazonaws.com", f"{execution}/*/*")
    web = fn.resource("aws_lambda_permission", "http-api/web-invoke")
    assert web["qualifier"] == "live"
    # A worker is invoked by its queue's event source mapping, by nothing else.
    assert not fn.matching("aws_lambda_permission", "*mailer*")


def test_functions_run_in_the_private_tier_with_no_inbound_rule(fn, lean):
    for stack, names in ((fn, ("web", "mailer")), (lean, ("api",))):
        private = set(stack.json["output"]["private_subnet_ids"]["value"])
        for name in names:
            vpc = function(stack, name)["vpc_config"]
            assert set(vpc["subnet_ids"]) == private
            assert vpc["security_group_ids"][1] == stack.ref("aws_security_group", "app-tier/sg")
            assert not stack.matching("aws_vpc_security_group_ingress_rule", f"service-{name}/*")


# --- what is encrypted, who may do what --------------------------------------------------------

def test_environment_and_logs_are_encrypted_with_the_projects_keys(fn):
    for name in ("web", "mailer"):
        assert function(fn, name)["kms_key_arn"] == fn.ref("aws_kms_key", "data-key/key", "arn")
        logs = fn.resource("aws_cloudwatch_log_group", f"service-{name}/logs")
        assert logs["name"] == f"/aws/lambda/webplat-fn-{name}"
        assert logs["kms_key_id"] == fn.ref("aws_kms_key", "logs-key/key", "arn")


def test_a_secret_arrives_as_its_arn_and_only_its_owner_may_read_it(fn):
    secret = fn.ref("aws_secretsmanager_secret", "secrets/stripe-key", "arn")
    assert function(fn, "web")["environment"]["variables"]["STRIPE_KEY_SECRET_ARN"] == secret
    reads = [s for s in fn.inline_statements("service-web/role*")
             if s["Action"] == "secretsmanager:GetSecretValue"]
    assert [s["Resource"] for s in reads] == [[secret]]
    assert not [s for s in fn.inline_statements("service-mailer/role*")
                if "secretsmanager" in json.dumps(s["Action"])]


def test_a_worker_drains_its_queue_and_reports_partial_batch_failures(fn):
    mapping = fn.resource("aws_lambda_event_source_mapping", "service-mailer/queue-source")
    queue = fn.ref("aws_sqs_queue", "messaging/email", "arn")
    assert mapping["event_source_arn"] == queue
    # "Handling errors for an SQS event source in Lambda": ReportBatchItemFailures retries only
    # the records the function names; "ScalingConfig": MaximumConcurrency 2-1000.
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["scaling_config"] == {"maximum_concurrency": 3}
    # "Creating and configuring an Amazon SQS event source mapping": the queue hides a message
    # at least six times the function's timeout; Lambda refuses a trigger whose function runs
    # longer than the visibility timeout.
    body = fn.resource("aws_sqs_queue", "messaging/email")
    assert body["visibility_timeout_seconds"] >= 6 * function(fn, "mailer")["timeout"]
    assert "redrive_policy" in body  # failed messages end in the dead-letter queue
    consume = [s for s in fn.inline_statements("service-mailer/role*")
               if "sqs:ReceiveMessage" in s["Action"]]
    assert [s["Resource"] for s in consume] == [queue]


def test_concurrency_settings_reach_the_function(fn):
    web = function(fn, "web")
    assert (web["reserved_concurrent_executions"], web["publish"]) == (5, True)
    warm = fn.resource("aws_lambda_provisioned_concurrency_config", "service-web/warm")
    assert warm["provisioned_concurrent_executions"] == 1
    alias = fn.resource("aws_lambda_alias", "service-web/live")
    assert alias["function_version"] == fn.ref("aws_lambda_function", "service-web/function",
                                               "version")
    mailer = function(fn, "mailer")
    assert "reserved_concurrent_executions" not in mailer and "publish" not in mailer


def test_the_http_api_is_throttled_logged_and_on_its_domain(fn):
    stage = fn.resource("aws_apigatewayv2_stage", "http-api/stage")
    assert stage["default_route_settings"]["throttling_rate_limit"] == 100
    assert stage["access_log_settings"]["destination_arn"] == fn.ref(
        "aws_cloudwatch_log_group", "http-api/access-logs", "arn")
    domain = fn.resource("aws_apigatewayv2_domain_name", "http-api/domain")
    assert domain["domain_name"] == "fn.example.com"
    assert domain["domain_name_configuration"]["security_policy"] == "TLS_1_2"
    assert fn.json["output"]["url"]["value"] == "https://fn.example.com"


# --- the first deploy -------------------------------------------------------------------------

def test_phase_one_creates_no_function_and_says_what_to_push(tmp_path):
    # "Create a Lambda function using a container image": the image must already be in ECR.
    text = (ROOT / "examples" / "lean.toml").read_text().replace(
        "images_pushed = true", "images_pushed = false")
    path = tmp_path / "lean.toml"
    path.write_text(text)
    [stack] = synthesize(tmp_path / "out", [path]).values()
    assert not stack.resources("aws_lambda_function")
    assert not stack.resources("aws_apigatewayv2_route")
    assert stack.resources("aws_ecr_repository") and stack.resources("aws_apigatewayv2_api")
    message = stack.json["output"]["first_image"]["value"]
    assert message.startswith("api: ") and "images_pushed = true" in message


# --- the HTTP API's routes from path patterns ---------------------------------------------------

@pytest.mark.parametrize("path, keys", [
    ("/*", ["$default"]),
    ("/api/*", ["ANY /api", "ANY /api/{proxy+}"]),
    ("/v1/users/*", ["ANY /v1/users", "ANY /v1/users/{proxy+}"]),
    ("/health", ["ANY /health"]),
    ("/api*", []), ("/*.png", []), ("api/*", []), ("/a/*/b", []), ("/", []),
])
def test_path_patterns_become_http_api_route_keys(path, keys):
    assert route_keys(path) == keys


# --- bad input: one line each -------------------------------------------------------------------

SERVICE = '[[services]]\nname = "web"\nport = 8080\npaths = ["/*"]\n'

BAD = [
    # (case, extra file text, field, words of the message)
    ("worker without a queue",
     SERVICE + '[[services]]\nname = "jobs"\nkind = "worker"\nport = 8080\n',
     "services.jobs.queue", "name the queue it drains"),
    ("port below 1024", SERVICE.replace("8080", "80"), "services.web.port",
     "no port below 1024"),
    ("the Runtime API's port", SERVICE.replace("8080", "9001"), "services.web.port",
     "9001 is the Lambda Runtime API's"),
    ("no port", SERVICE.replace("port = 8080\n", ""), "services.web.port",
     "forwards every request"),
    ("memory over Lambda's limit", SERVICE + "memory = 20480\n", "services.web.memory",
     "outside Lambda's 128-10240 MB"),
    ("web timeout past the HTTP API's 30 s", SERVICE + "timeout_seconds = 60\n",
     "services.web.timeout_seconds", "gives up after 30 s"),
    ("colliding paths", SERVICE.replace('["/*"]', '["/api/*"]')
     + '[[services]]\nname = "admin"\nport = 8080\npaths = ["/api"]\n',
     "services.admin.paths", "'/api' needs the route ANY /api, which already goes to web"),
    ("two catch-alls", SERVICE + '[[services]]\nname = "site"\nport = 8080\npaths = ["/*"]\n',
     "services.site.paths", "every path no other route takes"),
    ("a pattern the HTTP API cannot route", SERVICE.replace('["/*"]', '["/api*"]'),
     "services.web.paths", "not a pattern the HTTP API can route"),
    ("EC2 capacity", SERVICE + '[compute.ec2]\ninstance_type = "t4g.small"\n', "compute.ec2",
     "Lambda runs on no EC2 capacity"),
    ("a service on EC2 capacity", SERVICE + 'capacity = "ec2"\n', "services.web.capacity",
     "Lambda does not use"),
    ("an ECS-only setting", SERVICE + "cpu = 512\n", "services.web.cpu",
     "has no effect on Lambda"),
    ("an image outside private ECR", SERVICE + 'image = "nginx:1.27"\n', "services.web.image",
     "only from a private ECR repository in us-east-1"),
    ("an image in another Region",
     SERVICE + 'image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1"\n',
     "services.web.image", "in another Region"),
    ("a worker's queue hiding messages too briefly",
     SERVICE + '[[services]]\nname = "jobs"\nkind = "worker"\nport = 8080\nqueue = "email"\n'
     'timeout_seconds = 30\n[[messaging.queues]]\nname = "email"\n',
     "services.jobs.timeout_seconds", "at least 6 times as long"),
    ("a worker concurrency SQS does not offer",
     SERVICE + '[[services]]\nname = "jobs"\nkind = "worker"\nport = 8080\nqueue = "email"\n'
     'max_tasks = 1\n[[messaging.queues]]\nname = "email"\n', "services.jobs.max_tasks",
     "2-1000"),
    ("more warm instances than reserved", SERVICE + "reserved_concurrency = 2\n"
     "provisioned_concurrency = 3\n", "services.web.provisioned_concurrency",
     "more than reserved_concurrency"),
    ("a domain without its zone", SERVICE + '[ingress]\ndomain = "app.example.com"\n',
     "ingress.hosted_zone_id", "existing Route53 zone"),
    ("two domains for one HTTP API", SERVICE + '[ingress]\ndomain = "app.example.com"\n'
     'hosted_zone_id = "Z0123456789EXAMPLE"\n[api]\ndomain = "api.example.com"\n'
     'hosted_zone_id = "Z0123456789EXAMPLE"\n', "api.domain", "not both"),
    ("WAF on an HTTP API", SERVICE + "[edge]\nwaf = true\n", "edge.waf",
     "cannot protect an HTTP API"),
    ("images_pushed on ECS", '[compute]\nplatform = "ecs"\nimages_pushed = true\n',
     "compute.images_pushed", 'only used with compute.platform = "lambda"'),
]


@pytest.mark.parametrize("case, extra, field, words", BAD, ids=[b[0] for b in BAD])
def test_bad_lambda_input_is_one_line_naming_the_field(tmp_path, case, extra, field, words):
    text = LAMBDA + extra
    if "[compute]" not in extra:
        text += "[compute]\nplatform = \"lambda\"\n"
    found = [p for p in problems(write(tmp_path, text)) if p.split(": ", 2)[1] == field]
    assert len(found) == 1 and words in found[0], (found, problems(write(tmp_path, text)))


def test_a_function_can_sign_its_cache_token(lean, fn):
    """ElastiCache, "Authenticating with IAM": the token is a SigV4-presigned
    `<cache name>/?Action=connect&User=<user id>` (a serverless cache's also carries
    ResourceType=ServerlessCache), and the role needs elasticache:Connect on that cache and that
    user. The function is told the name and the kind, and its role may connect to exactly that."""
    for stack, name, kind, cache in (
            (lean, "webplat-lean-valkey", "true", ("aws_elasticache_serverless_cache",
                                                   "serverless-cache/cache")),
            (fn, "webplat-fn-redis", "false", ("aws_elasticache_replication_group",
                                               "cache/group"))):
        service = "api" if stack is lean else "web"
        env = function(stack, service)["environment"]["variables"]
        assert (env["REDIS_CACHE_NAME"], env["REDIS_SERVERLESS"]) == (name, kind)
        [connect] = [s for s in stack.inline_statements(f"service-{service}/role*")
                     if s["Action"] == "elasticache:Connect"]
        assert connect["Resource"][0] == stack.ref(cache[0], cache[1], "arn")
