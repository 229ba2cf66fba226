"""The checks that hold for any valid config: what tests/test_config_dir.py runs over config/ and
tests/test_adopt.py over every preset adopted into a scratch config/. Nothing here knows what the
shipped files say; the product's own tests (every other test module) never read config/.

Each check returns problems, one line each, naming the stack: the test asserts there are none.
"""

import json
import re
from pathlib import Path

import policy_documents as pd
from checkov_scan import scan, verdict
from conftest import SynthStack, require_tool, run, synthesize
from contracts import graphs, run as run_rule
from delivery_rules import RULES as DELIVERY_RULES
from lib.analysis.cost import estimate
from lib.analysis.cost_report import Row
from lib.analysis.pricing import load_prices
from lib.config import config_files, load_account, load_environment, load_environments
from lib.config.loader import is_account_file
from reachability import checks as reachability_checks
from test_contracts_limits import check as name_check
from test_contracts_ordering import RULES as ORDERING_RULES
from test_secrets import find_secrets

PLANNED: dict[str, int] = {}  # resources to add, by stack label: printed by conftest's summary
OFFLINE = {"AWS_ACCESS_KEY_ID": "placeholder", "AWS_SECRET_ACCESS_KEY": "placeholder",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1"}


def synthesize_dir(directory: Path, outdir: Path, target: str = "aws"
                   ) -> tuple[dict[str, SynthStack], dict[str, Path]]:
    """({stack name: stack}, {stack name: the file it is built from}) of every stack of the
    directory: its environments and the bootstrap stack of each account file."""
    environments, accounts = config_files(directory)
    stacks = synthesize(outdir, environments, target=target, account=accounts)
    built_from = {load_account(p).stack_name: p for p in accounts}
    built_from |= {load_environment(p).stack_name: p for p in environments}
    return stacks, built_from


def rule_problems(stacks: dict[str, SynthStack]) -> list[str]:
    """The contract rules: policy documents (R1 principals, R2 TLS, R3 wildcards), what waits
    for what, service deliveries, reachability, AWS's name limits, and no literal secret."""
    problems = []
    every_graph = graphs(stacks)
    for rule in pd.RULES:
        problems += pd.run(rule, every_graph).problems
    for rule in (*ORDERING_RULES, *DELIVERY_RULES):
        problems += run_rule(rule, every_graph).problems
    for label, stack in stacks.items():
        problems += [f"{label}: {c.subject}: {c.problem}"
                     for c in reachability_checks(stack.json) if c.problem]
        problems += name_check(stack)[1]
        problems += [f"{label}: {hit}" for hit in find_secrets(stack.json)]
    return problems


def over_budget(stacks: dict[str, SynthStack], built_from: dict[str, Path]) -> list[str]:
    """Each environment's monthly estimate (`make cost`) within its cost.monthly_budget_usd."""
    prices = load_prices()
    problems = []
    for config in load_environments([p for p in built_from.values() if not is_account_file(p)]):
        row = Row(config.stack_name, estimate(config.stack_name,
                                              stacks[config.stack_name].json, prices).total,
                  config.cost.monthly_budget_usd)  # make cost's own comparison
        if row.over_by_usd is not None:
            problems.append(f"{config.source}: cost.monthly_budget_usd: the estimate is "
                            f"${row.monthly_usd:,.2f} a month, over the ${row.budget_usd:,.2f} "
                            f"budget (`make cost` itemizes it)")
    return problems


def plan_problems(stack_dir: Path, label: str) -> list[str]:
    """An offline `terraform plan` (synthesized with the offline target) that plans every
    synthesized resource. No separate `terraform validate`: plan validates the configuration
    first and fails on what validate would (an unknown argument, a missing one, a bad
    reference), and a validate run would load the provider's schema once more per stack."""
    terraform = require_tool("terraform")
    for step in (["init", "-input=false"], ["plan", "-input=false", "-lock=false"]):
        result = run([terraform, *step, "-no-color"], cwd=stack_dir, timeout=600, **OFFLINE)
        if result.returncode != 0:
            return [f"{label}: terraform {step[0]}: "
                    f"{(result.stdout + result.stderr)[-3000:]}"]
    summary = re.search(r"Plan: (\d+) to add, 0 to change, 0 to destroy\.", result.stdout)
    resources = sum(len(bodies) for bodies in
                    json.loads((stack_dir / "cdk.tf.json").read_text())["resource"].values())
    if not summary or int(summary.group(1)) != resources:
        return [f"{label}: the plan does not add the {resources} resources synthesized: "
                f"{result.stdout[-2000:]}"]
    PLANNED[label] = resources
    return []


def unexplained_findings(stacks: dict[str, SynthStack], built_from: dict[str, Path]) -> list[str]:
    """Checkov's findings that no waiver of policy/checkov-skips.toml explains for the stack's
    profile and settings (a waiver that explains nothing here is not a problem: that is judged
    over the project's own stacks, tests/test_policy.py)."""
    return verdict(stacks, built_from, scan(stacks)).unexplained
