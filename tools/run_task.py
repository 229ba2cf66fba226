"""Runs an environment's one-off task (`kind = "task"` in [[services]], e.g. a migration) and waits
for it: `python tools/run_task.py ENVIRONMENT TASK [--outputs FILE]` (`make run-task TASK=migrate
ENV=dev`). It starts one task of the family's newest revision with `aws ecs run-task` in the
stack's private subnets, with the task's security groups and capacity strategy (the stack's
outputs `cluster_name`, `private_subnet_ids` and `tasks`), waits until ECS reports it STOPPED,
prints the container's exit code, the reasons ECS gave and where its log is, and exits with the
container's exit code: 0 only when the task ran and succeeded. A task that never started (no
capacity, image not pullable, secret not readable) exits 1.

The outputs come from `--outputs FILE` (what `cdktf output STACK --outputs-file FILE` or
`terraform output -json` writes), else from `bin/cdktf output <environment>-stack` itself, which
reads the stack's state with the caller's credentials. AWS calls go through the AWS CLI in the
environment's region: RunTask and DescribeTasks (the deploy role may: lib/delivery/policies.py).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.config import ConfigError, load_environment_named  # noqa: E402
from tools.service_events import Aws, cli  # noqa: E402  (the same `aws` CLI caller)

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 6  # as `aws ecs wait tasks-stopped`, which gives up after 10 minutes
TIMEOUT_SECONDS = 3600  # a migration may take longer than the CLI's waiter allows


class TaskError(Exception):
    """The task could not be run or followed; the message says why, in one line."""


def stack_outputs(raw: dict, stack: str) -> dict:
    """Output name -> value from `cdktf output --outputs-file` ({stack: {name: value}}) or
    `terraform output -json` ({name: {"value": value, ...}})."""
    if stack in raw:
        return raw[stack]
    return {name: entry["value"] for name, entry in raw.items()}


def run_request(outputs: dict, task: str) -> list[str]:
    """The `aws ecs run-task` arguments for one task of `task`."""
    tasks = outputs.get("tasks", {})
    if task not in tasks:
        raise TaskError(f"the stack has no one-off task '{task}' (its tasks: "
                        f"{', '.join(sorted(tasks)) or 'none'}); deploy it first")
    spec = tasks[task]
    network = {"awsvpcConfiguration": {
        "subnets": outputs["private_subnet_ids"], "securityGroups": spec["security_group_ids"],
        "assignPublicIp": "DISABLED"}}
    return ["ecs", "run-task", "--cluster", outputs["cluster_name"],
            "--task-definition", spec["family"], "--count", "1", "--started-by", "run_task",
            "--capacity-provider-strategy", json.dumps(spec["capacity_strategy"]),
            "--network-configuration", json.dumps(network)]


def wait_stopped(aws: Aws, cluster: str, task_arn: str, sleep: Callable[[float], None],
                 timeout: float = TIMEOUT_SECONDS) -> dict:
    """DescribeTasks' entry for the task once its lastStatus is STOPPED."""
    waited = 0.0
    while True:
        answer = aws(["ecs", "describe-tasks", "--cluster", cluster, "--tasks", task_arn])
        found = answer.get("tasks", [])
        if found and found[0].get("lastStatus") == "STOPPED":
            return found[0]
        if waited >= timeout:
            raise TaskError(f"{task_arn} has not stopped after {int(timeout)} s; it is "
                            f"{found[0].get('lastStatus') if found else 'not found'}")
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS


def run(aws: Aws, outputs: dict, task: str, sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = print) -> int:
    """Run `task` once and wait for it; the container's exit code (1 when it never ran)."""
    answer = aws(run_request(outputs, task))
    if answer.get("failures") or not answer.get("tasks"):
        reasons = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip()
                            for f in answer.get("failures", [])) or "no task started"
        raise TaskError(f"ECS did not start {task}: {reasons}")
    task_arn = answer["tasks"][0]["taskArn"]
    spec = outputs["tasks"][task]
    # awslogs names the stream <prefix>/<container>/<task id>, the prefix being the task's name.
    stream = f"{task}/{task}/{task_arn.rsplit('/', 1)[-1]}"
    # Said before the wait: a CI job cancelled meanwhile (its timeout, its credentials' hour)
    # stops this runner, not the task, which runs on and logs there.
    say(f"started {task_arn}; waiting until it stops (log: group {spec['log_group']}, "
        f"stream {stream})")
    stopped = wait_stopped(aws, outputs["cluster_name"], task_arn, sleep)
    container = next((c for c in stopped.get("containers", []) if c.get("name") == task), {})
    code = container.get("exitCode")
    say(f"{task}: exit code {code if code is not None else 'none (the container never ran)'}")
    say(f"stopped: {stopped.get('stopCode', '')} {stopped.get('stoppedReason', '')}".rstrip())
    if container.get("reason"):
        say(f"container: {container['reason']}")
    say(f"log: group {spec['log_group']}, stream {stream}")
    return code if code is not None else 1


def read_outputs(path: str | None, stack: str) -> dict:
    if path is not None:
        return stack_outputs(json.loads(Path(path).read_text()), stack)
    with tempfile.TemporaryDirectory() as scratch:
        file = Path(scratch) / "outputs.json"
        subprocess.run([str(ROOT / "bin" / "cdktf"), "output", stack, "--outputs-file",
                        str(file)], cwd=ROOT, check=True, stdout=sys.stderr)
        return stack_outputs(json.loads(file.read_text()), stack)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("environment", help="the name of a config/*.toml file")
    parser.add_argument("task", help="a [[services]] entry with kind = \"task\"")
    parser.add_argument("--outputs", help="the stack's outputs as JSON (default: cdktf output)")
    args = parser.parse_args(argv)
    try:
        config = load_environment_named(args.environment)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    tasks = [s.name for s in config.services if s.kind == "task"]
    if args.task not in tasks:
        print(f"{config.source}: no one-off task '{args.task}' (kind = \"task\"); tasks: "
              f"{', '.join(tasks) or 'none'}", file=sys.stderr)
        return 2
    try:
        outputs = read_outputs(args.outputs, config.stack_name)
        return run(cli(config.region), outputs, args.task)
    except subprocess.CalledProcessError as err:
        print(f"{' '.join(map(str, err.cmd[:3]))}: {(err.stderr or '').strip()}",
              file=sys.stderr)
        return 1
    except TaskError as err:
        print(err, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
