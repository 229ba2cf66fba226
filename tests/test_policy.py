"""Checkov over every synthesized stack (config/, bootstrap, every examples/ preset, every
tests/fixtures stack): zero findings that policy/checkov-skips.toml does not explain, through the
matcher in tests/waivers.py. Prints passed/failed/skipped counts per stack at the end of the run."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ENVIRONMENTS, ROOT, SynthStack
from lib.config import load_environment
from waivers import Finding, judge, parse, profile_of

pytestmark = pytest.mark.slow
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
WAIVERS = parse((ROOT / "policy" / "checkov-skips.toml").read_text())
REPORT: dict[str, dict[str, int]] = {}  # printed by conftest's terminal summary


def checkov_report(stack_dir) -> subprocess.Popen:
    """Start checkov on one stack (one process per stack: with several --directory arguments
    checkov 3.3 repeats earlier directories' results in later reports)."""
    return subprocess.Popen(
        [str(CHECKOV), "--directory", str(stack_dir), "--framework", "terraform_json",
         "--output", "json", "--compact",
         "--skip-download"],  # no calls to the vendor's API: the rules ship in the package
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def config_files() -> dict[str, Path]:
    """The file each stack of conftest's `every_stack` is built from, by the same label."""
    files = {"bootstrap-stack": ROOT / "config" / "account.toml"}
    for path in [ROOT / "config" / f"{env}.toml" for env in ENVIRONMENTS]:
        files[load_environment(path).stack_name] = path
    for path in sorted((ROOT / "examples").glob("*.toml")):
        files[f"examples/{path.stem}"] = path
    for path in sorted((ROOT / "tests" / "fixtures").glob("*.toml")):
        files[f"tests/fixtures: {load_environment(path).stack_name}"] = path
    return files


@pytest.fixture(scope="module")
def profiles(every_stack) -> dict[str, str]:
    files = config_files()
    assert sorted(files) == sorted(every_stack)  # every scanned stack has a profile
    return {label: profile_of(path) for label, path in files.items()}


@pytest.fixture(scope="module")
def scanned(every_stack) -> dict[str, dict[str, list]]:
    """{stack label: {"passed": [check, ...], "failed": [check, ...]}}"""
    if not CHECKOV.exists():
        message = f"{CHECKOV.relative_to(ROOT)} is missing (run `make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    running = {label: checkov_report(stack.directory) for label, stack in every_stack.items()}
    by_stack = {}
    for label, process in running.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode in (0, 1), stderr  # 1: some check failed
        report = json.loads(stdout)
        assert report["check_type"] == "terraform_json", report
        by_stack[label] = {"passed": report["results"]["passed_checks"],
                           "failed": report["results"]["failed_checks"]}
    return by_stack


def address(stack: SynthStack, check: dict) -> str:
    type_, path = stack.locate(check["resource"].split(".", 1)[1])
    return f"{type_}.{path}"


@pytest.fixture(scope="module")
def verdict(scanned, every_stack, profiles):
    findings = [Finding(label, check["check_id"], address(every_stack[label], check))
                for label, outcome in scanned.items() for check in outcome["failed"]]
    verdict = judge(WAIVERS, findings, profiles)
    for label, outcome in scanned.items():
        skipped = sum(f.stack == label for found in verdict.waived.values() for f in found)
        REPORT[label] = {"passed": len(outcome["passed"]),
                         "failed": len(outcome["failed"]) - skipped, "skipped": skipped}
    return verdict


def test_checkov_ran_its_checks_on_every_stack(scanned, every_stack):
    assert sorted(scanned) == sorted(every_stack)
    for label, outcome in scanned.items():
        assert len(outcome["passed"]) >= 40, label


def test_no_unexplained_finding(verdict):
    assert verdict.unexplained == [], "\n".join(verdict.unexplained)


def test_no_waiver_matches_more_than_it_was_written_for(verdict):
    assert verdict.overflowing == [], "\n".join(verdict.overflowing)


def test_every_waiver_is_still_needed(verdict):
    assert verdict.stale == [], "\n".join(verdict.stale)
