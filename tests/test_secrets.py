"""No secret value in the synthesized JSON or in the repository."""

import json
import re
import subprocess

import pytest

from conftest import ROOT

# Keys whose value is a credential when it is a literal (not a `${...}` reference).
SECRET_KEY = re.compile(r"(?i)(password|passwd|passphrase|secret(?!_arn|_kms|_id|s_manager)|"
                        r"token|private_key|api_key|access_key|credentials?)$")
# Values that are credentials wherever they appear.
SECRET_VALUE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----"      # PEM private keys
    r"|\b(AKIA|ASIA)[0-9A-Z]{16}\b"            # AWS access key ids
    r"|\bgh[pousr]_[A-Za-z0-9]{36}\b"          # GitHub tokens
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"         # Slack tokens
    r"|\bsk_live_[A-Za-z0-9]{16,}")            # Stripe keys


def is_reference(value: str) -> bool:
    return value.startswith("${") and value.endswith("}")


def find_secrets(node, path="") -> list[str]:
    """Every place in a JSON tree holding what looks like a literal credential."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if isinstance(value, str) and SECRET_KEY.search(key) and value \
                    and not is_reference(value):
                found.append(f"{where}: literal value for a credential key")
            found += find_secrets(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += find_secrets(value, f"{path}[{i}]")
    elif isinstance(node, str):
        if SECRET_VALUE.search(node):
            found.append(f"{path}: credential-shaped value")
        if node.lstrip().startswith(("{", "[")):  # embedded JSON (policies, task definitions)
            try:
                found += find_secrets(json.loads(node), path)
            except ValueError:
                pass
    return found


def test_the_scanner_finds_planted_secrets():
    planted = {
        "resource": {"aws_db_instance": {"db": {"password": "hunter2hunter2",
                                                "username": "app"}},
                     "aws_iam_access_key": {"k": {"note": "AKIAABCDEFGHIJKLMNOP"}},
                     "aws_elasticache_replication_group": {"r": {"auth_token": "s3cr3t-t0k3n"}},
                     "aws_ecs_task_definition": {"t": {"container_definitions": json.dumps(
                         [{"environment": [{"name": "x", "api_key": "abc123"}]}])}},
                     "tls": {"k": {"content": "-----BEGIN RSA PRIVATE KEY-----\nMII"}}},
    }
    found = find_secrets(planted)
    assert len(found) == 5, found


def test_references_and_flags_are_not_secrets():
    assert find_secrets({"manage_master_user_password": True,
                         "master_user_secret_kms_key_id": "${aws_kms_key.k.arn}",
                         "secret_arn": "${aws_db_instance.db.master_user_secret[0].secret_arn}",
                         "auth_token": "${var.token}"}) == []


@pytest.mark.parametrize("name", ["dev-stack", "staging-stack", "prod-stack"])
def test_no_literal_secret_in_a_synthesized_stack(stacks, name):
    assert find_secrets(stacks[name].json) == []


def test_no_credential_in_the_repository():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    hits = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file() or path.name == "test_secrets.py":  # this file plants examples
            continue
        text = path.read_text(errors="ignore")
        hits += [f"{name}: {m.group(0)[:12]}..." for m in SECRET_VALUE.finditer(text)]
    assert hits == []
