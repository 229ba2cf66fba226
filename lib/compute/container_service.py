"""One container service on ECS Fargate (or the cluster's EC2 capacity): task definition, roles,
logs, security group, load-balancer target and autoscaling."""

import json
from dataclasses import dataclass

from lib.core.cdk import TerraformResourceLifecycle
from constructs import Construct

from lib.core import aws
from lib.core.iam import service_role
from lib.core.naming import Naming
from lib.serverless.scheduler import TaskTarget
from lib.compute.cluster import ExecSessionLog, exec_statements
from lib.compute.first_image import PLACEHOLDER_IMAGE, placeholder_command
from lib.compute.load_balancer import Ingress
from lib.compute.service_access import secret_read_statements, service_access
from lib.compute.service_scaling import (TrackedMetric, app_metric, latency_p99,
                                         metric_environment, publish_statement, track)
from lib.compute.service_spec import ServiceSpec
from lib.core.access import (BucketAccess, CacheAccess, DatabaseAccess, ExternalCacheAccess,
                             QueueAccess)

ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
# AWS Distro for OpenTelemetry collector, pinned; it ships traces to X-Ray and metrics to CloudWatch.
OTEL_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
# Its default ECS configuration (--config=/etc/ecs/ecs-default-config.yaml) exports metrics in the
# embedded metric format to this CloudWatch Logs group, which CloudWatch turns into metrics in this
# namespace (Amazon ECS Developer Guide, "Exporting application metrics to Amazon CloudWatch").
OTEL_METRICS_LOG_GROUP = "/aws/ecs/application/metrics"
OTEL_NAMESPACE = "ECS/AWSOTel/Application"


def otel_statements(n: Naming) -> list[dict]:
    """The collector's task role grants (ADOT, "Configuring Permissions"): X-Ray for traces; for
    metrics, the EMF log group (created by the collector on first write) and, should it be
    configured to call the API directly, PutMetricData in its namespace only."""
    group = n.arn("logs", f"log-group:{OTEL_METRICS_LOG_GROUP}")
    return [
        {"Sid": "OtelTraces", "Effect": "Allow", "Resource": "*",
         "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                    "xray:GetSamplingTargets"]},
        {"Sid": "OtelMetricsAsEmfLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                    "logs:DescribeLogStreams"],
         "Resource": [group, f"{group}:log-stream:*"]},
        {"Sid": "OtelMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
         "Resource": "*", "Condition": {"StringEquals": {"cloudwatch:namespace": OTEL_NAMESPACE}}},
    ]


# The construct ids of a queue worker's scaling alarms (the local target disarms them).
BACKLOG_ALARM_IDS = ("backlog-alarm", "idle-alarm")


@dataclass(frozen=True)
class ContainerServiceProps:
    naming: Naming
    settings: ServiceSpec
    image: str  # repository URL + tag, or the external image reference
    # The project's ECR repository the execution role may pull from; None for an external image
    # (which Terraform then deploys as written).
    repository_arn: str | None
    # Whether the private subnets reach the internet (NAT): where they do, a built service's first
    # task definition runs the public placeholder (first_image.py) instead of `image`.
    internet_egress: bool
    cluster_name: str
    capacity_strategy: list[tuple[str, int, int]]  # (capacity provider, base, weight)
    architecture: str  # arm64 or x86_64
    vpc_id: str
    subnet_ids: list[str]  # the private tier
    app_security_group_id: str  # joined by services that use a data store
    ingress: Ingress | None  # web services only
    secret_arns: dict[str, str]  # the service's secrets: env var name -> secret ARN
    secrets_key_arn: str
    log_key_arn: str
    log_retention_days: int
    otel_sidecar: bool  # an ADOT collector next to the app (OTLP on localhost:4317)
    database: DatabaseAccess | None = None
    cache: CacheAccess | ExternalCacheAccess | None = None
    media: BucketAccess | None = None
    consumes: QueueAccess | None = None  # a worker's queue: it scales on that queue's backlog
    sends_to: tuple[QueueAccess, ...] = ()
    # ECS Exec on (the cluster's `exec_log`): the service allows `aws ecs execute-command` and
    # its task role may open the session and write its log. None: off.
    exec_log: ExecSessionLog | None = None


class ContainerService(Construct):
    """An ECS service for one entry of `[[services]]`.

    - Task definition: awsvpc, the configured cpu/memory and architecture, awslogs to the
      service's own KMS-encrypted log group, a read-only root file system with a writable /tmp
      where configured, environment from config plus the endpoints of the data stores it uses,
      secrets injected from Secrets Manager.
    - Execution role: pull from its own repository, write its own log stream, read its own
      secrets and decrypt them with the secrets key through Secrets Manager only. Task role: only
      what the service is granted (the database: `rds-db:connect` as its application user;
      Redis: `elasticache:Connect` on the group and its user; with `exec_log`, the ECS Exec
      session channels, key and log).
    - Network: private subnets, no public IP; web services admit the load balancer's group on the
      container port and nothing else, workers admit nothing. Services that use a data store also
      join the application tier's group, the only one the stores admit.
    - Deployment: rolling 200/100 with the circuit breaker and rollback. Built images are
      deployed by CI, so Terraform ignores the service's task definition and desired count
      (autoscaling owns that); external images are deployed by Terraform. Until CI's first
      deploy a built service runs the public placeholder (`first_image.py`), which answers the
      health check, and Terraform waits for every service to become stable. Without internet
      egress the placeholder cannot be pulled: the first task definition then names `image` in
      the project's repository, which nothing has pushed yet, so Terraform does not wait for
      that service (`awaiting_image`: the stack says what to push first). Nor for a service
      that is handed secrets: the stack creates them empty, and ECS starts no task of it before
      each has a value (`awaiting_secrets`: the names, for the stack's `secret_values` output).
    - Autoscaling between min and max tasks on CPU, memory and (web) ALB requests per target,
      and where configured on a metric the application publishes (its task role may publish in
      that namespace only) and on the p99 response time (service_scaling.py); a worker with a
      queue scales on that queue's backlog instead (see `_scale_on_backlog`).

    Outputs: `service_name`, `awaiting_image`, `awaiting_secrets`, `security_group_id`,
    `network_security_group_ids` (all the task joins), `log_group_name`, `task_role_arn`,
    `execution_role_arn`, `target_group_arn` (web only), `task_family`, `capacity_strategy`,
    `tracked_metrics` (what its application-metric and latency policies track, for a dashboard),
    `schedule_target(cluster_arn)` (for a scheduled job that runs one task of this service).

    A one-off task (`settings.one_off`, e.g. a migration) is the same task definition, roles, log
    group and security group with its own `command` and no service, target or scaling: whoever
    runs it passes the network configuration and `capacity_strategy` (tools/run_task.py).
    """

    def __init__(self, scope: Construct, id: str, props: ContainerServiceProps):
        super().__init__(scope, id)
        n, svc = props.naming, props.settings
        self._props = props
        self.task_family: str = n.name(svc.name)
        self.capacity_strategy: list[tuple[str, int, int]] = props.capacity_strategy
        self.tracked_metrics: list[TrackedMetric] = []
        log_group = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "logs", name=n.log_group("ecs", svc.name),
            retention_in_days=props.log_retention_days, kms_key_id=props.log_key_arn,
            tags=n.tags(svc.name, "logs"))
        self.log_group_name: str = log_group.name

        published = svc.scale_on_metric  # the application publishes it: it is told what
        environment = {**svc.environment, **(metric_environment(published) if published else {})}
        access = service_access(environment, props.secret_arns, props.database, props.cache,
                                props.media, props.consumes, props.sends_to)
        uses_data_store = any(store is not None
                              for store in (props.database, props.cache, props.media))
        execution_role = service_role(
            self, "execution-role", n, f"{svc.name}-execution", "ecs-tasks.amazonaws.com",
            self._execution_statements(props, log_group.arn, access.readable_secret_arns))
        task_role = service_role(
            self, "task-role", n, f"{svc.name}-task", "ecs-tasks.amazonaws.com",
            access.runtime_statements + (otel_statements(n) if props.otel_sidecar else [])
            + ([publish_statement(published.namespace)] if published else [])
            + (exec_statements(props.exec_log) if props.exec_log else []))
        self.execution_role_arn: str = execution_role.arn
        self.task_role_arn: str = task_role.arn

        # An image built into the project's repository is rolled out by CI (images.yml), which
        # registers new task definitions: Terraform must not roll them back.
        built_by_ci = props.repository_arn is not None
        # A one-off task never runs the placeholder (a web server, not its command): until CI
        # pushes an image, a run of it fails to pull, and nothing waits on it.
        placeholder = built_by_ci and props.internet_egress and not svc.one_off
        # No task of it can start before CI pushes an image: a wait would only time out.
        self.awaiting_image: bool = built_by_ci and not props.internet_egress and not svc.one_off
        # Every secret a service is handed is one the stack creates empty ([[secrets]], an
        # outside Redis's URL): ECS reads each when a task starts and starts none without a
        # value (AWSCURRENT), so on a first deploy a wait would only time out and roll back.
        self.awaiting_secrets: list[str] = sorted(access.secrets) if not svc.one_off else []
        task = self._task_definition(props, self.execution_role_arn, self.task_role_arn,
                                     self.log_group_name, access.environment, access.secrets,
                                     placeholder)
        self.security_group_id: str = self._security_group(props)
        self.network_security_group_ids: list[str] = [self.security_group_id] + (
            [props.app_security_group_id] if uses_data_store else [])
        if svc.one_off:
            return  # no service: tools/run_task.py or images.yml runs it (`schedule_target` too)

        target_group_arn = target_group_arn_suffix = rule = None
        if props.ingress:
            target_group_arn, target_group_arn_suffix, rule = self._target(props)
        self.target_group_arn: str | None = target_group_arn
        self.target_group_arn_suffix: str | None = target_group_arn_suffix
        ecs = aws.ecs_service
        service = ecs.EcsService(
            self, "service", name=n.name(svc.name), cluster=props.cluster_name,
            task_definition=task.arn, desired_count=svc.initial_tasks,
            capacity_provider_strategy=[
                ecs.EcsServiceCapacityProviderStrategy(capacity_provider=p, base=b, weight=w)
                for p, b, w in props.capacity_strategy],
            network_configuration=ecs.EcsServiceNetworkConfiguration(
                subnets=props.subnet_ids, assign_public_ip=False,
                security_groups=self.network_security_group_ids),
            load_balancer=[ecs.EcsServiceLoadBalancer(
                target_group_arn=target_group_arn, container_name=svc.name,
                container_port=svc.port)] if target_group_arn else None,
            health_check_grace_period_seconds=svc.health_check_grace_seconds
            if target_group_arn else None,
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            deployment_circuit_breaker=ecs.EcsServiceDeploymentCircuitBreaker(
                enable=True, rollback=True),
            propagate_tags="SERVICE", enable_ecs_managed_tags=True,
            enable_execute_command=True if props.exec_log else None,
            # A deploy fails (after the provider's 20-minute create/update timeout) unless the
            # service's tasks start and pass their health checks: tools/service_events.py then
            # says why. The local target turns it off (lib/targets/local.py).
            wait_for_steady_state=not (self.awaiting_image or self.awaiting_secrets),
            depends_on=[rule] if rule else None,
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=["desired_count", "task_definition"] if built_by_ci
                else ["desired_count"]),
            tags=n.tags(svc.name))
        self.service_name: str = service.name
        self._autoscaling(props, self.service_name, target_group_arn_suffix)

    def schedule_target(self, cluster_arn: str) -> TaskTarget:
        """One task of this service's newest task definition, run where the service runs: its
        capacity strategy (an EC2-only task definition cannot run on Fargate), subnets and
        security groups; the schedule may pass the task's two roles."""
        return TaskTarget(cluster_arn=cluster_arn, family=self.task_family,
                          container=self._props.settings.name,
                          subnet_ids=self._props.subnet_ids,
                          security_group_ids=self.network_security_group_ids,
                          pass_role_arns=[self.execution_role_arn, self.task_role_arn],
                          capacity_strategy=self.capacity_strategy)

    def _execution_statements(self, props: ContainerServiceProps, log_group_arn: str,
                              secret_arns: list[str]) -> list[dict]:
        statements = [{"Sid": "WriteOwnLogs", "Effect": "Allow",
                       "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": f"{log_group_arn}:*"}]
        if props.repository_arn:
            statements += [
                # GetAuthorizationToken has no resource-level permissions.
                {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
                 "Resource": "*"},
                {"Sid": "PullOwnImages", "Effect": "Allow", "Action": ECR_PULL,
                 "Resource": props.repository_arn}]
        statements += secret_read_statements(secret_arns, props.secrets_key_arn,
                                             props.naming.region)
        return statements

    def _task_definition(self, props: ContainerServiceProps, execution_role_arn: str,
                         task_role_arn: str, log_group_name: str, environment: dict[str, str],
                         secrets: dict[str, str], placeholder: bool):
        n, svc = props.naming, props.settings
        container = {
            "name": svc.name,
            "image": PLACEHOLDER_IMAGE if placeholder else props.image,
            "essential": True,
            "portMappings": [{"containerPort": svc.port, "protocol": "tcp"}] if svc.port else [],
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": log_group_name, "awslogs-region": n.region,
                "awslogs-stream-prefix": svc.name}},
            "readonlyRootFilesystem": svc.read_only_root_filesystem,
            # With a read-only root, /tmp is the one writable place (a task-scoped volume).
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp"}],
            "linuxParameters": {"initProcessEnabled": True},  # reap zombies, forward signals
        }
        if placeholder:
            container["command"] = placeholder_command(svc.name, svc.port, svc.health_check_path)
        elif svc.command:
            container["command"] = list(svc.command)
        containers = [container]
        if props.otel_sidecar:
            containers.append({
                "name": "otel-collector", "image": OTEL_IMAGE, "essential": False,
                "command": ["--config=/etc/ecs/ecs-default-config.yaml"],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": log_group_name, "awslogs-region": n.region,
                    "awslogs-stream-prefix": "otel"}}})
            container["environment"].append({"name": "OTEL_EXPORTER_OTLP_ENDPOINT",
                                             "value": "http://localhost:4317"})
        td = aws.ecs_task_definition
        return td.EcsTaskDefinition(
            self, "task", family=self.task_family, network_mode="awsvpc",
            requires_compatibilities=["EC2"] if svc.on_ec2 else ["FARGATE"],
            cpu=str(svc.cpu), memory=str(svc.memory),
            runtime_platform=td.EcsTaskDefinitionRuntimePlatform(
                cpu_architecture="ARM64" if props.architecture == "arm64" else "X86_64",
                operating_system_family="LINUX"),
            execution_role_arn=execution_role_arn, task_role_arn=task_role_arn,
            container_definitions=json.dumps(containers),
            volume=[td.EcsTaskDefinitionVolume(name="tmp")],
            tags=n.tags(svc.name))

    def _security_group(self, props: ContainerServiceProps) -> str:
        n, svc = props.naming, props.settings
        sg = aws.security_group.SecurityGroup(
            self, "sg", name=n.name(svc.name), vpc_id=props.vpc_id,
            description=f"{svc.name}: " + ("from the load balancer only" if props.ingress
                                           else "no inbound"),
            tags=n.tags(svc.name))
        sg_id: str = sg.id
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self, "https-out", security_group_id=sg_id, ip_protocol="tcp", from_port=443,
            to_port=443, cidr_ipv4="0.0.0.0/0",
            description="HTTPS to AWS APIs (ECR, Secrets Manager, logs) and the internet")
        if props.ingress:
            aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                self, "from-alb", security_group_id=sg_id, ip_protocol="tcp",
                from_port=svc.port, to_port=svc.port,
                referenced_security_group_id=props.ingress.security_group_id,
                description=f"port {svc.port} from the load balancer")
            aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
                self, "alb-to-service", security_group_id=props.ingress.security_group_id,
                ip_protocol="tcp", from_port=svc.port, to_port=svc.port,
                referenced_security_group_id=sg_id, description=f"to {svc.name} on {svc.port}")
        return sg_id

    def _target(self, props: ContainerServiceProps) -> tuple[str, str, Construct]:
        """The target group's ARN and ARN suffix, and the listener rule that forwards to it."""
        n, svc = props.naming, props.settings
        tg = aws.lb_target_group.LbTargetGroup(
            self, "target-group", name=n.name(svc.name), port=svc.port, protocol="HTTP",
            target_type="ip", vpc_id=props.vpc_id, deregistration_delay="30",
            health_check=aws.lb_target_group.LbTargetGroupHealthCheck(
                enabled=True, path=svc.health_check_path, matcher="200-399", interval=15,
                timeout=5, healthy_threshold=2, unhealthy_threshold=3),
            tags=n.tags(svc.name))
        tg_arn: str = tg.arn
        rule = aws.lb_listener_rule.LbListenerRule(
            self, "route", listener_arn=props.ingress.listener_arn, priority=svc.priority,
            action=[aws.lb_listener_rule.LbListenerRuleAction(type="forward",
                                                              target_group_arn=tg_arn)],
            condition=[aws.lb_listener_rule.LbListenerRuleCondition(
                path_pattern=aws.lb_listener_rule.LbListenerRuleConditionPathPattern(
                    values=list(svc.paths)))] + self._host_condition(props),
            tags=n.tags(svc.name))
        return tg_arn, tg.arn_suffix, rule

    @staticmethod
    def _host_condition(props: ContainerServiceProps) -> list:
        """The service's names, once they resolve to the load balancer; none: any name."""
        if not (props.settings.hosts and props.ingress.serves_names):
            return []
        return [aws.lb_listener_rule.LbListenerRuleCondition(
            host_header=aws.lb_listener_rule.LbListenerRuleConditionHostHeader(
                values=list(props.settings.hosts)))]

    def _autoscaling(self, props: ContainerServiceProps, service_name: str,
                     target_group_arn_suffix: str | None) -> None:
        svc = props.settings
        target = aws.appautoscaling_target.AppautoscalingTarget(
            self, "scaling-target", service_namespace="ecs",
            resource_id=f"service/{props.cluster_name}/{service_name}",
            scalable_dimension="ecs:service:DesiredCount",
            min_capacity=svc.min_tasks, max_capacity=svc.max_tasks)
        resource_id: str = target.resource_id
        scalable_dimension: str = target.scalable_dimension
        if props.consumes is not None:
            self._scale_on_backlog(props, resource_id, scalable_dimension)
            return
        policy = aws.appautoscaling_policy
        metrics = [("cpu", "ECSServiceAverageCPUUtilization", svc.cpu_target_percent, None)]
        if svc.memory_target_percent:
            metrics.append(("memory", "ECSServiceAverageMemoryUtilization",
                            svc.memory_target_percent, None))
        if target_group_arn_suffix is not None and svc.requests_per_target:
            metrics.append(("requests", "ALBRequestCountPerTarget", svc.requests_per_target,
                            f"{props.ingress.arn_suffix}/{target_group_arn_suffix}"))
        for name, metric, value, label in metrics:
            policy.AppautoscalingPolicy(
                self, f"scale-on-{name}", name=props.naming.name(svc.name, name),
                policy_type="TargetTrackingScaling", service_namespace="ecs",
                resource_id=resource_id, scalable_dimension=scalable_dimension,
                target_tracking_scaling_policy_configuration=policy.
                AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                    target_value=value, scale_in_cooldown=120, scale_out_cooldown=60,
                    predefined_metric_specification=policy.
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type=metric, resource_label=label)))
        if svc.scale_on_metric is not None:
            self.tracked_metrics.append(app_metric(svc.scale_on_metric, props.cluster_name,
                                                   service_name))
        if svc.scale_on_latency_p99_ms is not None and target_group_arn_suffix is not None:
            self.tracked_metrics.append(latency_p99(svc.scale_on_latency_p99_ms,
                                                    props.ingress.arn_suffix,
                                                    target_group_arn_suffix))
        for tracked in self.tracked_metrics:
            track(self, props.naming, svc.name, resource_id, scalable_dimension, tracked)

    def _scale_on_backlog(self, props: ContainerServiceProps, resource_id: str,
                          scalable_dimension: str) -> None:
        """Step scaling on the queue's visible messages. Not target tracking on backlog per task:
        that needs the running task count (Container Insights, off in dev) and cannot start from
        zero tasks, while an idle worker at zero costs nothing.

        While messages wait (checked every minute) the service grows by half, at least one task;
        after five minutes with nothing waiting it sheds one task at a time, down to min_tasks.
        """
        n, svc = props.naming, props.settings
        policy = aws.appautoscaling_policy

        def step_on_backlog(name: str, adjustment_type: str, adjustment: int, cooldown: int,
                            bounds: dict, alarm_when: str, threshold: int, minutes: int,
                            missing_data: str) -> None:
            scaling = policy.AppautoscalingPolicy(
                self, f"scale-on-{name}", name=n.name(svc.name, name), policy_type="StepScaling",
                service_namespace="ecs", resource_id=resource_id,
                scalable_dimension=scalable_dimension,
                step_scaling_policy_configuration=policy.
                AppautoscalingPolicyStepScalingPolicyConfiguration(
                    adjustment_type=adjustment_type, cooldown=cooldown,
                    metric_aggregation_type="Maximum",
                    min_adjustment_magnitude=1 if adjustment_type == "PercentChangeInCapacity"
                    else None,
                    step_adjustment=[policy.
                                     AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment(
                                         scaling_adjustment=adjustment, **bounds)]))
            aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
                self, f"{name}-alarm", alarm_name=n.name(svc.name, name),
                alarm_description=f"scales {svc.name} on the backlog of {props.consumes.name}",
                namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": props.consumes.queue_name}, statistic="Maximum",
                period=60, evaluation_periods=minutes, threshold=threshold,
                comparison_operator=alarm_when, treat_missing_data=missing_data,
                alarm_actions=[scaling.arn], tags=n.tags(svc.name, name))

        step_on_backlog("backlog", "PercentChangeInCapacity", 50, cooldown=60,
                        bounds={"metric_interval_lower_bound": "0"},
                        alarm_when="GreaterThanOrEqualToThreshold", threshold=1, minutes=1,
                        missing_data="notBreaching")
        # SQS stops publishing for a queue idle for hours: no data means nothing waits.
        step_on_backlog("idle", "ChangeInCapacity", -1, cooldown=300,
                        bounds={"metric_interval_upper_bound": "0"},
                        alarm_when="LessThanOrEqualToThreshold", threshold=0, minutes=5,
                        missing_data="breaching")
