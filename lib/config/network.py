"""The network section (`[network]`): the VPC's range, AZs, subnets, NAT and endpoints, and the
rules between them and the rest of the environment (zones in its region, subnets that fit, no
single NAT or NAT instance where an AZ outage must not cut egress, and without NAT an interface
endpoint for every AWS API a workload needs).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import (AzName, Cidr, InterfaceEndpoint, Section, VpcCidr,
                               computed_default)
from lib.core.ipam import SubnetPlanError

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class SubnetCidrs(Section):
    """Explicit subnet CIDRs, one per AZ and tier, for layouts that must match an existing design."""

    public: list[Cidr] = Field(description="One CIDR per AZ for the public tier (the load "
                                           "balancer, NAT), inside the VPC.")
    private: list[Cidr] = Field(description="One CIDR per AZ for the private tier (containers, "
                                            "functions), inside the VPC.")
    isolated: list[Cidr] = Field(description="One CIDR per AZ for the isolated tier (the data "
                                             "stores, no route out of the VPC), inside the VPC.")


class NetworkConfig(Section):
    """The VPC: its range, AZs, three subnet tiers per AZ, NAT and VPC endpoints."""

    cidr: VpcCidr = Field(description="The VPC's private IPv4 range, /16 to /24, e.g. "
                                      "`10.0.0.0/16` (the shipped dev, staging and prod use "
                                      "10.0, 10.1 and 10.2).")
    az_count: int = Field(ge=1, le=6, description="Availability zones to spread over; the "
                                                  "database needs 2 or more (an RDS subnet group "
                                                  "spans at least two AZs).")
    availability_zones: list[AzName] | None = Field(
        default=None, json_schema_extra=computed_default("`<region>a`, `b`, ..."),
        description="Explicit zone names in the environment's region, one per AZ.")
    nat: Literal["per_az", "single", "instance", "none"] = Field(
        description="Internet egress of the private tier: `per_az` (a NAT gateway per AZ), "
                    "`single` (one shared NAT gateway), `instance` (one NAT instance, ~$7 instead "
                    "of ~$36 a month, no failover: dev and lean only), `none` (no internet egress "
                    "from the VPC; reach AWS services through interface endpoints). prod refuses "
                    "`single` unless `allow_single_nat_in_prod = true`.")
    nat_instance_type: Literal["t4g.nano", "t4g.micro", "t4g.small", "t3.nano", "t3.micro",
                               "t3.small", "t3a.nano", "t3a.micro", "t3a.small"] = Field(
        default="t4g.nano",
        description="With `nat = \"instance\"`: Graviton t4g (arm64 image) or Intel/AMD t3/t3a "
                    "(x86_64 image), Amazon Linux 2023.")
    allow_single_nat_in_prod: bool = Field(
        default=False, description="Accept `nat = \"single\"` in prod, which loses egress for "
                                   "every AZ when that one AZ fails.")
    subnet_prefix_length: int = Field(
        default=20, ge=16, le=28,
        description="Prefix length of every subnet. Each tier gets a quarter of the VPC range, "
                    "one block per AZ, so adding an AZ never moves a subnet.")
    subnets: SubnetCidrs | None = Field(
        default=None, json_schema_extra=computed_default("carved from `cidr`"),
        description="Explicit `public`, `private` and `isolated` CIDR lists, one per AZ (inside "
                    "the VPC, disjoint), instead of the computed layout.")
    interface_endpoints: list[InterfaceEndpoint] = Field(
        default=[], description="Interface endpoints in the private tier (AWS services without "
                                "NAT). Under `nat = \"none\"` every API a workload needs must "
                                "have one, or the file is refused: `ecr.api`, `ecr.dkr` and "
                                "`logs` for ECS tasks, `secretsmanager` for secrets (ECS "
                                "services, functions), `sqs` for queues, `monitoring` for a "
                                "metric a service publishes (`scale_on_metric`); the database "
                                "needs none (IAM tokens are signed in the workload). The gateway "
                                "endpoints (S3, DynamoDB) are always on and free.")


def network_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    net = c.network

    if net.availability_zones is not None:
        if len(net.availability_zones) != net.az_count:
            problems.append(("network.availability_zones",
                             f"lists {len(net.availability_zones)} zones but az_count is "
                             f"{net.az_count}; give exactly one name per AZ"))
        for az in net.availability_zones:
            if not az.startswith(c.region):
                problems.append(("network.availability_zones",
                                 f"'{az}' is not in region {c.region}"))
        if len(set(net.availability_zones)) != len(net.availability_zones):
            problems.append(("network.availability_zones", "lists a zone twice"))
    try:
        c.subnet_plan
    except SubnetPlanError as err:
        problems.append((err.field, str(err)))

    if c.profile == "prod" and net.nat == "single" and not net.allow_single_nat_in_prod:
        problems.append(("network.nat",
                         "'single' in a prod environment loses egress for every AZ when that "
                         "one AZ fails; use 'per_az', or set allow_single_nat_in_prod = true to "
                         "accept that"))
    if net.nat == "instance" and c.profile in ("staging", "prod"):
        problems.append(("network.nat",
                         f"'instance' is one EC2 instance with no failover: for dev and lean "
                         f"only; {c.profile} uses 'per_az' or 'single'"))
    if len(set(net.interface_endpoints)) != len(net.interface_endpoints):
        problems.append(("network.interface_endpoints", "lists an endpoint twice"))
    return problems


# A private ECR repository (this project's, or one named in full): what the ECR endpoints serve.
PRIVATE_ECR = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
# The AWS APIs a workload may need without NAT: (how the message names it, the interface
# endpoints that serve it). S3 and DynamoDB are not here: their gateway endpoints are always on.
ENDPOINT_APIS = {
    "ecr": ("ECR", ("ecr.api", "ecr.dkr")),  # image layers come from S3, through its gateway
    "logs": ("CloudWatch Logs", ("logs",)),
    "secretsmanager": ("Secrets Manager", ("secretsmanager",)),
    "sqs": ("SQS", ("sqs",)),
    # ECS Exec: the session channels, and the session key the agent in the container decrypts.
    "ssmmessages": ("Session Manager's message channels", ("ssmmessages",)),
    "kms": ("KMS", ("kms",)),
    # A metric the application publishes for its scaling: CloudWatch's PutMetricData.
    "monitoring": ("CloudWatch (PutMetricData)", ("monitoring",)),
}
WITH_NAT = "set network.nat to 'instance', 'single' or 'per_az'"


def egress_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """Without NAT nothing in the VPC reaches the internet: every AWS API a workload is told about
    (secret ARNs, queue URLs), or that ECS needs to start its tasks (ECR, awslogs, injected
    secrets), must have an interface endpoint. One line per AWS API that would be out of reach,
    at the first field that needs it; and one per thing no endpoint can serve.

    Not needs: what AWS delivers outside the VPC (Lambda's logs, image pulls and SQS polling,
    App Runner's image pulls and secret injection), S3 (media, ECR layers) through its gateway endpoint, and
    the database: an IAM authentication token is signed in the workload with its role's
    credentials, no AWS API is called."""
    if c.network.nat != "none":
        return []
    needed: dict[str, list[str]] = {}  # ENDPOINT_APIS key -> fields that need it, in order
    internet: list[tuple[str, str]] = []

    def need(api: str, field: str) -> None:
        needed.setdefault(api, []).append(field)

    on_ecs = c.compute.platform == "ecs"
    on_lambda = c.compute.platform == "lambda"
    for s in c.services:
        where = f"services.{s.name}"
        if on_ecs:
            if s.image == "ecr" or PRIVATE_ECR.match(s.image):  # own or image_from's
                need("ecr", f"{where}.image")
            else:
                internet.append((f"{where}.image",
                                 f"'{s.image}' is pulled from outside this account's ECR, which "
                                 f"needs internet egress; push it to ECR or {WITH_NAT}"))
            # ECS injects secrets when it starts the task, through the task's ENI.
            if s.secrets:
                need("secretsmanager", f"{where}.secrets")
        if on_lambda and s.secrets:
            # Lambda has no secret injection: the function reads <NAME>_SECRET_ARN itself.
            need("secretsmanager", f"{where}.secrets")
        if on_ecs and s.scale_on_metric is not None:
            need("monitoring", f"{where}.scale_on_metric")
        if s.queue and not on_lambda:  # Lambda polls a function's queue from outside the VPC
            need("sqs", f"{where}.queue")
        elif s.sends_to:
            need("sqs", f"{where}.sends_to")
    if on_ecs and c.services:
        needed.setdefault("logs", []).insert(0, "compute.platform")
    if on_ecs and c.compute.exec:
        need("ssmmessages", "compute.exec")
        need("kms", "compute.exec")
    if c.api.enabled:
        # Lambda has no secret injection: the functions read <NAME>_SECRET_ARN themselves.
        if c.api.secrets:
            need("secretsmanager", "api.secrets")
    if on_ecs and c.compute.ec2 is not None:
        internet.append(("compute.ec2", "container instances register with the ECS API "
                                        "(ecs, ecs-agent, ecs-telemetry), which "
                                        f"network.interface_endpoints does not offer; {WITH_NAT}"))
    if on_ecs and c.observability.otel_sidecar and c.services:
        internet.append(("observability.otel_sidecar",
                         "the collector's image (public.ecr.aws) and X-Ray need internet "
                         f"egress; {WITH_NAT}, or turn the sidecar off"))

    problems: list[tuple[str, str]] = []
    for api, fields in needed.items():
        label, endpoints = ENDPOINT_APIS[api]
        missing = [e for e in endpoints if e not in c.network.interface_endpoints]
        if not missing:
            continue
        add = ", ".join('"' + e + '"' for e in missing)
        others = f" (also needed by {', '.join(fields[1:])})" if fields[1:] else ""
        problems.append((fields[0], f"{label} is out of reach from a VPC without NAT; add {add} "
                                    f"to network.interface_endpoints{others}"))
    return problems + internet
