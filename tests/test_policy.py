"""Checkov over every synthesized stack (config/, bootstrap, every examples/ preset): zero findings
that are not explained in policy/checkov-skips.toml. Prints passed/failed/skipped counts per stack
at the end of the run."""

import json
import os
import subprocess
import tomllib
from fnmatch import fnmatch

import pytest

from conftest import ROOT, SynthStack

pytestmark = pytest.mark.slow
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
SKIPS = tomllib.loads((ROOT / "policy" / "checkov-skips.toml").read_text())["skip"]
REPORT: dict[str, dict[str, int]] = {}  # printed by conftest's terminal summary


def checkov_report(stack_dir) -> subprocess.Popen:
    """Start checkov on one stack (one process per stack: with several --directory arguments
    checkov 3.3 repeats earlier directories' results in later reports)."""
    return subprocess.Popen(
        [str(CHECKOV), "--directory", str(stack_dir), "--framework", "terraform_json",
         "--output", "json", "--compact",
         "--skip-download"],  # no calls to the vendor's API: the rules ship in the package
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def scanned(stacks, bootstrap, presets) -> dict[str, SynthStack]:
    """Shipped stacks by stack name; presets as `examples/<file stem>`."""
    return {**stacks, bootstrap.name: bootstrap,
            **{f"examples/{stem}": preset for stem, preset in presets.items()}}


@pytest.fixture(scope="module")
def findings(scanned) -> dict[str, dict[str, list]]:
    """{stack: {"passed": [check, ...], "failed": [check, ...]}}"""
    if not CHECKOV.exists():
        message = f"{CHECKOV.relative_to(ROOT)} is missing (run `make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    running = {name: checkov_report(stack.directory) for name, stack in scanned.items()}
    by_stack = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode in (0, 1), stderr  # 1: some check failed
        report = json.loads(stdout)
        assert report["check_type"] == "terraform_json", report
        by_stack[name] = {"passed": report["results"]["passed_checks"],
                          "failed": report["results"]["failed_checks"]}
    return by_stack


def address(stack: SynthStack, check: dict) -> str:
    type_, path = stack.locate(check["resource"].split(".", 1)[1])
    return f"{type_}.{path}"


def accepted(stack: str, check_id: str, resource: str, stack_name: str = "") -> dict | None:
    """The skip entry that explains a finding. A preset (`examples/x`) is also covered by entries
    for its stack name, e.g. a dev preset by the dev-stack entries: same profile, same reason."""
    return next((s for s in SKIPS if s["check"] == check_id and fnmatch(resource, s["resource"])
                 and {stack, stack_name} & set(s.get("stacks", [stack]))), None)


def test_checkov_ran_its_checks_on_every_stack(findings):
    for name, outcome in findings.items():
        assert len(outcome["passed"]) >= 40, name


def test_no_unexplained_finding(findings, scanned):
    unexplained = []
    for name, outcome in findings.items():
        skipped = 0
        for check in outcome["failed"]:
            resource = address(scanned[name], check)
            if accepted(name, check["check_id"], resource, scanned[name].name):
                skipped += 1
            else:
                unexplained.append(f"{name}: {check['check_id']} {resource}: {check['check_name']}")
        REPORT[name] = {"passed": len(outcome["passed"]), "failed": len(outcome["failed"]) - skipped,
                        "skipped": skipped}
    assert unexplained == [], "\n".join(unexplained)


def test_every_skip_is_explained_and_still_needed(findings, scanned):
    used = {(name, s["check"], s["resource"]) for name, outcome in findings.items()
            for check in outcome["failed"]
            if (s := accepted(name, check["check_id"], address(scanned[name], check),
                              scanned[name].name))}
    # An entry without `stacks` must still be needed by every shipped environment.
    environments = [name for name in scanned if name.endswith("-stack") and
                    name != "bootstrap-stack"]
    for skip in SKIPS:
        assert len(skip["reason"]) > 40, skip
        for stack in skip.get("stacks", environments):
            assert (stack, skip["check"], skip["resource"]) in used, f"stale for {stack}: {skip}"
