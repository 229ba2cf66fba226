"""The environment's workloads: container services (ECS behind the load balancer, Lambda behind
the HTTP API, or App Runner), the serverless API and the scheduled jobs. Composition only, like
the rest of the stack: each function maps config to props and wires what the stack's earlier
layers built (keys, network, data stores, queues, buckets), and adds its constructs in the
stack's own scope, so their ids are the stack's."""

from typing import TYPE_CHECKING

from lib.compute.apprunner import AppRunnerService, AppRunnerServiceProps, vpc_connector
from lib.compute.cluster import Cluster, ClusterProps, Ec2Capacity, ExecSessions
from lib.compute.container_service import ContainerService, ContainerServiceProps
from lib.compute.ecr import ImageRepository, ImageRepositoryProps
from lib.compute.function_service import FunctionServiceProps, function_service
from lib.compute.load_balancer import HostRedirect, LoadBalancer, LoadBalancerProps
from lib.compute.service_spec import AppMetric, ServiceSpec
from lib.config import PROJECT_ROOT
from lib.config.compute import REDIRECT_PRIORITY
from lib.config.lambda_platform import route_keys
from lib.core.access import DataStores
from lib.delivery.baseline import session_log_access
from lib.identity.secrets import SecretSpec, ServiceSecrets, ServiceSecretsProps
from lib.serverless.api import ServerlessApi, ServerlessApiProps
from lib.serverless.http_api import HttpApi, HttpApiProps
from lib.serverless.scheduler import FunctionTarget, ScheduledJob, ScheduledJobProps
from stacks.mapping import from_config

if TYPE_CHECKING:
    from stacks.environment import EnvironmentStack

ALB_LOG_PREFIX = "alb"
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
BUILD_DIR = PROJECT_ROOT / ".build" / "functions"


def add_services(stack: "EnvironmentStack") -> None:
    """The secrets, image repositories and container services: on ECS behind the load balancer,
    on Lambda behind the HTTP API, or on App Runner (compute.platform)."""
    c, n, net = stack.config, stack.naming, stack.network
    stack.stores = DataStores(stack.database_access, stack.cache_access,
                              stack.storage.media_access)
    secrets = stack.secrets = ServiceSecrets(stack, "secrets", ServiceSecretsProps(
        naming=n, secrets=[from_config(SecretSpec, s) for s in c.secrets],
        kms_key_arn=stack.secrets_key.arn, recovery_days=7 if stack.disposable else 30))
    repositories = {svc.name: ImageRepository(stack, f"{svc.name}-images", from_config(
        ImageRepositoryProps, c.compute, naming=n, service=svc.name,
        kms_key_arn=stack.data_key.arn, force_delete=stack.disposable,
        pulled_by_function=n.name(svc.name) if c.compute.platform == "lambda" else None))
        for svc in c.services if svc.builds_image}
    for name, repo in repositories.items():
        stack.outputs[f"{name}_repository_url"] = repo.url

    def common(svc) -> dict:
        # A task with image_from runs that service's image, pulled from its repository.
        repo = repositories.get(svc.image_from or svc.name)
        return dict(naming=n, settings=from_config(ServiceSpec, svc,
                                                   on_ec2=svc.capacity == "ec2",
                                                   one_off=svc.kind == "task",
                                                   command=tuple(svc.command),
                                                   scale_on_metric=from_config(
                                                       AppMetric, svc.scale_on_metric)
                                                   if svc.scale_on_metric else None),
                    image=f"{repo.url}:{svc.image_tag}" if repo else svc.image,
                    repository_arn=repo.arn if repo else None,
                    secret_arns=secrets.by_env_name(svc.secrets),
                    secrets_key_arn=stack.secrets_key.arn,
                    sends_to=tuple(stack.messaging.access(q) for q in svc.sends_to),
                    **stack.stores.used(svc.access))

    stack.services = {}
    stack.tasks = {}  # one-off tasks (ECS): a task definition each, no service
    stack.service_functions = {}
    stack.cluster = stack.load_balancer = stack.http_api = None
    if c.compute.platform == "lambda":
        _add_functions(stack, repositories, common)
        return
    if c.compute.platform == "apprunner":
        connector = vpc_connector(stack, n, net.private_subnet_ids,
                                  [stack.app.security_group_id])
        for svc in c.services:
            runner = AppRunnerService(stack, f"service-{svc.name}", AppRunnerServiceProps(
                vpc_connector_arn=connector, encryption_key_arn=stack.data_key.arn,
                **common(svc)))
            if not stack.local:  # the emulator has no App Runner (lib/targets/local.py)
                stack.outputs[f"{svc.name}_url"] = runner.url
        return

    lb = stack.load_balancer = LoadBalancer(stack, "load-balancer", from_config(
        LoadBalancerProps, c.ingress, naming=n, vpc_id=net.vpc_id,
        subnet_ids=net.private_subnet_ids if c.ingress.internal else net.public_subnet_ids,
        allowed_cidrs=list(c.ingress.allowed_cidrs),
        access_log_bucket=stack.storage.logs.name if c.ingress.access_logs else None,
        access_log_bucket_policy=stack.storage.logs.policy,
        access_log_prefix=ALB_LOG_PREFIX, ipv6=c.dual_stack_ingress,
        allowed_ipv6_cidrs=tuple(c.ingress.allowed_ipv6_cidrs), hosts=tuple(c.ingress.hosts),
        redirect=HostRedirect(*c.ingress.redirect_names, priority=REDIRECT_PRIORITY)
        if c.ingress.redirect_names else None))
    cluster = stack.cluster = Cluster(stack, "cluster", ClusterProps(
        naming=n, capacity=c.compute.capacity, architecture=c.compute.architecture,
        ec2=from_config(Ec2Capacity, c.compute.ec2) if c.compute.ec2 else None,
        subnet_ids=net.private_subnet_ids, vpc_id=net.vpc_id,
        volume_key_arn=stack.data_key.arn,
        container_insights=c.observability.container_insights, session_logs=session_log_access(n),
        # Session logs are security logs: kept as long as the flow and WAF logs.
        exec_sessions=ExecSessions(
            key_arn=stack.exec_key.arn, log_key_arn=stack.logs_key.arn,
            log_retention_days=c.logs.security_retention_days) if stack.exec_key else None))
    for svc in c.services:
        one_off = svc.kind == "task"
        (stack.tasks if one_off else stack.services)[svc.name] = ContainerService(
            stack, f"{'task' if one_off else 'service'}-{svc.name}", ContainerServiceProps(
                cluster_name=cluster.name, capacity_strategy=cluster.strategy(
                    svc.capacity == "ec2"), architecture=c.compute.architecture,
                vpc_id=net.vpc_id, subnet_ids=net.private_subnet_ids,
                app_security_group_id=stack.app.security_group_id,
                ingress=lb.ingress if svc.kind == "web" else None,
                log_key_arn=stack.logs_key.arn, log_retention_days=c.logs.retention_days,
                otel_sidecar=c.observability.otel_sidecar,
                internet_egress=c.network.nat != "none",
                consumes=stack.messaging.access(svc.queue) if svc.queue else None,
                exec_log=cluster.exec_log, **common(svc)))
    stack.outputs.update(url=lb.url, cluster_name=cluster.name)
    if stack.tasks:
        # What tools/run_task.py passes to RunTask, besides cluster_name and private_subnet_ids.
        stack.outputs["tasks"] = {name: {
            "family": task.task_family, "security_group_ids": task.network_security_group_ids,
            "capacity_strategy": [{"capacityProvider": p, "base": b, "weight": w}
                                  for p, b, w in task.capacity_strategy],
            "container": name, "log_group": task.log_group_name}
            for name, task in stack.tasks.items()}
    if cluster.exec_log is not None:  # what `aws ecs execute-command` needs (README)
        stack.outputs.update(exec_key_arn=cluster.exec_log.key_arn,
                             exec_log_group=cluster.exec_log.log_group_name)
    awaiting = [name for name, service in stack.services.items() if service.awaiting_image]
    if awaiting:
        stack.outputs["first_image"] = (
            f"{', '.join(awaiting)}: no task starts until CI pushes an image (a VPC without NAT "
            f"cannot pull the public placeholder); run .github/workflows/images.yml with "
            f"environment = {c.environment}, source = build, for each.")
    readers = [f"{name} reads {', '.join(service.awaiting_secrets)}"
               for name, service in stack.services.items() if service.awaiting_secrets]
    if readers:
        stack.outputs["secret_values"] = (
            f"{'; '.join(readers)}: the stack creates these secrets empty (under "
            f"/{c.project}/{c.environment}/) and ECS starts no task of these services until each "
            "has a value. Put each once (aws secretsmanager put-secret-value, docs/first-deploy.md "
            "step 6), then aws ecs update-service --force-new-deployment for each service.")
    if lb.name_servers is not None:  # a zone this stack creates: its parent must delegate to it
        stack.outputs.update(name_servers=lb.name_servers, hosted_zone_id=lb.hosted_zone_id)
    if lb.awaiting_delegation:
        zone, source = c.ingress.created_zone, c.source or f"{c.environment}.toml"
        stack.outputs["next_step"] = (
            f"Add an NS record for {zone} with these name_servers in its parent zone; once "
            f"`dig +short NS {zone}` returns them, set ingress.zone_delegated = true in {source} "
            "and deploy again for HTTPS (README, \"Deploying\").")


def _add_functions(stack: "EnvironmentStack", repositories: dict[str, ImageRepository],
                   common) -> None:
    """Each service as a function from its image; the web services' paths as routes of one HTTP
    API (with the [api] settings, and ingress.domain or api.domain)."""
    c, n, net = stack.config, stack.naming, stack.network
    if any(svc.kind == "web" for svc in c.services):
        domain, zone = (c.ingress.domain, c.ingress.hosted_zone_id) if c.ingress.domain else \
            (c.api.domain, c.api.hosted_zone_id)
        stack.http_api = HttpApi(stack, "http-api", from_config(
            HttpApiProps, c.api, naming=n, cors_origins=list(c.api.cors_origins),
            log_key_arn=stack.logs_key.arn, log_retention_days=c.logs.retention_days,
            domain=domain, zone_id=zone))
        stack.outputs["url"] = stack.http_api.url
    # Lambda creates a function only from an image that is in ECR (phase one: none yet). The
    # emulator does not look (MOTO_LAMBDA_STUB_ECR).
    awaiting = [svc.name for svc in c.services
                if svc.builds_image and not c.compute.images_pushed and not stack.local]
    for svc in c.services:
        if svc.name in awaiting:
            continue
        stack.service_functions[svc.name] = function_service(
            stack, f"service-{svc.name}", FunctionServiceProps(
                architecture=c.compute.architecture, vpc_id=net.vpc_id,
                subnet_ids=net.private_subnet_ids,
                app_security_group_id=stack.app.security_group_id,
                log_key_arn=stack.logs_key.arn, log_retention_days=c.logs.retention_days,
                environment_key_arn=stack.data_key.arn, timeout_seconds=svc.timeout_seconds,
                reserved_concurrency=svc.reserved_concurrency,
                provisioned_concurrency=svc.provisioned_concurrency,
                http_api=stack.http_api,
                route_keys=tuple(k for path in svc.paths for k in route_keys(path)),
                consumes=stack.messaging.access(svc.queue) if svc.queue else None,
                max_concurrency=svc.max_tasks, pull_grant=repositories[svc.name].lambda_pull
                if svc.builds_image else None, **common(svc)))
    if awaiting:
        source = c.source or f"{c.environment}.toml"
        stack.outputs["first_image"] = (
            f"{', '.join(awaiting)}: Lambda creates a function only from an image in ECR; run "
            f".github/workflows/images.yml with environment = {c.environment}, source = build, "
            f"for each, then set compute.images_pushed = true in {source} and deploy again.")


def add_serverless(stack: "EnvironmentStack") -> None:
    """API Gateway + the API and worker functions (seed 004), then the scheduled jobs."""
    c, n, net, api = stack.config, stack.naming, stack.network, stack.config.api
    stack.functions = {}
    if api.enabled:
        serverless = ServerlessApi(stack, from_config(
            ServerlessApiProps, api, naming=n, functions_dir=FUNCTIONS_DIR,
            build_dir=BUILD_DIR, vpc_id=net.vpc_id, subnet_ids=net.private_subnet_ids,
            app_security_group_id=stack.app.security_group_id,
            log_key_arn=stack.logs_key.arn, log_retention_days=c.logs.retention_days,
            environment_key_arn=stack.data_key.arn, secrets_key_arn=stack.secrets_key.arn,
            secret_arns=stack.secrets.by_env_name(api.secrets),
            worker_queue=stack.messaging.access(api.worker_queue)
            if api.worker_queue else None, zone_id=api.hosted_zone_id,
            # EventBridge Scheduler invokes a function asynchronously.
            invoked_asynchronously=frozenset(
                job.target.split(":", 1)[1] for job in c.schedules
                if job.target.startswith("function:")),
            http_api=stack.http_api, **stack.stores.used(api.access)))
        stack.functions, stack.http_api = serverless.functions, serverless.http_api
        stack.outputs["api_url"] = stack.http_api.url

    for job in c.schedules:
        kind, name = job.target.split(":", 1)
        target = FunctionTarget(stack.functions[name].arn) if kind == "function" \
            else {**stack.services, **stack.tasks}[name].schedule_target(stack.cluster.arn)
        ScheduledJob(stack, f"schedule-{job.name}", from_config(
            ScheduledJobProps, job, naming=n, target=target, command=list(job.command)))
