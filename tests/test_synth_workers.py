"""`python main.py` splits the stacks over worker processes (stacks/app.py): the output directory
gets every stack or, when a worker fails, nothing at all."""

import json
import sys

import pytest

from conftest import ROOT, run, snapshot

# Each test starts Python processes that import cdktf and start their own jsii kernels.
pytestmark = pytest.mark.slow

# Run in a fresh process: this one has cdktf imported, which rules out forking workers.
DRIVER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from lib.config import load_environments, Target
from stacks.app import synthesize_in_workers
sample = Path({root!r}) / "tests" / "fixtures" / "sample"
dev, staging = load_environments([sample / "dev.toml", sample / "staging.toml"])
stacks = {stacks}
sys.exit(synthesize_in_workers(Path("cdktf.out"), stacks, [dev, staging], Target.AWS, None, 2))
"""


@pytest.fixture
def earlier_synth(tmp_path):
    """An output directory from an earlier synth, with a stack Terraform has been run in."""
    stack = tmp_path / "cdktf.out" / "stacks" / "dev-stack"
    (stack / ".terraform").mkdir(parents=True)
    (stack / ".terraform" / "terraform.tfstate").write_text('{"backend": "local"}')
    (stack / "cdk.tf.json").write_text('{"earlier": "synth"}')
    (tmp_path / "cdktf.out" / "manifest.json").write_text('{"earlier": "manifest"}')
    return tmp_path


def test_a_failed_worker_leaves_the_output_directory_as_it_was(earlier_synth):
    before = snapshot(earlier_synth / "cdktf.out")
    # The second worker is handed something that is not a stack config, and fails building it.
    driver = DRIVER.format(root=str(ROOT), stacks='[dev, "not-a-config"]')
    result = run([sys.executable, "-c", driver], cwd=earlier_synth)
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "synth failed in 1 of 2 worker processes" in result.stderr.splitlines()[-1]
    assert snapshot(earlier_synth / "cdktf.out") == before
    assert sorted(p.name for p in earlier_synth.iterdir()) == ["cdktf.out"]  # no scratch left


def test_workers_write_every_stack_and_one_manifest_and_keep_terraform_state(earlier_synth):
    driver = DRIVER.format(root=str(ROOT), stacks="[dev, staging]")
    result = run([sys.executable, "-c", driver], cwd=earlier_synth)
    assert result.returncode == 0, result.stderr
    out = earlier_synth / "cdktf.out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == ["dev-stack", "staging-stack"]
    assert manifest["version"] == "0.21.0"
    for name, stack in manifest["stacks"].items():
        assert json.loads((out / stack["synthesizedStackPath"]).read_text())["resource"], name
    # What Terraform keeps in a stack's directory survives a new synth, as with App.synth.
    assert (out / "stacks" / "dev-stack" / ".terraform" / "terraform.tfstate").read_text() == \
        '{"backend": "local"}'
    assert sorted(p.name for p in earlier_synth.iterdir()) == ["cdktf.out"]
