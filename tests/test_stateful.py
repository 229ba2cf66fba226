"""Stateful resources (lib/core/stateful.py; README, "Stateful resources"): Terraform refuses to
destroy them in staging, prod and the bootstrap stack."""

from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, ROOT, SynthStack
from lib.config import load_environment
from lib.core.stateful import STATEFUL_TYPES
from test_config import write


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
    return ROOT / "config" / f"{label.removesuffix('-stack')}.toml"


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
                  and not on) == ["examples/lean", "examples/portfolio", "examples/rayman-dev"]


def test_the_bootstrap_stack_protects_state_and_audit(bootstrap):
    found = {bootstrap.locate(address.split(".", 1)[1])
             for address in protected_addresses(bootstrap)}
    assert found == {
        ("aws_s3_bucket", "state/bucket/bucket"), ("aws_dynamodb_table", "state/lock-table"),
        ("aws_kms_key", "state-key/key"), ("aws_kms_key", "audit-key/key"),
        ("aws_s3_bucket", "baseline/audit-bucket/bucket"), ("aws_cloudtrail", "baseline/trail"),
        ("aws_guardduty_detector", "baseline/guardduty")}


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
