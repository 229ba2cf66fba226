"""Says why an environment's ECS services did not become stable: `python tools/service_events.py
ENVIRONMENT` prints, per service of config/ENVIRONMENT.toml, its task counts, its newest events and
the reasons its newest stopped tasks gave (CannotPullContainerError, a failed health check,
ResourceInitializationError for a secret...). The deploy workflow runs it when a deploy fails:
Terraform's timeout while waiting for steady state names none of this.

Read-only: `aws ecs describe-services`, `list-tasks` and `describe-tasks` through the AWS CLI,
with the caller's credentials, in the environment's region. ECS lists a stopped task for at least an
hour (AWS Knowledge Center, "How do I troubleshoot Amazon ECS tasks stopping or failing to
start?").
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.config import ConfigError, load_environment_named  # noqa: E402
from lib.core.naming import Naming  # noqa: E402

EVENTS = 5  # per service, newest first (DescribeServices lists them so)
STOPPED_TASKS = 3
DESCRIBE_LIMIT = 10  # services per DescribeServices call (ECS API Reference, DescribeServices)

Aws = Callable[[list[str]], dict]  # the arguments after `aws`; the parsed JSON answer


def targets(config) -> tuple[str, str, list[str]]:
    """(region, cluster, service names) of an environment on ECS; no services under App Runner
    (nor for one-off tasks)."""
    n = Naming(config.project, config.environment, config.account_id, config.region)
    if config.compute.platform != "ecs":
        return config.region, "", []
    return config.region, n.name("cluster"), [n.name(s.name) for s in config.services
                                              if s.kind != "task"]  # a task has no service


def service_lines(service: dict) -> list[str]:
    """A DescribeServices `services[]` entry: counts, the primary deployment's rollout, events."""
    primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"),
                   {})
    rollout = primary.get("rolloutState", "unknown")
    reason = primary.get("rolloutStateReason")
    lines = [f"{service['serviceName']}: {service.get('runningCount', 0)} running of "
             f"{service.get('desiredCount', 0)}, rollout {rollout}"
             + (f" ({reason})" if reason else "")]
    lines += [f"  {event.get('createdAt', '')}  {event['message']}"
              for event in service.get("events", [])[:EVENTS]]
    return lines


def stopped_lines(tasks: list[dict]) -> list[str]:
    """DescribeTasks `tasks[]`: why each stopped, newest first, with each container's own reason
    (the image pull or exit code is there, not in the task's)."""
    lines = []
    for task in sorted(tasks, key=lambda t: str(t.get("stoppedAt", "")), reverse=True):
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        lines.append(f"  stopped task {task_id}: {task.get('stoppedReason', 'no reason given')}")
        lines += [f"    {c['name']}: {c['reason']}" for c in task.get("containers", [])
                  if c.get("reason")]
    return lines


def report(aws: Aws, cluster: str, services: list[str]) -> list[str]:
    lines = []
    for start in range(0, len(services), DESCRIBE_LIMIT):
        answer = aws(["ecs", "describe-services", "--cluster", cluster,
                      "--services", *services[start:start + DESCRIBE_LIMIT]])
        lines += [f"{f['arn'].rsplit('/', 1)[-1]}: {f.get('reason', 'not found')}"
                  for f in answer.get("failures", [])]
        for service in answer.get("services", []):
            lines += service_lines(service)
            arns = aws(["ecs", "list-tasks", "--cluster", cluster, "--service-name",
                        service["serviceName"], "--desired-status", "STOPPED"]).get("taskArns", [])
            if arns:
                tasks = aws(["ecs", "describe-tasks", "--cluster", cluster, "--tasks",
                             *arns[:STOPPED_TASKS]]).get("tasks", [])
                lines += stopped_lines(tasks)
    return lines


def cli(region: str) -> Aws:
    def call(args: list[str]) -> dict:
        result = subprocess.run(["aws", *args, "--region", region, "--output", "json"],
                                capture_output=True, text=True, check=True)
        return json.loads(result.stdout or "{}")
    return call


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: tools/service_events.py ENVIRONMENT (the name of a config/*.toml file)",
              file=sys.stderr)
        return 2
    try:
        config = load_environment_named(argv[0])
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    region, cluster, services = targets(config)
    try:
        lines = report(cli(region), cluster, services) if services else []
    except subprocess.CalledProcessError as err:
        print(f"aws {' '.join(err.cmd[1:3])}: {err.stderr.strip()}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
