"""Terraform itself accepts what we synthesize, and the project-local cdktf CLI drives it.

These run the real tools (terraform 1.5+, the hashicorp/aws provider from the project's Terraform
CLI config, the cdktf CLI under the project's Node.js). Under CI=true a missing tool is a failure.
"""

import re

import pytest

from conftest import ROOT, SAMPLE, require_tool, run, synthesize

pytestmark = pytest.mark.slow
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


FIXTURES = sorted((ROOT / "tests" / "fixtures").glob("*.toml"))


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    """The test fixtures (every switch the shipped environments leave off), synthesized."""
    out = tmp_path_factory.mktemp("fixtures-out")
    synthesize(out, FIXTURES)
    return out


def validate(directory):
    terraform = require_tool("terraform")
    init = run([terraform, "init", "-input=false", "-backend=false", "-no-color"], cwd=directory)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Unable to open CLI configuration" not in init.stdout + init.stderr
    result = run([terraform, "validate", "-no-color"], cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success! The configuration is valid." in result.stdout


@pytest.mark.parametrize("stack", ["dev-stack", "staging-stack", "prod-stack"])
def test_terraform_validate(synth_dir, stack):
    validate(synth_dir / "stacks" / stack)


@pytest.mark.parametrize("stack", ["full-stack", "lean-stack", "vpn-stack"])
def test_terraform_validate_with_every_switch_on(fixture_dir, stack):
    validate(fixture_dir / "stacks" / stack)


def test_terraform_validate_bootstrap(bootstrap_dir):
    validate(bootstrap_dir)


def test_cdktf_diff_plans_the_dev_stack_offline(tmp_path):
    """`cdktf diff dev-stack` end to end (synth, init, plan) with no AWS account or network."""
    require_tool("cdktf")
    require_tool("terraform")
    result = run(["cdktf", "diff", "dev-stack", "--output", str(tmp_path / "out")], cwd=ROOT,
                 timeout=600, PLATFORM_CONFIG=str(SAMPLE / "dev.toml"),
                 PLATFORM_TARGET="offline", AWS_ACCESS_KEY_ID="placeholder",
                 AWS_SECRET_ACCESS_KEY="placeholder", AWS_EC2_METADATA_DISABLED="true")
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    plan = re.search(r"Plan: (\d+) to add, 0 to change, 0 to destroy", output)
    assert plan, output[-3000:]
    assert int(plan.group(1)) >= 30
    assert "end-of-life" not in output.lower() and "Warning: Unable to open" not in output


def test_a_second_working_directory_reuses_the_provider_cache_without_rewriting_it(tmp_path):
    """Two inits with no lock file (every cdktf.out stack has none): the second must link the
    cached provider, not install it again. Since Terraform 1.4 an entry the lock file does not
    list is reinstalled, rewriting the shared binary while a parallel run may be starting it
    ("Failed to load plugin schemas"; hashicorp/terraform#32129, "Provider Plugin Cache" in the
    CLI configuration docs); `plugin_cache_may_break_dependency_lock_file` turns that off."""
    terraform = require_tool("terraform")
    required = '{"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", ' \
               '"version": "5.100.0"}}}}'
    outputs = []
    for name in ("first", "second"):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "main.tf.json").write_text(required)
        init = run([terraform, "init", "-input=false", "-backend=false", "-no-color"],
                   cwd=directory)
        assert init.returncode == 0, init.stdout + init.stderr
        outputs.append(init.stdout)
    assert "from the shared cache directory" in outputs[1], outputs[1]
    assert "Installing hashicorp/aws" not in outputs[1], outputs[1]
