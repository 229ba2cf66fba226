"""What one service runs and how it scales: the part of a `[[services]]` entry the compute
constructs (ECS and App Runner) need, as a plain value, so they can be used without the config."""

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class AppMetric:
    """A metric the application publishes (cloudwatch:PutMetricData) and the value to hold."""

    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    statistic: str  # Average, Minimum, Maximum, SampleCount or Sum
    target: float  # per running task with per_task, else the metric's value
    per_task: bool  # divided by the service's running tasks (Container Insights)


@dataclass(frozen=True)
class ServiceSpec:
    """One container service. The web-only fields (`port`, `paths`, `priority`, health check,
    `requests_per_target`) are None or empty for a worker."""

    name: str  # names the service, task family, log group, roles: <project>-<env>-<name>
    cpu: int  # CPU units (a Fargate size with `memory`)
    memory: int  # MiB
    min_tasks: int  # autoscaling bounds
    max_tasks: int
    initial_tasks: int  # the desired count Terraform creates the service with
    port: int | None  # container port; web services only
    paths: list[str]  # listener path patterns; web services only
    hosts: list[str]  # listener host names (with HTTPS); empty: any; web services only
    priority: int | None  # listener rule priority, lower matches first; web services only
    health_check_path: str
    health_check_grace_seconds: int
    environment: Mapping[str, str]  # plain environment variables
    cpu_target_percent: int  # target tracking on average CPU
    memory_target_percent: int  # target tracking on average memory; 0: none
    requests_per_target: int  # ALB requests per target per minute (web); 0: none
    read_only_root_filesystem: bool  # /tmp stays writable either way
    on_ec2: bool  # runs on the cluster's EC2 capacity provider instead of Fargate
    # A one-off task (ECS): a task definition that something runs (tools/run_task.py, CI), no
    # service; the scaling and web fields are then unused.
    one_off: bool = False
    command: tuple[str, ...] = ()  # replaces the image's command; empty: the image's own
    # Target tracking on what the application experiences (lib/compute/service_scaling.py), ECS
    # only: a metric it publishes, and (web) the p99 response time at the load balancer.
    scale_on_metric: AppMetric | None = None
    scale_on_latency_p99_ms: int | None = None
