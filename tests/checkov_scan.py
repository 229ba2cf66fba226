"""Checkov over synthesized stacks, judged against policy/checkov-skips.toml (tests/waivers.py):
tests/test_policy.py runs it over the project's own stacks, tests/test_config_dir.py over
config/. Each distinct stack JSON is scanned once per test session, so a config/ that is still
the shipped sample costs no second scan."""

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import ROOT, SynthStack, missing
from waivers import Finding, Verdict, judge, parse, profile_of, settings_of

CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
WAIVERS = parse((ROOT / "policy" / "checkov-skips.toml").read_text())
_scanned: dict[str, dict[str, list]] = {}  # sha256 of a cdk.tf.json: its passed/failed checks


def _start(directory: Path) -> subprocess.Popen:
    """Checkov on every stack under `directory`, one subdirectory each. One process for many
    stacks: its start-up (about 2 CPU-seconds) is most of a stack's scan (about 1 more), and the
    results are the same as one process per stack (checked on dev, prod and full, 2026-12-01).
    Not several --directory arguments: with those, checkov 3.3 repeats earlier directories'
    results in later reports."""
    return subprocess.Popen(
        [str(CHECKOV), "--directory", str(directory), "--framework", "terraform_json",
         "--output", "json", "--compact",
         "--skip-download"],  # no calls to the vendor's API: the rules ship in the package
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def scan(stacks: dict[str, SynthStack], processes: int = 2) -> dict[str, dict[str, list]]:
    """{stack label: {"passed": [check, ...], "failed": [check, ...]}}, the stacks not scanned
    yet shared among `processes` checkov processes (one per core) running side by side."""
    if not CHECKOV.exists():
        missing(f"{CHECKOV.relative_to(ROOT)} is missing (run `make install`)")
    keys = {label: hashlib.sha256((stack.directory / "cdk.tf.json").read_bytes()).hexdigest()
            for label, stack in stacks.items()}
    new = {key: stacks[label].directory for label, key in keys.items() if key not in _scanned}
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        running = []
        for i in range(min(processes, len(new))):
            group = Path(tmp) / str(i)
            for key, directory in list(new.items())[i::processes]:
                (group / key).mkdir(parents=True)
                shutil.copyfile(directory / "cdk.tf.json", group / key / "cdk.tf.json")
            running.append(_start(group))
        for process in running:
            stdout, stderr = process.communicate(timeout=600)
            assert process.returncode in (0, 1), stderr  # 1: some check failed
            report = json.loads(stdout)
            assert report["check_type"] == "terraform_json", report
            for outcome in ("passed", "failed"):
                for check in report["results"][f"{outcome}_checks"]:
                    key = check["file_path"].split("/")[1]  # "/<key>/cdk.tf.json"
                    _scanned.setdefault(key, {"passed": [], "failed": []})[outcome].append(check)
    for key in new:  # a stack no check applies to still counts as scanned
        _scanned.setdefault(key, {"passed": [], "failed": []})
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
