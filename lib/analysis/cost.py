"""Monthly cost estimate of a synthesized stack, from its Terraform JSON and a dated price file
(pricing/us-east-1.toml). Pure Python: no CDKTF, no AWS call, so it runs in milliseconds.

Every resource type is either priced (one line per priced item, stating the quantity and, where
the bill depends on traffic, the usage assumed from the price file's [usage] table), known to be
free (VPCs, subnets, IAM, security groups...), or reported as "not priced": never dropped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from lib.analysis import access_cost, scaling_cost, security_cost
from lib.analysis.pricing import FREE_TIER_TYPES, FREE_TYPES, Prices

_REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$")


@dataclass
class LineItem:
    item: str  # what is charged, e.g. "RDS db.t4g.micro instance"
    quantity: float  # how many units (instances, GB, keys...)
    unit: str  # e.g. "instance-month", "GB-month"
    monthly_usd: float
    assumption: str = ""  # the usage this line assumes, if any


@dataclass
class Estimate:
    stack: str
    items: list[LineItem] = field(default_factory=list)
    # what could not be priced -> count: a resource type, or a type and size with no price
    not_priced: Counter = field(default_factory=Counter)

    @property
    def total(self) -> float:
        return round(sum(i.monthly_usd for i in self.items), 2)


class _Stack:
    """The stack's resources and a way to follow `${type.id.attr}` references between them."""

    def __init__(self, document: dict[str, Any]):
        self.resources: dict[str, dict[str, dict]] = document.get("resource", {})

    def follow(self, reference: Any) -> dict | None:
        match = _REFERENCE.match(reference) if isinstance(reference, str) else None
        if not match:
            return None
        return self.resources.get(match.group(1), {}).get(match.group(2))

    def of_type(self, type_: str) -> list[dict]:
        return list(self.resources.get(type_, {}).values())


def estimate(name: str, document: dict[str, Any], prices: Prices) -> Estimate:
    """The monthly estimate of one synthesized stack (`document` is its cdk.tf.json)."""
    stack = _Stack(document)
    result = Estimate(name)
    lines: dict[tuple[str, str, str], LineItem] = {}

    def add(item: str, quantity: float, unit: str, monthly: float | None,
            assumption: str = "") -> None:
        if monthly is None:  # a size or kind the price file has no price for
            result.not_priced[item] += 1
            return
        key = (item, unit, assumption)
        line = lines.setdefault(key, LineItem(item, 0, unit, 0.0, assumption))
        line.quantity += quantity
        line.monthly_usd += monthly

    for type_, bodies in sorted(stack.resources.items()):
        for body in bodies.values():
            if body.get("count") == 0:  # switched off (e.g. by an Aspect): nothing is created
                continue
            pricer = _PRICERS.get(type_)
            if pricer is not None:
                pricer(body, stack, prices, add)
            elif type_ in FREE_TIER_TYPES:
                add(FREE_TIER_TYPES[type_], 1, "resource", 0.0, "within the free allowance")
            elif type_ not in FREE_TYPES:
                result.not_priced[type_] += 1
    for line in lines.values():
        line.monthly_usd = round(line.monthly_usd, 2)
        result.items.append(line)
    result.items.sort(key=lambda line: (-line.monthly_usd, line.item))
    return result


# --- one pricer per charged resource type -------------------------------------------------------

Add = Callable[..., None]


def _nat_gateway(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    add("NAT gateway", 1, "gateway-month", p["vpc.nat_gateway_hour"] * p.hours)
    gb = p.usage["nat_gb_processed"]
    add("NAT gateway data processing", gb, "GB", gb * p["vpc.nat_gateway_gb"],
        f"{gb:g} GB a month per NAT gateway")


def _eip(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    add("Public IPv4 address (Elastic IP)", 1, "address-month",
        p["ec2.public_ipv4_hour"] * p.hours)


def _load_balancer(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    if body.get("load_balancer_type", "application") != "application":
        add(f"aws_lb {body['load_balancer_type']}", 1, "", None)
        return
    add("Application Load Balancer", 1, "ALB-month", p["elb.alb_hour"] * p.hours)
    lcu = p.usage["alb_lcu"]
    add("ALB capacity units (LCU)", lcu, "LCU-month", lcu * p["elb.alb_lcu_hour"] * p.hours,
        f"{lcu:g} LCU on average")
    if not body.get("internal", False):
        addresses = len(body.get("subnets", []))
        add("Public IPv4 address (load balancer, one per AZ)", addresses, "address-month",
            addresses * p["ec2.public_ipv4_hour"] * p.hours)


def _ec2_instances(item: str, instance_type: str | None, count: float, volume_gb: float,
                   p: Prices, add: Add, assumption: str = "") -> None:
    hourly = p.rate("ec2.instance_hour", instance_type or "")
    if hourly is None:
        add(f"{item} {instance_type}", count, "", None)
        return
    add(f"{item} {instance_type}", count, "instance-month", count * hourly * p.hours,
        assumption)
    if volume_gb:
        add("EBS gp3 volume", count * volume_gb, "GB-month",
            count * volume_gb * p["ec2.ebs_gp3_gb_month"])


def _template_volume_gb(template: dict | None) -> float:
    mappings = (template or {}).get("block_device_mappings") or [{}]
    return float(mappings[0].get("ebs", {}).get("volume_size", 8))


def _instance(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    template = stack.follow((body.get("launch_template") or {}).get("id"))
    instance_type = body.get("instance_type") or (template or {}).get("instance_type")
    name = body.get("tags", {}).get("Name", "")
    item = "NAT instance" if "nat" in name else "EC2 instance"
    _ec2_instances(item, instance_type, 1, _template_volume_gb(template), p, add)


def _autoscaling_group(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    """ECS capacity: ECS managed scaling grows the group to fit the tasks placed on it, so its
    minimum alone says too little (0 instances for services that run 2 tasks). Assumed: as many
    instances as the tasks' summed vCPU and memory fill (packed perfectly; ENI-per-instance and
    agent-reserved memory limits are ignored), never below min_size nor above max_size."""
    template = stack.follow((body.get("launch_template") or {}).get("id")) or {}
    instance_type = template.get("instance_type")
    tasks, vcpu, gb = _tasks_on_group(body, stack)
    low, high = int(body.get("min_size", 0)), int(body.get("max_size", 0))
    if not tasks:
        count, why = low, f"ASG minimum {low}; no ECS tasks placed on it"
    else:
        size = p.rate("ec2.instance_size", instance_type or "")
        if size is None:  # cannot tell how many instances the tasks need
            add(f"EC2 capacity instance {instance_type} (no vCPU/GB size in the price file)",
                1, "", None)
            return
        needed = max(math.ceil(vcpu / size[0]), math.ceil(gb / size[1]))
        count = min(max(low, needed), high)
        why = (f"{tasks:g} ECS tasks ({vcpu:g} vCPU, {gb:g} GB in all) need {needed} of "
               f"{size[0]:g} vCPU / {size[1]:g} GB; ASG min {low}, max {high}")
    _ec2_instances("EC2 capacity instance", instance_type, count,
                   _template_volume_gb(template), p, add, why)


def _tasks_on_group(group: dict, stack: _Stack) -> tuple[float, float, float]:
    """(tasks, vCPU, GB) that the ECS services place on `group` through a capacity provider."""
    tasks = vcpu = gb = 0.0
    for service in stack.of_type("aws_ecs_service"):
        if service.get("count") == 0:
            continue
        task = stack.follow(service.get("task_definition")) or {}
        placed = split_tasks(int(service.get("desired_count", 1)), _strategy(service, stack))
        on_group = sum(n for provider, n in placed.items()
                       if _provider_group(provider, stack) is group)
        tasks += on_group
        vcpu += on_group * int(task.get("cpu", 0)) / 1024
        gb += on_group * int(task.get("memory", 0)) / 1024
    return tasks, vcpu, gb


def _provider_group(provider: str, stack: _Stack) -> dict | None:
    """The Auto Scaling group behind a strategy's capacity provider (None for FARGATE*)."""
    body = stack.follow(provider)
    if body is None:  # a literal name: look it up
        body = next((b for b in stack.of_type("aws_ecs_capacity_provider")
                     if b.get("name") == provider), None)
    arn = ((body or {}).get("auto_scaling_group_provider") or {}).get("auto_scaling_group_arn")
    return stack.follow(arn)


def _db_instance(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    cls = body["instance_class"]
    copies = 2 if body.get("multi_az") else 1
    role = "read replica" if body.get("replicate_source_db") else "instance"
    label = f"RDS PostgreSQL {cls} {role}" + (" (Multi-AZ: primary + standby)"
                                                if copies == 2 else "")
    hourly = p.rate("rds.instance_hour", cls)
    if hourly is None:
        add(label, 1, "", None)
    else:
        add(label, 1, "instance-month", copies * hourly * p.hours)
    if body.get("replicate_source_db"):
        # A replica's JSON states no storage: RDS gives it the primary's type and size.
        primary = stack.follow(body["replicate_source_db"])
        if primary is None:  # a source outside this stack (e.g. cross-region): size unknown
            add("RDS storage of a read replica whose primary is not in this stack", 1, "", None)
        else:
            _db_storage(primary, copies, "read replica", p, add)
    else:
        _db_storage(body, copies, "", p, add)
    if body.get("manage_master_user_password"):
        add("Secrets Manager secret (RDS-managed master password)", 1, "secret-month",
            p["secretsmanager.secret_month"])


def _db_storage(body: dict, copies: int, role: str, p: Prices, add: Add) -> None:
    """The storage of `body` (an instance that states it), `copies` times; `role` labels it."""
    storage = body.get("storage_type", "gp2")
    gb = float(body.get("allocated_storage", 0))
    per_gb = p.rate("rds", f"{storage}_gb_month")
    notes = [note for note in (role, "Multi-AZ" if copies == 2 else "") if note]
    item = f"RDS {storage} storage" + (f" ({', '.join(notes)})" if notes else "")
    if per_gb is None:
        add(item, gb, "", None)
    else:
        add(item, gb * copies, "GB-month", copies * gb * per_gb)


def _replication_group(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    node = body["node_type"]
    count = float(body.get("num_cache_clusters", 1))
    hourly = p.rate("elasticache.node_hour", node)
    if hourly is None:
        add(f"ElastiCache Redis {node} node", count, "", None)
        return
    add(f"ElastiCache Redis {node} node", count, "node-month", count * hourly * p.hours)


def _serverless_cache(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    engine = body.get("engine", "")
    rates = p["elasticache"].get(f"serverless_{engine}")
    engine = engine.capitalize()
    if rates is None:
        add(f"ElastiCache Serverless {engine}", 1, "", None)
        return
    # Stored data is billed per GB-hour, never below the engine's minimum.
    gb = max(p.usage["serverless_cache_gb"], rates["minimum_gb"])
    add(f"ElastiCache Serverless {engine} data stored", gb, "GB-month",
        gb * rates["gb_hour"] * p.hours, f"{gb:g} GB on average (at least {rates['minimum_gb']:g})")
    ecpus = p.usage["serverless_cache_million_ecpus"]
    add(f"ElastiCache Serverless {engine} ECPUs", ecpus, "million ECPUs",
        ecpus * rates["million_ecpus"], f"{ecpus:g} million ECPUs a month")


def _strategy(body: dict, stack: _Stack) -> list[dict]:
    if body.get("capacity_provider_strategy"):
        return body["capacity_provider_strategy"]
    cluster_name = body.get("cluster")
    for providers in stack.of_type("aws_ecs_cluster_capacity_providers"):
        if providers.get("cluster_name") == cluster_name:
            return providers.get("default_capacity_provider_strategy", [])
    return [{"capacity_provider": "FARGATE", "base": 0, "weight": 1}]


def split_tasks(tasks: int, strategy: list[dict]) -> dict[str, float]:
    """How ECS places `tasks` over a capacity provider strategy: each provider's base first,
    the rest by weight."""
    placed = {s["capacity_provider"]: 0.0 for s in strategy}
    remaining = tasks
    for s in strategy:
        base = min(int(s.get("base", 0)), remaining)
        placed[s["capacity_provider"]] += base
        remaining -= base
    total_weight = sum(int(s.get("weight", 0)) for s in strategy) or 1
    for s in strategy:
        placed[s["capacity_provider"]] += remaining * int(s.get("weight", 0)) / total_weight
    return placed


def _fargate_hour(task: dict, p: Prices) -> tuple[float, str]:
    """One Fargate task's on-demand price per hour, and its size in words."""
    vcpu = int(task["cpu"]) / 1024
    gb = int(task["memory"]) / 1024
    arch = "arm64" if task.get("runtime_platform", {}).get("cpu_architecture") == "ARM64" \
        else "x86_64"
    hourly = vcpu * p[f"fargate.{arch}_vcpu_hour"] + gb * p[f"fargate.{arch}_gb_hour"]
    return hourly, f"{vcpu:g} vCPU / {gb:g} GB {arch}"


def _ecs_service(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    task = stack.follow(body.get("task_definition")) or {}
    if "FARGATE" not in task.get("requires_compatibilities", []):
        return  # EC2 capacity: priced on its Auto Scaling group
    hourly, size = _fargate_hour(task, p)
    task_month = hourly * p.hours
    placed = split_tasks(int(body.get("desired_count", 1)), _strategy(body, stack))
    name = body.get("name", "service")
    if placed.get("FARGATE"):
        add(f"Fargate task {name} ({size})", placed["FARGATE"], "task-month",
            placed["FARGATE"] * task_month)
    if placed.get("FARGATE_SPOT"):
        discount = p["fargate.spot_discount"]
        add(f"Fargate Spot task {name} ({size})", placed["FARGATE_SPOT"], "task-month",
            placed["FARGATE_SPOT"] * task_month * (1 - discount),
            f"Spot at {discount:.0%} below on-demand")


def _one_off_task(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    """A task definition no service runs (`kind = "task"`): billed only while it runs."""
    if any(stack.follow(s.get("task_definition")) is body
           for s in stack.of_type("aws_ecs_service")):
        return  # a service's: priced with the service
    if "FARGATE" not in body.get("requires_compatibilities", []):
        return
    hourly, size = _fargate_hour(body, p)
    minutes = p.usage["task_minutes_per_month"]
    add(f"Fargate one-off task {body.get('family', 'task')} ({size})", minutes, "task-minute",
        hourly * minutes / 60, f"{minutes:g} minutes a month, on-demand")


def _apprunner_service(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    config = body.get("instance_configuration", {})
    vcpu = int(config.get("cpu", 1024)) / 1024
    gb = int(config.get("memory", 2048)) / 1024
    scaling = stack.follow(body.get("auto_scaling_configuration_arn")) or {}
    instances = max(float(scaling.get("min_size", 1)), p.usage["apprunner_instances"])
    active = p.usage["apprunner_active_hours"]
    name = body.get("service_name", "service")
    add(f"App Runner {name} provisioned memory ({gb:g} GB)", instances, "instance-month",
        instances * gb * p["apprunner.provisioned_gb_hour"] * p.hours)
    add(f"App Runner {name} active vCPU ({vcpu:g} vCPU)", active, "hours",
        vcpu * active * p["apprunner.active_vcpu_hour"], f"{active:g} active hours a month")
    if body.get("source_configuration", {}).get("auto_deployments_enabled"):
        add("App Runner automatic deployments", 1, "service-month",
            p["apprunner.automatic_deployment_month"])


def _function_size(body: dict) -> tuple[float, str]:
    """(memory in GB, architecture) of a Lambda function's body (Lambda's defaults: 128 MB,
    x86_64)."""
    return body.get("memory_size", 128) / 1024, (body.get("architectures") or ["x86_64"])[0]


def _lambda_function(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    gb, arch = _function_size(body)
    requests, ms = p.usage["lambda_requests"], p.usage["lambda_ms_per_request"]
    gb_seconds = requests * ms / 1000 * gb
    add(f"Lambda {body.get('function_name', 'function')} requests and duration "
        f"({gb:g} GB, {arch})", requests, "requests",
        requests / 1e6 * p["lambda.million_requests"] + gb_seconds * p[f"lambda.{arch}_gb_second"],
        f"{requests:,.0f} requests of {ms:g} ms a month, before the free tier (1M requests and "
        "400,000 GB-s a month)")


def _provisioned_concurrency(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    function = stack.follow(body.get("function_name")) or {}
    gb, arch = _function_size(function)
    executions = body.get("provisioned_concurrent_executions", 1)
    add(f"Lambda {function.get('function_name', 'function')} provisioned concurrency "
        f"({gb:g} GB, {arch})", executions, "instance-month",
        executions * gb * p.hours * 3600 * p[f"lambda.{arch}_provisioned_gb_second"])


def _http_api(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    requests = p.usage["http_api_requests"]
    add("API Gateway HTTP API requests", requests, "requests",
        requests / 1e6 * p["apigateway.http_million_requests"], f"{requests:,.0f} a month per API")


def _vpc_endpoint(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    if body.get("vpc_endpoint_type") != "Interface":
        return  # gateway endpoints (S3, DynamoDB) are free
    azs = len(body.get("subnet_ids", []))
    service = body["service_name"].rsplit(".", 1)[-1] if "." in body["service_name"] else ""
    add(f"Interface endpoint {service} (per AZ)", azs, "endpoint-AZ-month",
        azs * p["vpc.interface_endpoint_hour_per_az"] * p.hours)
    gb = p.usage["interface_endpoint_gb"]
    add("Interface endpoint data processing", gb, "GB", gb * p["vpc.interface_endpoint_gb"],
        f"{gb:g} GB a month per endpoint")


def _per_month(item: str, unit: str, price: str) -> Callable:
    def pricer(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
        add(item, 1, unit, p[price])
    return pricer


def _log_group(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    if security_cost.trail_log_group(body, stack, p, add):
        return
    gb = p.usage["log_gb_per_group"]
    add("CloudWatch Logs ingestion and storage", gb, "GB",
        gb * (p["cloudwatch.log_ingest_gb"] + p["cloudwatch.log_storage_gb_month"]),
        f"{gb:g} GB a month per log group")


def _ecs_cluster(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    insights = any(s.get("name") == "containerInsights" and s.get("value") == "enabled"
                   for s in body.get("setting", []))
    if not insights:
        return
    services = len(stack.of_type("aws_ecs_service"))
    metrics = p.usage["container_insights_metrics_per_cluster"] + \
        services * p.usage["container_insights_metrics_per_service"]
    add("Container Insights metrics", metrics, "metric-month",
        metrics * p["cloudwatch.custom_metric_month"],
        f"{p.usage['container_insights_metrics_per_cluster']:g} per cluster + "
        f"{p.usage['container_insights_metrics_per_service']:g} per service")


def _web_acl(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    rules = len(body.get("rule", []))
    add(f"WAF web ACL ({body.get('scope', '').lower()})", 1, "ACL-month",
        p["waf.web_acl_month"] + rules * p["waf.rule_month"])
    millions = p.usage["waf_million_requests"]
    add("WAF requests", millions, "million requests", millions * p["waf.million_requests"],
        f"{millions:g} million requests a month per web ACL")


def _per_gb(item: str, usage: str, price: str) -> Callable:
    def pricer(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
        gb = p.usage[usage]
        add(item, gb, "GB-month", gb * p[price], f"{gb:g} GB stored each")
    return pricer


def _user_pool(body: dict, stack: _Stack, p: Prices, add: Add) -> None:
    mau = p.usage["cognito_mau"]
    if body.get("user_pool_tier") == "PLUS":
        add("Cognito Plus tier (threat protection)", mau, "MAU", mau * p["cognito.plus_mau"],
            f"{mau:g} monthly active users")
    else:
        add(f"Cognito {body.get('user_pool_tier', 'ESSENTIALS').title()} user pool", mau, "MAU",
            0.0, "free up to 10,000 monthly active users")


_PRICERS: dict[str, Callable[[dict, _Stack, Prices, Add], None]] = {
    "aws_nat_gateway": _nat_gateway,
    "aws_eip": _eip,
    "aws_lb": _load_balancer,
    "aws_instance": _instance,
    "aws_autoscaling_group": _autoscaling_group,
    "aws_db_instance": _db_instance,
    "aws_elasticache_replication_group": _replication_group,
    "aws_elasticache_serverless_cache": _serverless_cache,
    "aws_ecs_service": _ecs_service,
    "aws_ecs_task_definition": _one_off_task,
    "aws_ecs_cluster": _ecs_cluster,
    "aws_apprunner_service": _apprunner_service,
    "aws_lambda_function": _lambda_function,
    "aws_lambda_provisioned_concurrency_config": _provisioned_concurrency,
    "aws_apigatewayv2_api": _http_api,
    "aws_vpc_endpoint": _vpc_endpoint,
    "aws_kms_key": _per_month("KMS customer managed key", "key-month", "kms.key_month"),
    "aws_secretsmanager_secret": _per_month("Secrets Manager secret", "secret-month",
                                            "secretsmanager.secret_month"),
    "aws_cloudwatch_dashboard": _per_month("CloudWatch dashboard", "dashboard-month",
                                           "cloudwatch.dashboard_month"),
    "aws_cloudwatch_log_group": _log_group,
    "aws_route53_zone": _per_month("Route53 hosted zone", "zone-month",
                                   "route53.hosted_zone_month"),
    "aws_wafv2_web_acl": _web_acl,
    "aws_ecr_repository": _per_gb("ECR image storage", "ecr_gb_per_repository",
                                  "ecr.storage_gb_month"),
    "aws_s3_bucket": _per_gb("S3 Standard storage", "s3_gb_per_bucket", "s3.standard_gb_month"),
    "aws_cognito_user_pool": _user_pool,
    **security_cost.PRICERS,
    **scaling_cost.PRICERS,
    **access_cost.PRICERS,
}
