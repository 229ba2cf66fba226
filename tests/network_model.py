"""The synthesized Terraform JSON of one stack as a network: subnets and their route tables, network
ACLs and security groups evaluated the way AWS evaluates them, and the *workloads* found in it
(Lambda functions, ECS services and scheduled tasks, ECS container instances, App Runner VPC
connectors) with what each one *needs*: the AWS APIs and data stores it is told about or needs to
start. Read by the reachability contracts (tests/reachability.py); builds nothing.
"""

import json
import re
from dataclasses import dataclass
from functools import cached_property
from ipaddress import ip_network

ANYWHERE = "0.0.0.0/0"
REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")

# What a value tells a workload about: data stores by the address attributes a client connects
# to, AWS APIs by the resource type a value names (or, for a literal, its ARN or variable name).
STORE_ADDRESSES = {
    "aws_db_instance": ("address", "endpoint"),
    "aws_rds_cluster": ("endpoint", "reader_endpoint"),
    "aws_elasticache_replication_group": ("primary_endpoint_address", "reader_endpoint_address",
                                          "configuration_endpoint_address"),
    "aws_elasticache_serverless_cache": ("endpoint", "reader_endpoint"),
    "aws_db_proxy": ("endpoint",),
}
# A serverless cache's clients use 6379 ("Valkey and Redis OSS configuration and limits").
# An RDS Proxy listens on its engine family's port ("Connecting to a database through RDS Proxy").
STORE_PORTS = {"postgres": 5432, "mysql": 3306, "redis": 6379, "valkey": 6379,
               "aurora-postgresql": 5432, "POSTGRESQL": 5432}
# must name a data store of the stack
STORE_VARIABLES = ("DATABASE_HOST", "DATABASE_READER_HOST", "REDIS_HOST")
API_OF_TYPE = {"aws_sqs_queue": "sqs", "aws_s3_bucket": "s3", "aws_sns_topic": "sns",
               "aws_secretsmanager_secret": "secretsmanager", "aws_dynamodb_table": "dynamodb",
               "aws_ssm_parameter": "ssm", "aws_kms_key": "kms"}
API_OF_NAME = [(re.compile(r"(^|_)SECRET_ARN$"), "secretsmanager"),
               (re.compile(r"(^|_)QUEUE_URL$"), "sqs"), (re.compile(r"(^|_)BUCKET$"), "s3"),
               (re.compile(r"(^|_)TOPIC_ARN$"), "sns")]
ARN_SERVICE = re.compile(r"arn:aws[a-z-]*:(secretsmanager|sqs|sns|s3|dynamodb|ssm|kms):")
PRIVATE_ECR = re.compile(r"^(\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/|"
                         r"\$\{aws_ecr_repository\.)")
# An ECR pull is three APIs: ecr.api (auth, manifest), ecr.dkr (registry), S3 (layers).
ECR_PULL = ("ecr.api", "ecr.dkr", "s3")
# The ECS container agent on an instance talks to these ("Amazon ECS interface VPC endpoints").
ECS_AGENT = ("ecs", "ecs-agent", "ecs-telemetry")


@dataclass(frozen=True)
class Need:
    what: str  # an endpoint service name ("secretsmanager", "ecr.api", ...), "internet" or "store"
    why: str
    store: str | None = None  # the data store's resource key


@dataclass
class Workload:
    name: str
    kind: str  # the kind of client it is (tests/reachability.py RETURN_PORTS)
    subnets: list[str]  # resource keys
    groups: list[str]
    needs: list[Need]


def key_of(value) -> str | None:
    """`type.name` of a whole-string reference such as `${aws_subnet.x.id}`."""
    match = REFERENCE.fullmatch(value) if isinstance(value, str) else None
    return f"{match[1]}.{match[2]}" if match else None


def covers(outer: str, inner: str) -> bool:
    a, b = ip_network(outer), ip_network(inner)
    return a.version == b.version and b.subnet_of(a)


def overlaps(a: str, b: str) -> bool:
    x, y = ip_network(a), ip_network(b)
    return x.version == y.version and x.overlaps(y)


class Stack:
    """One synthesized document, indexed by `type.name`."""

    def __init__(self, doc: dict):
        self.resources = {f"{t}.{n}": b for t, bodies in doc.get("resource", {}).items()
                          for n, b in bodies.items()}

    def of(self, type_: str) -> dict[str, dict]:
        return {k: b for k, b in self.resources.items() if k.split(".")[0] == type_}

    def name(self, key: str) -> str:
        path = self.resources.get(key, {}).get("//", {}).get("metadata", {}).get("path")
        return path.split("/", 1)[1] if path else key

    def body(self, value) -> dict:
        return self.resources.get(key_of(value) or "", {})

    # --- routing -----------------------------------------------------------------------------

    def route_table(self, subnet: str) -> str | None:
        for assoc in self.of("aws_route_table_association").values():
            if key_of(assoc.get("subnet_id")) == subnet:
                return key_of(assoc["route_table_id"])
        return None  # the VPC's main table: the local route only

    def default_route(self, table: str | None) -> dict | None:
        routes = [r for r in self.of("aws_route").values()
                  if key_of(r.get("route_table_id")) == table]
        routes += self.resources.get(table or "", {}).get("route") or []
        return next((r for r in routes if r.get("destination_cidr_block") == ANYWHERE
                     or r.get("cidr_block") == ANYWHERE), None)

    def gateway_endpoint(self, table: str | None, service: str) -> str | None:
        return next((k for k, e in self.of("aws_vpc_endpoint").items()
                     if e.get("vpc_endpoint_type") == "Gateway"
                     and e["service_name"].endswith(f".{service}")
                     and table in [key_of(t) for t in e.get("route_table_ids", [])]), None)

    def interface_endpoint(self, vpc: str | None, service: str) -> str | None:
        return next((k for k, e in self.of("aws_vpc_endpoint").items()
                     if e.get("vpc_endpoint_type") == "Interface"
                     and re.fullmatch(rf"com\.amazonaws\.[a-z0-9-]+\.{re.escape(service)}",
                                      e["service_name"]) and key_of(e.get("vpc_id")) == vpc),
                    None)

    def cidr(self, subnet: str) -> str:
        return self.resources[subnet]["cidr_block"]

    # --- network ACLs ------------------------------------------------------------------------

    def nacl_rules(self, subnet: str, egress: bool) -> list[dict] | None:
        """The ACL rules a subnet's traffic meets (None: AWS's default ACL, which allows all)."""
        direction = "egress" if egress else "ingress"
        for k, acl in self.of("aws_network_acl").items():
            if subnet in [key_of(s) for s in acl.get("subnet_ids", [])] or any(
                    key_of(a.get("subnet_id")) == subnet and key_of(a["network_acl_id"]) == k
                    for a in self.of("aws_network_acl_association").values()):
                rules = [dict(r) for r in acl.get(direction) or []]
                rules += [dict(r, rule_no=r["rule_number"], action=r["rule_action"])
                          for r in self.of("aws_network_acl_rule").values()
                          if key_of(r["network_acl_id"]) == k and bool(r.get("egress")) == egress]
                return rules
        default = next(iter(self.of("aws_default_network_acl").values()), None)
        return None if default is None else [dict(r) for r in default.get(direction) or []]

    def nacl_passes(self, subnet: str, egress: bool, peer: str, ports: tuple[int, int]) -> bool:
        """Whether the subnet's ACL passes TCP to/from every address of `peer` on every port of
        `ports` (destination ports, as ACLs match): rules in order, first match wins."""
        rules = self.nacl_rules(subnet, egress)
        if rules is None:
            return True
        remaining = [ports]
        for rule in sorted(rules, key=lambda r: r["rule_no"]):
            cidr = rule.get("cidr_block") or rule.get("ipv6_cidr_block")
            if str(rule["protocol"]) not in ("-1", "all", "tcp", "6") or not overlaps(cidr, peer):
                continue
            low, high = (0, 65535) if str(rule["protocol"]) in ("-1", "all") else \
                (rule["from_port"], rule["to_port"])
            hit = [(a, b) for a, b in remaining if a <= high and low <= b]
            if rule["action"] == "deny" and hit:
                return False
            if rule["action"] == "allow" and covers(cidr, peer):
                remaining = [part for a, b in remaining for part in
                             ((a, min(b, low - 1)), (max(a, high + 1), b)) if part[0] <= part[1]]
            if not remaining:
                return True
        return False

    # --- security groups ---------------------------------------------------------------------

    def sg_rules(self, group: str, egress: bool) -> list[dict]:
        """Normalized rules: protocol, ports, cidrs, groups (keys), prefix lists."""
        kind = "egress" if egress else "ingress"
        found = []
        for r in self.of(f"aws_vpc_security_group_{kind}_rule").values():
            if key_of(r.get("security_group_id")) == group:
                found.append(dict(protocol=r["ip_protocol"], ports=(r.get("from_port", 0),
                                  r.get("to_port", 65535)), cidrs=[r[c] for c in
                                  ("cidr_ipv4", "cidr_ipv6") if r.get(c)],
                                  groups=[key_of(r.get("referenced_security_group_id"))],
                                  prefix_lists=[r["prefix_list_id"]] if r.get("prefix_list_id")
                                  else []))
        for block in self.resources.get(group, {}).get(kind) or []:
            found.append(dict(protocol=block["protocol"], ports=(block["from_port"],
                              block["to_port"]), cidrs=block.get("cidr_blocks") or [],
                              groups=[key_of(g) for g in block.get("security_groups") or []]
                              + ([group] if block.get("self") else []),
                              prefix_lists=block.get("prefix_list_ids") or []))
        for r in self.of("aws_security_group_rule").values():
            if key_of(r.get("security_group_id")) == group and r["type"] == kind:
                found.append(dict(protocol=r["protocol"], ports=(r["from_port"], r["to_port"]),
                                  cidrs=r.get("cidr_blocks") or [],
                                  groups=[key_of(r.get("source_security_group_id"))]
                                  + ([group] if r.get("self") else []),
                                  prefix_lists=r.get("prefix_list_ids") or []))
        return found

    def sg_allows(self, groups: list[str], egress: bool, port: int, cidrs: list[str] = (),
                  peer_groups: list[str] = (), prefix_list: bool = False) -> bool:
        """Some rule of `groups` passes TCP `port` for every CIDR in `cidrs` (or names one of
        `peer_groups`, or any prefix list when `prefix_list`)."""
        rules = [r for g in groups for r in self.sg_rules(g, egress)
                 if str(r["protocol"]) in ("-1", "tcp", "6")
                 and (str(r["protocol"]) == "-1" or r["ports"][0] <= port <= r["ports"][1])]
        if any(set(r["groups"]) & set(peer_groups) for r in rules):
            return True
        if prefix_list and any(r["prefix_lists"] for r in rules):
            return True
        return bool(cidrs) and all(any(covers(c, cidr) for r in rules for c in r["cidrs"])
                                   for cidr in cidrs)

    # --- workloads ---------------------------------------------------------------------------

    def needs_of(self, variables: dict[str, str]) -> list[Need]:
        """What an environment tells a workload about."""
        found = []
        for name, value in sorted(variables.items()):
            value = str(value)
            before = len(found)
            for type_, res, attrs in REFERENCE.findall(value):
                attr = attrs.lstrip(".").split(".")[0].split("[")[0]
                if attr in STORE_ADDRESSES.get(type_, ()):
                    found.append(Need("store", name, store=f"{type_}.{res}"))
                elif attr == "master_user_secret":  # the RDS-managed secret
                    found.append(Need("secretsmanager", name))
                elif type_ in API_OF_TYPE:
                    found.append(Need(API_OF_TYPE[type_], name))
            if len(found) == before and (arn := ARN_SERVICE.search(value)):
                found.append(Need(arn[1], name))
            if len(found) == before:
                found += [Need(api, name) for pattern, api in API_OF_NAME if pattern.search(name)]
            if name in STORE_VARIABLES and not any(n.store for n in found[before:]):
                found.append(Need("store", name))  # names no store: reported as unreachable
        return found

    def task_needs(self, task: dict) -> tuple[list[Need], list[Need]]:
        """(what the containers are told about, what ECS needs to start them)."""
        app, start = [], []
        for c in json.loads(task["container_definitions"]):
            app += self.needs_of({e["name"]: e["value"] for e in c.get("environment") or []})
            image = c["image"]
            start += [Need(api, f"{c['name']} image") for api in ECR_PULL] \
                if PRIVATE_ECR.match(image) else [Need("internet", f"{c['name']} image {image}")]
            if (c.get("logConfiguration") or {}).get("logDriver") == "awslogs":
                start.append(Need("logs", f"{c['name']} awslogs"))
            start += [Need(n.what, f"{c['name']} secret {n.why}") for s in c.get("secrets") or []
                      for n in self.needs_of({s["name"]: s["valueFrom"]})]
        return app, start

    def task_definition(self, value: str) -> dict:
        """By reference, or by family (a schedule names `.../task-definition/<family>`)."""
        found = self.body(value)
        return found or next((t for t in self.of("aws_ecs_task_definition").values()
                              if value.endswith(f"task-definition/{t['family']}")), {})

    @cached_property
    def workloads(self) -> list[Workload]:
        found: list[Workload] = []
        for k, fn in self.of("aws_lambda_function").items():
            vpc = fn.get("vpc_config") or {}
            if vpc.get("subnet_ids"):
                variables = (fn.get("environment") or {}).get("variables") or {}
                found.append(Workload(self.name(k), "lambda", self.keys(vpc["subnet_ids"]),
                                      self.keys(vpc.get("security_group_ids")),
                                      self.needs_of(variables)))
        instances = self._container_instances()
        tasks = [(k, s["task_definition"], s["network_configuration"],
                  s.get("capacity_provider_strategy"), s.get("launch_type"))
                 for k, s in self.of("aws_ecs_service").items() if s.get("network_configuration")]
        tasks += [(k, e["task_definition_arn"], e["network_configuration"],
                   e.get("capacity_provider_strategy"), e.get("launch_type"))
                  for k, s in self.of("aws_scheduler_schedule").items()
                  if (e := s["target"].get("ecs_parameters")) and e.get("network_configuration")]
        for k, task_ref, net, strategy, launch_type in tasks:
            task = self.task_definition(task_ref)
            if not task:
                raise ValueError(f"{self.name(k)}: task definition {task_ref} is not in the stack")
            app, start = self.task_needs(task)
            providers = [key_of(p["capacity_provider"]) for p in strategy or []]
            on_instances = [instances[p] for p in providers if p in instances]
            if launch_type == "EC2" and not on_instances:
                on_instances = list(instances.values())
            for instance in on_instances:  # the agent on the instance pulls, logs, injects
                instance.needs += [n for n in start if n not in instance.needs]
            found.append(Workload(self.name(k), "amazon_linux", self.keys(net["subnets"]),
                                  self.keys(net.get("security_groups")),
                                  app + ([] if on_instances else start)))
        found += instances.values()
        for k, runner in self.of("aws_apprunner_service").items():
            egress = (runner.get("network_configuration") or {}).get("egress_configuration") or {}
            connector = self.body(egress.get("vpc_connector_arn"))
            if egress.get("egress_type") == "VPC" and connector:
                image = runner["source_configuration"]["image_repository"]["image_configuration"]
                # App Runner pulls the image and injects `runtime_environment_secrets` itself;
                # only the application's own traffic leaves through the connector.
                found.append(Workload(self.name(k), "apprunner",
                                      self.keys(connector["subnets"]),
                                      self.keys(connector.get("security_groups")),
                                      self.needs_of(image.get("runtime_environment_variables")
                                                    or {})))
        return found

    def _container_instances(self) -> dict[str, Workload]:
        """{capacity provider key: its Auto Scaling group's instances}."""
        found = {}
        for k, provider in self.of("aws_ecs_capacity_provider").items():
            group = self.body(provider["auto_scaling_group_provider"]["auto_scaling_group_arn"])
            template = self.body((group.get("launch_template") or {}).get("id"))
            groups = template.get("vpc_security_group_ids") or [
                g for ni in template.get("network_interfaces") or [] for g in ni["security_groups"]]
            found[k] = Workload(self.name(key_of(provider["auto_scaling_group_provider"]
                                                 ["auto_scaling_group_arn"]) or k),
                                "amazon_linux", self.keys(group.get("vpc_zone_identifier")),
                                self.keys(groups), [Need(api, "ECS agent") for api in ECS_AGENT])
        return found

    @staticmethod
    def keys(values) -> list[str]:
        return [key_of(v) or str(v) for v in values or []]
