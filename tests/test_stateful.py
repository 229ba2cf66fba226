"""Stateful resources (lib/core/stateful.py; README, "Stateful resources"): Terraform refuses to
destroy them in staging, prod and the bootstrap stack, and their addresses are pinned, so a
refactor that would replace one (a renamed construct id, which prevent_destroy cannot see) fails
here with what to do."""

import difflib
import json
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, ROOT, SAMPLE, SynthStack
from lib.config import load_environment
from lib.core.stateful import STATEFUL_TYPES
from test_config import write

ADDRESSES = ROOT / "tests" / "stateful_addresses.json"
WRITE_OPTION = "--write-stateful-addresses"
UPDATE = f"run `make addresses` and commit {ADDRESSES.relative_to(ROOT)}"


def stateful_addresses(stack: SynthStack) -> list[str]:
    """`type.logical_id` of every stateful resource in `stack`, sorted."""
    return sorted(f"{type_}.{logical_id}" for type_, bodies in stack.json["resource"].items()
                  if type_ in STATEFUL_TYPES for logical_id in bodies)


def protected_addresses(stack: SynthStack) -> list[str]:
    """`type.logical_id` of every resource with `lifecycle.prevent_destroy` true, sorted."""
    return sorted(f"{type_}.{logical_id}" for type_, bodies in stack.json["resource"].items()
                  for logical_id, body in bodies.items()
                  if body.get("lifecycle", {}).get("prevent_destroy") is True)


def config_file(label: str) -> Path | None:
    """The environment file a stack of `every_stack` comes from (None: the bootstrap stack)."""
    if label == "bootstrap-stack":
        return None
    if label.startswith("examples/"):
        return ROOT / f"{label}.toml"
    if label.startswith("tests/fixtures: "):
        stack_name = label.removeprefix("tests/fixtures: ")
        [path] = [p for p in (ROOT / "tests" / "fixtures").glob("*.toml")
                  if load_environment(p).stack_name == stack_name]
        return path
    return SAMPLE / f"{label.removesuffix('-stack')}.toml"


# --- prevent_destroy --------------------------------------------------------------------------

def test_prevent_destroy_on_exactly_the_stateful_resources_of_protected_stacks(every_stack):
    """Staging, prod and the bootstrap stack: every stateful resource and nothing else; dev and
    lean: nothing (they are torn down with `cdktf destroy`)."""
    wrong = []
    for label, stack in sorted(every_stack.items()):
        path = config_file(label)
        protected = path is None or load_environment(path).prevent_destroy
        expected = stateful_addresses(stack) if protected else []
        if protected_addresses(stack) != expected:
            wrong.append(f"{label}: prevent_destroy on {protected_addresses(stack)}, "
                         f"expected {expected}")
    assert wrong == []


def test_the_shipped_stacks_are_protected_as_intended(every_stack):
    protected = {label: bool(protected_addresses(stack)) for label, stack in every_stack.items()}
    assert {label: protected[label] for label in ("dev-stack", "staging-stack", "prod-stack",
                                                  "bootstrap-stack")} == {
        "dev-stack": False, "staging-stack": True, "prod-stack": True, "bootstrap-stack": True}
    # The presets of the dev and lean profiles stay disposable; the others are protected.
    assert sorted(label for label, on in protected.items() if label.startswith("examples/")
                  and not on) == ["examples/fastify-monorepo-lean", "examples/lean",
                                  "examples/portfolio", "examples/rayman-dev"]


def test_the_bootstrap_stack_protects_state_and_audit(bootstrap):
    found = {bootstrap.locate(address.split(".", 1)[1])
             for address in protected_addresses(bootstrap)}
    assert found == {
        ("aws_s3_bucket", "state/bucket/bucket"), ("aws_dynamodb_table", "state/lock-table"),
        ("aws_kms_key", "state-key/key"), ("aws_kms_key", "audit-key/key"),
        ("aws_s3_bucket", "baseline/audit-bucket/bucket"), ("aws_cloudtrail", "baseline/trail"),
        ("aws_guardduty_detector", "baseline/guardduty"),
        # detection (lib/delivery/detection.py): the trail's log group, the Config bucket (Config
        # cannot deliver into the Object-Locked audit bucket), the alerts topic's key
        ("aws_cloudwatch_log_group", "baseline/trail-log-group"),
        ("aws_s3_bucket", "baseline/config-bucket/bucket"), ("aws_kms_key", "alerts-key/key")}


def test_every_stateful_type_is_protected_somewhere(every_stack):
    """A type listed in STATEFUL_TYPES that no stack has is a typo or a dead entry."""
    protected_types = {address.split(".", 1)[0] for stack in every_stack.values()
                       for address in protected_addresses(stack)}
    assert sorted(set(STATEFUL_TYPES) - protected_types) == []


@pytest.mark.parametrize("profile, protected", [("dev", False), ("lean", False),
                                                ("staging", True), ("prod", True)])
def test_the_profile_decides_and_a_file_may_say_otherwise(tmp_path, profile, protected):
    c = load_environment(write(tmp_path, MINIMAL, f"{profile}.toml"))
    assert (c.prevent_destroy, c.auth.deletion_protection) == (protected, protected)
    retiring = load_environment(write(
        tmp_path, f"prevent_destroy = {str(not protected).lower()}\n{MINIMAL}"
                  f"\n[auth]\ndeletion_protection = {str(not protected).lower()}\n"
                  "callback_urls = [\"https://shop.example.com/cb\"]\n", f"{profile}.toml"))
    assert (retiring.prevent_destroy, retiring.auth.deletion_protection) == \
        (not protected, not protected)


# --- pinned addresses -------------------------------------------------------------------------

def address_problems(pinned: dict[str, list[str]], current: dict[str, list[str]],
                     moves: dict[str, dict[str, str]]) -> list[str]:
    """One line per difference between the pinned and the synthesized addresses, saying what a
    deploy would do and what to do about it. `moves`: per stack, the `moved` blocks (from: to)."""
    lines = []
    for stack in sorted(pinned.keys() - current.keys()):
        lines.append(f"{stack}: no longer synthesized ({len(pinned[stack])} pinned addresses); "
                     f"if that is on purpose, {UPDATE}")
    for stack in sorted(current.keys() - pinned.keys()):
        lines.append(f"{stack}: a new stack with {len(current[stack])} stateful resources; "
                     f"{UPDATE}")
    for stack in sorted(pinned.keys() & current.keys()):
        old, new = set(pinned[stack]), set(current[stack])
        moved = {source: target for source, target in moves.get(stack, {}).items()
                 if source in old - new and target in new}
        added = new - old - set(moved.values())
        for address in sorted(old - new):
            if address in moved:
                lines.append(f"{stack}: {address} moved to {moved[address]} (a moved block "
                             f"keeps it); {UPDATE}")
                continue
            type_ = address.split(".", 1)[0]
            successor = likely_successor(address, sorted(a for a in added
                                                         if a.startswith(f"{type_}.")))
            became = f"if it became {successor}" if successor else "if it was renamed"
            added.discard(successor)  # named here, not again as new
            lines.append(
                f"{stack}: {address} is gone: a deploy destroys it with {STATEFUL_TYPES[type_]}. "
                f"{became[0].upper()}{became[1:]}, keep it with a moved block (on the new "
                f"resource in its construct: .move_from_id(\"{address}\")); if destroying it "
                f"is intended, {UPDATE}")
        for address in sorted(added):
            lines.append(f"{stack}: {address} is new, not pinned; if nothing it replaces is "
                         f"listed above, {UPDATE}")
    return lines


def likely_successor(address: str, candidates: list[str]) -> str | None:
    """The new address of the same type that reads most like `address` (a logical id is the
    construct path and a hash of it: the hash always changes, the words mostly survive)."""
    stems = {candidate.rsplit("_", 1)[0]: candidate for candidate in candidates}
    match = difflib.get_close_matches(address.rsplit("_", 1)[0], stems, n=1, cutoff=0.6)
    return stems[match[0]] if match else None


def pinned_addresses() -> dict[str, list[str]]:
    if not ADDRESSES.exists():
        return {}  # every stack is then reported as new
    return {k: v for k, v in json.loads(ADDRESSES.read_text()).items() if k != "//"}


def test_stateful_addresses_are_pinned(every_stack, request):
    """tests/stateful_addresses.json lists, per stack, the address of every stateful resource.
    A refactor that changes one would make Terraform destroy the old resource and create a new
    one: prevent_destroy does not stop that, since the old block is gone."""
    current = {label: stateful_addresses(stack) for label, stack in sorted(every_stack.items())}
    if request.config.getoption(WRITE_OPTION):
        ADDRESSES.write_text(json.dumps(
            {"//": "Generated by `make addresses` (README, \"Stateful resources\"): the "
                   "Terraform address of every stateful resource per stack. Change it on "
                   "purpose only.", **current}, indent=2) + "\n")
        pytest.skip(f"wrote {ADDRESSES.relative_to(ROOT)}: review the diff and commit it")
    moves = {label: {m["from"]: m["to"] for m in stack.json.get("moved", [])}
             for label, stack in every_stack.items()}
    problems = address_problems(pinned_addresses(), current, moves)
    if problems:
        pytest.fail("\n".join([f"{ADDRESSES.relative_to(ROOT)} pins the address of every "
                               "stateful resource (README, \"Stateful resources\"); the "
                               "synthesized stacks differ:", *problems]), pytrace=False)


def test_the_address_check_says_what_to_do():
    """The messages themselves, on a made-up stack: a rename with and without a moved block, a
    removal, an addition, a stack that appeared and one that went."""
    queue, renamed = "aws_sqs_queue.messaging_email_1", "aws_sqs_queue.messaging_mail_2"
    pinned = {"a-stack": [queue, "aws_kms_key.k_1", "aws_s3_bucket.b_1"], "gone-stack": ["x.y"]}
    current = {"a-stack": [renamed, "aws_s3_bucket.b_1", "aws_s3_bucket.c_3"],
               "new-stack": ["aws_sqs_queue.q"]}
    lines = address_problems(pinned, current, {})
    assert lines == [
        f"gone-stack: no longer synthesized (1 pinned addresses); if that is on purpose, {UPDATE}",
        f"new-stack: a new stack with 1 stateful resources; {UPDATE}",
        f"a-stack: aws_kms_key.k_1 is gone: a deploy destroys it with "
        f"{STATEFUL_TYPES['aws_kms_key']}. If it was renamed, keep it with a moved block (on "
        f"the new resource in its construct: .move_from_id(\"aws_kms_key.k_1\")); if destroying "
        f"it is intended, {UPDATE}",
        f"a-stack: {queue} is gone: a deploy destroys it with {STATEFUL_TYPES['aws_sqs_queue']}."
        f" If it became {renamed}, keep it with a moved block (on the new resource in its "
        f"construct: .move_from_id(\"{queue}\")); if destroying it is intended, {UPDATE}",
        f"a-stack: aws_s3_bucket.c_3 is new, not pinned; if nothing it replaces is listed "
        f"above, {UPDATE}"]
    # With the moved block, the rename is one line: only the list is stale.
    assert address_problems(pinned, current, {"a-stack": {queue: renamed}})[3] == \
        f"a-stack: {queue} moved to {renamed} (a moved block keeps it); {UPDATE}"
    assert address_problems(current, current, {}) == []
