"""The compute and ingress sections (`[compute]` with its optional `[compute.ec2]` capacity,
`[ingress]`: the load balancer) and their rules: prod on ECS serves HTTPS, a listener rule
matches at most 3 paths, the load balancer's extra names sit in the zone of its domain and fit
on one certificate, EC2 capacity runs the cluster's CPU architecture, IPv6 is not left open
when IPv4 is narrowed, and nothing waits on a certificate in a zone this stack creates before
the operator declares it delegated (an ACM validation there never completes: the apply hangs).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.catalog import AS_OF, VPC_ORIGIN_REGIONS
from lib.config.fields import AnyCidr, AnyIpv6Cidr, DomainName, Section, computed_default

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig
    from lib.config.services import ServiceConfig


class Ec2CapacityConfig(Section):
    """An EC2 Auto Scaling group as an extra capacity provider of the ECS cluster, for services
    with `capacity = "ec2"`."""

    instance_type: str = Field(default="t4g.small",
                               description="An EC2 instance type that runs "
                                           "`compute.architecture`: Graviton (t4g, m7g...) for "
                                           "arm64, Intel or AMD for x86_64.")
    min_size: int = Field(default=0, ge=0, le=100, description="Fewest instances, at most "
                                                               "`max_size`.")
    max_size: int = Field(default=2, ge=1, le=100, description="Most instances.")


class ComputeConfig(Section):
    """Where the services run: the ECS cluster (Fargate, optionally EC2), Lambda or App Runner,
    and the image repositories."""

    platform: Literal["ecs", "lambda", "apprunner"] = Field(
        default="ecs", description="`ecs` (Fargate behind the load balancer), `lambda` (each "
                                   "service a function from its image with the Lambda Web "
                                   "Adapter, web services behind the HTTP API, workers fed by "
                                   "their queue: $0 compute at idle; README, \"Lambda\") or "
                                   "`apprunner` (web services only, no load balancer; only for "
                                   "accounts that already use App Runner, which takes no new "
                                   "customers since 2026-04-30).")
    images_pushed: bool = Field(
        default=False,
        description="Lambda only. Lambda creates a function only from an image already in ECR: "
                    "`false` (phase one) creates the repositories, the HTTP API and the rest but "
                    "no function; push each service's first image with `images.yml` (output "
                    "`first_image`), then set `true` and deploy again. External images (a full "
                    "ECR reference) do not wait for it.")
    capacity: Literal["fargate", "spot", "mixed"] = Field(
        description="`fargate` (on-demand only), `spot` (Fargate Spot only), `mixed` (one "
                    "on-demand task, the rest 1:1 with Spot).")
    architecture: Literal["arm64", "x86_64"] = Field(
        default="arm64", description="The tasks' CPU: `arm64` (Graviton, cheaper for the same "
                                     "size) or `x86_64`.")
    ec2: Ec2CapacityConfig | None = Field(
        default=None, description="An EC2 Auto Scaling capacity provider (`[compute.ec2]`).")
    immutable_tags: bool = Field(default=True, description="ECR tag immutability: a pushed tag "
                                                           "never points at another image.")
    keep_sha_images: int = Field(
        default=30, ge=1, le=1000,
        description="Images built from a commit (tagged `sha-<commit>` by `images.yml`) ECR "
                    "keeps per repository, the newest; an image a running task definition names "
                    "is kept besides them (README, \"How an image reaches production\").")
    keep_release_images: int = Field(default=10, ge=1, le=1000,
                                     description="Release images (tagged `v*`) ECR keeps per "
                                                 "repository.")
    untagged_image_days: int = Field(default=7, ge=1, le=3650,
                                     description="Days before ECR expires an untagged image.")
    exec: bool = Field(
        default=False,
        description="ECS Exec: `aws ecs execute-command` opens a shell in a running task (README, "
                    "\"Shell access (ECS Exec)\"). Each task role gets the four `ssmmessages` "
                    "channel actions and write access to the session log only; sessions are "
                    "encrypted with the environment's `exec` key and logged to the KMS-encrypted "
                    "group `/<project>/<env>/ecs-exec`. ECS only. Needs every service's "
                    "`read_only_root_filesystem = false` (the SSM agent writes into the container) "
                    "and, without NAT, the `ssmmessages` and `kms` interface endpoints; the "
                    "session is logged only if the image has `script` and `cat`. prod "
                    "refuses it without `exec_in_prod_reason`.")
    exec_in_prod_reason: str | None = Field(
        default=None,
        description="Why a prod-profile environment allows a shell into its containers (one "
                    "line, e.g. a break-glass runbook's name); required there with `exec = "
                    "true`, refused without it.")


# ACM: 10 domain names per certificate by default ("Quotas for AWS Certificate Manager"); the
# first is `domain`.
MAX_HOSTS = 9
# The redirect between the apex and www matches on the host alone, so it must come before the
# services' rules, which match any host by default.
REDIRECT_PRIORITY = 1
# The component name of the distribution in front of an internal load balancer: a surface's
# distribution takes the surface's name, so no surface may have this one.
INTERNAL_DISTRIBUTION = "ingress"


class IngressConfig(Section):
    """The load balancer. With a domain: HTTPS (TLS 1.3/1.2), HTTP redirects, ACM + Route53."""

    domain: DomainName | None = Field(
        default=None, description="With a domain: HTTPS, HTTP->HTTPS redirect, an ACM "
                                  "certificate and Route53 records; without one the load "
                                  "balancer serves plain HTTP. prod (on ECS) must have one.")
    hosted_zone_id: str | None = Field(
        default=None, json_schema_extra=computed_default("a new zone"),
        description="An existing Route53 zone that already answers for the domain (delegated "
                    "from its parent): the normal case, HTTPS from the first apply. Without it "
                    "the stack creates a zone for `zone_name` and HTTPS waits for "
                    "`zone_delegated` (README, \"Deploying\").")
    zone_name: DomainName | None = Field(
        default=None, json_schema_extra=computed_default("the domain"),
        description="The zone to create when there is no `hosted_zone_id`: the domain or a "
                    "parent of it.")
    zone_delegated: bool = Field(
        default=False,
        description="Only for a zone the stack creates. `false` (phase one): the zone is "
                    "created and its `name_servers` output, and the load balancer serves "
                    "plain HTTP with no certificate (ACM cannot validate one before the parent "
                    "zone delegates to the new one). Set `true` once `dig NS <zone>` returns "
                    "those name servers (phase two: certificate, HTTPS, redirect, alias records). "
                    "prod needs `true` or a `hosted_zone_id`.")
    hosts: list[DomainName] = Field(
        default=[],
        description="ECS: more names the load balancer serves beside `domain`, written in full "
                    "(`www.example.com`) and in the zone of `domain`: each goes on its "
                    "certificate (a DNS-validated subject alternative name) and gets an A alias "
                    "record (AAAA too when dual-stack). A web service's `hosts` chooses among "
                    f"them; by default every service answers on all. At most {MAX_HOSTS} (ACM "
                    "puts 10 names on a certificate by default), 128 characters each.")
    redirect: Literal["www-to-apex", "apex-to-www"] | None = Field(
        default=None,
        description="ECS: a permanent (301) redirect that keeps path and query, between "
                    "`domain` (the apex) and `www.<domain>`, which must be in `hosts`: "
                    "`www-to-apex` sends `www.<domain>` to `domain`, `apex-to-www` the reverse. "
                    f"A listener rule at priority {REDIRECT_PRIORITY}, before every service's "
                    "rule, so no service may take that priority.")
    internal: bool = Field(
        default=False,
        description="ECS, with `edge.cloudfront`: the load balancer in the private subnets "
                    "(internal scheme, no public address), reached only by CloudFront through a "
                    "VPC origin (README, \"Edge\"). A distribution of its own answers for "
                    "`domain` (its A/AAAA records alias it; without a domain, on its "
                    "`*.cloudfront.net` name) and sends every path to the load balancer, as "
                    "each surface's `/api/*` does; its security group admits CloudFront's "
                    "VPC-origin group alone, and only the CloudFront web ACL filters (no "
                    "regional one). No `hosts`, `redirect` or `allowed_cidrs`; `ipv6` has no "
                    "effect (viewers reach CloudFront over IPv6).")
    allowed_cidrs: list[AnyCidr] = Field(default=["0.0.0.0/0"],
                                         description="Who may reach ports 80/443 (IPv4 CIDRs).")
    ipv6: bool = Field(
        default=True,
        description="With a domain (ECS): a dual-stack load balancer with an AAAA alias beside "
                    "the A record; the VPC gets an Amazon-provided IPv6 block, only the public "
                    "subnets a /64 each (`::/0` to the internet gateway, NACL mirrored); the "
                    "private and isolated tiers stay IPv4-only. No effect without a domain or with "
                    "`internal`.")
    allowed_ipv6_cidrs: list[AnyIpv6Cidr] = Field(
        default=["::/0"], description="Who may reach ports 80/443 over IPv6 (IPv6 CIDRs); must "
                                      "be set when `allowed_cidrs` is narrowed.")
    access_logs: bool = Field(default=True, description="Access logs to the `logs` bucket "
                                                        "(30-day expiry).")
    deletion_protection: bool = Field(description="Refuse to delete the load balancer.")

    @property
    def created_zone(self) -> str | None:
        """The zone the stack creates for `domain` (None with `hosted_zone_id` or no domain)."""
        if self.domain is None or self.hosted_zone_id is not None:
            return None
        return self.zone_name or self.domain

    @property
    def origin_port(self) -> int:
        """The port the load balancer serves viewers on: 443 with a domain in a zone that answers
        for it (lib/compute/load_balancer.py's `https`), else 80."""
        https = self.domain is not None and (self.hosted_zone_id is not None or
                                             self.zone_delegated)
        return 443 if https else 80

    @property
    def redirect_names(self) -> tuple[str, str] | None:
        """(from, to) of `redirect`, or None."""
        if self.redirect is None or self.domain is None:
            return None
        www = f"www.{self.domain}"
        return (www, self.domain) if self.redirect == "www-to-apex" else (self.domain, www)


def compute_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    # App Runner and the HTTP API (Lambda) serve HTTPS on a domain of their own; on ECS prod's
    # load balancer needs one.
    if c.compute.platform == "ecs" and c.profile == "prod" and c.ingress.domain is None:
        problems.append(("ingress.domain", "prod must serve HTTPS, which needs a domain for its "
                                           "certificate (e.g. app.example.com)"))
    for s in c.services:
        # Elastic Load Balancing, "Condition types for listener rules": up to 3 match
        # evaluations per condition, 5 per rule; a service's paths are one path-pattern
        # condition.
        if len(s.paths) > 3 and c.compute.platform == "ecs":
            problems.append((f"services.{s.name}.paths", f"{len(s.paths)} path patterns; a "
                                                         "listener rule condition matches at "
                                                         "most 3"))
        problems += _service_host_problems(c, s)
    ec2 = c.compute.ec2
    if ec2 is not None and ec2.min_size > ec2.max_size:
        problems.append(("compute.ec2.min_size", f"{ec2.min_size} is more than max_size "
                                                 f"({ec2.max_size})"))
    if ec2 is not None:
        graviton = re.fullmatch(r"[a-z]+\d+g[a-z]*\.[a-z0-9]+", ec2.instance_type) is not None
        if graviton != (c.compute.architecture == "arm64"):
            problems.append(("compute.ec2.instance_type",
                             f"'{ec2.instance_type}' does not run {c.compute.architecture} "
                             "images; use a Graviton type (t4g, m7g...) for arm64, an Intel or "
                             "AMD type for x86_64"))
    problems += _exec_problems(c)
    problems += _internal_problems(c)
    ingress = c.ingress
    if ingress.hosted_zone_id and not ingress.domain:
        problems.append(("ingress.hosted_zone_id", "only used with ingress.domain"))
    problems += _zone_problems(c)
    problems += _host_problems(c)
    if (ingress.domain and ingress.ipv6 and not ingress.internal
            and "allowed_ipv6_cidrs" not in ingress.model_fields_set
            and ingress.allowed_cidrs != ["0.0.0.0/0"]):
        problems.append(("ingress.allowed_ipv6_cidrs", "allowed_cidrs narrows IPv4 access but "
                         "IPv6 would stay open to ::/0; list the IPv6 ranges to admit, or set "
                         "ingress.ipv6 = false"))
    return problems


def _exec_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """ECS Exec is a shell in a running ECS task: nothing to open on Lambda or App Runner, a
    reason on record before prod allows it, and a root file system the SSM agent can write to
    (Amazon ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec", Considerations:
    a read-only root file system is not supported)."""
    compute, reason = c.compute, c.compute.exec_in_prod_reason
    if reason is not None and (not reason.strip() or "\n" in reason):
        return [("compute.exec_in_prod_reason", "say why in one line of text")]
    if not compute.exec:
        return [("compute.exec_in_prod_reason", "only used with compute.exec = true")] \
            if reason is not None else []
    if compute.platform != "ecs":
        return [("compute.exec", f"ECS Exec opens a shell in an ECS task; on "
                                 f"{compute.platform} there is none to open (set it false)")]
    problems: list[tuple[str, str]] = []
    if c.profile == "prod" and reason is None:
        problems.append(("compute.exec", "prod allows no shell into its containers unless "
                                         "compute.exec_in_prod_reason says why (one line)"))
    problems += [(f"services.{s.name}.read_only_root_filesystem",
                  "ECS Exec's SSM agent writes into the container, which a read-only root file "
                  "system refuses; set it false, or leave compute.exec off")
                 for s in c.services if s.read_only_root_filesystem]
    return problems


def _internal_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """An internal load balancer has no public address: CloudFront reaches it through a VPC
    origin ("Restrict access with VPC origins", Amazon CloudFront Developer Guide: in a supported
    region), and nothing else from the internet does."""
    ingress = c.ingress
    if not ingress.internal:
        return []
    if c.compute.platform != "ecs":
        return [("ingress.internal", f"only on ECS: {c.compute.platform} has no load balancer "
                                     "to make internal (set it false)")]
    problems: list[tuple[str, str]] = []
    if not c.edge.cloudfront:
        problems.append(("ingress.internal", "needs edge.cloudfront = true: an internal load "
                                             "balancer has no public address, and CloudFront "
                                             "(through a VPC origin) is the only way in"))
    if c.region not in VPC_ORIGIN_REGIONS:
        problems.append(("ingress.internal", f"CloudFront has no VPC origins in {c.region} "
                                             f"(pricing/aws-catalog.toml, as of {AS_OF})"))
    for field, value in (("ingress.hosts", ingress.hosts), ("ingress.redirect", ingress.redirect)):
        if value:
            problems.append((field, "an internal load balancer has no public address for these "
                                    "names' records; only ingress.domain is served, through "
                                    "CloudFront (set ingress.internal = false to keep them)"))
    for field in ("allowed_cidrs", "allowed_ipv6_cidrs"):
        if field in ingress.model_fields_set:
            problems.append((f"ingress.{field}", "an internal load balancer admits only "
                                                 "CloudFront; narrow who reaches CloudFront "
                                                 "with the web ACL (edge.waf) instead"))
    if INTERNAL_DISTRIBUTION in c.storage.surfaces:
        problems.append(("storage.surfaces", f"'{INTERNAL_DISTRIBUTION}' names the distribution "
                                             "in front of the internal load balancer; call the "
                                             "surface something else"))
    return problems


def _within(name: str, zone: str) -> bool:
    return name == zone or name.endswith(f".{zone}")


def _zone_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """A zone the stack creates answers for nothing until its parent delegates to it (NS
    records), so a certificate validated in it waits until the apply times out: only after the
    operator sets `zone_delegated` may anything depend on one."""
    problems: list[tuple[str, str]] = []
    ingress, zone = c.ingress, c.ingress.created_zone
    if zone is None:
        if ingress.zone_name is not None:
            problems.append(("ingress.zone_name", "only used when the stack creates the zone "
                                                  "(ingress.domain without hosted_zone_id)"))
        if ingress.zone_delegated:
            problems.append(("ingress.zone_delegated", "only used when the stack creates the "
                                                       "zone (ingress.domain without "
                                                       "hosted_zone_id)"))
        return problems
    if not _within(ingress.domain, zone):
        problems.append(("ingress.zone_name", f"'{zone}' does not hold ingress.domain "
                                              f"'{ingress.domain}'; use the domain or a parent "
                                              "of it"))
    if ingress.zone_delegated or c.compute.platform != "ecs":
        return problems  # App Runner: no load balancer, no zone; Lambda: lambda_platform.py
    if c.profile == "prod":
        problems.append(("ingress.hosted_zone_id",
                         "prod must serve HTTPS from its first apply, and a certificate cannot "
                         f"validate in the zone {zone} this stack would create until its parent "
                         "delegates to it: give the id of an existing, delegated zone, or set "
                         "ingress.zone_delegated = true if this stack's zone already exists and "
                         "is delegated (README, \"Deploying\")"))
    # Other certificates validate in the zone their section names; a name inside the new zone
    # waits on it, or, once it is delegated, is no longer answered from another zone.
    names = [("api.domain", c.api.domain)] if c.api.enabled else []
    if c.edge.cloudfront:
        names += [(f"edge.surface_domains.{s}", d) for s, d in c.edge.surface_domains.items()]
    for field, name in names:
        if name is not None and _within(name, zone):
            problems.append((field, f"'{name}' is in the zone {zone} this stack creates, which "
                                    "answers for nothing until it is delegated; deploy the "
                                    "zone first, then add it with ingress.zone_delegated = true "
                                    "and that zone's id (README, \"Deploying\")"))
    return problems


def _host_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """`ingress.hosts` and `ingress.redirect`: names the load balancer's certificate, listener
    rules and records can carry."""
    ingress, problems = c.ingress, []
    fields = [field for field, value in (("ingress.hosts", ingress.hosts),
                                         ("ingress.redirect", ingress.redirect)) if value]
    if c.compute.platform != "ecs":
        return [(field, f"only on ECS: {c.compute.platform} serves one domain, without the load "
                        "balancer's host rules") for field in fields]
    if ingress.domain is None:
        return [(field, "needs ingress.domain (the names share its certificate and zone)")
                for field in fields]
    # Route 53 keeps a record only in the zone that holds its name. An existing zone is known
    # by id alone: it holds the domain, so it is at most the domain's last two labels (Route 53
    # itself refuses a name outside it at apply).
    zone = ingress.created_zone or ".".join(ingress.domain.split(".")[-2:])
    zone_text = f"the zone {zone} this stack creates" if ingress.created_zone else \
        f"{zone}, the widest the zone of ingress.domain '{ingress.domain}' can be"
    seen = {ingress.domain}
    for host in ingress.hosts:
        if host in seen:
            problems.append(("ingress.hosts", f"'{host}' is listed twice (ingress.domain is "
                                              "served already)"))
        elif not _within(host, zone):
            problems.append(("ingress.hosts", f"'{host}' is not under {zone_text}"))
        elif len(host) > 128:
            # "Condition types for listener rules": a host-header value is 128 characters at
            # most; "RedirectActionConfig": so is a redirect's host.
            problems.append(("ingress.hosts", f"'{host}' is longer than the 128 characters a "
                                              "load balancer rule takes"))
        seen.add(host)
    if len(ingress.hosts) > MAX_HOSTS:
        problems.append(("ingress.hosts", f"{len(ingress.hosts)} names; a certificate takes "
                                          f"ingress.domain and at most {MAX_HOSTS} more (ACM's "
                                          "default quota of 10 names)"))
    redirect = ingress.redirect_names
    if redirect is not None and f"www.{ingress.domain}" not in ingress.hosts:
        problems.append(("ingress.redirect", f"'{ingress.redirect}' needs www.{ingress.domain} "
                                             "in ingress.hosts"))
    if ingress.redirect == "apex-to-www" and c.edge.cloudfront and c.edge.api_behavior:
        # CloudFront's /api/* origin is the domain (stacks/environment.py): a redirect there
        # would send API calls away from the distribution.
        problems.append(("ingress.redirect", "'apex-to-www' would redirect CloudFront's /api/* "
                                             "requests, which reach the load balancer as "
                                             f"{ingress.domain}; use 'www-to-apex' or set "
                                             "edge.api_behavior = false"))
    if redirect is not None:
        problems += [(f"services.{s.name}.priority",
                      f"{REDIRECT_PRIORITY} is the priority of the ingress.redirect rule, which "
                      "comes before every service's; choose another")
                     for s in c.services if s.priority == REDIRECT_PRIORITY]
    return problems


def _service_host_problems(c: EnvironmentConfig, s: ServiceConfig) -> list[tuple[str, str]]:
    """A web service's `hosts`: among the load balancer's names, within a listener rule's
    condition values ("Condition types for listener rules": up to 3 match evaluations a
    condition, 5 a rule)."""
    if not s.hosts:
        return []
    where = f"services.{s.name}.hosts"
    if c.compute.platform != "ecs" or s.kind != "web":
        return [(where, "only for a web service on ECS, whose listener rule matches hosts")]
    served = [c.ingress.domain, *c.ingress.hosts] if c.ingress.domain else []
    problems = [(where, f"'{host}' is not a name the load balancer serves (ingress.domain and "
                        f"ingress.hosts: {', '.join(served) or 'none'})")
                for host in s.hosts if host not in served]
    if len(set(s.hosts)) < len(s.hosts):
        problems.append((where, "a name is listed twice"))
    if len(s.hosts) > 3:
        problems.append((where, f"{len(s.hosts)} names; a listener rule condition matches at "
                                "most 3"))
    elif len(s.hosts) + len(s.paths) > 5:
        problems.append((where, f"{len(s.hosts)} names and {len(s.paths)} paths; a listener "
                                "rule matches at most 5 values in all"))
    return problems
