"""config/ is the team's: whatever valid config it holds, these checks hold for it (and only
these read it). They are the product's promises about any config: it loads, every environment
has its account file, the stacks keep the contract rules and their budgets, checkov finds
nothing the waivers do not explain for the stack's profile and settings, Terraform plans every
stack offline (validating it first), the cdktf CLI sees every stack, and docs/architecture.md is
its current diagram. tests/test_adopt.py runs the same checks over every preset adopted.
"""

import re

import pytest

import config_checks as checks
from conftest import CONFIG, ROOT, require_tool, run
from lib.analysis.diagram import document
from lib.config import ENV_CONFIG_DIR, ConfigError, config_files, load_config_dir
from tools import diagram as diagram_tool

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def config_dir():
    try:
        load_config_dir(CONFIG)
    except ConfigError as err:
        pytest.fail(f"config/ does not load (`make synth` says the same):\n{err}")
    return CONFIG


@pytest.fixture(scope="module")
def built(config_dir, tmp_path_factory):
    return checks.synthesize_dir(config_dir, tmp_path_factory.mktemp("config-dir"))


def test_no_other_test_reads_config():
    """The product's tests run on tests/fixtures/sample: one that read config/ would fail on a
    team's own config for no fault of the product."""
    # conftest.py names it for these checks; test_adopt.py only snapshots it to show that a
    # failed `make adopt` wrote nothing
    own = {"test_config_dir.py", "config_checks.py", "conftest.py", "test_adopt.py"}
    readers = [p.name for p in sorted((ROOT / "tests").glob("*.py")) if p.name not in own
               and re.search(r'ROOT / "config"|from conftest import[^\n]*\bCONFIG\b',
                             p.read_text())]
    assert readers == []


def test_config_loads_and_every_environment_has_its_account(config_dir):
    environments, accounts = config_files(config_dir)
    assert environments and accounts


def test_the_contract_rules_hold(built):
    stacks, _ = built
    problems = checks.rule_problems(stacks)
    assert problems == [], "\n".join(problems)


def test_every_environment_is_within_its_budget(built):
    problems = checks.over_budget(*built)
    assert problems == [], "\n".join(problems)


def test_the_committed_diagram_is_current(built, monkeypatch):
    stacks, _ = built
    monkeypatch.setattr(diagram_tool, "CONFIG_DIR", CONFIG)  # the session's is the sample
    names = [name for _, name in diagram_tool.environments()] + [diagram_tool.BOOTSTRAP]
    expected = document({name: stacks[name].json for name in names})
    committed = diagram_tool.OUTPUT.read_text()
    assert committed == expected, "docs/architecture.md is stale: run `make diagram`"


@pytest.mark.slow
def test_checkov_finds_nothing_the_waivers_do_not_explain(built):
    unexplained = checks.unexplained_findings(*built)
    assert unexplained == [], "\n".join(unexplained)


@pytest.fixture(scope="module")
def offline_stacks(config_dir, tmp_path_factory):
    stacks, _ = checks.synthesize_dir(config_dir, tmp_path_factory.mktemp("config-offline"),
                                      target="offline")
    return stacks


@pytest.mark.slow
def test_terraform_validates_and_plans_every_stack_offline(offline_stacks):
    problems = [p for name, stack in offline_stacks.items()
                for p in checks.plan_problems(stack.directory, f"config: {name}")]
    assert problems == [], "\n".join(problems)


@pytest.mark.slow
def test_cdktf_list_shows_every_stack(built, tmp_path):
    require_tool("cdktf")
    result = run(["cdktf", "list", "--output", str(tmp_path / "out")], cwd=ROOT,
                 **{ENV_CONFIG_DIR: str(CONFIG)})
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^(\S+-stack)\s", ANSI.sub("", result.stdout), re.MULTILINE)
    assert sorted(listed) == sorted(built[0])
