"""`terraform plan` (which validates the configuration first) of every preset with placeholder
credentials and no network: the provider's skip flags (PLATFORM_TARGET=offline) make it look
nothing up. config/'s stacks get the same in tests/test_config_dir.py. Prints the resources to
add per stack."""

import pytest

from config_checks import plan_problems
from conftest import PRESET_FILES, ROOT, synthesize

pytestmark = pytest.mark.slow
EXAMPLES = sorted(p.stem for p in PRESET_FILES)


@pytest.mark.parametrize("preset", EXAMPLES)
def test_every_preset_validates_and_plans_offline(tmp_path, preset):
    """Each seed preset is green through plan, and so through validation (its remote backend, if
    any, is replaced by local state for the offline target)."""
    [stack] = synthesize(tmp_path, [ROOT / "examples" / f"{preset}.toml"],
                         target="offline").values()
    problems = plan_problems(stack.directory, f"examples/{preset}")
    assert problems == [], "\n".join(problems)
