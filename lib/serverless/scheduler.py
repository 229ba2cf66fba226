"""EventBridge Scheduler jobs, each with a role that can invoke only its target."""

import json
from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.iam import service_role
from lib.core.naming import Naming


@dataclass(frozen=True)
class FunctionTarget:
    arn: str


@dataclass(frozen=True)
class TaskTarget:
    """Run one task of an ECS service's task family (its newest revision)."""

    cluster_arn: str
    family: str
    container: str  # the container a job's `command` replaces the image's command in
    subnet_ids: list[str]
    security_group_ids: list[str]
    pass_role_arns: list[str]  # the task's execution and task roles
    # The service's own (capacity provider, base, weight) strategy: an EC2-only task definition
    # cannot run on Fargate, and a capacity provider (unlike launch_type EC2) scales its
    # Auto Scaling group out for the task.
    capacity_strategy: list[tuple[str, int, int]]


@dataclass(frozen=True)
class ScheduledJobProps:
    naming: Naming
    name: str
    expression: str  # cron(...) or rate(...)
    timezone: str
    input: str  # JSON passed to the target
    target: FunctionTarget | TaskTarget
    command: list[str]  # task targets: run this instead of the image's command (input ignored)


class ScheduledJob(Construct):
    """A schedule `<project>-<env>-<name>` (no flexible window) whose role may invoke exactly its
    target: `lambda:InvokeFunction` on one function, or `ecs:RunTask` on one task family in one
    cluster plus passing that task's two roles.

    Outputs: `arn`, `role_arn`.
    """

    def __init__(self, scope: Construct, id: str, props: ScheduledJobProps):
        super().__init__(scope, id)
        n, t = props.naming, props.target
        sch = aws.scheduler_schedule
        payload = props.input
        if isinstance(t, TaskTarget) and props.command:
            # ECS task targets take their input as the task's overrides.
            payload = json.dumps({"containerOverrides": [
                {"name": t.container, "command": list(props.command)}]})
        if isinstance(t, FunctionTarget):
            statements = [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                           "Resource": [t.arn, f"{t.arn}:*"]}]
        else:
            family_arn = n.arn("ecs", f"task-definition/{t.family}")
            statements = [
                {"Effect": "Allow", "Action": "ecs:RunTask",
                 "Resource": [family_arn, f"{family_arn}:*"],
                 "Condition": {"ArnEquals": {"ecs:cluster": t.cluster_arn}}},
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": t.pass_role_arns,
                 "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}]
        role = service_role(self, "role", n, f"schedule-{props.name}", "scheduler.amazonaws.com",
                            statements)
        if isinstance(t, FunctionTarget):
            target = sch.SchedulerScheduleTarget(arn=t.arn, role_arn=role.arn, input=payload)
        else:
            target = sch.SchedulerScheduleTarget(
                arn=t.cluster_arn, role_arn=role.arn, input=payload,
                ecs_parameters=sch.SchedulerScheduleTargetEcsParameters(
                    task_definition_arn=family_arn,
                    capacity_provider_strategy=[
                        sch.SchedulerScheduleTargetEcsParametersCapacityProviderStrategy(
                            capacity_provider=p, base=b, weight=w)
                        for p, b, w in t.capacity_strategy],
                    task_count=1,
                    network_configuration=sch.SchedulerScheduleTargetEcsParametersNetworkConfiguration(
                        subnets=t.subnet_ids, security_groups=t.security_group_ids,
                        assign_public_ip=False)))
        schedule = sch.SchedulerSchedule(
            self, "schedule", name=n.name(props.name), schedule_expression=props.expression,
            schedule_expression_timezone=props.timezone,
            flexible_time_window=sch.SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            target=target)
        self.arn: str = schedule.arn
        self.role_arn: str = role.arn
