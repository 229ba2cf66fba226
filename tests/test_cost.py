"""The cost estimate (lib/analysis/, tools/cost.py): exact dollars on hand-computed cases, nothing
silently dropped, the shipped stacks fully priced, the dev and lean budgets kept, and the totals
the docs state equal to what it prints."""

import json
import re
import subprocess
import sys
from datetime import date

import pytest

from conftest import MINIMAL_CONFIG, PRESET_FILES, ROOT, SAMPLE, synthesize
from lib.config import load_environment
from lib.analysis.cost import estimate, split_tasks
from lib.analysis.cost_report import as_json, as_table
from lib.analysis.pricing import Prices, load_prices
from tools import cost as cost_tool

# A small price table with round numbers, so every expected dollar below is checkable by hand.
PRICES = Prices({
    "hours_per_month": 100, "currency": "USD", "region": "test", "as_of": "2026-01-01",
    "source": "test",
    "vpc": {"nat_gateway_hour": 0.05, "nat_gateway_gb": 0.1},
    "ec2": {"public_ipv4_hour": 0.01},
    "rds": {"gp3_gb_month": 0.1, "instance_hour": {"db.t4g.micro": 0.02}},
    "secretsmanager": {"secret_month": 0.5},
    "fargate": {"arm64_vcpu_hour": 0.04, "arm64_gb_hour": 0.004, "spot_discount": 0.5},
    "kms": {"key_month": 1.0},
    "usage": {"nat_gb_processed": 10, "task_minutes_per_month": 30},
})
REF = "${{{}.{}.{}}}"
SMALL_STACK = {"resource": {
    "aws_vpc": {"vpc": {"cidr_block": "10.0.0.0/16"}},
    "aws_nat_gateway": {"nat": {"allocation_id": REF.format("aws_eip", "ip", "id")}},
    "aws_eip": {"ip": {"domain": "vpc"}},
    "aws_db_instance": {"db": {"instance_class": "db.t4g.micro", "multi_az": True,
                               "allocated_storage": 20, "storage_type": "gp3",
                               "manage_master_user_password": True}},
    "aws_ecs_task_definition": {"task": {"cpu": "256", "memory": "512",
                                         "requires_compatibilities": ["FARGATE"],
                                         "runtime_platform": {"cpu_architecture": "ARM64"}}},
    "aws_ecs_service": {"svc": {
        "name": "api", "desired_count": 2,
        "task_definition": REF.format("aws_ecs_task_definition", "task", "arn"),
        "capacity_provider_strategy": [
            {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
            {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}]}},
    "aws_kms_key": {"key": {"enable_key_rotation": True}},
    "aws_sqs_queue": {"queue": {"name": "jobs"}},
    "aws_made_up_thing": {"x": {}, "y": {}},
    "aws_lb_target_group": {"off": {"count": 0}},
}}


def test_a_small_stack_costs_exactly_what_it_costs_by_hand():
    result = estimate("small", SMALL_STACK, PRICES)
    lines = {i.item: i.monthly_usd for i in result.items}
    assert lines["NAT gateway"] == 5.00  # 100 h x $0.05
    assert lines["NAT gateway data processing"] == 1.00  # 10 GB x $0.10
    assert lines["Public IPv4 address (Elastic IP)"] == 1.00  # 100 h x $0.01
    # Multi-AZ doubles instance and storage: 2 x 100 h x $0.02, 2 x 20 GB x $0.10
    assert lines["RDS PostgreSQL db.t4g.micro instance (Multi-AZ: primary + standby)"] == 4.00
    assert lines["RDS gp3 storage (Multi-AZ)"] == 4.00
    assert lines["Secrets Manager secret (RDS-managed master password)"] == 0.50
    # A task: (0.25 vCPU x $0.04 + 0.5 GB x $0.004) x 100 h = $1.20. Two tasks, base 1 on
    # FARGATE, the other split 1:1: 1.5 on-demand ($1.80) and 0.5 Spot at half price ($0.30).
    assert lines["Fargate task api (0.25 vCPU / 0.5 GB arm64)"] == 1.80
    assert lines["Fargate Spot task api (0.25 vCPU / 0.5 GB arm64)"] == 0.30
    assert lines["KMS customer managed key"] == 1.00
    assert lines["SQS queue (1M requests a month are free)"] == 0.00
    assert result.total == 18.60
    assert dict(result.not_priced) == {"aws_made_up_thing": 2}  # reported, never dropped


def test_a_size_without_a_price_is_reported_not_guessed():
    stack = {"resource": {"aws_db_instance": {"db": {"instance_class": "db.x9.huge",
                                                     "allocated_storage": 20,
                                                     "storage_type": "gp3"}}}}
    result = estimate("s", stack, PRICES)
    assert result.not_priced == {"RDS PostgreSQL db.x9.huge instance": 1}
    assert result.total == 2.00  # the storage is still priced


def test_a_read_replica_is_priced_with_its_primarys_storage():
    """The replica's JSON has no storage_type or allocated_storage: RDS copies the primary's."""
    stack = {"resource": {"aws_db_instance": {
        "primary": {"instance_class": "db.t4g.micro", "multi_az": True,
                    "allocated_storage": 50, "storage_type": "gp3"},
        "replica": {"instance_class": "db.t4g.micro",
                    "replicate_source_db": REF.format("aws_db_instance", "primary", "identifier")},
    }}}
    result = estimate("s", stack, PRICES)
    lines = {i.item: (i.quantity, i.monthly_usd) for i in result.items}
    assert lines["RDS PostgreSQL db.t4g.micro read replica"] == (1, 2.00)  # 100 h x $0.02
    assert lines["RDS gp3 storage (read replica)"] == (50, 5.00)  # 50 GB x $0.10, single-AZ
    assert lines["RDS gp3 storage (Multi-AZ)"] == (100, 10.00)  # the primary: 2 x 50 GB
    assert result.total == 21.00  # + the primary's instance, 2 x 100 h x $0.02
    assert result.not_priced == {}


def test_a_read_replica_of_a_primary_elsewhere_reports_its_storage_as_not_priced():
    stack = {"resource": {"aws_db_instance": {"replica": {
        "instance_class": "db.t4g.micro",
        "replicate_source_db": "arn:aws:rds:eu-west-1:123456789012:db:primary"}}}}
    result = estimate("s", stack, PRICES)
    assert result.not_priced == {
        "RDS storage of a read replica whose primary is not in this stack": 1}
    assert result.total == 2.00  # the replica instance only, never "0 GB of gp2"


EC2_PRICES = Prices(PRICES.table | {"ec2": {
    "public_ipv4_hour": 0.01, "ebs_gp3_gb_month": 0.1,
    "instance_hour": {"t4g.small": 0.02}, "instance_size": {"t4g.small": [2, 2]}}})


def _ec2_capacity_stack(min_size: int, max_size: int) -> dict:
    """web: 3 tasks of 1 vCPU / 2 GB, all on the EC2 capacity provider. api: 3 tasks of 0.25 vCPU
    / 0.5 GB, base 1 on FARGATE and the rest 1:1 between FARGATE and EC2, so 1 task on EC2."""
    provider = REF.format("aws_ecs_capacity_provider", "ec2", "name")
    return {"resource": {
        "aws_launch_template": {"lt": {"instance_type": "t4g.small", "block_device_mappings": [
            {"device_name": "/dev/xvda", "ebs": {"volume_size": 10}}]}},
        "aws_autoscaling_group": {"asg": {
            "min_size": min_size, "max_size": max_size,
            "launch_template": {"id": REF.format("aws_launch_template", "lt", "id")}}},
        "aws_ecs_capacity_provider": {"ec2": {"name": "x-ec2", "auto_scaling_group_provider": {
            "auto_scaling_group_arn": REF.format("aws_autoscaling_group", "asg", "arn")}}},
        "aws_ecs_task_definition": {
            "web": {"cpu": "1024", "memory": "2048", "requires_compatibilities": ["EC2"]},
            "api": {"cpu": "256", "memory": "512", "requires_compatibilities": ["FARGATE", "EC2"],
                    "runtime_platform": {"cpu_architecture": "ARM64"}}},
        "aws_ecs_service": {
            "web": {"name": "web", "desired_count": 3,
                    "task_definition": REF.format("aws_ecs_task_definition", "web", "arn"),
                    "capacity_provider_strategy": [
                        {"capacity_provider": provider, "base": 0, "weight": 1}]},
            "api": {"name": "api", "desired_count": 3,
                    "task_definition": REF.format("aws_ecs_task_definition", "api", "arn"),
                    "capacity_provider_strategy": [
                        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                        {"capacity_provider": provider, "base": 0, "weight": 1}]}},
    }}


@pytest.mark.parametrize("min_size, max_size, instances", [
    (0, 5, 4),  # what the tasks need: memory decides, 6.5 GB on 2 GB instances
    (0, 3, 3),  # never more than the group's maximum
    (5, 6, 5),  # never fewer than its minimum
])
def test_ec2_capacity_is_priced_at_what_its_tasks_need(min_size, max_size, instances):
    result = estimate("s", _ec2_capacity_stack(min_size, max_size), EC2_PRICES)
    lines = {i.item: i for i in result.items}
    line = lines["EC2 capacity instance t4g.small"]
    # on EC2: web 3 x (1 vCPU, 2 GB) + api 1 x (0.25 vCPU, 0.5 GB) = 3.25 vCPU, 6.5 GB
    assert line.assumption == ("4 ECS tasks (3.25 vCPU, 6.5 GB in all) need 4 of 2 vCPU / 2 GB; "
                               f"ASG min {min_size}, max {max_size}")
    assert (line.quantity, line.monthly_usd) == (instances, instances * 2.00)  # 100 h x $0.02
    assert lines["EBS gp3 volume"].monthly_usd == instances * 1.00  # 10 GB x $0.10 each
    # api's 2 tasks on FARGATE: 2 x (0.25 x $0.04 + 0.5 x $0.004) x 100 h
    assert lines["Fargate task api (0.25 vCPU / 0.5 GB arm64)"].monthly_usd == 2.40
    assert result.total == instances * 3.00 + 2.40


def test_ec2_capacity_without_tasks_is_priced_at_its_minimum():
    stack = _ec2_capacity_stack(1, 2)
    del stack["resource"]["aws_ecs_service"]
    line = next(i for i in estimate("s", stack, EC2_PRICES).items
                if i.item == "EC2 capacity instance t4g.small")
    assert (line.quantity, line.monthly_usd) == (1, 2.00)
    assert line.assumption == "ASG minimum 1; no ECS tasks placed on it"


def test_every_priced_instance_type_has_a_size_to_place_tasks_on():
    ec2 = load_prices()["ec2"]
    assert set(ec2["instance_hour"]) == set(ec2["instance_size"])


@pytest.mark.parametrize("tasks, strategy, expected", [
    (1, [("FARGATE_SPOT", 0, 1)], {"FARGATE_SPOT": 1}),
    (1, [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 1)], {"FARGATE": 1, "FARGATE_SPOT": 0}),
    (5, [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 3)], {"FARGATE": 2, "FARGATE_SPOT": 3}),
])
def test_tasks_are_placed_like_ecs_places_them(tasks, strategy, expected):
    strategy = [{"capacity_provider": p, "base": b, "weight": w} for p, b, w in strategy]
    assert split_tasks(tasks, strategy) == expected


def test_the_price_file_is_dated_and_names_its_source():
    table = load_prices().table
    assert date.fromisoformat(table["as_of"]) <= date.today()
    assert "pricing" in table["source"] and table["region"] == "us-east-1"


def test_every_resource_in_the_shipped_stacks_is_priced_or_known_free(stacks, bootstrap):
    """A new construct must say what it costs: its type goes into a pricer or FREE_TYPES."""
    prices = load_prices()
    for stack in [*stacks.values(), bootstrap]:
        assert estimate(stack.name, stack.json, prices).not_priced == {}, stack.name


@pytest.fixture(scope="module")
def lean(tmp_path_factory):
    out = tmp_path_factory.mktemp("lean")
    return synthesize(out, [ROOT / "examples" / "lean.toml"])["lean-stack"]


def test_dev_and_lean_stay_within_their_budgets_and_prod_keeps_its_ha(stacks, lean):
    prices = load_prices()
    dev = estimate("dev-stack", stacks["dev-stack"].json, prices)
    lean_estimate = estimate("lean-stack", lean.json, prices)
    prod = {i.item: i for i in estimate("prod-stack", stacks["prod-stack"].json, prices).items}
    print(f"dev-stack ${dev.total:.2f}, lean-stack ${lean_estimate.total:.2f} a month")
    budgets = {env: load_environment(path).cost.monthly_budget_usd for env, path in
               [("dev", SAMPLE / "dev.toml"), ("lean", ROOT / "examples" / "lean.toml")]}
    assert budgets == {"dev": 80, "lean": 30}  # the issues' targets, declared in the files
    assert dev.total <= budgets["dev"]
    assert lean_estimate.total <= budgets["lean"]
    # dev got cheap without losing a feature: still an ALB, both services, RDS, Redis, queues,
    # alarms; egress through one NAT instance instead of a NAT gateway.
    dev_items = {i.item for i in dev.items}
    assert {"Application Load Balancer", "NAT instance t4g.nano",
            "RDS PostgreSQL db.t4g.micro instance", "ElastiCache Redis cache.t4g.micro node",
            "CloudWatch alarm", "SQS queue (1M requests a month are free)"} <= dev_items
    assert sum("Fargate Spot task" in item for item in dev_items) == 2
    assert not any(item.startswith("NAT gateway") for item in dev_items)
    lean_items = {i.item: i for i in lean_estimate.items}
    assert not any(i.startswith(("NAT", "Application Load Balancer", "Fargate", "App Runner"))
                   for i in lean_items)
    # $0 compute at idle: the function is priced per request and GB-second, and says how many.
    [function] = [i for i in lean_items.values() if i.item.startswith("Lambda webplat-lean-api")]
    assert "requests of 200 ms a month" in function.assumption and function.monthly_usd < 1
    assert prod["NAT gateway"].quantity == 3
    assert "Multi-AZ" in next(i for i in prod if i.startswith("RDS PostgreSQL"))
    assert prod["ElastiCache Redis cache.t4g.medium node"].quantity == 3


def test_the_command_prints_a_table_and_json_for_ci(synth_dir):
    command = [sys.executable, str(ROOT / "tools" / "cost.py"), "--stacks", str(synth_dir)]
    table = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert table.returncode == 0, table.stderr
    assert re.search(r"^dev-stack: \$\d+\.\d\d a month", table.stdout, re.M)
    # Stacks already synthesized keep their environments' budgets; the bootstrap stack has none.
    dev_budget = load_environment(SAMPLE / "dev.toml").cost.monthly_budget_usd
    assert re.search(rf"^dev-stack +\$\d+\.\d\d +\${dev_budget:.2f} +ok$", table.stdout, re.M)
    assert re.search(r"^bootstrap-stack +\$\d+\.\d\d +- +no budget$", table.stdout, re.M)
    assert "Usage assumed" in table.stdout and "as of" in table.stdout
    report = json.loads(subprocess.run(command + ["--json"], capture_output=True, text=True,
                                       cwd=ROOT, timeout=60, check=True).stdout)
    assert set(report["stacks"]) == {"bootstrap-stack", "dev-stack", "staging-stack",
                                     "prod-stack"}
    dev = report["stacks"]["dev-stack"]
    assert dev["monthly_usd"] == round(sum(i["monthly_usd"] for i in dev["items"]), 2)
    assert report["prices_as_of"] and report["usage_assumptions"]["alb_lcu"] > 0


def test_the_command_fails_when_dev_goes_over_budget(tmp_path, capsys):
    expensive = load_prices().table | {"hours_per_month": 7300}  # ten times every hourly price
    prices = tmp_path / "expensive.toml"
    prices.write_text(_toml(expensive))
    assert cost_tool.main([str(SAMPLE / "dev.toml"), "--prices", str(prices)]) == 1
    printed = capsys.readouterr()
    assert "over budget: tests/fixtures/sample/dev" in printed.err
    assert re.search(r"^tests/fixtures/sample/dev +\$[\d,]+\.\d\d +\$80\.00 +OVER by "
                     r"\$[\d,]+\.\d\d$", printed.out, re.M)


def test_one_file_is_priced_alone_with_its_profiles_budget(tmp_path, capsys):
    """`make cost CONFIG=FILE` runs `tools/cost.py FILE`: that file's stack only, no bootstrap
    and no presets. The file states no budget: its profile's (lean, $30) is checked anyway, as
    it is when a preset replaces a file that stated one."""
    config = tmp_path / "lean.toml"
    config.write_text('profile = "lean"\n' + MINIMAL_CONFIG)
    assert cost_tool.main([str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    [row] = report["summary"]
    assert (row["stack"], row["budget_usd"], row["verdict"]) == ("lean", 30, "ok")
    assert list(report["stacks"]) == ["lean"]
    assert row["monthly_usd"] == report["stacks"]["lean"]["monthly_usd"] <= 30


# --- the summary `make cost` opens with ---------------------------------------------------------

def _summary_lines(table: str) -> list[str]:
    """The lines between the heading and the first stack's detail."""
    return table.split("\n\n")[1].splitlines()


def test_the_summary_has_a_row_per_stack_with_its_total_budget_and_verdict():
    # SMALL_STACK costs $18.60 at PRICES: within a $20 budget, $8.60 over a $10 one.
    estimates = [estimate(name, SMALL_STACK, PRICES) for name in ("within", "over", "bootstrap")]
    budgets = {"within": 20, "over": 10}
    table = as_table(estimates, PRICES, budgets)
    assert _summary_lines(table) == [
        "stack      monthly  budget  verdict",
        "within      $18.60  $20.00  ok",
        "over        $18.60  $10.00  OVER by $8.60",
        "bootstrap   $18.60       -  no budget",
    ]
    # the detail that follows states the same totals and verdicts
    assert [line for line in table.splitlines() if " a month  (" in line] == [
        "within: $18.60 a month  (budget $20.00: ok)",
        "over: $18.60 a month  (budget $10.00: OVER by $8.60)",
        "bootstrap: $18.60 a month  (no budget)",
    ]
    summary = as_json(estimates, PRICES, budgets)["summary"]
    assert [(r["stack"], r["budget_usd"], r["over_by_usd"], r["verdict"]) for r in summary] == [
        ("within", 20, None, "ok"), ("over", 10, 8.60, "OVER by $8.60"),
        ("bootstrap", None, None, "no budget")]


def test_a_stack_exactly_at_its_budget_is_within_it():
    [row] = as_json([estimate("s", SMALL_STACK, PRICES)], PRICES, {"s": 18.60})["summary"]
    assert (row["over_by_usd"], row["verdict"]) == (None, "ok")


def test_the_summary_totals_are_the_details_totals(synth_dir):
    command = [sys.executable, str(ROOT / "tools" / "cost.py"), "--stacks", str(synth_dir)]
    table = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60,
                           check=True).stdout
    rows = {line.split()[0]: line.split()[1] for line in _summary_lines(table)[1:]}
    details = dict(re.findall(r"^(\S+): (\$[\d,]+\.\d\d) a month", table, re.M))
    assert rows == details
    assert set(rows) == {"bootstrap-stack", "dev-stack", "staging-stack", "prod-stack"}


# --- every environment has a budget -------------------------------------------------------------

@pytest.mark.parametrize("profile, budget", [
    ("dev", 80), ("lean", 30),  # the product's targets
    ("staging", 350), ("prod", 650),  # the shipped estimates with headroom (profiles.py)
])
def test_a_file_without_a_budget_gets_its_profiles(tmp_path, profile, budget):
    config = tmp_path / "qa.toml"
    config.write_text(f'profile = "{profile}"\n{MINIMAL_CONFIG}')
    if profile == "prod":  # prod needs a domain and https callbacks
        config.write_text(config.read_text() + '[ingress]\ndomain = "shop.example.com"\n'
                          'hosted_zone_id = "Z0123456789EXAMPLE"\n[auth]\n'
                          'callback_urls = ["https://shop.example.com/cb"]\n')
    assert load_environment(config).cost.monthly_budget_usd == budget


def test_every_shipped_stack_and_preset_is_within_its_budget(totals):
    """`make cost` exits 1 otherwise: a preset that costs more than its profile's budget states
    its own (examples/*.toml, [cost])."""
    files = {**{f"{env}-stack": SAMPLE / f"{env}.toml"
                for env in ("dev", "staging", "prod")},
             **{f"examples/{p.stem}": p for p in PRESET_FILES}}
    over = {label: (totals[label], load_environment(path).cost.monthly_budget_usd)
            for label, path in files.items()
            if totals[label] > load_environment(path).cost.monthly_budget_usd}
    assert not over, over


# Where the docs state a stack's total: a Markdown table row whose first cell is the stack's
# `make cost` label (`dev-stack`, `examples/lean`; backticks optional) and whose second cell
# starts with the dollars, e.g. "| dev-stack | $76.75 (budget $80) | ..." in README.md. Totals
# written anywhere else are not checked, so the docs state them only there.
STATED_TOTAL = re.compile(r"^\|\s*`?([a-z0-9][a-z0-9./-]*)`?\s*\|\s*\**\$(\d[\d,]*\.\d\d)\b",
                          re.M)


@pytest.fixture(scope="module")
def totals(stacks, bootstrap, presets) -> dict[str, float]:
    """{label as tools/cost.py prints it: total}, for every stack and preset."""
    prices = load_prices()
    documents = {**{name: s.json for name, s in stacks.items()}, bootstrap.name: bootstrap.json,
                 **{f"examples/{name}": s.json for name, s in presets.items()}}
    return {label: estimate(label, document, prices).total
            for label, document in documents.items()}


@pytest.mark.parametrize("doc, must_state", [
    ("examples/README.md", "examples/"),  # every preset
    ("README.md", "-stack"),  # every stack of config/ and the bootstrap stack
])
def test_the_totals_in_the_docs_are_what_make_cost_prints(doc, must_state, totals):
    """Fails when a change moves a total (a new service, a price) until the doc states the new
    figure: the fix is to copy it from `bin/run python tools/cost.py`."""
    stated = STATED_TOTAL.findall((ROOT / doc).read_text(encoding="utf-8"))
    wrong = [f"{label}: {doc} says ${dollars}, make cost ${totals[label]:.2f}"
             if label in totals else f"{label}: {doc} names a stack make cost does not print"
             for label, dollars in stated
             if label not in totals or dollars.replace(",", "") != f"{totals[label]:.2f}"]
    missing = sorted(label for label in totals if must_state in label
                     and label not in {label for label, _ in stated})
    assert not wrong and not missing, "\n".join(wrong + [f"{label}: no total in {doc}"
                                                      for label in missing])


def _toml(table: dict, prefix: str = "") -> str:
    """Just enough TOML writing for the price file (tables of numbers and strings)."""
    scalars = [f'"{k}" = {json.dumps(v)}' for k, v in table.items() if not isinstance(v, dict)]
    out = ([f"[{prefix}]"] if prefix else []) + scalars
    for k, v in table.items():
        if isinstance(v, dict):
            out.append(_toml(v, f"{prefix}.{k}" if prefix else k))
    return "\n".join(out) + "\n"
