"""State locks (issue 18 item 5): the S3 backend locks with S3's lock file, and with the DynamoDB
table only while an existing state migrates; the plan and deploy roles may take exactly the locks
their environment uses.

Terraform docs, "Backend Type: s3", State Locking: "Locking can be enabled via S3 or DynamoDB.
However, DynamoDB-based locking is deprecated and will be removed in a future minor version. To
support migration from older versions of Terraform that only support DynamoDB-based locking, the
S3 and DynamoDB arguments can be configured simultaneously." The lock file is `<key>.tflock`,
written with a conditional PutObject (If-None-Match), read with GetObject to see who holds it and
deleted to release it (Terraform's internal/backend/remote-state/s3/client.go).
"""

import pytest

import contracts
from conftest import MINIMAL_CONFIG, ROOT, SAMPLE, SynthStack, synthesize
from lib.config import ConfigError, load_environment

STATE = "webplat-tfstate-123456789012"
LOCKS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
LOCK_FILE = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")


def roles(bootstrap: SynthStack, env: str) -> dict[str, list[dict]]:
    """{"plan"|"deploy": statements} of the environment, every token resolved."""
    graph = contracts.Graph(bootstrap)
    found = {path.split("/", 1)[1]: graph.statements(body["policy"]) for path, body in
             bootstrap.matching("aws_iam_policy", f"delivery-{env}/*").items()}
    return {"plan": found["plan"],
            "deploy": [s for k, v in found.items() if k.startswith("deploy") for s in v]}


def arns(bootstrap: SynthStack) -> tuple[str, str, str]:
    """The state bucket's, the lock table's and the state key's ARNs."""
    graph = contracts.Graph(bootstrap)
    return tuple(graph.value(bootstrap.ref(type_, path, "arn")) for type_, path in (
        ("aws_s3_bucket", "state/bucket/bucket"), ("aws_dynamodb_table", "state/lock-table"),
        ("aws_kms_key", "state-key/key")))


@pytest.fixture(scope="module")
def migrating(tmp_path_factory) -> SynthStack:
    """The bootstrap stack of tests/fixtures/full.toml, which still names the lock table."""
    out = tmp_path_factory.mktemp("migrating")
    return synthesize(out, [ROOT / "tests" / "fixtures" / "full.toml"],
                      account=SAMPLE / "account.toml",
                      environment_stacks=False)["bootstrap-stack"]


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_a_fresh_environment_locks_with_the_lock_file_alone(bootstrap, env):
    bucket, table, key = arns(bootstrap)
    state = f"{bucket}/webplat/{env}.tfstate"
    for role, statements in roles(bootstrap, env).items():
        for action in LOCK_FILE:
            assert contracts.decide(statements, action, f"{state}.tflock") == "allow", \
                (role, action)
        for action in LOCKS:  # the table is not theirs to touch any more
            assert contracts.decide(statements, action, table) != "allow", (role, action)
        # The lock file is encrypted as the state: taking it in a plan writes with the key.
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):
            assert contracts.decide(statements, action, key) == "allow", (role, action)
        # Nobody else's lock: a plan of staging cannot hold or break prod's.
        other = "prod" if env == "staging" else "staging"
        for action in LOCK_FILE:
            assert contracts.decide(statements, action,
                                    f"{bucket}/webplat/{other}.tfstate.tflock") != "allow"
    plan = roles(bootstrap, env)["plan"]
    assert contracts.decide(plan, "s3:PutObject", state) != "allow"  # a plan writes no state


def test_a_migrating_environment_takes_both_locks(migrating):
    bucket, table, _ = arns(migrating)
    for role, statements in roles(migrating, "full").items():
        for action in LOCKS:
            assert contracts.decide(statements, action, table) == "allow", (role, action)
        for action in LOCK_FILE:
            assert contracts.decide(statements, action,
                                    f"{bucket}/webplat/full.tfstate.tflock") == "allow"


def test_the_bootstrap_keeps_the_lock_table_for_states_that_migrate(bootstrap):
    assert bootstrap.resource("aws_dynamodb_table", "state/lock-table")["name"] == "webplat-tflock"
    assert "lock_table" in bootstrap.json["output"]


def test_the_s3_backend_needs_no_lock_table(tmp_path):
    path = tmp_path / "dev.toml"
    path.write_text(MINIMAL_CONFIG.replace(
        "[network]", f'[backend]\nkind = "s3"\nbucket = "{STATE}"\n\n[network]'))
    backend = load_environment(path).backend
    assert (backend.bucket, backend.lock_table) == (STATE, None)
    path.write_text(MINIMAL_CONFIG.replace(
        "[network]", '[backend]\nkind = "local"\nlock_table = "webplat-tflock"\n\n[network]'))
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    assert caught.value.problems == [
        f"{path}: backend.lock_table: is not used by the local backend"]
