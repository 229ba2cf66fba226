"""Checkov over every stack the project synthesizes (the sample config in tests/fixtures/sample,
its bootstrap stack, every examples/ preset, every tests/fixtures stack, every preset adopted
by `make adopt`): zero findings that
policy/checkov-skips.toml does not explain, through the matcher in tests/waivers.py, and no
waiver that explains nothing. Prints passed/failed/skipped counts per stack at the end of the
run."""

from pathlib import Path

import pytest

from checkov_scan import scan, verdict as judged
from conftest import ENVIRONMENTS, PRESET_FILES, ROOT, SAMPLE, SynthStack
from lib.config import load_environment

pytestmark = pytest.mark.slow
REPORT: dict[str, dict[str, int]] = {}  # printed by conftest's terminal summary


def config_files() -> dict[str, Path]:
    """The file each stack of conftest's `every_stack` is built from, by the same label."""
    files = {"bootstrap-stack": SAMPLE / "account.toml"}
    for path in [SAMPLE / f"{env}.toml" for env in ENVIRONMENTS]:
        files[load_environment(path).stack_name] = path
    for path in PRESET_FILES:
        files[f"examples/{path.stem}"] = path
    for path in sorted((ROOT / "tests" / "fixtures").glob("*.toml")):
        files[f"tests/fixtures: {load_environment(path).stack_name}"] = path
    return files


@pytest.fixture(scope="module")
def scanned_stacks(every_stack, adopted) -> dict[str, SynthStack]:
    """The project's own stacks and every preset adopted (conftest's `adopted`): a waiver is
    needed where some stack needs it, and every finding of each is explained."""
    return {**every_stack, **{f"adopted {preset}: {name}": stack
                              for preset, (stacks, _) in adopted.items()
                              for name, stack in stacks.items()}}


@pytest.fixture(scope="module")
def scanned(scanned_stacks) -> dict[str, dict[str, list]]:
    """{stack label: {"passed": [check, ...], "failed": [check, ...]}}"""
    return scan(scanned_stacks)


@pytest.fixture(scope="module")
def verdict(scanned, scanned_stacks, adopted):
    files = config_files() | {f"adopted {preset}: {name}": path
                              for preset, (_, built_from) in adopted.items()
                              for name, path in built_from.items()}
    verdict = judged(scanned_stacks, files, scanned)
    for label, outcome in scanned.items():
        skipped = sum(f.stack == label for found in verdict.waived.values() for f in found)
        REPORT[label] = {"passed": len(outcome["passed"]),
                         "failed": len(outcome["failed"]) - skipped, "skipped": skipped}
    return verdict


def test_checkov_ran_its_checks_on_every_stack(scanned, scanned_stacks):
    assert sorted(scanned) == sorted(scanned_stacks)
    for label, outcome in scanned.items():
        assert len(outcome["passed"]) >= 40, label


def test_no_unexplained_finding(verdict):
    assert verdict.unexplained == [], "\n".join(verdict.unexplained)


def test_no_waiver_matches_more_than_it_was_written_for(verdict):
    assert verdict.overflowing == [], "\n".join(verdict.overflowing)


def test_every_waiver_is_still_needed(verdict):
    assert verdict.stale == [], "\n".join(verdict.stale)
