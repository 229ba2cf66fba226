"""One-off tasks (`kind = "task"`): a task definition with its own roles, log group and security
group and no ECS service; the config that declares one; tools/run_task.py, which runs one and
passes its exit code on; and images.yml, which runs the migrations before a service takes a new
image."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import MINIMAL_CONFIG as MINIMAL, ROOT, SAMPLE, SynthStack, synthesize
from lib.analysis.cost import estimate
from lib.analysis.diagram import mermaid
from lib.analysis.pricing import load_prices
from lib.config import ConfigError, load_environment
from tools import run_task
from tools.workflow_env import workflow_values

TASK = '''
[[services]]
name = "backend"
port = 8000
paths = ["/api/*"]
priority = 100
access = ["database"]

[[services]]
name = "migrate"
kind = "task"
image_from = "backend"
command = ["alembic", "upgrade", "head"]
access = ["database"]
secrets = ["migrate-token"]
run_before_deploy = true

[[secrets]]
name = "migrate-token"
service = "migrate"
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dev.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_environment(write(tmp_path, text))
    return caught.value.problems


@pytest.fixture(scope="module")
def with_task(tmp_path_factory) -> SynthStack:
    """The sample dev environment with a migration task on the backend's image."""
    directory = tmp_path_factory.mktemp("task")
    text = (SAMPLE / "dev.toml").read_text() + TASK
    (directory / "dev.toml").write_text(text)
    return synthesize(directory / "out", [directory / "dev.toml"])["dev-stack"]


def statements(stack: SynthStack, role: str) -> list[dict]:
    body = stack.resource("aws_iam_role_policy", f"task-migrate/{role}-role-policy")
    return json.loads(body["policy"])["Statement"]


# --- the construct ----------------------------------------------------------------------------

def test_a_task_is_a_task_definition_with_no_service(with_task):
    families = {t["family"] for t in with_task.resources("aws_ecs_task_definition").values()}
    assert "webplat-dev-migrate" in families
    assert not any(path.startswith("task-migrate/")
                   for path in with_task.resources("aws_ecs_service"))
    assert not any(path.startswith("task-migrate/")
                   for path in with_task.resources("aws_appautoscaling_target"))
    assert not any(path.startswith("task-migrate/")
                   for path in with_task.resources("aws_lb_target_group"))


def test_a_task_runs_its_command_on_the_image_of_the_service_it_names(with_task):
    task = with_task.resource("aws_ecs_task_definition", "task-migrate/task")
    [app] = json.loads(task["container_definitions"])
    repository = with_task.ref("aws_ecr_repository", "backend-images/repository", "repository_url")
    # Never the placeholder (a web server): the migration's image, with its command.
    assert app["image"].startswith(repository)
    assert app["command"] == ["alembic", "upgrade", "head"]
    assert "portMappings" not in app or app["portMappings"] == []
    assert not any(path.startswith("migrate-images/")
                   for path in with_task.resources("aws_ecr_repository"))


def test_a_tasks_execution_role_pulls_that_image_and_reads_only_its_own_secret(with_task):
    by_sid = {s["Sid"]: s for s in statements(with_task, "execution")}
    repository = with_task.ref("aws_ecr_repository", "backend-images/repository", "arn")
    assert by_sid["PullOwnImages"]["Resource"] == repository
    secret = with_task.ref("aws_secretsmanager_secret", "secrets/migrate-token", "arn")
    assert by_sid["ReadOwnSecrets"]["Resource"] == [secret]
    log_group = with_task.ref("aws_cloudwatch_log_group", "task-migrate/logs", "arn")
    assert by_sid["WriteOwnLogs"]["Resource"] == f"{log_group}:*"


def test_a_tasks_role_connects_to_the_database_as_the_app_user_only(with_task):
    [statement] = statements(with_task, "task")
    assert statement["Action"] == "rds-db:connect"
    assert all(arn.endswith("/app") for arn in statement["Resource"]), statement


def test_a_tasks_log_group_is_encrypted_with_the_logs_key(with_task):
    group = with_task.resource("aws_cloudwatch_log_group", "task-migrate/logs")
    assert group["name"] == "/webplat/dev/ecs/migrate"
    assert group["kms_key_id"] == with_task.ref("aws_kms_key", "logs-key/key", "arn")


def test_a_task_admits_nothing_and_joins_the_app_tier_for_the_database(with_task):
    sg = with_task.ref("aws_security_group", "task-migrate/sg")
    assert not [r for r in with_task.resources("aws_vpc_security_group_ingress_rule").values()
                if r["security_group_id"] == sg]
    [spec] = with_task.json["output"]["tasks"]["value"].values()
    # RDS admits the application tier's group only (README, "Database access").
    assert spec["security_group_ids"] == [sg, with_task.ref("aws_security_group", "app-tier/sg")]


def test_the_stack_outputs_what_run_task_passes(with_task):
    spec = with_task.json["output"]["tasks"]["value"]["migrate"]
    assert spec["family"] == "webplat-dev-migrate"
    assert spec["container"] == "migrate"
    # The cluster's default strategy: the sample's dev runs on Fargate Spot.
    strategy = with_task.resource("aws_ecs_cluster_capacity_providers",
                                  "cluster/capacity-providers")
    assert spec["capacity_strategy"] == [
        {"capacityProvider": s["capacity_provider"], "base": s.get("base", 0),
         "weight": s["weight"]} for s in strategy["default_capacity_provider_strategy"]]
    assert {"cluster_name", "private_subnet_ids"} <= set(with_task.json["output"])


# --- config: bad input ------------------------------------------------------------------------

BAD_TASKS = [
    ("a task on Lambda", MINIMAL.replace('region = "us-east-1"\n', 'region = "us-east-1"\n'
                                         'profile = "lean"\n') + '[[services]]\nname = "job"\n'
     'kind = "task"\n', "services.job.kind", "a one-off task runs on ECS only"),
    ("a task with a port", MINIMAL + '[[services]]\nname = "job"\nkind = "task"\nport = 8080\n',
     "services.job.port", "takes no port"),
    ("a task with paths", MINIMAL + '[[services]]\nname = "job"\nkind = "task"\n'
     'paths = ["/job/*"]\n', "services.job.paths", "takes no paths"),
    ("a task that scales", MINIMAL + '[[services]]\nname = "job"\nkind = "task"\n'
     'max_tasks = 3\n', "services.job.max_tasks", "does not scale"),
    ("an unknown image_from", MINIMAL + '[[services]]\nname = "job"\nkind = "task"\n'
     'image_from = "api"\n', "services.job.image_from", "'api' is not a service built"),
    ("image and image_from", MINIMAL + TASK.split("\n\n")[0] + '\n[[services]]\nname = "job"\n'
     'kind = "task"\n'
     'image_from = "backend"\nimage = "public.ecr.aws/docker/library/busybox:1"\n',
     "services.job.image", "not both"),
    ("a command on a web service", MINIMAL + '[[services]]\nname = "web"\nport = 80\n'
     'paths = ["/*"]\npriority = 5\ncommand = ["run"]\n', "services.web.command",
     "only a task"),
    ("run_before_deploy on an external image", MINIMAL + '[[services]]\nname = "job"\n'
     'kind = "task"\nimage = "public.ecr.aws/docker/library/busybox:1"\n'
     'run_before_deploy = true\n', "services.job.run_before_deploy", "built here"),
]


@pytest.mark.parametrize("case, text, field, words", BAD_TASKS, ids=[c[0] for c in BAD_TASKS])
def test_bad_task_input_gets_one_clear_line(tmp_path, case, text, field, words):
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'dev.toml'}: {field}: "), found[0]
    assert words in found[0], found[0]


def test_a_task_on_another_services_image_loads(tmp_path):
    config = load_environment(write(tmp_path, MINIMAL + TASK))
    [task] = [s for s in config.services if s.kind == "task"]
    assert not task.builds_image  # no repository of its own


# --- tools/run_task.py ------------------------------------------------------------------------

OUTPUTS = {"cluster_name": "webplat-dev-cluster", "private_subnet_ids": ["subnet-a", "subnet-b"],
           "tasks": {"migrate": {
               "family": "webplat-dev-migrate", "container": "migrate",
               "security_group_ids": ["sg-task", "sg-app"], "log_group": "/webplat/dev/ecs/migrate",
               "capacity_strategy": [{"capacityProvider": "FARGATE", "base": 0, "weight": 1}]}}}
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/webplat-dev-cluster/0123abcd"


class FakeEcs:
    """RunTask, then DescribeTasks: PROVISIONING, RUNNING, then STOPPED with `container`."""

    def __init__(self, container: dict, failures: list | None = None):
        self.calls: list[list[str]] = []
        self.container, self.failures = container, failures
        self.statuses = ["PROVISIONING", "RUNNING", "STOPPED"]

    def __call__(self, args: list[str]) -> dict:
        self.calls.append(args)
        if args[1] == "run-task":
            if self.failures:
                return {"tasks": [], "failures": self.failures}
            return {"tasks": [{"taskArn": TASK_ARN}], "failures": []}
        status = self.statuses.pop(0)
        return {"tasks": [{"taskArn": TASK_ARN, "lastStatus": status,
                           "stopCode": "EssentialContainerExited",
                           "stoppedReason": "Essential container in task exited",
                           "containers": [{"name": "migrate", **self.container}]
                           if status == "STOPPED" else []}]}


@pytest.mark.parametrize("exit_code", [0, 3])
def test_run_task_waits_until_stopped_and_passes_the_exit_code_on(exit_code):
    ecs, said = FakeEcs({"exitCode": exit_code}), []
    assert run_task.run(ecs, OUTPUTS, "migrate", sleep=lambda _: None, say=said.append) == \
        exit_code
    assert [call[1] for call in ecs.calls] == ["run-task"] + ["describe-tasks"] * 3
    assert f"migrate: exit code {exit_code}" in said
    # awslogs streams are <prefix>/<container>/<task id> (Amazon ECS Developer Guide, "Using the
    # awslogs log driver").
    assert "log: group /webplat/dev/ecs/migrate, stream migrate/migrate/0123abcd" in said
    # Said before the wait too: a CI job cancelled while it waits leaves the task running.
    assert said[0].endswith("(log: group /webplat/dev/ecs/migrate, stream "
                            "migrate/migrate/0123abcd)"), said[0]


def test_run_task_starts_the_task_where_the_stack_placed_it():
    ecs = FakeEcs({"exitCode": 0})
    run_task.run(ecs, OUTPUTS, "migrate", sleep=lambda _: None, say=lambda _: None)
    args = ecs.calls[0]
    value = dict(zip(args[2::2], args[3::2]))
    assert value["--cluster"] == "webplat-dev-cluster"
    assert value["--task-definition"] == "webplat-dev-migrate"  # the newest ACTIVE revision
    assert json.loads(value["--capacity-provider-strategy"]) == \
        OUTPUTS["tasks"]["migrate"]["capacity_strategy"]
    # A Fargate task in awsvpc mode needs its subnets and security groups; no public IP in the
    # private tier (Amazon ECS API Reference, "RunTask": networkConfiguration).
    assert json.loads(value["--network-configuration"]) == {"awsvpcConfiguration": {
        "subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-task", "sg-app"],
        "assignPublicIp": "DISABLED"}}


def test_a_task_that_never_ran_fails_with_the_reason():
    ecs, said = FakeEcs({"reason": "CannotPullContainerError: not found"}), []
    assert run_task.run(ecs, OUTPUTS, "migrate", sleep=lambda _: None, say=said.append) == 1
    assert "container: CannotPullContainerError: not found" in said


def test_a_task_ecs_did_not_start_is_an_error():
    ecs = FakeEcs({}, failures=[{"arn": "arn:x", "reason": "RESOURCE:MEMORY"}])
    with pytest.raises(run_task.TaskError, match="RESOURCE:MEMORY"):
        run_task.run(ecs, OUTPUTS, "migrate", sleep=lambda _: None, say=lambda _: None)


def test_run_task_reads_both_output_formats():
    assert run_task.stack_outputs({"dev-stack": OUTPUTS}, "dev-stack") == OUTPUTS
    terraform = {name: {"value": value, "type": "x"} for name, value in OUTPUTS.items()}
    assert run_task.stack_outputs(terraform, "dev-stack") == OUTPUTS


def test_run_task_refuses_a_name_that_is_not_a_task(capsys):
    assert run_task.main(["dev", "backend"]) == 2  # the session's config/ is the sample
    assert "no one-off task 'backend'" in capsys.readouterr().err


# --- images.yml: migrations before the rollout ------------------------------------------------

def test_images_workflow_runs_the_migrations_before_the_service_takes_the_image():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "images.yml").read_text())
    steps = workflow["jobs"]["deploy"]["steps"]
    names = [step.get("name") for step in steps]
    give, run, roll = (names.index("Give the one-off tasks the image"),
                       names.index("Run the tasks that go before the deploy"),
                       names.index("Roll the service onto the digest"))
    assert give < run < roll
    before = steps[run]
    assert before["if"] == "needs.config.outputs.before_deploy != ''"
    assert "tools/run_task.py" in before["run"]
    # The step fails with the task (bash -e; run_task.py exits with the task's exit code), and
    # no later step runs unless it says so: the rollout is not conditioned on always().
    assert workflow["defaults"]["run"]["shell"].startswith("bash")
    assert "continue-on-error" not in before
    assert "always()" not in steps[roll].get("if", "")
    assert steps[roll]["if"] == \
        "needs.config.outputs.runtime == 'ecs' && needs.config.outputs.task != 'true'"
    outputs = workflow["jobs"]["config"]["outputs"]
    assert {"task", "tasks", "before_deploy"} <= set(outputs)


def test_ci_gives_a_task_the_image_and_keeps_its_command(with_task):
    """images.yml's jq program for the tasks, run on the task's first revision: the new digest,
    and its own command still (an ECS `command` overrides the image's CMD: "Task definition
    parameters")."""
    workflow = (ROOT / ".github" / "workflows" / "images.yml").read_text()
    give = workflow[workflow.index("- name: Give the one-off tasks the image"):]
    program = re.search(r"jq --arg image \"\$IMAGE\" '(.*?)' task\.json", give, re.S)[1]
    body = with_task.resource("aws_ecs_task_definition", "task-migrate/task")
    task = {"containerDefinitions": json.loads(body["container_definitions"]), "revision": 1}
    result = subprocess.run(["jq", "--arg", "image", "repo@sha256:abc", program],
                            input=json.dumps(task), capture_output=True, text=True, check=True)
    [container] = json.loads(result.stdout)["containerDefinitions"]
    assert container["image"] == "repo@sha256:abc"
    assert container["command"] == ["alembic", "upgrade", "head"]
    assert "revision" not in json.loads(result.stdout)


def test_workflow_env_names_the_tasks_on_a_services_image(tmp_path):
    config = load_environment(write(tmp_path, MINIMAL + TASK))
    values = workflow_values(config, "backend")
    assert (values["task"], values["tasks"], values["before_deploy"]) == ("false", "migrate",
                                                                          "migrate")
    with pytest.raises(ValueError, match="built here: backend$"):
        workflow_values(config, "migrate")  # it has no repository: deploy the backend


# --- cost and diagram -------------------------------------------------------------------------

def test_a_task_costs_only_its_assumed_minutes(with_task):
    prices = load_prices()
    [line] = [i for i in estimate("dev", with_task.json, prices).items
              if i.item.startswith("Fargate one-off task")]
    minutes = prices.usage["task_minutes_per_month"]
    assert (line.quantity, line.unit) == (minutes, "task-minute")
    # Fargate bills vCPU and memory per second while the task runs (AWS Fargate Pricing): the
    # sample's 0.25 vCPU / 0.5 GB arm64 task for `minutes`, whatever the strategy says.
    hourly = 0.25 * prices["fargate.arm64_vcpu_hour"] + 0.5 * prices["fargate.arm64_gb_hour"]
    assert line.monthly_usd == round(hourly * minutes / 60, 2)


def test_the_diagram_draws_a_task_in_the_private_tier_reaching_the_database(with_task):
    text = mermaid(with_task.json)
    [node] = [line.split("[")[0].strip() for line in text.splitlines()
              if "ECS one-off task webplat-dev-migrate" in line]
    assert any(line.strip().startswith(f"{node} -->") and "tcp 5432" in line
               for line in text.splitlines())
