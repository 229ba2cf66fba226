"""An architecture diagram (Mermaid) of a synthesized environment stack, drawn from its Terraform
JSON, not from config: what is drawn is what Terraform would create.

Layout: the internet and the edge (Route53, CloudFront, WAF, API Gateway, App Runner) outside the
VPC; inside it one box per subnet tier (public, private, isolated) with what runs there; the
regional services (queues, topics, buckets, Cognito) beside it. Arrows are the paths traffic is
allowed to take: listener rules (with their paths), security-group rules between groups (with
their ports), CloudFront origins, API integrations, queue triggers, schedules.
"""

from __future__ import annotations

import json
import re
from typing import Any

_REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}")


class _Graph:
    def __init__(self, document: dict[str, Any]):
        self.resources: dict[str, dict[str, dict]] = document.get("resource", {})
        self.nodes: dict[str, tuple[str, str, str]] = {}  # node id -> (group, label, shape)
        self.edges: list[tuple[str, str, str]] = []

    def of_type(self, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.resources.get(type_, {}).items() if v.get("count") != 0}

    @staticmethod
    def refs(value: Any) -> list[tuple[str, str]]:
        """Every (type, logical id) a value refers to."""
        return _REFERENCE.findall(json.dumps(value))

    def node(self, type_: str, logical_id: str, group: str, label: str, shape: str = "box") -> str:
        node_id = re.sub(r"[^A-Za-z0-9_]", "_", f"{type_[4:]}_{logical_id}")
        self.nodes[node_id] = (group, label, shape)
        return node_id

    def edge(self, source: str | None, target: str | None, label: str = "") -> None:
        if source and target and (source, target, label) not in self.edges:
            self.edges.append((source, target, label))


def _tier_of_subnets(graph: _Graph, subnet_refs: list[tuple[str, str]]) -> str:
    subnets = graph.of_type("aws_subnet")
    tiers = {subnets[i].get("tags", {}).get("Tier") for t, i in subnet_refs
             if t == "aws_subnet" and i in subnets}
    return next(iter(sorted(t for t in tiers if t)), "private")


def _cidrs(graph: _Graph, tier: str) -> str:
    return ", ".join(s["cidr_block"] for s in graph.of_type("aws_subnet").values()
                     if s.get("tags", {}).get("Tier") == tier)


def mermaid(document: dict[str, Any]) -> str:
    """The Mermaid `flowchart` source for one stack."""
    g = _Graph(document)
    by_ref: dict[tuple[str, str], str] = {}  # (type, logical id) -> node id
    members: dict[str, list[str]] = {}  # security group logical id -> node ids in it

    def add(type_, lid, group, label, shape="box", security_groups=()):
        by_ref[(type_, lid)] = g.node(type_, lid, group, label, shape)
        for _, sg in g.refs(list(security_groups)):
            members.setdefault(sg, []).append(by_ref[(type_, lid)])
        return by_ref[(type_, lid)]

    internet = g.node("aws_internet", "users", "outside", "Internet", "circle")
    for lid, zone in g.of_type("aws_route53_zone").items():
        add("aws_route53_zone", lid, "edge", f"Route53 zone {zone.get('name', '')}")
    for lid, acl in g.of_type("aws_wafv2_web_acl").items():
        add("aws_wafv2_web_acl", lid, "edge", f"WAF web ACL ({acl.get('scope', '').lower()})")
    for lid, dist in g.of_type("aws_cloudfront_distribution").items():
        add("aws_cloudfront_distribution", lid, "edge", f"CloudFront {dist.get('comment', '')}")
        g.edge(internet, by_ref[("aws_cloudfront_distribution", lid)], "HTTPS")
    for lid, api in g.of_type("aws_apigatewayv2_api").items():
        add("aws_apigatewayv2_api", lid, "edge", f"API Gateway {api.get('name', '')}")
        g.edge(internet, by_ref[("aws_apigatewayv2_api", lid)], "HTTPS")
    for lid, svc in g.of_type("aws_apprunner_service").items():
        add("aws_apprunner_service", lid, "edge", f"App Runner {svc.get('service_name', '')}")
        g.edge(internet, by_ref[("aws_apprunner_service", lid)], "HTTPS")

    for lid, lb in g.of_type("aws_lb").items():
        node = add("aws_lb", lid, "public", f"ALB {lb.get('name', '')}", "box",
                   lb.get("security_groups", []))
        if not lb.get("internal"):
            listeners = [x for x in g.of_type("aws_lb_listener").values()
                         if g.refs(x.get("load_balancer_arn")) == [("aws_lb", lid)]]
            ports = "/".join(sorted({str(x.get("port")) for x in listeners}))
            g.edge(internet, node, f"HTTP(S) {ports}".strip())
    for lid, inst in g.of_type("aws_instance").items():
        add("aws_instance", lid, "public",
            f"NAT instance {inst.get('instance_type', '')}" if "nat" in
            inst.get("tags", {}).get("Name", "") else f"EC2 {inst.get('instance_type', '')}",
            "box", inst.get("vpc_security_group_ids", []))
    for lid, _ in g.of_type("aws_nat_gateway").items():
        add("aws_nat_gateway", lid, "public", "NAT gateway")

    tasks = g.of_type("aws_ecs_task_definition")
    for lid, svc in g.of_type("aws_ecs_service").items():
        net = svc.get("network_configuration", {})
        task = next((tasks[i] for t, i in g.refs(svc.get("task_definition"))
                     if t == "aws_ecs_task_definition" and i in tasks), {})
        size = f"{int(task.get('cpu', 0)) / 1024:g} vCPU / {int(task.get('memory', 0)) / 1024:g}" \
               f" GB" if task else ""
        spot = any(s.get("capacity_provider") == "FARGATE_SPOT"
                   for s in svc.get("capacity_provider_strategy", []))
        ports = [str(lb.get("container_port")) for lb in svc.get("load_balancer", [])]
        label = f"ECS {svc.get('name', '')}" + (f" :{','.join(ports)}" if ports else "") + \
            f"<br/>{size}{' Spot' if spot else ''}"
        add("aws_ecs_service", lid, _tier_of_subnets(g, g.refs(net.get("subnets", []))), label,
            "box", net.get("security_groups", []))
    for lid, fn in g.of_type("aws_lambda_function").items():
        vpc = fn.get("vpc_config", {})
        add("aws_lambda_function", lid, _tier_of_subnets(g, g.refs(vpc.get("subnet_ids", [])))
            if vpc else "regional", f"Lambda {fn.get('function_name', '')}", "box",
            vpc.get("security_group_ids", []))
    for lid, db in g.of_type("aws_db_instance").items():
        groups = g.of_type("aws_db_subnet_group")
        subnets = [r for t, i in g.refs(db.get("db_subnet_group_name")) if i in groups
                   for r in g.refs(groups[i].get("subnet_ids"))]
        label = f"RDS {db.get('engine', '')} {db.get('engine_version', '')}<br/>" \
                f"{db.get('instance_class', '')}, {db.get('allocated_storage', '')} GB " \
                f"{db.get('storage_type', '')}{', Multi-AZ' if db.get('multi_az') else ''}"
        add("aws_db_instance", lid, _tier_of_subnets(g, subnets), label, "cylinder",
            db.get("vpc_security_group_ids", []))
    for lid, rg in g.of_type("aws_elasticache_replication_group").items():
        groups = g.of_type("aws_elasticache_subnet_group")
        subnets = [r for t, i in g.refs(rg.get("subnet_group_name")) if i in groups
                   for r in g.refs(groups[i].get("subnet_ids"))]
        label = f"Redis {rg.get('engine_version', '')}<br/>{rg.get('node_type', '')} x" \
                f"{rg.get('num_cache_clusters', 1)}"
        add("aws_elasticache_replication_group", lid, _tier_of_subnets(g, subnets), label,
            "cylinder", rg.get("security_group_ids", []))
    for lid, q in g.of_type("aws_sqs_queue").items():
        add("aws_sqs_queue", lid, "regional", f"SQS {q.get('name', '')}", "queue")
    for lid, topic in g.of_type("aws_sns_topic").items():
        add("aws_sns_topic", lid, "regional", f"SNS {topic.get('name', '')}", "queue")
    for lid, bucket in g.of_type("aws_s3_bucket").items():
        name = re.sub(r"-\d{12}$", "", bucket.get("bucket", lid))
        add("aws_s3_bucket", lid, "regional", f"S3 {name}", "cylinder")
    for lid, pool in g.of_type("aws_cognito_user_pool").items():
        add("aws_cognito_user_pool", lid, "regional", f"Cognito {pool.get('name', '')}")

    _edges(g, by_ref, members)
    return _render(g)


def _edges(g: _Graph, by_ref: dict, members: dict[str, list[str]]) -> None:
    def node(ref_value) -> str | None:
        return next((by_ref[r] for r in g.refs(ref_value) if r in by_ref), None)

    groups = g.of_type("aws_lb_target_group")
    services_by_group = {i: by_ref[("aws_ecs_service", lid)]
                         for lid, svc in g.of_type("aws_ecs_service").items()
                         for lb in svc.get("load_balancer", [])
                         for t, i in g.refs(lb.get("target_group_arn"))}
    listeners = g.of_type("aws_lb_listener")
    balancers = {n for (type_, _), n in by_ref.items() if type_ == "aws_lb"}
    for rule in g.of_type("aws_lb_listener_rule").values():
        listener = next((listeners[i] for t, i in g.refs(rule.get("listener_arn"))
                         if i in listeners), {})
        paths = [p for c in rule.get("condition", []) for p in
                 c.get("path_pattern", {}).get("values", [])]
        for action in rule.get("action", []):
            for _, tg in g.refs(action.get("target_group_arn")):
                if tg in groups:
                    g.edge(node(listener.get("load_balancer_arn")), services_by_group.get(tg),
                           " ".join(paths))
    # Security-group rules between groups: who may open connections to whom, on which port.
    for rule in g.of_type("aws_vpc_security_group_ingress_rule").values():
        source, target = rule.get("referenced_security_group_id"), rule.get("security_group_id")
        if not source:
            continue
        port = rule.get("from_port")
        for s in members.get(next((i for _, i in g.refs(source)), ""), []):
            for t in members.get(next((i for _, i in g.refs(target)), ""), []):
                if s in balancers and t in services_by_group.values():
                    continue  # already drawn with its paths
                g.edge(s, t, f"tcp {port}")
    # A record name -> what it aliases, for origins addressed by domain name.
    aliases = {r.get("name"): node(r.get("alias")) for r in g.of_type("aws_route53_record").values()}
    for dist_id, dist in g.of_type("aws_cloudfront_distribution").items():
        origins = dist.get("origin", [])
        for origin in origins:
            bucket = next((by_ref[r] for r in g.refs(origin) if r[0] == "aws_s3_bucket"), None)
            balancer = next((by_ref[r] for r in g.refs(origin) if r[0] == "aws_lb"), None) \
                or aliases.get(origin.get("domain_name"))
            source = by_ref[("aws_cloudfront_distribution", dist_id)]
            g.edge(source, bucket, "origin access control")
            g.edge(source, balancer, "/api/*")
        g.edge(node(dist.get("web_acl_id")), by_ref[("aws_cloudfront_distribution", dist_id)],
               "filters")
    for assoc in g.of_type("aws_wafv2_web_acl_association").values():
        g.edge(node(assoc.get("web_acl_arn")), node(assoc.get("resource_arn")), "filters")
    for record in g.of_type("aws_route53_record").values():
        g.edge(node(record.get("zone_id")), node(record.get("alias")), record.get("type", ""))
    internet = next(n for n, (group, _, _) in g.nodes.items() if group == "outside")
    for (type_, _), nat in by_ref.items():
        if type_ == "aws_nat_gateway" or (type_ == "aws_instance" and "NAT" in g.nodes[nat][1]):
            g.edge(nat, internet, "private tier egress")
    for integration in g.of_type("aws_apigatewayv2_integration").values():
        g.edge(node(integration.get("api_id")), node(integration.get("integration_uri")),
               "proxy")
    for mapping in g.of_type("aws_lambda_event_source_mapping").values():
        g.edge(node(mapping.get("event_source_arn")), node(mapping.get("function_name")),
               "triggers")
    for schedule in g.of_type("aws_scheduler_schedule").values():
        target = schedule.get("target", {})
        g.edge(g.node("aws_scheduler", "scheduler", "regional", "EventBridge Scheduler"),
               node(target.get("arn")), schedule.get("schedule_expression", ""))
    for lid, q in g.of_type("aws_sqs_queue").items():
        g.edge(by_ref[("aws_sqs_queue", lid)], node(q.get("redrive_policy")), "dead letters")
    # What a service's task role may use: the queue it drains, queues it sends to, the media
    # bucket (read from the role's policy statements, by their Sid).
    grants = {"ConsumeItsQueue": "consumes", "SendToQueues": "sends", "MediaObjects": "objects"}
    policies: dict[str, list[dict]] = {}
    for body in g.of_type("aws_iam_role_policy").values():
        for _, role in g.refs(body.get("role")):
            policies.setdefault(role, []).extend(json.loads(body.get("policy", "{}"))
                                                 .get("Statement", []))
    tasks = g.of_type("aws_ecs_task_definition")
    for lid, svc in g.of_type("aws_ecs_service").items():
        for _, task in g.refs(svc.get("task_definition")):
            for _, role in g.refs(tasks.get(task, {}).get("task_role_arn")):
                for statement in policies.get(role, []):
                    for target in g.refs(statement.get("Resource")):
                        if statement.get("Sid") in grants and target in by_ref:
                            g.edge(by_ref[("aws_ecs_service", lid)], by_ref[target],
                                   grants[statement["Sid"]])
    for lid, svc in g.of_type("aws_apprunner_service").items():
        connector = svc.get("network_configuration", {}).get("egress_configuration", {}).get(
            "vpc_connector_arn")
        connectors = g.of_type("aws_apprunner_vpc_connector")
        for _, cid in g.refs(connector):
            for _, sg in g.refs(connectors.get(cid, {}).get("security_groups", [])):
                members.setdefault(sg, []).append(by_ref[("aws_apprunner_service", lid)])
    # App Runner joins groups through its connector: draw its data-store paths too.
    for rule in g.of_type("aws_vpc_security_group_ingress_rule").values():
        source = next((i for _, i in g.refs(rule.get("referenced_security_group_id"))), None)
        target = next((i for _, i in g.refs(rule.get("security_group_id"))), None)
        for s in members.get(source or "", []):
            if s.startswith("apprunner_service"):
                for t in members.get(target or "", []):
                    g.edge(s, t, f"tcp {rule.get('from_port')}")


_SHAPES = {"box": ('["', '"]'), "cylinder": ('[("', '")]'), "circle": ('(("', '"))'),
           "queue": ('[["', '"]]')}
_GROUPS = [("edge", "Edge"), ("vpc", None), ("regional", "Regional services")]
_TIERS = [("public", "public subnets"), ("private", "private subnets"),
          ("isolated", "isolated subnets: no route out of the VPC")]


def _render(g: _Graph) -> str:
    def line(node_id: str) -> str:
        _, label, shape = g.nodes[node_id]
        opening, closing = _SHAPES[shape]
        return f"{node_id}{opening}{label}{closing}"

    vpc = next(iter(g.of_type("aws_vpc").values()), {})
    azs = len({s.get("availability_zone") for s in g.of_type("aws_subnet").values()})
    out = ["flowchart LR"]
    for node_id, (group, _, _) in g.nodes.items():
        if group == "outside":
            out.append(f"  {line(node_id)}")
    for group, title in _GROUPS:
        if group == "vpc":
            if not vpc:
                continue
            out.append(f'  subgraph vpc["VPC {vpc.get("cidr_block", "")}, {azs} AZs"]')
            for tier, tier_title in _TIERS:
                inside = [n for n, (grp, _, _) in g.nodes.items() if grp == tier]
                cidrs = _cidrs(g, tier)
                if not inside and not cidrs:
                    continue
                out.append(f'    subgraph {tier}["{tier_title}<br/>{cidrs}"]')
                out += [f"      {line(n)}" for n in inside] or [f"      {tier}_empty[ ]"]
                out.append("    end")
            out.append("  end")
            continue
        inside = [n for n, (grp, _, _) in g.nodes.items() if grp == group]
        if inside:
            out.append(f'  subgraph {group}["{title}"]')
            out += [f"    {line(n)}" for n in inside]
            out.append("  end")
    for source, target, label in g.edges:
        out.append(f'  {source} -->|"{label}"| {target}' if label else f"  {source} --> {target}")
    return "\n".join(out)


def document(stacks: dict[str, dict[str, Any]]) -> str:
    """docs/architecture.md: one diagram per environment stack, in the order given."""
    out = ["# Architecture", "",
           "Generated by `make diagram` from the synthesized stacks (config/*.toml); the test "
           "suite regenerates it and fails when this file is stale. Do not edit by hand.", "",
           "Boxes are what Terraform creates; arrows are the paths traffic is allowed to take "
           "(listener rules with their paths, security-group rules with their ports, CloudFront "
           "origins, API integrations, queue triggers).", ""]
    for name, doc in stacks.items():
        out += [f"## {name}", "", "```mermaid", mermaid(doc), "```", ""]
    return "\n".join(out)
