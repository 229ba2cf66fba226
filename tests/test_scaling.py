"""Scaling on what the application experiences (`scale_on_metric`, `scale_on_latency_p99_ms`) as
a reviewer checks it: seed 002's workers on their BullMQ backlog per task and its API on p99
latency, each a target tracking policy within the service's bounds beside CPU and memory; the
workers' task role may publish in their namespace only; a dashboard graph per policy with its
target; the alarms target tracking creates in the estimate; the deploy role able to create them;
and one clear line for each config mistake."""

import json
from pathlib import Path

import pytest

import contracts
from conftest import MINIMAL_CONFIG as MINIMAL, SynthStack
from lib.analysis.cost import estimate
from lib.analysis.diagram import mermaid
from lib.analysis.pricing import Prices, load_prices
from lib.config import ConfigError, load_environment

WORKERS, API = "service-bullmq-workers", "service-app-api"


@pytest.fixture(scope="module")
def mobilytics(presets) -> SynthStack:
    return presets["mobilytics"]


def tracking(stack: SynthStack, path: str) -> dict:
    policy = stack.resource("aws_appautoscaling_policy", path)
    assert policy["policy_type"] == "TargetTrackingScaling"
    return policy["target_tracking_scaling_policy_configuration"]


def queries(config: dict) -> dict[str, dict]:
    return {q["id"]: q for q in config["customized_metric_specification"]["metrics"]}


def metric(query: dict) -> tuple[str, str, dict, str]:
    stat = query["metric_stat"]
    return (stat["metric"]["namespace"], stat["metric"]["metric_name"],
            {d["name"]: d["value"] for d in stat["metric"].get("dimensions", [])}, stat["stat"])


# --- the policies --------------------------------------------------------------------------------

def test_the_workers_track_their_bullmq_backlog_per_running_task(mobilytics):
    # Application Auto Scaling User Guide, "Create a target tracking scaling policy for
    # Application Auto Scaling using metric math", Example: queue backlog per task = the
    # messages waiting / ECS/ContainerInsights RunningTaskCount (ClusterName, ServiceName), and
    # "Any expressions used in a metric specification must eventually return a single time
    # series".
    config = tracking(mobilytics, f"{WORKERS}/scale-on-metric")
    found = queries(config)
    assert metric(found["m1"]) == ("BullMQ", "waiting", {"queue": "jobs"}, "Average")
    cluster = mobilytics.ref("aws_ecs_cluster", "cluster/cluster", "name")
    service = mobilytics.ref("aws_ecs_service", f"{WORKERS}/service", "name")
    assert metric(found["m2"]) == ("ECS/ContainerInsights", "RunningTaskCount",
                                   {"ClusterName": cluster, "ServiceName": service}, "Average")
    assert found["e1"]["expression"] == "m1 / m2"
    assert [q["id"] for q in found.values() if q["return_data"]] == ["e1"]
    assert config["target_value"] == 100  # jobs waiting per running task
    # RunningTaskCount exists only with Container Insights on the cluster.
    settings = mobilytics.resource("aws_ecs_cluster", "cluster/cluster")["setting"]
    assert {"name": "containerInsights", "value": "enabled"} in settings


def test_the_api_tracks_its_p99_response_time_at_the_load_balancer(mobilytics):
    # TargetTrackingMetricStat (Application Auto Scaling API Reference): Stat "can include any
    # CloudWatch statistic or extended statistic", so p99 goes in the metric-math form; the
    # plain CustomizedMetricSpecification's Statistic is Average|Minimum|Maximum|SampleCount|Sum.
    # "CloudWatch metrics for your Application Load Balancer": TargetResponseTime is in seconds,
    # per LoadBalancer and TargetGroup, and not reported while no requests flow.
    config = tracking(mobilytics, f"{API}/scale-on-latency-p99")
    found = queries(config)
    load_balancer = mobilytics.ref("aws_lb", "load-balancer/alb", "arn_suffix")
    group = mobilytics.ref("aws_lb_target_group", f"{API}/target-group", "arn_suffix")
    assert metric(found["m1"]) == ("AWS/ApplicationELB", "TargetResponseTime",
                                   {"LoadBalancer": load_balancer, "TargetGroup": group}, "p99")
    assert "statistic" not in config["customized_metric_specification"]
    # A quiet minute reads 0 rather than no data: a target tracking policy "does not perform
    # scale in" on insufficient data (Amazon ECS Developer Guide, "Use a target metric to scale
    # Amazon ECS services"), and with it the service would never shed a task.
    assert (found["e1"]["expression"], found["e1"]["return_data"]) == ("FILL(m1, 0)", True)
    assert config["target_value"] == 0.5  # 500 ms


@pytest.mark.parametrize("service, low, high, predefined, tracked", [
    (API, 2, 4, {"ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization",
                 "ALBRequestCountPerTarget"}, "latency-p99"),
    (WORKERS, 1, 4, {"ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization"},
     "metric"),
])
def test_each_policy_moves_the_service_within_its_bounds_beside_cpu_and_memory(
        mobilytics, service, low, high, predefined, tracked):
    target = mobilytics.resource("aws_appautoscaling_target", f"{service}/scaling-target")
    assert (target["min_capacity"], target["max_capacity"]) == (low, high)
    policies = mobilytics.matching("aws_appautoscaling_policy", f"{service}/*")
    for policy in policies.values():
        assert policy["resource_id"] == mobilytics.ref(
            "aws_appautoscaling_target", f"{service}/scaling-target", "resource_id")
    configs = [p["target_tracking_scaling_policy_configuration"] for p in policies.values()]
    assert {c["predefined_metric_specification"]["predefined_metric_type"]
            for c in configs if "predefined_metric_specification" in c} == predefined
    config = tracking(mobilytics, f"{service}/scale-on-{tracked}")
    # Grow each minute; shed a task only after five quiet minutes: a new task answers late.
    assert (config["scale_out_cooldown"], config["scale_in_cooldown"]) == (60, 300)
    assert not config.get("disable_scale_in")


def test_a_metric_published_per_task_is_tracked_as_published(full):
    config = tracking(full, "service-backend/scale-on-metric")
    [query] = config["customized_metric_specification"]["metrics"]
    assert metric(query) == ("Checkout", "InFlight", {}, "Average")
    assert (query["return_data"], config["target_value"]) == (True, 20)


# --- what the application may do and is told -----------------------------------------------------

def test_only_the_workers_may_publish_and_only_in_their_namespace(mobilytics):
    # Amazon CloudWatch User Guide, "Using condition keys to limit access to CloudWatch
    # namespaces": PutMetricData takes no resource; cloudwatch:namespace limits where it writes.
    workers = mobilytics.inline_statements(f"{WORKERS}/task-role-policy")
    api = mobilytics.inline_statements(f"{API}/task-role-policy")

    def put(statements, namespace):
        return contracts.decide(statements, "cloudwatch:PutMetricData", "*",
                                context={"cloudwatch:namespace": namespace})
    assert put(workers, "BullMQ") == "allow"
    for other in ("BullMQ2", "AWS/SQS", "Checkout"):
        assert put(workers, other) == "implicit", other
    assert put(api, "BullMQ") == "implicit"
    task = mobilytics.resource("aws_ecs_task_definition", f"{WORKERS}/task")
    env = {e["name"]: e["value"] for e in json.loads(task["container_definitions"])[0]
           ["environment"]}
    assert (env["SCALING_METRIC_NAMESPACE"], env["SCALING_METRIC_NAME"],
            json.loads(env["SCALING_METRIC_DIMENSIONS"])) == ("BullMQ", "waiting",
                                                              {"queue": "jobs"})


# --- what people see: the dashboard, the diagram, the estimate -----------------------------------

def test_the_dashboard_graphs_what_each_policy_tracks_with_its_target(mobilytics):
    body = json.loads(mobilytics.resource("aws_cloudwatch_dashboard",
                                          "observability/dashboard")["dashboard_body"])
    widgets = {w["properties"]["title"]: w["properties"] for w in body["widgets"]}
    for service, tracked, title in [
            (WORKERS, "metric", "mobilytics-prod-bullmq-workers scales on BullMQ waiting per task"),
            (API, "latency-p99", "mobilytics-prod-app-api scales on p99 response time")]:
        config = tracking(mobilytics, f"{service}/scale-on-{tracked}")
        graph = widgets[title]
        assert graph["annotations"]["horizontal"][0]["value"] == config["target_value"]
        shown = {}
        for row in graph["metrics"]:
            options = row[-1]
            shown[options["id"]] = options["visible"]
            if "expression" in options:
                assert options["expression"] == queries(config)[options["id"]]["expression"]
            else:
                assert (row[0], row[1], dict(zip(row[2:-1:2], row[3:-1:2])), options["stat"]) \
                    == metric(queries(config)[options["id"]])
        # The graph draws the policy's queries and shows the one value it tracks.
        assert shown == {q["id"]: q["return_data"] for q in queries(config).values()}


def test_the_diagram_says_what_each_service_scales_on(mobilytics):
    diagram = mermaid(mobilytics.json)
    assert "ECS mobilytics-prod-bullmq-workers<br/>0.25 vCPU / 0.5 GB<br/>scales on BullMQ " \
           "waiting per task" in diagram
    assert "scales on p99 response time (s)" in diagram


def test_the_estimate_counts_the_alarms_target_tracking_creates_and_the_published_metric(
        mobilytics):
    # Target tracking creates two alarms per policy (AlarmHigh, AlarmLow: the put-scaling-policy
    # answer in the metric math page); CloudWatch bills an alarm per metric it evaluates.
    lines = {i.item: i for i in estimate("mobilytics", mobilytics.json, load_prices()).items}
    reads = sum(len([q for q in p["target_tracking_scaling_policy_configuration"].get(
        "customized_metric_specification", {}).get("metrics", []) if "metric_stat" in q]) or 1
        for p in mobilytics.resources("aws_appautoscaling_policy").values()
        if p["policy_type"] == "TargetTrackingScaling")
    assert reads == 3 + 2 + 1 + 2  # app-api: CPU, memory, requests, p99; workers: + waiting, tasks
    assert lines["CloudWatch alarm (target tracking, per metric)"].quantity == 2 * reads
    assert lines["CloudWatch custom metric (the application publishes)"].quantity == 1


def test_a_target_tracking_policy_costs_its_alarms_and_the_metric_it_needs_published():
    """By hand: a backlog-per-task policy reads two metrics, so each of its two alarms is two
    alarm metrics (4 x $0.10); the application's metric is one custom metric ($0.30) published
    once a minute (43,800 PutMetricData requests at $0.01 per 1,000); RunningTaskCount is
    Container Insights', priced on the cluster. A predefined policy: two alarms, nothing else."""
    prices = Prices({"hours_per_month": 730, "usage": {"app_metric_puts": 43800},
                     "cloudwatch": {"alarm_month": 0.10, "custom_metric_month": 0.30,
                                    "api_requests_1000": 0.01}})
    tracked = [{"id": "m1", "return_data": False, "metric_stat": {"stat": "Average", "metric": {
        "namespace": "BullMQ", "metric_name": "waiting"}}},
               {"id": "m2", "return_data": False, "metric_stat": {"stat": "Average", "metric": {
                   "namespace": "ECS/ContainerInsights", "metric_name": "RunningTaskCount"}}},
               {"id": "e1", "expression": "m1 / m2", "return_data": True}]
    stack = {"resource": {"aws_appautoscaling_policy": {
        "backlog": {"policy_type": "TargetTrackingScaling",
                    "target_tracking_scaling_policy_configuration": {
                        "customized_metric_specification": {"metrics": tracked}}},
        "cpu": {"policy_type": "TargetTrackingScaling",
                "target_tracking_scaling_policy_configuration": {
                    "predefined_metric_specification": {
                        "predefined_metric_type": "ECSServiceAverageCPUUtilization"}}},
        "steps": {"policy_type": "StepScaling"}}}}
    result = estimate("by-hand", stack, prices)
    assert {(i.item, i.quantity, i.monthly_usd) for i in result.items} == {
        ("CloudWatch alarm (target tracking, per metric)", 6, 0.60),
        ("CloudWatch custom metric (the application publishes)", 1, 0.30),
        ("CloudWatch PutMetricData requests", 43800, 0.44)}
    assert not result.not_priced


# --- the deploy role -----------------------------------------------------------------------------

def test_the_deploy_role_may_put_a_policy_and_the_alarms_it_creates(bootstrap):
    # Application Auto Scaling User Guide, "Example policies for working with the AWS CLI or an
    # SDK": for ECS, PutScalingPolicy with cloudwatch:PutMetricAlarm, DescribeAlarms and
    # DeleteAlarms; the alarms are named TargetTracking-<resource id>-AlarmHigh|Low-<uuid> and
    # carry no tags. A customized metric needs nothing more than a predefined one.
    graph = contracts.Graph(bootstrap)
    statements = [s for path, body in bootstrap.matching(
        "aws_iam_policy", "delivery-staging/deploy*").items()
        for s in graph.statements(body["policy"])]
    region, account = "us-east-1", "123456789012"
    target = f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/0123abcd"
    own = {"aws:RequestedRegion": region, "aws:ResourceTag/Project": "webplat",
           "aws:ResourceTag/Environment": "staging"}
    for action in ("PutScalingPolicy", "DeleteScalingPolicy"):
        assert contracts.decide(statements, f"application-autoscaling:{action}", target,
                                context=own) == "allow", action
    alarm = (f"arn:aws:cloudwatch:{region}:{account}:alarm:TargetTracking-service/"
             "webplat-staging-cluster/webplat-staging-worker-AlarmHigh-9bc77b56")
    for action in ("PutMetricAlarm", "DescribeAlarms", "DeleteAlarms"):
        assert contracts.decide(statements, f"cloudwatch:{action}", alarm,
                                context={"aws:RequestedRegion": region}) == "allow", action


# --- bad input: one line naming the file and the field -------------------------------------------

# dev turns Container Insights off; a per-task metric needs it.
WORKER = '''
[observability]
container_insights = true

[[services]]
name = "web"
port = 8080
paths = ["/*"]
priority = 10

[[services]]
name = "jobs"
kind = "worker"
'''
METRIC = 'scale_on_metric = { namespace = "BullMQ", metric = "waiting", target = 100 }\n'

BAD = [
    ("no namespace", WORKER + 'scale_on_metric = { metric = "waiting", target = 1 }\n',
     "services.jobs.scale_on_metric.namespace", "required field is missing"),
    ("no metric", WORKER + 'scale_on_metric = { namespace = "BullMQ", target = 1 }\n',
     "services.jobs.scale_on_metric.metric", "required field is missing"),
    ("a zero target", WORKER + METRIC.replace("100", "0"),
     "services.jobs.scale_on_metric.target", "must be > 0"),
    ("a negative target", WORKER + METRIC.replace("100", "-5"),
     "services.jobs.scale_on_metric.target", "must be > 0"),
    # PutMetricData: "You cannot specify a namespace that begins with AWS/".
    ("an AWS namespace", WORKER + METRIC.replace('"BullMQ"', '"AWS/SQS"'),
     "services.jobs.scale_on_metric.namespace", "PutMetricData refuses them"),
    # Amazon CloudWatch API Reference, "Metric": Dimensions, "Maximum number of 30 items".
    ("31 dimensions", WORKER + METRIC.replace(
        "target = 100", "target = 100, dimensions = { "
        + ", ".join(f'd{i} = "x"' for i in range(31)) + " }"),
     "services.jobs.scale_on_metric.dimensions", "at most 30"),
    # "Dimension": a value is 1-1024 characters.
    ("a dimension value too long", WORKER + METRIC.replace(
        "target = 100", f'target = 100, dimensions = {{ queue = "{"q" * 1025}" }}'),
     "services.jobs.scale_on_metric.dimensions", "1-1024 characters"),
    ("a percentile statistic", WORKER + METRIC.replace("target = 100",
                                                       'target = 100, statistic = "p99"'),
     "services.jobs.scale_on_metric.statistic", "'p99' is not allowed"),
    ("latency on a worker", WORKER + "scale_on_latency_p99_ms = 500\n",
     "services.jobs.scale_on_latency_p99_ms", "a worker has no load balancer"),
    ("a latency of 0 ms", WORKER.replace('priority = 10\n', 'priority = 10\n'
                                         'scale_on_latency_p99_ms = 0\n'),
     "services.web.scale_on_latency_p99_ms", "must be >= 1"),
    ("from zero tasks", WORKER + "min_tasks = 0\n" + METRIC,
     "services.jobs.min_tasks", "target tracking scales the running tasks"),
    ("beside an SQS queue", WORKER + 'queue = "email"\n' + METRIC,
     "services.jobs.scale_on_metric", "already scales on its queue 'email'"),
    ("per task without Container Insights", WORKER.replace("= true", "= false") + METRIC,
     "services.jobs.scale_on_metric.per_task", "observability.container_insights = true"),
    # Without NAT the task reaches CloudWatch through its interface endpoint only (service name
    # com.amazonaws.<region>.monitoring).
    ("without NAT or the monitoring endpoint", 'nat = "none"\n' + WORKER + METRIC,
     "services.jobs.scale_on_metric", 'out of reach from a VPC without NAT; add "monitoring"'),
    ("on a one-off task", WORKER.replace('kind = "worker"', 'kind = "task"') + METRIC,
     "services.jobs.scale_on_metric", "does not scale"),
    ("on Lambda", WORKER.replace('name = "web"\n', 'name = "web"\nscale_on_latency_p99_ms = 300\n')
     + '[compute]\nplatform = "lambda"\n', "services.web.scale_on_latency_p99_ms",
     'compute.platform is "lambda"'),
    ("on App Runner", '[compute]\nplatform = "apprunner"\n\n[[services]]\nname = "web"\n'
     'port = 8080\nscale_on_latency_p99_ms = 300\n',
     "services.web.scale_on_latency_p99_ms", 'compute.platform is "apprunner"'),
]


@pytest.mark.parametrize("case, body, field, words", BAD, ids=[c[0] for c in BAD])
def test_a_mistake_gets_one_line_naming_the_file_and_field(tmp_path, case, body, field, words):
    path = tmp_path / "dev.toml"
    path.write_text(MINIMAL + body)
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    lines = [line for line in error.value.problems if f": {field}:" in line]
    assert len(lines) == 1, error.value.problems
    assert lines[0].startswith(f"{path}: {field}: ") and words in lines[0], lines[0]
    assert "\n" not in lines[0]


def test_the_examples_above_are_accepted_once_corrected(tmp_path):
    """The cases differ from a good file by their mistake alone."""
    path = Path(tmp_path / "dev.toml")
    path.write_text(MINIMAL + WORKER + METRIC + "min_tasks = 1\n")
    [jobs] = [s for s in load_environment(path).services if s.name == "jobs"]
    assert (jobs.scale_on_metric.namespace, jobs.scale_on_metric.per_task) == ("BullMQ", True)
