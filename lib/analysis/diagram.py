"""An architecture diagram (Mermaid) of a synthesized stack, drawn from its Terraform JSON, not from
config: what is drawn is what Terraform would create.

Layout: the internet and the edge (Route53, CloudFront, WAF, API Gateway, App Runner) outside the
VPC; inside it one box per subnet tier (public, private, isolated) with what runs there; the
regional services (queues, topics, buckets, Cognito) beside it. Arrows are the paths traffic is
allowed to take: listener rules (with their paths), security-group rules between groups (with
their ports), CloudFront origins, API integrations, queue triggers, schedules. The bootstrap
stack's trail, log group, detectors and EventBridge rules go in an account box, with their counts
(metric filters on a group, alarms on a topic).
"""

from __future__ import annotations

import json
import re
from typing import Any

from lib.analysis.diagram_detection import detection as _detection
from lib.analysis.diagram_detection import detection_edges as _detection_edges

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
        # An internal one sits in the private tier, reached from CloudFront only (_edges).
        tier = _tier_of_subnets(g, g.refs(lb.get("subnets", []))) if lb.get("internal") \
            else "public"
        node = add("aws_lb", lid, tier, f"ALB {lb.get('name', '')}"
                   f"{' (internal)' if lb.get('internal') else ''}", "box",
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
    for lid, vpn in g.of_type("aws_ec2_client_vpn_endpoint").items():
        # In the tier of the subnets it is associated with; its group's rules draw what it reaches.
        subnets = [r for a in g.of_type("aws_ec2_client_vpn_network_association").values()
                   if ("aws_ec2_client_vpn_endpoint", lid) in g.refs(a)
                   for r in g.refs(a.get("subnet_id"))]
        node = add("aws_ec2_client_vpn_endpoint", lid, _tier_of_subnets(g, subnets),
                   f"Client VPN, mutual TLS<br/>clients {vpn.get('client_cidr_block', '')}",
                   "box", vpn.get("security_group_ids", []))
        g.edge(g.node("aws_people", f"vpn_{lid}", "outside", "VPN users", "circle"), node,
               f"{vpn.get('transport_protocol', 'udp')} {vpn.get('vpn_port', 443)}")

    tasks = g.of_type("aws_ecs_task_definition")
    tracked = _tracked_by_service(g)
    for lid, svc in g.of_type("aws_ecs_service").items():
        net = svc.get("network_configuration", {})
        task = next((tasks[i] for t, i in g.refs(svc.get("task_definition"))
                     if t == "aws_ecs_task_definition" and i in tasks), {})
        size = f"{int(task.get('cpu', 0)) / 1024:g} vCPU / {int(task.get('memory', 0)) / 1024:g}" \
               f" GB" if task else ""
        spot = any(s.get("capacity_provider") == "FARGATE_SPOT"
                   for s in svc.get("capacity_provider_strategy", []))
        ports = [str(lb.get("container_port")) for lb in svc.get("load_balancer", [])]
        shell = ", ECS Exec" if svc.get("enable_execute_command") else ""  # a way in for people
        label = f"ECS {svc.get('name', '')}" + (f" :{','.join(ports)}" if ports else "") + \
            f"<br/>{size}{' Spot' if spot else ''}{shell}" + \
            "".join(f"<br/>scales on {label}" for label in tracked.get(lid, []))
        add("aws_ecs_service", lid, _tier_of_subnets(g, g.refs(net.get("subnets", []))), label,
            "box", net.get("security_groups", []))
    # One-off tasks: task definitions no service runs; the stack's `tasks` output says where
    # they run (tools/run_task.py starts them in the private tier).
    served = {i for svc in g.of_type("aws_ecs_service").values()
              for t, i in g.refs(svc.get("task_definition")) if t == "aws_ecs_task_definition"}
    one_off = {t["family"]: t["security_group_ids"]
               for t in document.get("output", {}).get("tasks", {}).get("value", {}).values()}
    for lid, task in tasks.items():
        if lid not in served and task.get("family") in one_off:
            size = f"{int(task['cpu']) / 1024:g} vCPU / {int(task['memory']) / 1024:g} GB"
            add("aws_ecs_task_definition", lid, "private",
                f"ECS one-off task {task['family']}<br/>{size}", "box", one_off[task["family"]])
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
    for lid, proxy in g.of_type("aws_db_proxy").items():
        tls = ", TLS" if proxy.get("require_tls") else ""
        iam = ", IAM" if any(a.get("iam_auth") == "REQUIRED" for a in proxy.get("auth", [])) \
            else ""
        add("aws_db_proxy", lid, _tier_of_subnets(g, g.refs(proxy.get("vpc_subnet_ids", []))),
            f"RDS Proxy {proxy.get('name', '')}<br/>pool{tls}{iam}", "box",
            proxy.get("vpc_security_group_ids", []))
    for lid, copy in g.of_type("aws_db_instance_automated_backups_replication").items():
        region = (copy.get("provider") or "").rpartition(".")[2].replace("_", "-")
        add("aws_db_instance_automated_backups_replication", lid, "other_region",
            f"RDS automated backups replicated to {region}<br/>"
            f"{copy.get('retention_period', '')} days, its own KMS key", "cylinder")
    for lid, rg in g.of_type("aws_elasticache_replication_group").items():
        groups = g.of_type("aws_elasticache_subnet_group")
        subnets = [r for t, i in g.refs(rg.get("subnet_group_name")) if i in groups
                   for r in g.refs(groups[i].get("subnet_ids"))]
        label = f"Redis {rg.get('engine_version', '')}<br/>{rg.get('node_type', '')} x" \
                f"{rg.get('num_cache_clusters', 1)}"
        add("aws_elasticache_replication_group", lid, _tier_of_subnets(g, subnets), label,
            "cylinder", rg.get("security_group_ids", []))
    for lid, sc in g.of_type("aws_elasticache_serverless_cache").items():
        limits = (sc.get("cache_usage_limits") or [{}])[0]
        storage = (limits.get("data_storage") or [{}])[0].get("maximum", "")
        label = f"{sc.get('engine', '').capitalize()} {sc.get('major_engine_version', '')} " \
                f"Serverless<br/>up to {storage} GB"
        add("aws_elasticache_serverless_cache", lid,
            _tier_of_subnets(g, g.refs(sc.get("subnet_ids", []))), label, "cylinder",
            sc.get("security_group_ids", []))
    for lid, q in g.of_type("aws_sqs_queue").items():
        add("aws_sqs_queue", lid, "regional", f"SQS {q.get('name', '')}", "queue")
    alarms = _alarms_by_topic(g)
    for lid, topic in g.of_type("aws_sns_topic").items():
        count = alarms.get(lid, 0)
        add("aws_sns_topic", lid, "regional", f"SNS {topic.get('name', '')}" +
            (f"<br/>{count} alarm{'s' if count != 1 else ''}" if count else ""), "queue")
    locks = {i: lock for lock in g.of_type("aws_s3_bucket_object_lock_configuration").values()
             for _, i in g.refs(lock.get("bucket"))}
    for lid, bucket in g.of_type("aws_s3_bucket").items():
        name = re.sub(r"-\d{12}$", "", bucket.get("bucket", lid))
        retention = (locks.get(lid, {}).get("rule") or {}).get("default_retention") or {}
        lock = f"<br/>Object Lock {retention.get('mode', '').lower()} {retention.get('days')} d" \
            if retention else ""
        add("aws_s3_bucket", lid, "regional", f"S3 {name}{lock}", "cylinder")
    _detection(g, add)
    for lid, pool in g.of_type("aws_cognito_user_pool").items():
        add("aws_cognito_user_pool", lid, "regional", f"Cognito {pool.get('name', '')}")

    _edges(g, by_ref, members)
    return _render(g)


def _tracked_by_service(g: _Graph) -> dict[str, list[str]]:
    """ECS service logical id -> what its target tracking policies on a customized metric track
    (the label of the value each returns): the application's metric, its latency."""
    targets = g.of_type("aws_appautoscaling_target")
    tracked: dict[str, list[str]] = {}
    for policy in g.of_type("aws_appautoscaling_policy").values():
        custom = (policy.get("target_tracking_scaling_policy_configuration") or {}).get(
            "customized_metric_specification") or {}
        labels = [q.get("label", "") for q in custom.get("metrics", []) if q.get("return_data")]
        for _, target in g.refs(policy.get("resource_id")):
            for type_, service in g.refs(targets.get(target, {}).get("resource_id")):
                if type_ == "aws_ecs_service":
                    tracked.setdefault(service, []).extend(labels)
    return tracked


def _alarms_by_topic(g: _Graph) -> dict[str, int]:
    """Topic logical id -> how many alarms notify it."""
    counts: dict[str, int] = {}
    for alarm in g.of_type("aws_cloudwatch_metric_alarm").values():
        for lid in {i for t, i in g.refs(alarm.get("alarm_actions")) if t == "aws_sns_topic"}:
            counts[lid] = counts.get(lid, 0) + 1
    return counts


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
    # An outside Redis (cache.external): its URL is a secret, its port open to the internet.
    for lid, rule in g.of_type("aws_vpc_security_group_egress_rule").items():
        if rule.get("description") == "redis outside AWS":
            redis = g.node("aws_external_redis", lid, "outside",
                           "Redis outside AWS<br/>URL in Secrets Manager", "cylinder")
            for s in members.get(next((i for _, i in g.refs(rule.get("security_group_id"))),
                                      ""), []):
                g.edge(s, redis, f"tcp {rule.get('from_port')}")
    # A record name -> what it aliases, for origins addressed by domain name.
    aliases = {r.get("name"): node(r.get("alias")) for r in g.of_type("aws_route53_record").values()}
    # A VPC origin -> the load balancer it reaches.
    vpc_origins = {i: node(o.get("vpc_origin_endpoint_config"))
                   for i, o in g.of_type("aws_cloudfront_vpc_origin").items()}
    for dist_id, dist in g.of_type("aws_cloudfront_distribution").items():
        origins = dist.get("origin", [])
        paths = {b.get("target_origin_id"): b.get("path_pattern")
                 for b in dist.get("ordered_cache_behavior", [])}
        paths[dist.get("default_cache_behavior", {}).get("target_origin_id")] = "/*"
        for origin in origins:
            bucket = next((by_ref[r] for r in g.refs(origin) if r[0] == "aws_s3_bucket"), None)
            through = next((i for t, i in g.refs(origin.get("vpc_origin_config"))
                            if t == "aws_cloudfront_vpc_origin"), None)
            balancer = vpc_origins.get(through) or next(
                (by_ref[r] for r in g.refs(origin) if r[0] == "aws_lb"), None) \
                or aliases.get(origin.get("domain_name"))
            source = by_ref[("aws_cloudfront_distribution", dist_id)]
            g.edge(source, bucket, "origin access control")
            g.edge(source, balancer, f"{paths.get(origin.get('origin_id'), '')}"
                                     f"{' via VPC origin' if through else ''}")
        g.edge(node(dist.get("web_acl_id")), by_ref[("aws_cloudfront_distribution", dist_id)],
               "filters")
    for assoc in g.of_type("aws_wafv2_web_acl_association").values():
        g.edge(node(assoc.get("web_acl_arn")), node(assoc.get("resource_arn")), "filters")
    # One arrow per zone and target, naming every name that aliases it (ingress.hosts: www beside
    # the apex), so several hostnames on one load balancer show.
    served: dict[tuple, tuple[set, set]] = {}
    for record in g.of_type("aws_route53_record").values():
        key = (node(record.get("zone_id")), node(record.get("alias")))
        types, names = served.setdefault(key, (set(), set()))
        types.add(record.get("type", ""))
        names.add(record.get("name", ""))
    for (zone, target), (types, names) in served.items():
        g.edge(zone, target, f"{', '.join(sorted(types))}: {', '.join(sorted(names))}")
    _detection_edges(g, by_ref, node)
    internet = next((n for n, (group, _, _) in g.nodes.items() if n == "internet_users"), None)
    for (type_, _), nat in by_ref.items():
        if type_ == "aws_nat_gateway" or (type_ == "aws_instance" and "NAT" in g.nodes[nat][1]):
            g.edge(nat, internet, "private tier egress")
    aliases = g.of_type("aws_lambda_alias")

    def invoked(ref_value) -> str | None:
        """A function, also where it is invoked through an alias (provisioned concurrency)."""
        alias = next((i for t, i in g.refs(ref_value) if t == "aws_lambda_alias"), None)
        return node(aliases[alias].get("function_name")) if alias else node(ref_value)

    for integration in g.of_type("aws_apigatewayv2_integration").values():
        g.edge(node(integration.get("api_id")), invoked(integration.get("integration_uri")),
               "proxy")
    for mapping in g.of_type("aws_lambda_event_source_mapping").values():
        g.edge(node(mapping.get("event_source_arn")), invoked(mapping.get("function_name")),
               "triggers")
    for schedule in g.of_type("aws_scheduler_schedule").values():
        target = schedule.get("target", {})
        g.edge(g.node("aws_scheduler", "scheduler", "regional", "EventBridge Scheduler"),
               node(target.get("arn")), schedule.get("schedule_expression", ""))
    for lid, q in g.of_type("aws_sqs_queue").items():
        g.edge(by_ref[("aws_sqs_queue", lid)], node(q.get("redrive_policy")), "dead letters")
    for lid, copy in g.of_type("aws_db_instance_automated_backups_replication").items():
        g.edge(node(copy.get("source_db_instance_arn")),
               by_ref[("aws_db_instance_automated_backups_replication", lid)],
               "snapshots and transaction logs")
    # What a service's task role (a function's role) may use: the queue it drains, queues it
    # sends to, the media bucket (read from the role's policy statements, by their Sid).
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
    for lid, fn in g.of_type("aws_lambda_function").items():
        for _, role in g.refs(fn.get("role")):
            for statement in policies.get(role, []):
                for target in g.refs(statement.get("Resource")):
                    if statement.get("Sid") in grants and target in by_ref and \
                            statement["Sid"] != "ConsumeItsQueue":  # drawn as "triggers"
                        g.edge(by_ref[("aws_lambda_function", lid)], by_ref[target],
                               grants[statement["Sid"]])
        # The PagerDuty relay (lib/observability/pagerduty.py): the role reads the routing key.
        if any(s.get("Sid") == "ReadTheRoutingKey" for _, role in g.refs(fn.get("role"))
               for s in policies.get(role, [])):
            g.edge(by_ref[("aws_lambda_function", lid)],
                   g.node("aws_pagerduty", "pagerduty", "outside", "PagerDuty", "circle"),
                   "Events API v2")
    _topic_subscribers(g, node)
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


def _topic_subscribers(g: _Graph, node) -> None:
    """An environment's topics to the people behind them: a function subscribed to a topic, and
    a Slack channel that AWS Chatbot posts a topic's messages to."""
    for sub in g.of_type("aws_sns_topic_subscription").values():
        if sub.get("protocol") == "lambda":
            g.edge(node(sub.get("topic_arn")), node(sub.get("endpoint")), "messages")
    for lid, chat in g.of_type("aws_chatbot_slack_channel_configuration").items():
        slack = g.node("aws_slack", lid, "outside",
                       f"Slack {chat.get('slack_channel_id', '')}<br/>via AWS Chatbot", "circle")
        for topic in chat.get("sns_topic_arns", []):
            g.edge(node(topic), slack, "HTTPS")


_SHAPES = {"box": ('["', '"]'), "cylinder": ('[("', '")]'), "circle": ('(("', '"))'),
           "queue": ('[["', '"]]')}
_GROUPS = [("edge", "Edge"), ("vpc", None), ("regional", "Regional services"),
           ("other_region", "Second Region"), ("account", "Account security and detection")]
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
    linked = {n for edge in g.edges for n in edge[:2]}
    for node_id, (group, _, _) in g.nodes.items():
        if group == "outside" and node_id in linked:
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
    """docs/architecture.md: one diagram per stack (the environments, then the bootstrap
    stack), in the order given."""
    out = ["# Architecture", "",
           "Generated by `make diagram` from the synthesized stacks (config/*.toml); the test "
           "suite regenerates it and fails when this file is stale. Do not edit by hand.", "",
           "Boxes are what Terraform creates; arrows are the paths traffic is allowed to take "
           "(listener rules with their paths, security-group rules with their ports, CloudFront "
           "origins, API integrations, queue triggers). A topic says how many alarms notify it; "
           "the bootstrap stack's diagram is the account's detection: the trail, its log group "
           "with the CIS metric filters, GuardDuty, the EventBridge rules and the alerts topic.",
           ""]
    for name, doc in stacks.items():
        out += [f"## {name}", "", "```mermaid", mermaid(doc), "```", ""]
    return "\n".join(out)
