"""Reachability contracts over synthesized Terraform JSON: what AWS itself enforces at run time and
neither `terraform validate`, checkov nor moto sees.

A *workload* is anything that runs code in the VPC: a Lambda function, an ECS service or a
scheduled task (its task ENI), an ECS container instance, an App Runner VPC connector. It is found
from the JSON (subnets, security groups, environment, task definition), never from a list here,
so a new workload is checked without a new test. Its *needs* are what it is told about or what
starts it: an AWS API (`*_SECRET_ARN`, `*_QUEUE_URL`, `*_BUCKET`, ECS `secrets`, the execution
role's ECR pulls and awslogs) or a data store (`DATABASE_HOST`, `REDIS_HOST`). Each need is
followed the way AWS routes it from every subnet the workload runs in (its tier comes from its
subnet ids, the route table from the associations): an interface endpoint with private DNS wins,
then a gateway endpoint in the route table, then the default route to a NAT device; each hop's
security groups and network ACLs, both directions, with the client's ephemeral ports.

`RULES` are the contracts, each citing the AWS documentation page it states; `checks(doc)` runs
them and says what each one looked at, so a rule that checks nothing is visible too.
"""

from dataclasses import dataclass

from network_model import ANYWHERE, STORE_PORTS, Need, Stack, Workload, key_of

HTTPS = 443

# "Ephemeral ports" (Amazon VPC User Guide, "Control subnet traffic with network access control
# lists"): the client picks the port its replies come back to. Amazon Linux (Fargate tasks, ECS
# container instances) 32768-61000; Lambda functions, NAT gateways and Elastic Load Balancing
# 1024-65535. Not listed there, so assumed as wide as Lambda's: App Runner's VPC connector
# (Hyperplane ENIs, as Lambda's) and a NAT instance (it forwards its clients' own ports).
RETURN_PORTS = {"lambda": (1024, 65535), "amazon_linux": (32768, 61000),
                "nat_gateway": (1024, 65535), "elb": (1024, 65535), "apprunner": (1024, 65535),
                "nat_instance": (1024, 65535)}


@dataclass(frozen=True)
class Rule:
    name: str
    doc: str  # the AWS documentation page (title) the rule states
    says: str


RULES = [
    Rule("api-route", "Networking and VPC configurations (AWS Lambda Operator Guide); Migrating to "
         "Linux platform version 1.4.0 on Amazon ECS; Gateway endpoints (AWS PrivateLink)",
         "every AWS API a workload needs has a way out of each of its subnets: an interface "
         "endpoint with private DNS, a gateway endpoint in its route table, or a default route "
         "to a NAT gateway or instance that itself routes to an internet gateway"),
    Rule("api-dns", "CreateVpcEndpoint (Amazon EC2 API Reference): PrivateDnsEnabled",
         "an interface endpoint a workload relies on answers the service's default name: "
         "private DNS on, and the VPC's enableDnsSupport and enableDnsHostnames true"),
    Rule("api-security-groups", "Amazon ECR interface VPC endpoints (AWS PrivateLink); Migrating "
         "to Linux platform version 1.4.0 on Amazon ECS",
         "on that way out the workload's groups allow HTTPS out, an interface endpoint's group "
         "admits HTTPS from the workload, a NAT instance's group admits and forwards it"),
    Rule("api-nacl", "Ephemeral ports (Amazon VPC User Guide)",
         "every network ACL on that way out passes the request on 443 and the reply on the "
         "client's ephemeral ports, in both subnets of each hop"),
    Rule("store-security-groups", "Controlling access with security groups (Amazon RDS and Aurora "
         "User Guides); Access Patterns for Accessing an ElastiCache Cache in an Amazon VPC",
         "a data store a workload is told about admits one of the workload's groups on its port, "
         "and the workload's groups allow that port out to it"),
    Rule("store-nacl", "Ephemeral ports (Amazon VPC User Guide)",
         "the network ACLs between the workload's tier and the store's pass the request on the "
         "store's port and the reply on the client's ephemeral ports, both directions"),
    Rule("nacl-return-ports", "Ephemeral ports (Amazon VPC User Guide)",
         "every network ACL admits the return ports of every kind of client in its subnets "
         "(functions, tasks, connectors, NAT devices, load balancers) from everywhere its route "
         "table lets them connect to"),
    Rule("load-balancer-targets", "Security groups for your Application Load Balancer; Ephemeral "
         "ports (Amazon VPC User Guide)",
         "a load balancer reaches each service it forwards to on the container port (the health "
         "check's too, the traffic port): its group allows it out, the service's group admits "
         "it, the network ACLs pass it both ways"),
]


@dataclass(frozen=True)
class Check:
    rule: str
    subject: str  # what was looked at
    problem: str | None = None


# --- the contracts ---------------------------------------------------------------------------

def ports_text(ports: tuple[int, int]) -> str:
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"


def acl(stack: Stack, subnet: str, egress: bool, peer: str, ports: tuple[int, int],
        what: str) -> list[str]:
    """[problem] when the subnet's network ACL stops TCP `ports` (destination) to/from `peer`."""
    if stack.nacl_passes(subnet, egress, peer, ports):
        return []
    return [f"{stack.name(subnet)}'s network ACL stops {what} {'to' if egress else 'from'} "
            f"{peer} on {ports_text(ports)}"]


def nacl_flow(stack: Stack, client: str, client_peer: str, server: str | None, server_peer: str,
              port: int, replies: tuple[int, int]) -> list[str]:
    """Problems of a TCP connection from subnet `client` (seen as `client_peer` by the server) to
    `server_peer` (in subnet `server`, or outside the VPC when None): the request out and in,
    the reply out and back in. Traffic inside one subnet meets no ACL."""
    if client == server:
        return []
    found = acl(stack, client, True, server_peer, (port, port), "the request out")
    if server is not None:
        found += acl(stack, server, False, client_peer, (port, port), "the request in")
        found += acl(stack, server, True, client_peer, replies, "the reply out")
    return found + acl(stack, client, False, server_peer, replies, "the reply in")


def _api(stack: Stack, w: Workload, need: Need, subnet: str) -> list[Check]:
    subject = f"{w.name} -> {need.what} ({need.why}) from {stack.name(subnet)}"
    vpc = stack.resources[subnet].get("vpc_id")
    own, replies = stack.cidr(subnet), RETURN_PORTS[w.kind]
    endpoint = None if need.what == "internet" else stack.interface_endpoint(key_of(vpc), need.what)
    if endpoint and stack.resources[endpoint].get("private_dns_enabled"):
        e = stack.resources[endpoint]
        vpc_body = stack.body(vpc)
        dns = vpc_body.get("enable_dns_support", True) and vpc_body.get("enable_dns_hostnames")
        groups = Stack.keys(e.get("security_group_ids")) or ["the VPC's default group"]
        subnets = Stack.keys(e.get("subnet_ids"))
        sg = []
        if not stack.sg_allows(groups, False, HTTPS, [own], w.groups):
            sg.append(f"{stack.name(endpoint)}'s groups do not admit HTTPS from {own}")
        if not stack.sg_allows(w.groups, True, HTTPS, [stack.cidr(s) for s in subnets], groups):
            sg.append(f"the workload's groups do not allow HTTPS out to {stack.name(endpoint)}")
        path = [p for s in subnets for p in nacl_flow(stack, subnet, own, s, stack.cidr(s),
                                                      HTTPS, replies)]
        return [Check("api-route", subject),
                Check("api-dns", subject, None if dns else
                      f"{stack.name(key_of(vpc))} lacks enable_dns_support/enable_dns_hostnames: "
                      f"{stack.name(endpoint)}'s private DNS name does not resolve"),
                Check("api-security-groups", subject, "; ".join(sg) or None),
                Check("api-nacl", subject, "; ".join(path) or None)]
    table = stack.route_table(subnet)
    gateway = None if need.what == "internet" else stack.gateway_endpoint(table, need.what)
    if gateway:  # S3 and DynamoDB addresses are public: the ACL sees 0.0.0.0/0
        return [Check("api-route", subject),
                Check("api-security-groups", subject, None if stack.sg_allows(
                    w.groups, True, HTTPS, [ANYWHERE], prefix_list=True) else
                    "the workload's groups do not allow HTTPS out to the gateway endpoint"),
                Check("api-nacl", subject, "; ".join(nacl_flow(
                    stack, subnet, own, None, ANYWHERE, HTTPS, replies)) or None)]
    route = stack.default_route(table)
    if route is None:  # an endpoint with private DNS off is no way: the default name is public
        return [Check("api-route", subject, f"no way out of {stack.name(subnet)}: its route "
                      f"table has no default route (NAT), no {need.what} gateway endpoint, and "
                      f"the VPC no {need.what} interface endpoint with private DNS")]
    nat, problem = _nat(stack, route)
    if nat is None:
        return [Check("api-route", subject, problem)]
    nat_subnet, nat_kind, nat_groups = nat
    sg = [] if stack.sg_allows(w.groups, True, HTTPS, [ANYWHERE]) else \
        ["the workload's groups do not allow HTTPS out to 0.0.0.0/0"]
    if nat_groups is not None and not (stack.sg_allows(nat_groups, False, HTTPS, [own], w.groups)
                                       and stack.sg_allows(nat_groups, True, HTTPS, [ANYWHERE])):
        sg.append(f"the NAT instance's groups do not pass HTTPS from {own} to 0.0.0.0/0")
    # Out of the workload's subnet to the internet and back (the NAT keeps the far address);
    # through the NAT's subnet: in from the workload, out to the internet on the NAT's own ports.
    path = nacl_flow(stack, subnet, own, None, ANYWHERE, HTTPS, replies)
    if nat_subnet != subnet:
        path += acl(stack, nat_subnet, False, own, (HTTPS, HTTPS), "the request in")
        path += acl(stack, nat_subnet, True, own, replies, "the reply out")
        path += nacl_flow(stack, nat_subnet, stack.cidr(nat_subnet), None, ANYWHERE, HTTPS,
                          RETURN_PORTS[nat_kind])
    return [Check("api-route", subject),
            Check("api-security-groups", subject, "; ".join(sg) or None),
            Check("api-nacl", subject, "; ".join(path) or None)]


def _nat(stack: Stack, route: dict) -> tuple[tuple | None, str | None]:
    """((NAT subnet, client kind, its security groups or None), problem) of a default route."""
    if route.get("nat_gateway_id"):
        gateway = stack.body(route["nat_gateway_id"])
        if not gateway or gateway.get("connectivity_type") == "private":
            return None, "the default route's NAT gateway is not a public one of this stack"
        subnet, kind, groups = key_of(gateway["subnet_id"]), "nat_gateway", None
    elif route.get("network_interface_id") or route.get("instance_id"):
        ref = route.get("network_interface_id") or route.get("instance_id")
        instance = stack.body(ref)
        eips = [e for e in stack.of("aws_eip").values()
                if key_of(e.get("instance")) == key_of(ref)]
        if not instance:
            return None, "the default route's network interface is no instance of this stack"
        if instance.get("source_dest_check") is not False:
            return None, "the NAT instance keeps source/destination checks on: it drops traffic"
        if not eips and not instance.get("associate_public_ip_address"):
            return None, "the NAT instance has no public IP"
        subnet, kind = key_of(instance["subnet_id"]), "nat_instance"
        groups = Stack.keys(instance.get("vpc_security_group_ids"))
    elif (key_of(route.get("gateway_id")) or "").startswith("aws_internet_gateway."):
        return None, "the default route goes straight to an internet gateway, and a workload " \
                     "there has no public IP"
    else:
        return None, f"the default route's target is not a NAT device: {route}"
    upstream = stack.default_route(stack.route_table(subnet))
    if not (key_of((upstream or {}).get("gateway_id")) or "").startswith("aws_internet_gateway."):
        return None, f"the NAT's subnet {stack.name(subnet)} has no route to an internet gateway"
    return (subnet, kind, groups), None


def _store(stack: Stack, w: Workload, need: Need, subnet: str) -> list[Check]:
    subject = f"{w.name} -> {need.why} from {stack.name(subnet)}"
    store = stack.resources.get(need.store or "")
    if store is None:
        return [Check("store-security-groups", subject,
                      f"{need.why} names no data store of this stack")]
    # A same-Region read replica runs its source's engine in its source's DB subnet group
    # (Amazon RDS User Guide, "Creating a read replica").
    source = stack.body(store.get("replicate_source_db"))
    port = store.get("port") or STORE_PORTS[store.get("engine") or store.get("engine_family")
                                            or source["engine"]]
    groups = Stack.keys(store.get("vpc_security_group_ids") or store.get("security_group_ids"))
    # A serverless cache and an RDS Proxy name their subnets themselves; the others through a
    # subnet group.
    placement = {"subnet_ids": store["vpc_subnet_ids"]} if "vpc_subnet_ids" in store \
        else store if "subnet_ids" in store else stack.body(
        store.get("db_subnet_group_name") or source.get("db_subnet_group_name")
        or store.get("subnet_group_name"))
    subnets = Stack.keys(placement.get("subnet_ids"))
    own = stack.cidr(subnet)
    sg = []
    if not stack.sg_allows(groups, False, port, [own], w.groups):
        sg.append(f"{stack.name(need.store)}'s groups do not admit {port} from the workload")
    if not stack.sg_allows(w.groups, True, port, [stack.cidr(s) for s in subnets], groups):
        sg.append(f"the workload's groups do not allow {port} out to {stack.name(need.store)}")
    path = [p for s in subnets for p in nacl_flow(stack, subnet, own, s, stack.cidr(s), port,
                                                  RETURN_PORTS[w.kind])]
    return [Check("store-security-groups", subject, "; ".join(sg) or None),
            Check("store-nacl", subject, "; ".join(path) or None)]


def _return_ports(stack: Stack) -> list[Check]:
    clients: dict[str, set[str]] = {}  # subnet -> client kinds in it
    for w in stack.workloads:
        for s in w.subnets:
            clients.setdefault(s, set()).add(w.kind)
    for gateway in stack.of("aws_nat_gateway").values():
        clients.setdefault(key_of(gateway["subnet_id"]), set()).add("nat_gateway")
    for instance in stack.of("aws_instance").values():
        if instance.get("source_dest_check") is False:
            clients.setdefault(key_of(instance["subnet_id"]), set()).add("nat_instance")
    for lb in stack.of("aws_lb").values():
        for s in lb.get("subnets") or []:
            clients.setdefault(key_of(s), set()).add("elb")
    found = []
    for subnet, kinds in sorted(clients.items()):
        if subnet not in stack.resources:
            continue  # reported by the workload's own checks
        table = stack.route_table(subnet)
        peers = [stack.body(stack.resources[subnet]["vpc_id"])["cidr_block"]]
        if stack.default_route(table) or any(
                table in Stack.keys(e.get("route_table_ids"))
                for e in stack.of("aws_vpc_endpoint").values()):
            peers.append(ANYWHERE)
        for kind in sorted(kinds):
            shut = [peer for peer in peers
                    if not stack.nacl_passes(subnet, False, peer, RETURN_PORTS[kind])]
            found.append(Check("nacl-return-ports", f"{kind} in {stack.name(subnet)}", None
                               if not shut else f"the network ACL does not admit {kind} replies "
                               f"on {ports_text(RETURN_PORTS[kind])} from {', '.join(shut)}"))
    return found


def _load_balancers(stack: Stack) -> list[Check]:
    forwards: dict[str, set[str]] = {}  # target group -> load balancers that forward to it
    listeners = stack.of("aws_lb_listener")
    for k, listener in listeners.items():
        for action in listener.get("default_action") or []:
            forwards.setdefault(key_of(action.get("target_group_arn")), set()).add(
                key_of(listener["load_balancer_arn"]))
    for rule in stack.of("aws_lb_listener_rule").values():
        listener = listeners.get(key_of(rule["listener_arn"]), {})
        for action in rule.get("action") or []:
            forwards.setdefault(key_of(action.get("target_group_arn")), set()).add(
                key_of(listener.get("load_balancer_arn")))
    found = []
    for k, service in stack.of("aws_ecs_service").items():
        net = service.get("network_configuration") or {}
        for target in service.get("load_balancer") or []:
            port = target["container_port"]
            health = (stack.body(target["target_group_arn"]).get("health_check") or {}).get("port")
            if health not in (None, "traffic-port", str(port)):
                raise ValueError(f"{stack.name(k)}: a health check port of its own ({health}) "
                                 "is not checked yet")
            for lb_key in sorted(forwards.get(key_of(target["target_group_arn"]), ())):
                lb = stack.resources[lb_key]
                lb_groups, groups = Stack.keys(lb["security_groups"]), Stack.keys(
                    net.get("security_groups"))
                lb_subnets, subnets = Stack.keys(lb["subnets"]), Stack.keys(net["subnets"])
                problems = []
                if not stack.sg_allows(lb_groups, True, port, [stack.cidr(s) for s in subnets],
                                       groups):
                    problems.append(f"the load balancer's groups do not allow {port} out")
                if not stack.sg_allows(groups, False, port, [stack.cidr(s) for s in lb_subnets],
                                       lb_groups):
                    problems.append(f"the service's groups do not admit {port} from it")
                problems += [p for a in lb_subnets for b in subnets for p in nacl_flow(
                    stack, a, stack.cidr(a), b, stack.cidr(b), port, RETURN_PORTS["elb"])]
                found.append(Check("load-balancer-targets", f"{stack.name(lb_key)} -> "
                                   f"{stack.name(k)}:{port}", "; ".join(problems) or None))
    return found


def checks(doc: dict) -> list[Check]:
    """Every contract of RULES over one synthesized document."""
    stack = Stack(doc)
    found: list[Check] = []
    for w in stack.workloads:
        needs: dict[tuple, Need] = {}
        for n in w.needs:  # one check per API or store, with every reason for it
            known = needs.get((n.what, n.store))
            needs[(n.what, n.store)] = Need(n.what, f"{known.why}, {n.why}" if known else n.why,
                                            n.store)
        for need in needs.values():
            for subnet in w.subnets:
                if subnet not in stack.resources:
                    found.append(Check("api-route", f"{w.name} in {subnet}",
                                       f"subnet {subnet} is not in this stack"))
                elif need.what == "store":
                    found += _store(stack, w, need, subnet)
                else:
                    found += _api(stack, w, need, subnet)
    return found + _return_ports(stack) + _load_balancers(stack)
