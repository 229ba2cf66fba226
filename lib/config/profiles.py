"""The profiles: per-environment defaults that an environment file is merged over (dev, lean,
staging, prod), and `apply_profile`, the merge itself. The loader and the README's config
reference (tools/config_reference.py) both read defaults through `apply_profile`, so what the
README says is what a file gets.

A default that is the same for every profile lives on its field in the schema instead; one that
differs lives here.
"""

from typing import Any

# Seed 003's services. Next.js writes its cache under .next/, so its root file system stays
# writable; the API's is read-only.
_WORKER_QUEUE = "email"  # one of MessagingConfig's default queues
_SEED_SERVICES = [
    {"name": "frontend", "kind": "web", "port": 3000, "paths": ["/*"], "priority": 200,
     "health_check_path": "/", "read_only_root_filesystem": False},
    {"name": "backend", "kind": "web", "port": 8000, "paths": ["/api/*"], "priority": 100,
     "health_check_path": "/api/v1/health", "access": ["database", "cache"],
     "sends_to": [_WORKER_QUEUE]},
    # Seed 002's headless workers: the backend enqueues, the worker drains the queue. It scales
    # on the queue's backlog from zero tasks, so an idle worker costs nothing.
    {"name": "worker", "kind": "worker", "queue": _WORKER_QUEUE, "min_tasks": 0},
]
# prod keeps a web task in two AZs at all times (seed 002: "minimum 2 tasks (across AZs) for
# HA") and one worker warm, so the first message does not wait for a task to start.
_PROD_SERVICES = [{**s, "min_tasks": 2 if s["kind"] == "web" else 1} for s in _SEED_SERVICES]

# dev: every feature on, a third cheaper than the seeds' dev (README "Cost estimate"): a NAT
# instance instead of a NAT gateway, Fargate Spot, no Container Insights or dashboard (alarms stay
# on), gateway endpoints only. Same encryption and network isolation as prod.
_DEV: dict[str, Any] = {
    # dev can be torn down by `cdktf destroy`: no stateful resource refuses it.
    "prevent_destroy": False,
    "network": {"az_count": 2, "nat": "instance"},
    # dev can be torn down: no deletion protection, no final snapshot.
    "database": {"instance_class": "db.t4g.micro", "allocated_storage_gb": 20,
                 "multi_az": False, "deletion_protection": False, "final_snapshot": False},
    "cache": {"node_type": "cache.t4g.micro", "num_nodes": 1, "final_snapshot": False},
    "edge": {"cloudfront": False, "waf": False, "price_class": "PriceClass_100"},
    "auth": {"mfa": "OPTIONAL", "advanced_security": False, "deletion_protection": False},
    "compute": {"capacity": "spot"},
    "ingress": {"deletion_protection": False},
    "observability": {"dashboard": False, "container_insights": False},
    # Flow and WAF logs as long as the other logs: dev holds no one's data.
    "logs": {"security_retention_days": 30},
    # Pull requests plan dev with its plan role; staging's and prod's plan only merged code.
    "github": {"plan_on_pull_requests": True},
    "services": _SEED_SERVICES,
    "cost": {"monthly_budget_usd": 80},
}
# The seed designs' environment table (Graviton classes: cheaper for the same size).
PROFILE_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": _DEV,
    # lean (seed 001's "Lean MVP", which used App Runner: closed to new customers since
    # 2026-04-30): dev with its web service on Lambda instead of ECS + ALB, and no NAT, so
    # compute costs nothing at idle. The service `api` answers every path through the HTTP API
    # and reaches RDS and Redis with IAM tokens signed in the function (no AWS API call, so no
    # endpoint); Lambda pulls its image and delivers its logs from outside the VPC. No queues:
    # sending to one from the VPC needs an SQS endpoint, and secrets a Secrets Manager one,
    # each ~$15 a month in two AZs, half the budget. No zip-packaged API function (seed 001 has
    # none).
    "lean": {
        **_DEV,
        "network": {"az_count": 2, "nat": "none"},
        # ElastiCache Serverless for Valkey: about $6 a month at idle (the 100 MB minimum of
        # stored data) against $11.68 for the smallest Redis node, and no node to size.
        "cache": {"serverless": True},
        "api": {"enabled": False, "worker_queue": None},
        "compute": {"platform": "lambda", "capacity": "spot"},
        "messaging": {"queues": []},
        "services": [{"name": "api", "kind": "web", "port": 8080, "paths": ["/*"],
                      "health_check_path": "/health", "access": ["database", "cache"]}],
        "cost": {"monthly_budget_usd": 30},
    },
    "staging": {
        "prevent_destroy": True,
        "network": {"az_count": 3, "nat": "per_az"},
        "database": {"instance_class": "db.t4g.small", "allocated_storage_gb": 50,
                     "multi_az": False, "deletion_protection": True, "final_snapshot": True},
        "cache": {"node_type": "cache.t4g.small", "num_nodes": 2, "final_snapshot": True},
        "edge": {"cloudfront": True, "waf": True, "price_class": "PriceClass_100"},
        "auth": {"mfa": "OPTIONAL", "advanced_security": False, "deletion_protection": True},
        "compute": {"capacity": "mixed"},
        "ingress": {"deletion_protection": True},
        "services": _SEED_SERVICES,
        "cost": {"monthly_budget_usd": 350},
    },
    "prod": {
        "prevent_destroy": True,
        "network": {"az_count": 3, "nat": "per_az"},
        "database": {"instance_class": "db.t4g.medium", "allocated_storage_gb": 100,
                     "multi_az": True, "deletion_protection": True, "final_snapshot": True},
        "cache": {"node_type": "cache.t4g.medium", "num_nodes": 3, "final_snapshot": True},
        "edge": {"cloudfront": True, "waf": True, "price_class": "PriceClass_All"},
        "auth": {"mfa": "ON", "advanced_security": True, "deletion_protection": True},
        "compute": {"capacity": "fargate"},
        "ingress": {"deletion_protection": True},
        "services": _PROD_SERVICES,
        "cost": {"monthly_budget_usd": 650},
    },
}


def apply_profile(profile: str, data: dict[str, Any]) -> dict[str, Any]:
    """An environment file's tables (`data`) merged over its profile's defaults."""
    merged = merge(PROFILE_DEFAULTS[profile], data)
    cache = data.get("cache")
    if isinstance(cache, dict) and _cache_kind(merged.get("cache", {})) != \
            _cache_kind(PROFILE_DEFAULTS[profile].get("cache", {})):
        # The file switches the cache kind (or turns it off, or outside AWS): the profile's
        # [cache] keys size another kind.
        merged["cache"] = cache
    queues = data.get("messaging", {}).get("queues") if isinstance(data.get("messaging"), dict) \
        else None
    if "services" not in data and isinstance(queues, list) and not any(
            isinstance(q, dict) and q.get("name") == _WORKER_QUEUE for q in queues):
        # The default worker and the backend's sends_to need the default queue; a file that
        # declares its own queues without it gets the default web services alone.
        merged["services"] = [{k: v for k, v in svc.items() if k != "sends_to"}
                              for svc in merged["services"] if "queue" not in svc]
    return merged


def _cache_kind(cache: dict[str, Any]) -> tuple:
    return cache.get("enabled", True), cache.get("external", False), cache.get("serverless", False)


def merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two TOML tables; `overrides` wins, lists are replaced, not concatenated (a file
    over its profile's defaults, and over the file it extends)."""
    merged = dict(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
