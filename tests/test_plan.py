"""`terraform plan` of every stack with placeholder credentials and no network: the provider's skip
flags (PLATFORM_TARGET=offline) make it look nothing up. Prints the resources to add per stack."""

import json
import re

import pytest

from conftest import ENVIRONMENTS, ROOT, require_tool, run, synthesize

pytestmark = pytest.mark.slow
PLANNED: dict[str, int] = {}  # printed by conftest's terminal summary
OFFLINE = {"AWS_ACCESS_KEY_ID": "placeholder", "AWS_SECRET_ACCESS_KEY": "placeholder",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def offline_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("offline.out")
    synthesize(out, [ROOT / "config" / f"{env}.toml" for env in ENVIRONMENTS], target="offline",
               account=ROOT / "config" / "account.toml")
    return out / "stacks"


@pytest.mark.parametrize("stack", ["bootstrap-stack", "dev-stack", "staging-stack",
                                   "prod-stack"])
def test_offline_plan(offline_dir, stack):
    terraform = require_tool("terraform")
    directory = offline_dir / stack
    init = run([terraform, "init", "-input=false", "-no-color"], cwd=directory, **OFFLINE)
    assert init.returncode == 0, init.stdout + init.stderr
    plan = run([terraform, "plan", "-input=false", "-lock=false", "-no-color"], cwd=directory,
               timeout=600, **OFFLINE)
    assert plan.returncode == 0, (plan.stdout + plan.stderr)[-4000:]
    summary = re.search(r"Plan: (\d+) to add, 0 to change, 0 to destroy\.", plan.stdout)
    assert summary, plan.stdout[-3000:]
    resources = sum(len(bodies) for bodies in
                    json.loads((directory / "cdk.tf.json").read_text())["resource"].values())
    assert int(summary.group(1)) == resources  # every synthesized resource is planned
    PLANNED[stack] = resources


EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.toml"))


@pytest.mark.parametrize("preset", EXAMPLES)
def test_every_preset_validates_and_plans_offline(tmp_path, preset):
    """Each seed preset is green through validate and plan (its remote backend, if any, is
    replaced by local state for the offline target)."""
    terraform = require_tool("terraform")
    [directory] = synthesize(tmp_path, [ROOT / "examples" / f"{preset}.toml"],
                             target="offline").values()
    directory = directory.directory
    init = run([terraform, "init", "-input=false", "-no-color"], cwd=directory, **OFFLINE)
    assert init.returncode == 0, init.stdout + init.stderr
    validate = run([terraform, "validate", "-no-color"], cwd=directory, **OFFLINE)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    plan = run([terraform, "plan", "-input=false", "-lock=false", "-no-color"], cwd=directory,
               timeout=600, **OFFLINE)
    assert plan.returncode == 0, (plan.stdout + plan.stderr)[-4000:]
    summary = re.search(r"Plan: (\d+) to add, 0 to change, 0 to destroy\.", plan.stdout)
    assert summary, plan.stdout[-3000:]
    resources = sum(len(bodies) for bodies in
                    json.loads((directory / "cdk.tf.json").read_text())["resource"].values())
    assert int(summary.group(1)) == resources
    PLANNED[f"examples/{preset}"] = resources
