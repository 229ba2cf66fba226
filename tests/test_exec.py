"""ECS Exec (`compute.exec`) as a reviewer checks it: a shell into a running task only where the
file turns it on, the task roles able to open a session and write its log and nothing more,
sessions encrypted and logged, no delivery role able to start one, and the guard rails (prod
wants a reason, Lambda and App Runner have no task, a read-only root breaks the agent, without
NAT the channels need their endpoint)."""

import json
import re
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, ROOT, SAMPLE, SynthStack
from contracts import decide
from lib.analysis.diagram import mermaid
from lib.config import ConfigError, load_environment

SERVICES = ("web", "worker")


@pytest.fixture(scope="module")
def exec_stack(fixture_stacks) -> SynthStack:
    """tests/fixtures/exec.toml: prod profile with a reason, no NAT, both services writable."""
    return fixture_stacks["exec-stack"]


def task_statements(stack: SynthStack, service: str) -> list[dict]:
    body = stack.resource("aws_iam_role_policy", f"service-{service}/task-role-policy")
    return json.loads(body["policy"])["Statement"]


def actions(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in
            ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dev.toml"
    path.write_text(text)
    return path


def refused(tmp_path: Path, text: str, field: str) -> str:
    """The one line naming `field` that loading `text` fails with."""
    with pytest.raises(ConfigError) as error:
        load_environment(write(tmp_path, text))
    [line] = [x for x in str(error.value).splitlines() if f": {field}:" in x]
    return line


# --- the task role -------------------------------------------------------------------------------

@pytest.mark.parametrize("service", SERVICES)
def test_the_task_role_gets_exactly_the_four_session_channel_actions(exec_stack, service):
    # Amazon ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec" (IAM permissions
    # required for ECS Exec): the task role needs ssmmessages:CreateControlChannel,
    # CreateDataChannel, OpenControlChannel and OpenDataChannel, which take no resource ("*").
    statements = task_statements(exec_stack, service)
    assert {a for a in actions(statements) if a.startswith("ssm")} == {
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_task_role_writes_only_the_session_log_and_decrypts_only_with_the_session_key(
        exec_stack, service):
    # Same page, logging: with a CloudWatch Logs destination the task role may write to that
    # group, and kms:Decrypt on the cluster's kmsKeyId.
    statements = task_statements(exec_stack, service)
    session_log = exec_stack.ref("aws_cloudwatch_log_group", "cluster/exec-logs", "arn")
    own_log = exec_stack.ref("aws_cloudwatch_log_group", f"service-{service}/logs", "arn")
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert decide(statements, action, f"{session_log}:log-stream:s") == "allow"
        assert decide(statements, action, f"{own_log}:log-stream:s") == "implicit"
    key = exec_stack.ref("aws_kms_key", "exec-key/key", "arn")
    assert decide(statements, "kms:Decrypt", key) == "allow"
    for other in ("logs", "data", "secrets", "messaging"):
        assert decide(statements, "kms:Decrypt",
                      exec_stack.ref("aws_kms_key", f"{other}-key/key", "arn")) == "implicit"
    assert decide(statements, "kms:GenerateDataKey", key) == "implicit"


def test_without_exec_no_task_role_can_open_a_session(every_stack):
    for label, stack in every_stack.items():
        if label == "tests/fixtures: exec-stack":
            continue
        for path, body in stack.resources("aws_iam_role_policy").items():
            granted = actions(json.loads(body["policy"])["Statement"])
            assert not {a for a in granted if a.startswith("ssmmessages:")}, (label, path)
        assert all("enable_execute_command" not in s
                   for s in stack.resources("aws_ecs_service").values()), label


# --- the cluster and the services ----------------------------------------------------------------

def test_sessions_are_encrypted_with_the_session_key_and_logged_to_an_encrypted_group(exec_stack):
    # Amazon ECS API Reference, ExecuteCommandConfiguration: kmsKeyId encrypts the data between
    # the client and the container; logging OVERRIDE sends sessions to logConfiguration (DEFAULT
    # would follow the task's awslogs); cloudWatchEncryptionEnabled encrypts the log data (off
    # when not specified).
    cluster = exec_stack.resource("aws_ecs_cluster", "cluster/cluster")
    config = cluster["configuration"]["execute_command_configuration"]
    assert config["kms_key_id"] == exec_stack.ref("aws_kms_key", "exec-key/key", "arn")
    assert config["logging"] == "OVERRIDE"
    log = config["log_configuration"]
    assert log["cloud_watch_log_group_name"] == exec_stack.ref(
        "aws_cloudwatch_log_group", "cluster/exec-logs", "name")
    assert log["cloud_watch_encryption_enabled"] is True
    assert set(log) == {"cloud_watch_log_group_name", "cloud_watch_encryption_enabled"}
    group = exec_stack.resource("aws_cloudwatch_log_group", "cluster/exec-logs")
    assert group["name"] == "/webplat/exec/ecs-exec"
    assert group["kms_key_id"] == exec_stack.ref("aws_kms_key", "logs-key/key", "arn")
    key = exec_stack.resource("aws_kms_key", "exec-key/key")
    assert key["enable_key_rotation"] is True


def test_every_service_allows_execute_command(exec_stack):
    services = exec_stack.resources("aws_ecs_service")
    assert sorted(services) == [f"service-{s}/service" for s in SERVICES]
    assert all(s["enable_execute_command"] is True for s in services.values())


def test_the_diagram_marks_the_services_people_can_open_a_shell_in(exec_stack, dev):
    assert mermaid(exec_stack.json).count(", ECS Exec") == len(SERVICES)
    assert ", ECS Exec" not in mermaid(dev.json)


def test_the_readme_command_uses_outputs_the_stack_has(exec_stack):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Shell access (ECS Exec)", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\$\(out \S+ (\w+)\)", section))
    named |= set(re.findall(r"output `(\w+)`", section))
    assert {"cluster_name", "exec_key_arn", "exec_log_group"} <= named
    assert named <= set(exec_stack.json["output"])
    assert "aws ecs execute-command" in section


# --- who may start a session ---------------------------------------------------------------------

def test_no_delivery_role_may_start_a_session(bootstrap):
    # Service Authorization Reference, Amazon ECS: ExecuteCommand is authorized on the cluster
    # and on the task. The deploy role manages the cluster by name, never its tasks; the plan
    # role's ReadOnlyAccess grants ecs:Describe* and ecs:List* only.
    for env in ("dev", "staging", "prod"):
        task = f"arn:aws:ecs:us-east-1:123456789012:task/webplat-{env}-cluster/0123456789abcdef"
        context = {"aws:ResourceTag/Project": "webplat", "aws:ResourceTag/Environment": env,
                   "aws:RequestedRegion": "us-east-1"}
        for suffix in ("deploy-named", "deploy-tagged", "deploy-guardrails", "plan"):
            body = bootstrap.resource("aws_iam_policy", f"delivery-{env}/{suffix}")
            statements = json.loads(body["policy"])["Statement"]
            assert decide(statements, "ecs:ExecuteCommand", task, context=context) != "allow", \
                (env, suffix)


# --- guard rails ---------------------------------------------------------------------------------

WRITABLE = ('[[services]]\nname = "web"\nport = 8080\npaths = ["/*"]\npriority = 100\n'
            'read_only_root_filesystem = false\n')


def test_exec_is_off_in_every_profile_unless_a_file_turns_it_on():
    for env in ("dev", "staging", "prod"):
        config = load_environment(SAMPLE / f"{env}.toml")
        assert "exec" not in config.compute.model_fields_set
        assert config.compute.exec is False


def _top(profile: str, extra: str = "") -> str:
    """MINIMAL with a profile (a top-level key, before the first table) and more tables."""
    return f'profile = "{profile}"\n' + MINIMAL + extra


def test_prod_refuses_exec_without_a_reason(tmp_path):
    line = refused(tmp_path, _top("prod", '[compute]\nexec = true\n' + WRITABLE), "compute.exec")
    assert "compute.exec_in_prod_reason says why" in line


@pytest.mark.parametrize("reason", ['""', '"  "', '"""\ntwo\nlines"""'])
def test_a_reason_is_one_line_of_text(tmp_path, reason):
    text = _top("prod", f'[compute]\nexec = true\nexec_in_prod_reason = {reason}\n' + WRITABLE)
    assert "one line" in refused(tmp_path, text, "compute.exec_in_prod_reason")


def test_a_reason_without_exec_is_refused(tmp_path):
    text = _top("dev", '[compute]\nexec_in_prod_reason = "break glass"\n')
    assert "only used with compute.exec = true" in refused(
        tmp_path, text, "compute.exec_in_prod_reason")


@pytest.mark.parametrize("platform", ["lambda", "apprunner"])
def test_exec_is_refused_where_there_is_no_ecs_task(tmp_path, platform):
    text = _top("dev", f'[compute]\nplatform = "{platform}"\nexec = true\n' + WRITABLE)
    assert "ECS Exec opens a shell in an ECS task" in refused(tmp_path, text, "compute.exec")


def test_exec_is_refused_with_a_read_only_root_file_system(tmp_path):
    # Amazon ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec", Considerations:
    # the SSM agent must write to the container's file system; a read-only root is not
    # supported.
    text = _top("dev", '[compute]\nexec = true\n' + WRITABLE.replace(
        "read_only_root_filesystem = false\n", ""))
    assert "read-only root" in refused(tmp_path, text,
                                       "services.web.read_only_root_filesystem")


def test_without_nat_exec_needs_the_ssmmessages_and_kms_endpoints(tmp_path):
    # AWS Systems Manager User Guide, VPC endpoints for Session Manager: ssmmessages carries the
    # session channels; the agent decrypts the session key through KMS.
    endpoints = '"ecr.api", "ecr.dkr", "logs"'
    text = _top("dev", '[compute]\nexec = true\n' + WRITABLE).replace(
        '[network]\n', f'[network]\nnat = "none"\ninterface_endpoints = [{endpoints}]\n')
    with pytest.raises(ConfigError) as error:
        load_environment(write(tmp_path, text))
    lines = [x for x in str(error.value).splitlines() if ": compute.exec:" in x]
    assert any('add "ssmmessages"' in x for x in lines)
    assert any('add "kms"' in x for x in lines)
    ok = text.replace(endpoints, endpoints + ', "ssmmessages", "kms"')
    assert load_environment(write(tmp_path, ok)).compute.exec
