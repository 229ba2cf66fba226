"""Database backups in a second Region (`database.backup_copy_region`, lib/data/backup_copy.py):
where the copies and their key are, what encrypts them, what the config refuses, who may start
and stop the replication, and what the emulator does with it (tests/fixtures/full.toml copies
its backups to us-west-2, 14 days)."""

import re
from pathlib import Path

import pytest

import contracts
from conftest import MINIMAL_CONFIG, SAMPLE, SynthStack, synthesize
from iam_reference import action, expand, fill, supports
from lib.analysis.cost import estimate
from lib.analysis.pricing import Prices
from lib.config import ConfigError, load_environment

REPLICATION = "aws_db_instance_automated_backups_replication"
ACCOUNT, HOME, THERE = "123456789012", "us-east-1", "us-west-2"


def replication(stack: SynthStack) -> contracts.Resource:
    [found] = contracts.Graph(stack).of_type(REPLICATION)
    return found


# --- what is built -------------------------------------------------------------------------------

def test_the_primarys_backups_are_replicated_to_the_second_region(full):
    """RDS User Guide, "Replicating automated backups to another AWS Region": the replication is
    set up from the destination Region (StartDBInstanceAutomatedBackupsReplication is called
    there, naming the source instance), and it replicates a DB instance, its primary: a read
    replica has no automated backups of its own to copy."""
    copy = replication(full)
    assert (copy.region, full.json["provider"]["aws"][0]["region"]) == (THERE, HOME)
    assert copy.body["source_db_instance_arn"] == full.ref("aws_db_instance", "database/primary",
                                                           "arn")
    assert copy.body["retention_period"] == 14
    assert "pre_signed_url" not in copy.body  # "applies only to AWS GovCloud (US) Regions"


def test_the_copies_are_encrypted_with_a_rotating_key_of_their_own_region(full):
    """StartDBInstanceAutomatedBackupsReplication (RDS API Reference), KmsKeyId: "the KMS
    encryption key in the destination AWS Region"; a KMS key is usable in its own Region only
    (AWS KMS Developer Guide, "Multi-Region keys": a single-Region key never leaves it)."""
    copy = replication(full)
    key = contracts.key_named(copy.graph, copy.body["kms_key_id"])
    assert key is not None and key.region == copy.region
    assert key.body["enable_key_rotation"] is True
    assert key != contracts.key_named(copy.graph, full.resource(
        "aws_db_instance", "database/primary")["kms_key_id"])
    assert contracts.key_aliases(key) == ["alias/webplat-full-backups"]
    [alias] = [a for a in copy.graph.of_type("aws_kms_alias") if a.path.startswith("backup-copy")]
    assert alias.region == THERE


def test_no_other_account_uses_the_key_even_through_rds(full):
    """AWS KMS Developer Guide, "kms:CallerAccount": a key policy statement for use through a
    service names the account it is for; another account's principals get nothing, whichever
    service they call through."""
    key = contracts.key_named(contracts.Graph(full), replication(full).body["kms_key_id"])
    policy = contracts.key_statements(key)
    other = "210987654321"
    through_rds = {"kms:ViaService": f"rds.{THERE}.amazonaws.com", "kms:CallerAccount": other}
    for act in ("kms:Decrypt", "kms:CreateGrant", "kms:GenerateDataKey"):
        assert contracts.decide(policy, act, key.attr("arn"), ("AWS", f"arn:aws:iam::{other}:root"),
                                through_rds) != "allow", act


def test_the_stack_outputs_what_a_restore_names(full):
    outputs = full.json["output"]
    assert outputs["database_backup_copy_arn"]["value"] == \
        f"${{{REPLICATION}.{replication(full).id}.id}}"  # the replicated backups' ARN
    assert outputs["database_backup_copy_region"]["value"] == THERE


def test_one_provider_per_region_whatever_needs_it(tmp_path):
    """Terraform refuses two provider configurations with the same alias ("Duplicate provider
    configuration"): a copy to us-east-1 shares CloudFront's provider there."""
    path = tmp_path / "dev.toml"
    path.write_text(MINIMAL_CONFIG.replace('region = "us-east-1"', 'region = "us-west-2"')
                    .replace("[network]", '[edge]\ncloudfront = true\n\n[database]\n'
                                          'backup_copy_region = "us-east-1"\n\n[network]'))
    stack = synthesize(tmp_path / "out", [path])["dev-stack"]
    aliases = [p.get("alias") for p in stack.json["provider"]["aws"]]
    assert sorted(aliases, key=str) == sorted([None, "us_east_1"], key=str)
    assert replication(stack).region == "us-east-1"


def test_the_emulator_creates_the_key_but_not_the_replication(tmp_path):
    """moto (5.2) implements DescribeDBInstanceAutomatedBackups but not
    StartDBInstanceAutomatedBackupsReplication: lib/targets/local.py leaves the replication out
    there, and the stack does not output its ARN."""
    stack = synthesize(tmp_path, [Path(__file__).parent / "fixtures" / "full.toml"],
                       target="local")["full-stack"]
    assert replication(stack).body["count"] == 0
    assert "count" not in stack.resource("aws_kms_key", "backup-copy/key/key")
    assert "database_backup_copy_arn" not in stack.json["output"]


def test_the_copy_is_priced_as_backup_storage_there_and_transfer_between_regions():
    """Amazon RDS for PostgreSQL Pricing: backup storage per GB-month (the free allowance, 100 %
    of the database's storage, is its own Region's) and data transfer to another Region per GB."""
    prices = Prices({"hours_per_month": 100, "usage": {"backup_copy_gb_per_gb": 0.5},
                     "rds": {"backup_gb_month": 0.1, "cross_region_transfer_gb": 0.02,
                             "gp3_gb_month": 0.1, "instance_hour": {"db.t4g.micro": 0.02}}})
    stack = {"resource": {
        "aws_db_instance": {"db": {"instance_class": "db.t4g.micro", "allocated_storage": 200,
                                   "storage_type": "gp3"}},
        REPLICATION: {"copy": {"source_db_instance_arn": "${aws_db_instance.db.arn}"}}}}
    lines = {i.item: (i.quantity, i.monthly_usd) for i in estimate("s", stack, prices).items}
    assert lines["RDS replicated backup storage (second Region)"] == (200, 20.00)
    assert lines["RDS backup replication transfer between Regions"] == (100, 2.00)


# --- what the config refuses ---------------------------------------------------------------------

def with_database(lines: str) -> str:
    return MINIMAL_CONFIG.replace("[network]", f"[database]\n{lines}\n[network]")


# RDS User Guide, "Replicating automated backups to another AWS Region": the copies go to another
# Region (one that exists, of the source's partition: the Region pairs it lists never cross one)
# from an instance whose automated backups are on ("To be able to replicate automated backups,
# make sure to enable them"); RDS keeps automated backups 1 to 35 days (CreateDBInstance,
# BackupRetentionPeriod: 0-35, 0 turning them off).
BAD_INPUT = [
    ("the stack's own region", 'backup_copy_region = "us-east-1"\n',
     "database.backup_copy_region", "us-east-1 is the stack's own Region"),
    ("a region that does not exist", 'backup_copy_region = "us-wset-2"\n',
     "database.backup_copy_region", "'us-wset-2' is not an AWS Region name; did you mean "
                                    "'us-west-2'?"),
    ("another partition", 'backup_copy_region = "us-gov-west-1"\n',
     "database.backup_copy_region", "us-gov-west-1 is in another partition than us-east-1"),
    ("no backups to copy", 'backup_copy_region = "us-west-2"\nbackup_retention_days = 0\n',
     "database.backup_copy_region", "which backup_retention_days = 0 turns off"),
    ("kept 36 days", 'backup_copy_region = "us-west-2"\nbackup_copy_retention_days = 36\n',
     "database.backup_copy_retention_days", "must be <= 35"),
    ("kept 0 days", 'backup_copy_region = "us-west-2"\nbackup_copy_retention_days = 0\n',
     "database.backup_copy_retention_days", "must be >= 1"),
    ("a retention without a region", "backup_copy_retention_days = 14\n",
     "database.backup_copy_retention_days", "backup_copy_region is not set"),
]


@pytest.mark.parametrize("case, lines, field, words", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_one_clear_line(tmp_path, case, lines, field, words):
    path = tmp_path / "dev.toml"
    path.write_text(with_database(lines))
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}: {field}: ") and words in line, line


def test_the_copies_are_kept_as_long_as_the_primarys_backups_by_default(tmp_path):
    path = tmp_path / "dev.toml"
    path.write_text(with_database('backup_copy_region = "us-west-2"\nbackup_retention_days = 10\n'))
    assert load_environment(path).database.copy_retention_days == 10


# --- who may deploy it ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deploy(tmp_path_factory) -> dict[str, list[dict]]:
    """The deploy statements of the sample's environments, prod copying its backups to
    us-west-2 (the sample itself copies none)."""
    root = tmp_path_factory.mktemp("backup-copy-bootstrap")
    prod = root / "prod.toml"
    prod.write_text((SAMPLE / "prod.toml").read_text().replace(
        "[database]\n", '[database]\nbackup_copy_region = "us-west-2"\n', 1))
    out = synthesize(root / "out", [SAMPLE / "dev.toml", SAMPLE / "staging.toml", prod],
                     account=SAMPLE / "account.toml", environment_stacks=False)
    bootstrap = out["bootstrap-stack"]
    graph = contracts.Graph(bootstrap)
    for path, body in bootstrap.matching("aws_iam_policy", "delivery-*/*").items():
        # IAM User Guide, "IAM and AWS STS quotas": a managed policy holds 6,144 characters.
        assert len(re.sub(r"\s", "", body["policy"])) <= 6144, path
    return {env: [s for body in bootstrap.matching("aws_iam_policy", f"delivery-{env}/deploy*")
                  .values() for s in graph.statements(body["policy"])]
            for env in ("staging", "prod")}


def own(env: str, where: str = "Resource") -> dict:
    return {f"aws:{where}Tag/Project": "webplat", f"aws:{where}Tag/Environment": env}


def test_the_deploy_role_starts_and_stops_its_own_replication(deploy):
    """Service Authorization Reference, "Actions, resources, and condition keys for Amazon
    RDS": StartDBInstanceAutomatedBackupsReplication is authorized on the source db and on the
    new auto-backup, StopDBInstanceAutomatedBackupsReplication on the db; both are requests to
    the destination Region. The provider reads the copy there (DescribeDBInstanceAutomatedBackups)
    and, after a stop, the source instance at home (DescribeDBInstances)."""
    prod, there = deploy["prod"], {"aws:RequestedRegion": THERE}
    db = f"arn:aws:rds:{HOME}:{ACCOUNT}:db:webplat-prod-db"
    copy = f"arn:aws:rds:{THERE}:{ACCOUNT}:auto-backup:ab-1234"
    start = "rds:StartDBInstanceAutomatedBackupsReplication"
    assert contracts.decide(prod, start, db, context={**there, **own("prod")}) == "allow"
    assert contracts.decide(prod, start, copy, context=there) == "allow"
    assert contracts.decide(prod, "rds:StopDBInstanceAutomatedBackupsReplication", db,
                            context={**there, **own("prod")}) == "allow"
    assert contracts.decide(prod, "rds:DescribeDBInstanceAutomatedBackups", copy,
                            context=there) == "allow"
    assert contracts.decide(prod, "rds:DescribeDBInstances", db,
                            context={"aws:RequestedRegion": HOME}) == "allow"
    staging_db = f"arn:aws:rds:{HOME}:{ACCOUNT}:db:webplat-staging-db"
    for act in (start, "rds:StopDBInstanceAutomatedBackupsReplication"):
        assert contracts.decide(prod, act, staging_db,
                                context={**there, **own("staging")}) != "allow", act
    # staging copies nothing: its role starts no replication anywhere
    assert contracts.decide(deploy["staging"], start, copy, context=there) != "allow"


def test_the_deploy_role_creates_the_key_there_under_the_tag_scoping(deploy):
    """The key is created in the second Region with the environment's tags (the provider's
    default tags, aws:RequestTag), then reached by tag and alias as every key of the
    environment; the Regions are the environment's and the copy's, no other."""
    prod = deploy["prod"]
    for region, tags, expected in [(THERE, own("prod", "Request"), "allow"),
                                   (THERE, own("staging", "Request"), "deny"),
                                   ("eu-west-1", own("prod", "Request"), "implicit")]:
        assert contracts.decide(prod, "kms:CreateKey", "*", context={
            "aws:RequestedRegion": region, **tags}) == expected, (region, tags)
    key = f"arn:aws:kms:{THERE}:{ACCOUNT}:key/1234abcd"
    assert contracts.decide(prod, "kms:EnableKeyRotation", key, context=own("prod")) == "allow"
    assert contracts.decide(prod, "kms:CreateGrant", key, context=own("staging")) == "deny"
    alias = f"arn:aws:kms:{THERE}:{ACCOUNT}:alias/webplat-" + "{}-backups"
    assert contracts.decide(prod, "kms:CreateAlias", alias.format("prod")) == "allow"
    assert contracts.decide(prod, "kms:CreateAlias", alias.format("staging")) != "allow"


def test_what_prod_may_do_there_reaches_no_other_environment(deploy):
    """Every write of the statements the copy adds, against staging's resources in the second
    Region, with the condition keys AWS documents for the action (as tests/test_isolation.py
    does at home): nothing is allowed."""
    prod = deploy["prod"]
    added = [s for s in prod
             if s.get("Sid") in ("BackupCopyRegion", "BackupCopyKeyAlias", "ReplicateOwnBackups")]
    assert len(added) == 3
    names = {a for s in added for pattern in contracts.listed(s["Action"]) for a in expand(pattern)}
    reached = []
    for name in sorted(names):
        act = action(name)
        if not act.writes:
            continue
        for rt in act.resource_types:
            context = {"aws:RequestedRegion": THERE}
            if supports(rt.condition_keys | act.condition_keys, "aws:ResourceTag/Environment"):
                context.update(own("staging"))
            arn = fill(rt.arn, "aws", THERE, ACCOUNT, "webplat-staging-x")
            if contracts.decide(prod, name, arn, context=context) == "allow":
                reached.append((name, arn))
    assert reached == []
