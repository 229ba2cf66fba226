"""Checkov over synthesized stacks, judged against policy/checkov-skips.toml (tests/waivers.py):
tests/test_policy.py runs it over the project's own stacks, tests/test_config_dir.py over
config/. Each distinct stack JSON is scanned once per test session, so a config/ that is still
the shipped sample costs no second scan."""

import hashlib
import json
import subprocess
from pathlib import Path

from conftest import ROOT, SynthStack, missing
from waivers import Finding, Verdict, judge, parse, profile_of, settings_of

CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
WAIVERS = parse((ROOT / "policy" / "checkov-skips.toml").read_text())
_scanned: dict[str, dict[str, list]] = {}  # sha256 of a cdk.tf.json: its passed/failed checks


def _start(stack_dir: Path) -> subprocess.Popen:
    """Checkov on one stack (one process per stack: with several --directory arguments checkov
    3.3 repeats earlier directories' results in later reports)."""
    return subprocess.Popen(
        [str(CHECKOV), "--directory", str(stack_dir), "--framework", "terraform_json",
         "--output", "json", "--compact",
         "--skip-download"],  # no calls to the vendor's API: the rules ship in the package
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def scan(stacks: dict[str, SynthStack]) -> dict[str, dict[str, list]]:
    """{stack label: {"passed": [check, ...], "failed": [check, ...]}}, the stacks scanned side
    by side."""
    if not CHECKOV.exists():
        missing(f"{CHECKOV.relative_to(ROOT)} is missing (run `make install`)")
    keys = {label: hashlib.sha256((stack.directory / "cdk.tf.json").read_bytes()).hexdigest()
            for label, stack in stacks.items()}
    running = {}
    for label, key in keys.items():
        if key not in _scanned and key not in running:
            running[key] = _start(stacks[label].directory)
    for key, process in running.items():
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode in (0, 1), stderr  # 1: some check failed
        report = json.loads(stdout)
        assert report["check_type"] == "terraform_json", report
        _scanned[key] = {"passed": report["results"]["passed_checks"],
                         "failed": report["results"]["failed_checks"]}
    return {label: _scanned[key] for label, key in keys.items()}


def verdict(stacks: dict[str, SynthStack], files: dict[str, Path],
            scanned: dict[str, dict[str, list]]) -> Verdict:
    """The waivers' verdict on the findings of `stacks`, each built from `files[label]`."""
    assert sorted(files) == sorted(stacks)  # every scanned stack has a profile
    findings = [Finding(label, check["check_id"], _address(stacks[label], check))
                for label, outcome in scanned.items() for check in outcome["failed"]]
    return judge(WAIVERS, findings, {label: profile_of(path) for label, path in files.items()},
                 {label: settings_of(path) for label, path in files.items()})


def _address(stack: SynthStack, check: dict) -> str:
    type_, path = stack.locate(check["resource"].split(".", 1)[1])
    return f"{type_}.{path}"
