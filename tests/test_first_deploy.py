"""A first deploy that tells the truth (issue 20, item 3): until CI pushes an image, a built service
runs a public placeholder that answers its health check (web) or stays up (worker); deploys on
AWS wait for the services to become stable, and when they do not, tools/service_events.py says
why; without NAT, where the placeholder cannot be pulled, the stack says what to push first."""

import json
import os
import re
import signal
import subprocess

import pytest

from conftest import ROOT, SAMPLE, SynthStack, synthesize
from lib.config import load_environments
from tools.service_events import report, targets
from tools.workflow_env import workflow_values


def task_of(stack: SynthStack, service: str) -> dict:
    return stack.resource("aws_ecs_task_definition", f"service-{service}/task")


def app_container(stack: SynthStack, service: str) -> dict:
    return json.loads(task_of(stack, service)["container_definitions"])[0]


def built_services(stack: SynthStack) -> list[str]:
    return sorted(p.split("/")[0].removesuffix("-images") for p in
                  stack.resources("aws_ecr_repository"))


def run_placeholder(command: list[str], tmp_path, root: str) -> list[str]:
    """Runs the placeholder's shell script with `root` (where it writes) moved under tmp_path and a
    stand-in `httpd` that records its arguments; returns them, with tmp_path taken out again."""
    assert command[:2] == ["sh", "-c"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "httpd").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/httpd-args\n')
    (bin_dir / "httpd").chmod(0o755)
    script = command[2].replace(root, f"{tmp_path}{root}")
    subprocess.run(["sh", "-c", script], check=True, capture_output=True, timeout=10,
                   env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    args = (tmp_path / "httpd-args").read_text().replace(str(tmp_path), "").split()
    return args


def served_file(home: str, url_path: str) -> str:
    """What BusyBox httpd answers a GET with: the file at the URL's path under its home directory
    (`-h`), a directory's index.html; the query string names no file."""
    path = url_path.split("?", 1)[0]
    return home + (path + "index.html" if path.endswith("/") else path)


# --- the placeholder ------------------------------------------------------------------------

def test_built_services_start_on_a_public_image_their_tasks_can_pull(stack):
    """Nothing has pushed to the project's repository before the first deploy. An image from the
    ECR Public Gallery is pulled without credentials (Amazon ECR Public User Guide, "Pulling an
    image from the Amazon ECR Public Gallery": unauthenticated pulls), so the execution role needs
    no permission for it; it needs a route to the internet, which these environments have (NAT)."""
    assert built_services(stack) == ["backend", "frontend", "worker"]
    for service in built_services(stack):
        image = app_container(stack, service)["image"]
        assert image.startswith("public.ecr.aws/"), (service, image)
        name, tag = image.rsplit(":", 1)
        assert tag not in ("", "latest") and "/" not in tag, image  # pinned
    assert stack.resources("aws_nat_gateway") or stack.resources("aws_instance")


def test_a_web_placeholder_answers_the_target_groups_health_check(stack, full, tmp_path):
    """What the load balancer asks (its target group's port and health check path) is answered,
    and the placeholder writes only under a mount: with `readonlyRootFilesystem` the container
    may write to its volumes only (Amazon ECS Developer Guide, "Task definition parameters")."""
    checked = 0
    for s in (stack, full):
        for path, group in s.resources("aws_lb_target_group").items():
            service = path.split("/")[0].removeprefix("service-")
            if service not in built_services(s):
                continue
            container = app_container(s, service)
            run_dir = tmp_path / f"{s.name}-{service}"
            run_dir.mkdir()
            args = run_placeholder(container["command"], run_dir, "/tmp")
            port, home = args[args.index("-p") + 1], args[args.index("-h") + 1]
            assert int(port) == group["port"] == container["portMappings"][0]["containerPort"]
            health = served_file(home, group["health_check"]["path"])
            assert (run_dir / health.lstrip("/")).read_text() == "ok\n", (s.name, service)
            mounts = [m["containerPath"] for m in container["mountPoints"]]
            assert any(home.startswith(m + "/") for m in mounts), home
            checked += 1
    assert checked == 4  # dev's frontend and backend; full's frontend and backend


@pytest.mark.parametrize("health_path", ["/", "/healthz", "/api/v1/health/", "/ready?full=1"])
def test_the_placeholder_serves_any_health_path_httpd_can_map(health_path, tmp_path):
    from lib.compute.first_image import placeholder_command
    args = run_placeholder(placeholder_command("web", 8080, health_path), tmp_path, "/tmp")
    home = args[args.index("-h") + 1]
    assert (tmp_path / served_file(home, health_path).lstrip("/")).read_text() == "ok\n"
    assert (tmp_path / served_file(home, "/").lstrip("/")).exists()


def test_a_worker_placeholder_stays_up(dev):
    """An essential container that exits stops its task (Amazon ECS Developer Guide, "essential"):
    the worker's placeholder must keep running."""
    container = app_container(dev, "worker")
    assert container["essential"] and not container["portMappings"]
    process = subprocess.Popen(container["command"], start_new_session=True,
                               stdout=subprocess.DEVNULL)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)


def test_ci_replaces_the_placeholder_and_its_command(dev):
    """images.yml's own jq program, run on the first task definition: the built image, and its own
    command (an ECS `command` overrides the image's CMD: "Task definition parameters")."""
    workflow = (ROOT / ".github" / "workflows" / "images.yml").read_text()
    roll = workflow[workflow.index("- name: Roll the service onto the digest"):]
    program = re.search(r"jq --arg image \"\$IMAGE\" '(.*?)' task\.json", roll, re.S)[1]
    task = {"containerDefinitions": [app_container(dev, "backend")], "revision": 1}
    result = subprocess.run(["jq", "--arg", "image", "repo@sha256:abc", program],
                            input=json.dumps(task), capture_output=True, text=True, check=True)
    [container] = json.loads(result.stdout)["containerDefinitions"]
    assert container["image"] == "repo@sha256:abc" and "command" not in container


# --- waiting ---------------------------------------------------------------------------------

def handed_secrets(s, service: dict) -> list[str]:
    """The secrets the service's containers are handed (env var names)."""
    logical_id = service["task_definition"].split(".")[1]
    task = s.json["resource"]["aws_ecs_task_definition"][logical_id]
    return [x["name"] for c in json.loads(task["container_definitions"])
            for x in c.get("secrets", [])]


def test_deploys_on_aws_wait_for_steady_state_and_the_local_target_does_not(
        stack, full, tmp_path):
    """moto runs no task, so a service it emulates never reaches its desired count. A service
    handed secrets does not wait either: the stack creates them empty, and ECS starts a task only
    once every secret it names has a value (Secrets Manager, CreateSecret: no SecretString, no
    AWSCURRENT version; ECS reads each secret when the task starts, ResourceInitializationError
    otherwise), so a first deploy would time out after 20 minutes and roll back."""
    waited = []
    for s in (stack, full):
        for path, service in s.resources("aws_ecs_service").items():
            waited.append(service["wait_for_steady_state"])
            assert service["wait_for_steady_state"] is not bool(handed_secrets(s, service)), \
                (s.name, path)
    assert True in waited and False in waited  # the full fixture's backend reads a secret
    if stack.name != "dev-stack":
        return
    local = synthesize(tmp_path, [SAMPLE / "dev.toml"], target="local")["dev-stack"]
    waits = {p: s["wait_for_steady_state"] for p, s in local.resources("aws_ecs_service").items()}
    assert len(waits) == 3 and not any(waits.values())


def test_the_stack_says_which_secrets_to_put_before_a_service_can_start(full, stack):
    readers = {p: handed_secrets(full, s) for p, s in full.resources("aws_ecs_service").items()}
    said = full.json["output"]["secret_values"]["value"]
    for path, names in readers.items():
        name = path.split("/")[0].removeprefix("service-")
        assert (f"{name} reads {', '.join(sorted(names))}" in said) is bool(names), (path, said)
    assert "put-secret-value" in said and "--force-new-deployment" in said
    assert "secret_values" not in stack.json.get("output", {})  # the sample hands out none


@pytest.fixture(scope="module")
def without_nat(tmp_path_factory) -> SynthStack:
    """config/dev.toml without NAT, with the interface endpoints its services need."""
    directory = tmp_path_factory.mktemp("no-nat")
    text = (SAMPLE / "dev.toml").read_text()
    text = re.sub(r'nat = "instance".*\ninterface_endpoints = \[\].*\n',
                  'nat = "none"\ninterface_endpoints = ["ecr.api", "ecr.dkr", "logs", "sqs"]\n',
                  text)
    assert 'nat = "none"' in text
    (directory / "dev.toml").write_text(text)
    return synthesize(directory / "out", [directory / "dev.toml"])["dev-stack"]


def test_without_nat_the_stack_says_what_to_push_first(without_nat):
    """public.ecr.aws is out of reach without NAT, and the ECR endpoints serve this account's
    private repositories only: the first task definition names the service's own repository,
    nothing waits on a task that cannot start, and the stack's output says what to run."""
    s = without_nat
    assert not s.resources("aws_nat_gateway") and not s.resources("aws_instance")
    for service in built_services(s):
        container = app_container(s, service)
        repository = s.ref("aws_ecr_repository", f"{service}-images/repository",
                           "repository_url")
        assert container["image"].startswith(repository + ":") and "command" not in container
        assert s.resource("aws_ecs_service", f"service-{service}/service")[
            "wait_for_steady_state"] is False
    line = s.json["output"]["first_image"]["value"]
    assert "\n" not in line and "images.yml" in line
    assert all(service in line for service in built_services(s))


# --- saying why: tools/service_events.py ---------------------------------------------------

def test_service_events_ask_about_the_services_the_stack_creates(dev):
    [config] = load_environments([SAMPLE / "dev.toml"])
    region, cluster, services = targets(config)
    assert region == "us-east-1"
    assert cluster == dev.resource("aws_ecs_cluster", "cluster/cluster")["name"]
    assert sorted(services) == sorted(s["name"] for s in dev.resources("aws_ecs_service").values())


# A DescribeServices answer as the AWS CLI prints it (ECS API Reference, DescribeServices:
# events newest first; `failures` for a service that does not exist).
DESCRIBED = {
    "services": [{
        "serviceName": "webplat-dev-backend", "runningCount": 0, "desiredCount": 1,
        "deployments": [{"status": "PRIMARY", "rolloutState": "FAILED",
                         "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to "
                                               "start."}],
        "events": [{"createdAt": f"2026-12-01T10:0{i}:00+00:00", "message": f"event {i}"}
                   for i in range(9, 0, -1)]}],
    "failures": [{"arn": "arn:aws:ecs:us-east-1:123456789012:service/webplat-dev-cluster/"
                         "webplat-dev-worker", "reason": "MISSING"}],
}
STOPPED = {"tasks": [{
    "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/webplat-dev-cluster/0a1b2c",
    "stoppedAt": "2026-12-01T10:08:00+00:00",
    "stoppedReason": "Task failed to start",
    "containers": [{"name": "backend", "reason": "CannotPullContainerError: pull image manifest "
                                                 "has been retried 7 time(s): not found"}]}]}


def test_service_events_print_the_reason_a_task_did_not_start():
    calls = []

    def aws(args):
        calls.append(args)
        return {"describe-services": DESCRIBED, "list-tasks": {"taskArns": ["t1", "t2"]},
                "describe-tasks": STOPPED}[args[1]]

    lines = report(aws, "webplat-dev-cluster", ["webplat-dev-backend", "webplat-dev-worker"])
    assert lines[0] == "webplat-dev-worker: MISSING"
    assert lines[1] == ("webplat-dev-backend: 0 running of 1, rollout FAILED (ECS deployment "
                        "circuit breaker: tasks failed to start.)")
    assert [line.split()[-1] for line in lines[2:7]] == ["9", "8", "7", "6", "5"]  # newest 5
    assert lines[7:] == ["  stopped task 0a1b2c: Task failed to start",
                         "    backend: CannotPullContainerError: pull image manifest has been "
                         "retried 7 time(s): not found"]
    assert calls[1][-2:] == ["--desired-status", "STOPPED"]
    assert calls[2][:4] == ["ecs", "describe-tasks", "--cluster", "webplat-dev-cluster"]


def test_service_events_ask_ten_services_at_a_time():
    """DescribeServices takes up to 10 services per call (ECS API Reference, DescribeServices)."""
    asked = []

    def aws(args):
        if args[1] == "describe-services":
            asked.append(args[args.index("--services") + 1:])
        return {}

    report(aws, "c", [f"s{i}" for i in range(23)])
    assert [len(a) for a in asked] == [10, 10, 3]
    assert sum(asked, []) == [f"s{i}" for i in range(23)]


# --- what images.yml reads from config: tools/workflow_env.py -------------------------------

def test_images_build_for_the_configured_architecture(tmp_path):
    """Docker names the platforms linux/arm64 and linux/amd64 (Docker docs, "Multi-platform
    builds"); Fargate's ARM64 runs linux/arm64 images, X86_64 linux/amd64 ones."""
    text = (SAMPLE / "dev.toml").read_text()
    assert "[compute]\n" in text
    (tmp_path / "dev.toml").write_text(text.replace("[compute]\n",
                                                    '[compute]\narchitecture = "x86_64"\n'))
    [arm] = load_environments([SAMPLE / "dev.toml"])
    [intel] = load_environments([tmp_path / "dev.toml"])
    assert workflow_values(arm, "backend") == {"project": "webplat", "region": "us-east-1",
                                               "platform": "linux/arm64", "runtime": "ecs",
                                               "image_tag": "bootstrap", "task": "false",
                                               "tasks": "", "before_deploy": ""}
    assert workflow_values(intel, "backend")["platform"] == "linux/amd64"
    with pytest.raises(ValueError, match="no service 'docs'"):
        workflow_values(arm, "docs")


def test_images_yml_learns_where_a_lambda_service_runs(tmp_path):
    """Under `compute.platform = "lambda"` images.yml updates the function
    `<project>-<env>-<service>` and, before the function exists, tags the first image with the
    service's `image_tag`, which Terraform creates the function from (Lambda creates a function
    only from an image already in ECR: AWS Lambda Developer Guide, "Create a Lambda function
    using a container image")."""
    text = (SAMPLE / "dev.toml").read_text()
    assert 'platform = "ecs"' in text and "[[services]]" not in text
    (tmp_path / "dev.toml").write_text(
        text.replace('platform = "ecs"', 'platform = "lambda"')
        + '\n[[services]]\nname = "backend"\nport = 8000\npaths = ["/app/*"]\nimage_tag = "first"\n')
    [config] = load_environments([tmp_path / "dev.toml"])
    assert workflow_values(config, "backend") == {
        "project": "webplat", "region": "us-east-1", "platform": "linux/arm64",
        "runtime": "lambda", "image_tag": "first", "function": "webplat-dev-backend",
        "task": "false", "tasks": "", "before_deploy": ""}
    assert workflow_values(config, None) == {"project": "webplat", "region": "us-east-1"}


def test_workflow_env_prints_github_output_lines(capsys):
    from tools import workflow_env  # reads the session's config/, the sample
    assert workflow_env.main(["prod", "frontend"]) == 0
    assert dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines()) == {
        "project": "webplat", "region": "us-east-1", "platform": "linux/arm64",
        "runtime": "ecs", "image_tag": "bootstrap", "task": "false", "tasks": "",
        "before_deploy": ""}
    assert workflow_env.main(["prod"]) == 0  # what the deploy workflows read: no service
    assert capsys.readouterr().out == "project=webplat\nregion=us-east-1\n"
    assert workflow_env.main(["qa"]) == 2
    assert capsys.readouterr().err.startswith("tests/fixtures/sample/qa.toml: no such")
