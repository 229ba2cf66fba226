"""The config loader: per-environment defaults, and one clear line for every kind of bad input."""

from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, SAMPLE
from lib.config import ConfigError, load_environment, load_environments


def write(tmp_path: Path, text: str, name: str = "dev.toml") -> Path:
    if 'prod' in name or 'profile = "prod"' in text:
        # prod must have a domain (HTTPS, in a zone that answers for it) and https callbacks;
        # cases not about that get them.
        if "[ingress]" not in text:
            text = text.replace("[network]", '[ingress]\ndomain = "shop.example.com"\n'
                                             'hosted_zone_id = "Z0123456789EXAMPLE"\n\n[network]')
        if "[auth]" not in text:
            text = text.replace("[network]", '[auth]\ncallback_urls = ["https://shop.example.com/cb"]'
                                             '\n\n[network]')
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    return caught.value.problems


# --- the shipped environments carry the seed designs' table ----------------------------------

@pytest.mark.parametrize("env, cidr, azs, nat, db_class, storage, multi_az, node, nodes, edge", [
    ("dev", "10.0.0.0/16", 2, "instance", "db.t4g.micro", 20, False, "cache.t4g.micro", 1, False),
    ("staging", "10.1.0.0/16", 3, "per_az", "db.t4g.small", 50, False, "cache.t4g.small", 2, True),
    ("prod", "10.2.0.0/16", 3, "per_az", "db.t4g.medium", 100, True, "cache.t4g.medium", 3, True),
])
def test_shipped_environments_match_the_table(env, cidr, azs, nat, db_class, storage, multi_az,
                                              node, nodes, edge):
    c = load_environment(SAMPLE / f"{env}.toml")
    assert (c.region, c.network.cidr, c.network.az_count, c.network.nat) == \
        ("us-east-1", cidr, azs, nat)
    assert (c.database.instance_class, c.database.allocated_storage_gb, c.database.multi_az) == \
        (db_class, storage, multi_az)
    assert (c.cache.node_type, c.cache.num_nodes) == (node, nodes)
    assert (c.edge.cloudfront, c.edge.waf) == (edge, edge)
    assert (c.logs.retention_days, c.database.backup_retention_days) == (30, 7)


@pytest.mark.parametrize("profile, azs, nat, db_class, multi_az, nodes", [
    ("dev", 2, "instance", "db.t4g.micro", False, 1),
    ("staging", 3, "per_az", "db.t4g.small", False, 2),
    ("prod", 3, "per_az", "db.t4g.medium", True, 3),
])
def test_a_minimal_file_takes_its_profile_defaults(tmp_path, profile, azs, nat, db_class,
                                                   multi_az, nodes):
    c = load_environment(write(tmp_path, MINIMAL, f"{profile}.toml"))
    assert (c.environment, c.profile) == (profile, profile)
    assert (c.network.az_count, c.network.nat) == (azs, nat)
    assert (c.database.instance_class, c.database.multi_az, c.cache.num_nodes) == \
        (db_class, multi_az, nodes)
    assert [s.name for s in c.services] == ["frontend", "backend", "worker"]


def test_the_lean_profile_is_lambda_without_nat(tmp_path):
    c = load_environment(write(tmp_path, MINIMAL, "lean.toml"))
    assert (c.profile, c.compute.platform, c.network.nat) == ("lean", "lambda", "none")
    assert [(s.name, s.kind, s.port, s.paths) for s in c.services] == \
        [("api", "web", 8080, ["/*"])]
    assert (c.database.instance_class, c.database.deletion_protection) == ("db.t4g.micro", False)
    assert (c.edge.cloudfront, c.edge.waf) == (False, False)
    # The service `api` is the API (seed 001 has no zip-packaged function), and nothing needs an
    # interface endpoint (~$15 a month in 2 AZs each): no secrets, no queues.
    assert c.api.enabled is False and c.messaging.queues == [] and c.secrets == []
    # Phase one of a first deploy: Lambda creates no function before its image is in ECR.
    assert c.compute.images_pushed is False
    assert c.network.interface_endpoints == []


def test_an_environment_with_another_name_picks_a_profile(tmp_path):
    c = load_environment(write(tmp_path, 'profile = "staging"\n' + MINIMAL, "qa.toml"))
    assert (c.environment, c.profile, c.stack_name) == ("qa", "staging", "qa-stack")
    assert c.availability_zones == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_subnets_are_carved_per_tier_quarter(tmp_path):
    plan = load_environment(write(tmp_path, MINIMAL)).subnet_plan
    assert [str(b) for b in plan.public] == ["10.0.0.0/20", "10.0.16.0/20"]
    assert [str(b) for b in plan.private] == ["10.0.64.0/20", "10.0.80.0/20"]
    assert [str(b) for b in plan.isolated] == ["10.0.128.0/20", "10.0.144.0/20"]


def test_explicit_subnets_are_used_as_given(tmp_path):
    text = MINIMAL + """
[network.subnets]
public = ["10.0.1.0/24", "10.0.2.0/24"]
private = ["10.0.10.0/24", "10.0.11.0/24"]
isolated = ["10.0.20.0/24", "10.0.21.0/24"]
"""
    plan = load_environment(write(tmp_path, text)).subnet_plan
    assert [str(b) for b in plan.private] == ["10.0.10.0/24", "10.0.11.0/24"]


# --- bad input: one line naming the file, the field and what is allowed ----------------------

BAD_INPUT = [
    # (case, file text, field path, words the message must contain)
    ("malformed TOML", MINIMAL + "[network\n", None, "not valid TOML"),
    ("unknown key (typo)", MINIMAL + 'nat_mode = "single"\n', "network.nat_mode",
     "did you mean 'nat'"),
    ("unknown section", MINIMAL + "[netwrok]\ncidr = \"10.0.0.0/16\"\n", "netwrok",
     "did you mean 'network'"),
    ("missing required field", MINIMAL.replace('account_id = "123456789012"\n', ""),
     "account_id", "required field is missing"),
    ("missing VPC range", MINIMAL.replace('cidr = "10.0.0.0/16"\n', ""), "network.cidr",
     "required field is missing"),
    ("bad CIDR", MINIMAL.replace("10.0.0.0/16", "10.0.0.300/16"), "network.cidr",
     "e.g. 10.0.0.0/16"),
    ("CIDR with host bits", MINIMAL.replace("10.0.0.0/16", "10.0.0.1/16"), "network.cidr",
     "no host bits"),
    ("public VPC range", MINIMAL.replace("10.0.0.0/16", "8.8.0.0/16"), "network.cidr",
     "not a private range"),
    ("VPC too large", MINIMAL.replace("10.0.0.0/16", "10.0.0.0/8"), "network.cidr",
     "between /16 and /24"),
    ("subnets do not fit the VPC", MINIMAL.replace("10.0.0.0/16", "10.0.0.0/24") +
     "subnet_prefix_length = 24\n", "network.subnet_prefix_length", "must be 26 or more"),
    ("too many AZs for the subnet size", MINIMAL.replace("10.0.0.0/16", "10.0.0.0/22") +
     "az_count = 3\nsubnet_prefix_length = 25\n", "network.subnet_prefix_length",
     "room for 2"),
    ("explicit subnet outside the VPC", MINIMAL + "[network.subnets]\n"
     'public = ["10.0.1.0/24", "10.0.2.0/24"]\nprivate = ["10.0.10.0/24", "10.9.11.0/24"]\n'
     'isolated = ["10.0.20.0/24", "10.0.21.0/24"]\n', "network.subnets.private",
     "does not fit inside the VPC 10.0.0.0/16"),
    ("overlapping explicit subnets", MINIMAL + "[network.subnets]\n"
     'public = ["10.0.1.0/24", "10.0.2.0/24"]\nprivate = ["10.0.2.0/24", "10.0.11.0/24"]\n'
     'isolated = ["10.0.20.0/24", "10.0.21.0/24"]\n', "network.subnets.private",
     "overlaps 10.0.2.0/24"),
    ("AZ count out of range", MINIMAL + "az_count = 7\n", "network.az_count", "must be <= 6"),
    ("AZ count zero", MINIMAL + "az_count = 0\n", "network.az_count", "must be >= 1"),
    ("AZ count not a number", MINIMAL + 'az_count = "two"\n', "network.az_count",
     "\"two\" is not allowed: write a whole number"),
    ("unknown NAT mode", MINIMAL + 'nat = "shared"\n', "network.nat",
     "'per_az', 'single', 'instance' or 'none'"),
    ("unknown interface endpoint", MINIMAL + 'interface_endpoints = ["ecr"]\n',
     "network.interface_endpoints[0]", "'ecr.api'"),
    ("unknown instance class", MINIMAL + '[database]\ninstance_class = "db.t4g.mirco"\n',
     "database.instance_class", "did you mean 'db.t4g.micro'? db.t4g comes in micro, small"),
    ("unknown cache node type", MINIMAL + '[cache]\nnode_type = "cache.t4g.huge"\n',
     "cache.node_type", "cache.t4g comes in micro, small, medium"),
    ("zero storage", MINIMAL + "[database]\nallocated_storage_gb = 0\n",
     "database.allocated_storage_gb", "must be >= 20"),
    ("negative storage", MINIMAL + "[database]\nallocated_storage_gb = -5\n",
     "database.allocated_storage_gb", "must be >= 20"),
    ("backup retention out of range", MINIMAL + "[database]\nbackup_retention_days = 40\n",
     "database.backup_retention_days", "must be <= 35"),
    ("log retention CloudWatch does not offer", MINIMAL + "[logs]\nretention_days = 31\n",
     "logs.retention_days", "allowed days: 1, 3, 5"),
    ("min tasks > max tasks", MINIMAL + '[[services]]\nname = "api"\nport = 8000\n'
     'paths = ["/*"]\npriority = 10\nmin_tasks = 5\nmax_tasks = 2\n', "services.api.min_tasks",
     "need min_tasks <= max_tasks"),
    ("duplicate service names", MINIMAL + '[[services]]\nname = "api"\nport = 8000\n'
     'paths = ["/*"]\npriority = 10\n[[services]]\nname = "api"\nkind = "worker"\n', "services.api.name",
     "must be unique"),
    ("worker with a path", MINIMAL + '[[services]]\nname = "jobs"\nkind = "worker"\n'
     'paths = ["/jobs/*"]\n', "services.jobs.paths", "a worker has no ingress"),
    ("bad service name", MINIMAL + '[[services]]\nname = "API_v2"\nport = 8000\n'
     'paths = ["/*"]\n', "services.API_v2.name", "lowercase letters"),
    ("failover requested with one node", MINIMAL + "[cache]\nnum_nodes = 1\n"
     "automatic_failover = true\n", "cache.automatic_failover", "set num_nodes to 2 or more"),
    ("Multi-AZ RDS in a one-AZ network", 'profile = "prod"\n' + MINIMAL + "az_count = 1\n"
     "[database]\nmulti_az = true\n", "database.multi_az", "network.az_count is 1"),
    ("storage ceiling below allocated storage", MINIMAL + "[database]\nallocated_storage_gb = 100"
     "\nmax_allocated_storage_gb = 50\n", "database.max_allocated_storage_gb",
     "not above allocated_storage_gb (100)"),
    ("unknown engine version family", MINIMAL + '[database]\nengine_version = "9.6"\n',
     "database.engine_version", "allowed: a major (14, 15, 16, 17, 18)"),
    ("unknown Redis version", MINIMAL + '[cache]\nengine_version = "6.2"\n',
     "cache.engine_version", "allowed: 7.0, 7.1"),
    ("negative backup retention", MINIMAL + "[database]\nbackup_retention_days = -1\n",
     "database.backup_retention_days", "must be >= 0"),
    ("bad backup window", MINIMAL + '[database]\nbackup_window = "3am-4am"\n',
     "database.backup_window", "like 03:00-04:00"),
    ("bad maintenance window", MINIMAL + '[cache]\nmaintenance_window = "monday 05:00"\n',
     "cache.maintenance_window", "like mon:04:00-mon:05:00"),
    ("unknown eviction policy", MINIMAL + '[cache]\nmaxmemory_policy = "lru"\n',
     "cache.maxmemory_policy", "'allkeys-lru'"),
    ("reserved database user", MINIMAL + '[database]\nmaster_username = "postgres"\n',
     "database.master_username", "not a reserved word"),
    ("application user in RDS's role namespace", MINIMAL + '[database]\napp_user = "rds_app"\n',
     "database.app_user", "not starting with pg_ or rds (PostgreSQL's and RDS's own roles)"),
    ("application user that is no PostgreSQL identifier", MINIMAL + '[database]\n'
     'app_user = "App-User"\n', "database.app_user", "use a lowercase letter then up to 62"),
    ("application user that is the master user", MINIMAL + '[database]\napp_user = "owner"\n'
     'master_username = "owner"\n', "database.app_user",
     "'owner' is the master user; the application connects as a role of its own"),
    ("two web services with the same path and priority", MINIMAL +
     '[[services]]\nname = "web-a"\nport = 80\npaths = ["/*"]\npriority = 10\n'
     '[[services]]\nname = "web-b"\nport = 81\npaths = ["/*"]\npriority = 10\n',
     "services.web-b.priority", "routes '/*' at priority 10, exactly like 'web-a'"),
    ("two web services with the same path", MINIMAL +
     '[[services]]\nname = "web-a"\nport = 80\npaths = ["/api/*"]\npriority = 10\n'
     '[[services]]\nname = "web-b"\nport = 81\npaths = ["/api/*"]\npriority = 20\n',
     "services.web-b.paths", "'/api/*' is also routed to 'web-a'"),
    ("port out of range", MINIMAL + '[[services]]\nname = "api"\nport = 70000\n'
     'paths = ["/*"]\npriority = 10\n', "services.api.port", "must be <= 65535"),
    ("Fargate cpu/memory pair Fargate does not offer", MINIMAL + '[[services]]\nname = "api"\n'
     'port = 80\npaths = ["/*"]\npriority = 10\ncpu = 256\nmemory = 4096\n',
     "services.api.memory", "allowed memory: 512, 1024, 2048"),
    ("Fargate cpu that does not exist", MINIMAL + '[[services]]\nname = "api"\n'
     'port = 80\npaths = ["/*"]\npriority = 10\ncpu = 300\nmemory = 1024\n',
     "services.api.memory", "allowed cpu: 256, 512, 1024"),
    ("secret that is not declared", MINIMAL + '[[services]]\nname = "api"\nport = 80\n'
     'paths = ["/*"]\npriority = 10\nsecrets = ["stripe-key"]\n', "services.api.secrets",
     "'stripe-key' is not declared in [[secrets]] (declared: none declared)"),
    ("secret of another service", MINIMAL + '[[secrets]]\nname = "stripe-key"\n'
     'service = "billing"\n\n[[services]]\nname = "billing"\nport = 81\npaths = ["/b/*"]\n'
     'priority = 20\n\n[[services]]\nname = "api"\nport = 80\npaths = ["/*"]\npriority = 10\n'
     'secrets = ["stripe-key"]\n', "services.api.secrets",
     "'stripe-key' belongs to 'billing'; a service reads only secrets declared with its own name"),
    ("worker on a queue that does not exist", MINIMAL + '[[services]]\nname = "mailer"\n'
     'kind = "worker"\nqueue = "mail"\n', "services.mailer.queue",
     "'mail' is not a queue; queues: processing, email"),
    ("web service consuming a queue", MINIMAL + '[[services]]\nname = "api"\nport = 80\n'
     'paths = ["/*"]\npriority = 10\nqueue = "email"\n', "services.api.queue",
     "only a worker consumes a queue"),
    ("queue consumed twice", MINIMAL + '[[services]]\nname = "mailer"\nkind = "worker"\n'
     'queue = "processing"\n', "services.mailer.queue",
     "'processing' is also consumed by the worker function (api.worker_queue); one consumer"),
    ("send to a queue that does not exist", MINIMAL + '[[services]]\nname = "api"\nport = 80\n'
     'paths = ["/*"]\npriority = 10\nsends_to = ["jobs"]\n', "services.api.sends_to",
     "'jobs' is not a queue; queues: processing, email"),
    ("web service without a priority", MINIMAL + '[[services]]\nname = "api"\nport = 80\n'
     'paths = ["/*"]\n', "services.api.priority", "needs a listener rule priority"),
    ("App Runner with a worker", MINIMAL.replace("[network]", '[compute]\nplatform = '
     '"apprunner"\n\n[network]') + '[[services]]\nname = "jobs"\nkind = "worker"\n',
     "services.jobs.kind", "App Runner only runs web services"),
    ("prod over plain HTTP", MINIMAL.replace("[network]", '[ingress]\nallowed_cidrs = '
     '["0.0.0.0/0"]\n\n[network]'), "ingress.domain", "prod must serve HTTPS"),
    ("arm64 with an Intel instance type", MINIMAL.replace("[network]", '[compute.ec2]\n'
     'instance_type = "t3.small"\n\n[network]'), "compute.ec2.instance_type",
     "does not run arm64 images"),
    ("bad domain", MINIMAL.replace("[network]", '[ingress]\ndomain = "https://x.com"\n\n'
     '[network]'), "ingress.domain", "lowercase DNS name"),
    ("bad IPv6 CIDR", MINIMAL.replace("[network]", '[ingress]\nallowed_ipv6_cidrs = '
     '["2001:db8::/129"]\n\n[network]'), "ingress.allowed_ipv6_cidrs[0]",
     "not an IPv6 network in CIDR form"),
    ("IPv4 given as an IPv6 CIDR", MINIMAL.replace("[network]", '[ingress]\nallowed_ipv6_cidrs = '
     '["0.0.0.0/0"]\n\n[network]'), "ingress.allowed_ipv6_cidrs[0]", "e.g. 2001:db8::/32"),
    ("prod narrows IPv4 but leaves IPv6 open", MINIMAL.replace("[network]", '[ingress]\n'
     'domain = "shop.example.com"\nhosted_zone_id = "Z0123456789EXAMPLE"\n'
     'allowed_cidrs = ["203.0.113.0/24"]\n\n[network]'),
     "ingress.allowed_ipv6_cidrs", "IPv6 would stay open to ::/0"),
    ("bucket name that breaks S3's rules", MINIMAL.replace('"shop"', '"acme-support-portal"')
     .replace("[network]", '[storage]\nsurfaces = ["support-desk-portals"]\n\n[network]'),
     "storage.surfaces", "'support-desk-portals' makes the aws_s3_bucket.bucket "
     "'acme-support-portal-dev-support-desk-portals-assets-123456789012' 64 characters, over the "
     "63 AWS allows (General purpose bucket naming rules - Amazon Simple Storage Service); here a "
     "surface name may be at most 19 characters"),
    ("a cron that is not one", MINIMAL + '[[schedules]]\nname = "nightly"\n'
     'expression = "cron(0 3 * * *)"\ntarget = "function:worker"\n',
     "schedules.nightly.expression", "with ? in exactly one of the two day fields"),
    ("a rate with the wrong unit", MINIMAL + '[[schedules]]\nname = "often"\n'
     'expression = "rate(1 minutes)"\ntarget = "function:worker"\n',
     "schedules.often.expression", "(singular for 1)"),
    ("CloudFront on without a surface", MINIMAL.replace("[network]", '[storage]\nsurfaces = []'
     '\n\n[edge]\ncloudfront = true\n\n[network]'), "edge.cloudfront",
     "storage.surfaces is empty"),
    ("DLQ max receives < 1", MINIMAL.replace("[network]", '[[messaging.queues]]\n'
     'name = "jobs"\nmax_receive_count = 0\n\n[network]'),
     "messaging.queues.jobs.max_receive_count", "must be >= 1"),
    ("unknown schedule target", MINIMAL + '[[schedules]]\nname = "nightly"\n'
     'expression = "cron(0 3 * * ? *)"\ntarget = "function:mailer"\n',
     "schedules.nightly.target", "allowed: service:frontend, service:backend, service:worker, "
     "function:api, function:worker"),
    ("worker queue that does not exist", MINIMAL.replace("[network]", '[api]\n'
     'worker_queue = "jobs"\n\n[network]'), "api.worker_queue",
     "'jobs' is not a queue; queues: processing, email"),
    ("http callback in prod", MINIMAL.replace("[network]", '[auth]\ncallback_urls = '
     '["http://localhost:3000/cb"]\n\n[network]'), "auth.callback_urls",
     "prod may not redirect to http://localhost"),
    ("plain http callback", MINIMAL.replace("[network]", '[auth]\ncallback_urls = '
     '["http://app.example.com/cb"]\n\n[network]'), "auth.callback_urls[0]",
     "Cognito needs https:// URLs"),
    ("s3 backend without a bucket", MINIMAL.replace("[network]", '[backend]\nkind = "s3"\n'
     'lock_table = "webplat-tflock"\n\n[network]'), "backend.bucket",
     "the s3 backend needs the state bucket"),
    ("cloud backend without an organization", MINIMAL.replace("[network]", '[backend]\n'
     'kind = "cloud"\n\n[network]'), "backend.organization",
     "needs the Terraform Cloud organization"),
    ("alarm threshold out of range", MINIMAL.replace("[network]", '[observability.alarms]\n'
     'cpu_percent = 150\n\n[network]'), "observability.alarms.cpu_percent",
     "must be <= 100"),
    ("p99 latency threshold zero", MINIMAL.replace("[network]", '[observability.alarms]\n'
     'p99_latency_seconds = 0\n\n[network]'), "observability.alarms.p99_latency_seconds",
     "must be > 0"),
    ("prod with a single NAT and no opt-in", MINIMAL + 'nat = "single"\n',
     "network.nat", "allow_single_nat_in_prod = true"),
    ("prod on a NAT instance", MINIMAL + 'nat = "instance"\n', "network.nat",
     "for dev and lean only"),
    ("command on a function schedule", MINIMAL.replace("[network]", "[[schedules]]\nname = "
     "\"job\"\nexpression = \"rate(1 hour)\"\ntarget = \"function:api\"\ncommand = [\"x\"]"
     "\n\n[network]"), "schedules.job.command", "only a service target runs a command"),
    ("undeclared function secret", MINIMAL.replace("[network]", "[api]\nsecrets = [\"jwt\"]"
     "\n\n[network]"), "api.secrets", "'jwt' is not declared"),
    ("media access without a media bucket", MINIMAL.replace("[network]", "[storage]\n"
     "media = false\n\n[api]\naccess = [\"media\"]\n\n[network]"), "api.access",
     "storage.media is false"),
    ("a memory target of 5 %", MINIMAL.replace("[network]", "[[services]]\nname = \"api\"\n"
     "port = 80\npaths = [\"/*\"]\npriority = 1\nmemory_target_percent = 5\n\n[network]"),
     "services.api.memory_target_percent", "0 (off) or 10-95"),
    ("NAT instance type", MINIMAL + 'nat_instance_type = "m5.large"\n',
     "network.nat_instance_type", "'t4g.nano'"),
    ("reserved tag", MINIMAL.replace("[network]", '[tags]\nEnvironment = "x"\n\n[network]'),
     "tags.Environment", "reserved tags"),
    ("bad account id", MINIMAL.replace('"123456789012"', "123456789012"), "account_id",
     "must be a quoted string"),
    ("bad region", MINIMAL.replace("us-east-1", "us-east"), "region", "e.g. us-east-1"),
    ("unknown profile", 'profile = "production"\n' + MINIMAL, "profile",
     "allowed: dev, lean, staging, prod"),
    ("cron minutes and hours out of range", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(99 99 * * ? *)"\ntarget = "function:worker"\n', "schedules.job.expression",
     "the minutes field '99' takes only 0-59, *, ranges a-b, lists a,b and steps */n or a/n; "
     "the hours field '99' takes only 0-23"),
    ("cron words that are not names", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(FOO BAR * * ? *)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "the minutes field 'FOO' takes only 0-59"),
    ("cron day-of-month 32", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(0 3 32 * ? *)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "the day-of-month field '32' takes only 1-31, ?, L, LW, nW"),
    ("cron month 13", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(0 3 ? 13 MON *)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "the month field '13' takes only 1-12 or JAN-DEC"),
    ("cron day-of-week name misspelt", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(0 3 ? * MON-FUN *)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "the day-of-week field 'MON-FUN' takes only 1-7 or SUN-SAT"),
    ("cron day-of-week 8", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(0 3 ? * 8 *)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "the day-of-week field '8' takes only 1-7 or SUN-SAT"),
    ("cron sixth weekday of a month", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(0 3 ? * 2#6 *)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "n#k (its k-th day n, k 1-5)"),
    ("cron year before 1970", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(0 3 * * ? 1969)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "the year field '1969' takes only 1970-2199"),
    ("cron step of 0", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "cron(*/0 * * * ? *)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "the minutes field '*/0' takes only"),
    ("rate of 0", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "rate(0 minutes)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "a whole number of 1 or more"),
    ("plural rate with a singular unit", MINIMAL + '[[schedules]]\nname = "job"\n'
     'expression = "rate(5 minute)"\ntarget = "function:worker"\n',
     "schedules.job.expression", "(singular for 1) or minutes|hours|days"),
    ("worker outlasts its queue's visibility timeout", MINIMAL.replace("[network]", "[api]\n"
     "worker_timeout_seconds = 120\n\n[network]"), "api.worker_timeout_seconds",
     "120 s exceeds the visibility_timeout_seconds (60 s) of the queue it consumes, "
     "'processing'; Lambda rejects that SQS trigger"),
]


@pytest.mark.parametrize("case, text, field, words", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_one_clear_line(tmp_path, case, text, field, words):
    name = "prod.toml" if "prod" in case.lower() else "dev.toml"
    path = write(tmp_path, text, name)
    found = problems(path)
    assert len(found) == 1, found
    line = found[0]
    assert "\n" not in line
    assert line.startswith(f"{path}: "), line
    if field is not None:
        assert line.startswith(f"{path}: {field}: "), line
    assert words in line, line


def test_unknown_environment_file_names_the_ones_that_exist(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_environments([tmp_path / "qa.toml"])
    assert caught.value.problems == [
        f"{tmp_path / 'qa.toml'}: no such environment file (environments in "
        "tests/fixtures/sample/: dev, prod, staging)"]  # the session's config/ (conftest)


def test_two_files_for_one_environment_are_rejected(tmp_path):
    first = write(tmp_path, MINIMAL, "dev.toml")
    second = write(tmp_path, 'environment = "dev"\n' + MINIMAL, "dev-copy.toml")
    with pytest.raises(ConfigError) as caught:
        load_environments([first, second])
    assert caught.value.problems == [
        f"{second}: environment: 'dev' is already defined by {first}; each environment needs "
        "its own name (it names the stack and every resource)"]


def test_an_environment_named_after_another_plus_a_suffix_is_refused_in_one_account(tmp_path):
    """The deploy roles are granted their environment's resources by name prefix
    (`webplat-dev-*`, lib/delivery/policies.py): `dev-eu` beside `dev` in one account would put
    dev-eu's resources in reach of dev's role. Another account (or project) is fine."""
    dev = write(tmp_path, 'environment = "dev"\n' + MINIMAL, "dev.toml")
    eu = write(tmp_path, 'environment = "dev-eu"\nprofile = "dev"\n' + MINIMAL, "dev-eu.toml")
    with pytest.raises(ConfigError) as caught:
        load_environments([dev, eu])
    [line] = caught.value.problems
    assert line.startswith(f"{eu}: environment: 'dev-eu' starts with 'dev-', the environment "
                           f"of {dev} in the same account")
    elsewhere = write(tmp_path, 'environment = "dev-eu"\nprofile = "dev"\n' + MINIMAL.replace(
        "123456789012", "210987654321"), "dev-eu-other.toml")
    assert len(load_environments([dev, elsewhere])) == 2
    devops = write(tmp_path, 'environment = "devops"\nprofile = "dev"\n' + MINIMAL,
                   "devops.toml")
    assert len(load_environments([dev, devops])) == 2  # 'webplat-dev-*' misses webplat-devops-


def test_every_problem_of_a_file_is_reported_on_its_own_line(tmp_path):
    text = MINIMAL.replace("us-east-1", "mars-1") + "az_count = 9\n"
    found = problems(write(tmp_path, text))
    assert [line.split(": ")[1] for line in found] == ["region", "network.az_count"]


def test_single_nat_in_prod_with_the_opt_in_loads(tmp_path):
    text = MINIMAL + 'nat = "single"\nallow_single_nat_in_prod = true\n'
    assert load_environment(write(tmp_path, text, "prod.toml")).network.nat == "single"


def test_one_az_cannot_host_the_database(tmp_path):
    found = problems(write(tmp_path, MINIMAL + "az_count = 1\n"))
    assert found == [f"{tmp_path / 'dev.toml'}: network.az_count: 1 AZ cannot host the database: "
                     "an RDS subnet group spans at least 2 AZs (set az_count = 2 or more)"]


def test_data_layer_defaults_per_profile(tmp_path):
    dev = load_environment(write(tmp_path, MINIMAL, "dev.toml"))
    prod = load_environment(write(tmp_path, MINIMAL, "prod.toml"))
    assert (dev.database.deletion_protection, dev.database.final_snapshot) == (False, False)
    assert (prod.database.deletion_protection, prod.database.final_snapshot) == (True, True)
    assert (dev.cache.failover, prod.cache.failover) == (False, True)
    assert (dev.cache.final_snapshot, prod.cache.final_snapshot) == (False, True)
    assert dev.database.storage_ceiling_gb == 100


ACCOUNT = """\
project = "shop"
account_id = "123456789012"
region = "us-east-1"
"""


@pytest.mark.parametrize("text, field, words", [
    (ACCOUNT + '[github]\nrepository = "acme/*"\n', "github.repository",
     "does not name exactly one repository"),
    (ACCOUNT + '[github]\nrepository = "*"\n', "github.repository",
     "no wildcards: the deploy role must not trust any other repository"),
    (ACCOUNT + '[github]\nrepository = "acme/shop"\nbrnach = "main"\n', "github.brnach",
     "did you mean 'branch'"),
    (ACCOUNT.replace('account_id = "123456789012"\n', ""), "account_id",
     "required field is missing"),
])
def test_bad_account_file_gets_one_clear_line(tmp_path, text, field, words):
    from lib.config import load_account

    path = write(tmp_path, text, "account.toml")
    with pytest.raises(ConfigError) as caught:
        load_account(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}: {field}: ") and words in line, line


def test_the_account_file_is_not_an_environment():
    from lib.config import config_paths, load_account

    assert "account.toml" not in [p.name for p in config_paths()]
    account = load_account()
    assert (account.state_bucket, account.lock_table) == ("webplat-tfstate-123456789012",
                                                          "webplat-tflock")


@pytest.mark.parametrize("expression", [
    "cron(0/15 8-18 ? * MON-FRI *)", "cron(0 12 L * ? 2030-2040)", "cron(0 9 ? JAN,JUL 2#1 *)",
    "cron(30 2 15W */2 ? *)", "cron(0 3 LW * ? *)", "cron(0 0 ? * 6L *)", "cron(0 0 ? * FRI#3 *)",
    "rate(1 minute)", "rate(5 minutes)", "rate(1 day)", "rate(12 hours)",
])
def test_valid_schedule_expressions_load(tmp_path, expression):
    text = MINIMAL + f'[[schedules]]\nname = "job"\nexpression = "{expression}"\n' \
        'target = "function:worker"\n'
    assert load_environment(write(tmp_path, text)).schedules[0].expression == expression


def test_a_worker_within_its_queues_visibility_timeout_loads(tmp_path):
    text = MINIMAL.replace("[network]", "[api]\nworker_timeout_seconds = 300\n\n"
                           "[[messaging.queues]]\nname = \"processing\"\n"
                           "visibility_timeout_seconds = 300\n\n[network]")
    assert load_environment(write(tmp_path, text)).api.worker_timeout_seconds == 300


def test_own_queues_without_the_default_one_keep_the_default_web_services_alone(tmp_path):
    c = load_environment(write(tmp_path, MINIMAL.replace("[network]", '[api]\nworker_queue = '
                                                         '"jobs"\n\n[network]')
                               + '[[messaging.queues]]\nname = "jobs"\n'))
    assert [s.name for s in c.services] == ["frontend", "backend"]
    assert all(s.sends_to == [] and s.queue is None for s in c.services)
