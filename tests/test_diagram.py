"""The diagram (lib/analysis/diagram.py) draws what the synthesized stacks hold; that
docs/architecture.md is config/'s current diagram is checked in tests/test_config_dir.py."""

import re

import pytest

from lib.analysis.diagram import mermaid

STACKS = ("dev-stack", "staging-stack", "prod-stack")


def _names(stack, type_, key):
    return [body[key] for body in stack.json["resource"].get(type_, {}).values()]


@pytest.mark.parametrize("name", STACKS)
def test_every_service_and_data_store_is_drawn(stacks, name):
    stack = stacks[name]
    text = mermaid(stack.json)
    for type_, key in [("aws_ecs_service", "name"), ("aws_lambda_function", "function_name"),
                       ("aws_sqs_queue", "name"), ("aws_sns_topic", "name")]:
        for resource_name in _names(stack, type_, key):
            assert resource_name in text, f"{resource_name} missing from the {name} diagram"
    db = next(iter(stack.json["resource"]["aws_db_instance"].values()))
    assert f"{db['instance_class']}, {db['allocated_storage']} GB" in text
    redis = next(iter(stack.json["resource"]["aws_elasticache_replication_group"].values()))
    assert f"{redis['node_type']} x{redis['num_cache_clusters']}" in text


def _node(text, label_start):
    match = re.search(rf"^\s+(\w+)\W+{re.escape(label_start)}", text, re.M)
    assert match, f"no node labelled {label_start}"
    return match.group(1)


def test_arrows_show_who_reaches_what(dev):
    text = mermaid(dev.json)
    alb, backend, frontend = (_node(text, "ALB"), _node(text, "ECS webplat-dev-backend"),
                              _node(text, "ECS webplat-dev-frontend"))
    database, redis = _node(text, "RDS postgres"), _node(text, "Redis")
    assert f'{alb} -->|"/api/*"| {backend}' in text
    assert f'{alb} -->|"/*"| {frontend}' in text
    assert f'{backend} -->|"tcp 5432"| {database}' in text
    assert f'{backend} -->|"tcp 6379"| {redis}' in text
    # Queues by what the task roles may do with them.
    worker, email = _node(text, "ECS webplat-dev-worker"), _node(text, "SQS webplat-dev-email\"")
    assert f'{backend} -->|"sends"| {email}' in text
    assert f'{worker} -->|"consumes"| {email}' in text
    # The frontend is not in the application tier: no path to the data stores.
    assert f"{frontend} -->" not in text
    # The data stores sit in the isolated tier box.
    isolated = text.split('subgraph isolated')[1].split("end")[0]
    assert database in isolated and redis in isolated


def test_backups_copied_to_a_second_region_are_drawn_there(full):
    text = mermaid(full.json)
    database = _node(text, "RDS postgres")
    copy = _node(text, "RDS automated backups replicated to us-west-2")
    assert f'{database} -->|"snapshots and transaction logs"| {copy}' in text
    assert copy in text.split('subgraph other_region["Second Region"]')[1].split("end")[0]
