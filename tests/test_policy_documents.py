"""Every policy document of every stack, read in full (tests/policy_documents.py: R1 principals,
R2 TLS, R3 wildcards), and each rule shown to catch what it is for on hand-made stacks."""

import json

import pytest

import policy_documents as pd
from contracts import FakeStack, graphs, policy

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
TLS_DENY = {"Sid": "DenyRequestsWithoutTls", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


@pytest.fixture(scope="module")
def every_graph(every_stack):
    return graphs(every_stack)


@pytest.fixture(scope="module")
def reports(every_graph) -> dict:
    return {rule: pd.run(rule, every_graph) for rule in pd.RULES}


@pytest.mark.parametrize("rule", pd.RULES, ids=lambda r: r.__name__)
def test_every_policy_document_keeps_the_rule(reports, rule):
    report = reports[rule]
    assert report.problems == [], "\n".join(report.problems)
    # Every allow-list entry still matches something: a fixed exception leaves the list.
    stale = [e for e in pd.ALLOW_LISTS[rule] if e not in report.excepted]
    assert stale == [], f"no statement needs these any more: {stale}"


def test_the_rules_read_what_the_stacks_hold(reports):
    """Each rule looked at something of every kind it is for (counts in the report)."""
    counts = sum((r.counts for r in reports.values()), start=pd.Counter())
    for key in ("R1 documents", "R1 principals", "R1 lambda permissions", "R2 buckets",
                "R2 queues", "R3 statements", "R3 managed policy attachments"):
        assert counts[key] > 0, key
    print("\n" + "\n".join(f"{k}: {v}" for k, v in sorted(counts.items())))


# --- the rules on hand-made stacks ---------------------------------------------------------

def problems(rule, resources: dict) -> list[str]:
    return pd.run(rule, graphs([FakeStack(resources)])).problems


def key(*statements: dict) -> dict:
    return {"aws_kms_key": {"k": {"policy": policy(*statements)}}}


def bucket(*statements: dict) -> dict:
    return {"aws_s3_bucket": {"b": {"bucket": "b"}},
            "aws_s3_bucket_policy": {"p": {"bucket": "${aws_s3_bucket.b.id}",
                                           "policy": policy(*statements)}}}


ROOT_ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*",
              "Resource": "*"}


def test_r1_refuses_everyone_and_other_accounts():
    assert problems(pd.principals, key(ROOT_ADMIN)) == []
    for who in ({"AWS": "*"}, "*", {"AWS": "arn:aws:iam::999999999999:root"},
                {"AWS": "999999999999"}):
        found = problems(pd.principals, key({**ROOT_ADMIN, "Principal": who}))
        assert len(found) == 1 and "Sid Admin" in found[0], (who, found)
    # A Deny may name everyone: it only narrows.
    assert problems(pd.principals, key(ROOT_ADMIN, {**ROOT_ADMIN, "Effect": "Deny",
                                                    "Principal": "*"})) == []


def test_r1_wants_a_confused_deputy_condition_naming_the_account():
    service = {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
               "Action": "kms:Decrypt", "Resource": "*"}
    own = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*"
    for condition in ({"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                      {"ArnLike": {"aws:SourceArn": own}},
                      {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": own}},
                      {"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                        "kms:ViaService": "logs.us-east-1.amazonaws.com"}}):
        assert problems(pd.principals, key({**service, "Condition": condition})) == [], condition
    for condition in (None, {"StringEquals": {"aws:SourceAccount": "999999999999"}},
                      {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}},
                      {"ArnLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:*:log-group:*"}},
                      {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
                      {"StringEquals": {"aws:SourceOrgID": "o-123"}}):
        statement = {**service, "Condition": condition} if condition else service
        found = problems(pd.principals, key(statement))
        assert len(found) == 1 and "confused-deputy" in found[0], (condition, found)


def test_r1_trusts_only_listed_services_and_the_accounts_oidc_providers():
    def role(statement: dict) -> dict:
        return {"aws_iam_openid_connect_provider": {"gh": {
                    "url": "https://token.actions.githubusercontent.com",
                    "client_id_list": ["sts.amazonaws.com"]}},
                "aws_iam_role": {"r": {"name": "r", "assume_role_policy": policy(statement)}}}
    guard = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    trust = {"Effect": "Allow", "Action": "sts:AssumeRole", "Condition": guard}
    assert problems(pd.principals, role({**trust, "Principal": {
        "Service": "lambda.amazonaws.com"}})) == []
    assert problems(pd.principals, role({**trust, "Principal": {
        "Service": "codebuild.amazonaws.com"}}))
    oidc = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": "${aws_iam_openid_connect_provider.gh.arn}"},
            "Condition": {"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main"}}}
    assert problems(pd.principals, role(oidc)) == []
    no_sub = {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
    wild_sub = {"StringLike": {"token.actions.githubusercontent.com:sub": "*"}, **no_sub}
    for bad in ({**oidc, "Condition": no_sub}, {**oidc, "Condition": wild_sub},
                {**oidc, "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/x"}}):
        assert len(problems(pd.principals, role(bad))) == 1, bad


def test_r1_reads_lambda_permissions():
    def permission(**body) -> dict:
        return {"aws_lambda_permission": {"p": {"function_name": "f", **body}}}
    assert problems(pd.principals, permission(
        principal="apigateway.amazonaws.com",
        source_arn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api/*/*")) == []
    assert problems(pd.principals, permission(principal="apigateway.amazonaws.com"))
    assert problems(pd.principals, permission(principal="999999999999"))


def test_r1_keeps_an_exception_to_its_exact_statement():
    """SNS's default statement passes only with its AWS:SourceOwner condition."""
    sns = next(e for e in pd.EXCEPTIONS if e.sid == "TheAccountsOwnPrincipals")
    statement = {"Sid": sns.sid, "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": sns.actions.split(), "Resource": "*",
                 "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}}

    def topic(s: dict) -> dict:
        return {"aws_sns_topic_policy": {"t": {"arn": "x", "policy": policy(s)}}}
    assert problems(pd.principals, topic(statement)) == []
    assert problems(pd.principals, topic({k: v for k, v in statement.items()
                                          if k != "Condition"}))
    assert problems(pd.principals, topic({**statement, "Action": "sns:*"}))


def test_a_policy_the_rules_cannot_read_fails_every_rule():
    unreadable = {"aws_kms_key": {"k": {"policy": "${jsonencode({Statement = []})}"}},
                  "aws_ecr_repository_policy": {"e": {"policy": "${data.x.json}"}},
                  "aws_opensearch_domain": {"o": {"access_policies": "{}"}}}
    for rule in pd.RULES:
        found = problems(rule, unreadable)
        assert len(found) == 3 and any("aws_kms_key k: cannot read the policy" in p
                                       for p in found), found


def test_r2_wants_the_tls_deny_on_the_bucket_and_its_objects():
    assert problems(pd.tls, bucket(TLS_DENY)) == []
    narrowed = problems(pd.tls, bucket({**TLS_DENY, "Resource": "arn:aws:s3:::b"}))
    assert narrowed and all("DenyRequestsWithoutTls" in p for p in narrowed)
    assert any("s3:GetObject on arn:aws:s3:::b/any/key" in p for p in narrowed)
    assert problems(pd.tls, bucket({**TLS_DENY, "Action": "s3:GetObject"}))
    assert problems(pd.tls, bucket({**TLS_DENY, "Condition": {
        "Bool": {"aws:SecureTransport": "false"},
        "StringEquals": {"aws:PrincipalAccount": "999999999999"}}}))
    assert problems(pd.tls, {"aws_s3_bucket": {"b": {"bucket": "b"}}})


def test_r2_wants_the_tls_deny_on_every_action_of_a_queue():
    def queue(*statements: dict) -> dict:
        return {"aws_sqs_queue": {"q": {"name": "q"}},
                "aws_sqs_queue_policy": {"p": {"queue_url": "${aws_sqs_queue.q.url}",
                                               "policy": policy(*statements)}}}

    deny = {**TLS_DENY, "Action": "sqs:*", "Resource": "*"}
    assert problems(pd.tls, queue(deny)) == []
    sends_only = problems(pd.tls, queue({**deny, "Action": "sqs:SendMessage"}))
    assert any("plain-HTTP sqs:ReceiveMessage" in p for p in sends_only), sends_only
    assert problems(pd.tls, {"aws_sqs_queue": {"q": {"name": "q"}}}) == [
        "fake-stack: aws_sqs_queue q: no queue policy refuses plain HTTP"]


def test_r3_refuses_service_wide_and_permission_management_wildcards():
    def identity(*statements: dict) -> dict:
        return {"aws_iam_policy": {"p": {"name": "p", "policy": policy(*statements)}}}
    for narrow in ("kms:GenerateDataKey*", "ec2:Describe*", "iam:PassRole", "s3:GetObject"):
        assert problems(pd.wildcards, identity(
            {"Effect": "Allow", "Action": narrow, "Resource": "*"})) == [], narrow
    for wide in ("*", "iam:*", "s3:*", "iam:Put*", "iam:*Policy*"):
        found = problems(pd.wildcards, identity(
            {"Effect": "Allow", "Action": wide, "Resource": "*"}))
        assert len(found) == 1 and wide in found[0], (wide, found)
    assert problems(pd.wildcards, identity(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
    assert problems(pd.wildcards, identity({"Effect": "Deny", "Action": "*", "Resource": "*"})) \
        == []


def test_r3_wildcard_grants_hold_only_where_they_are_scoped():
    """The deploy policy's named statement keeps s3:* only on the environment's names; the key
    policy's kms:* only for the account root; an added `iam:*` is no grant's."""
    def deploy(*statements: dict) -> dict:
        return {"aws_iam_policy": {"p": {"//": {"metadata": {
            "path": "bootstrap-stack/delivery-prod/deploy-named"}}, "name": "p",
            "policy": policy(*statements)}}}
    named = {"Sid": "NamedBuckets", "Effect": "Allow", "Action": "s3:*",
             "Resource": "arn:aws:s3:::webplat-prod-*"}
    assert problems(pd.wildcards, deploy(named)) == []
    assert problems(pd.wildcards, deploy({**named, "Resource": "*"}))
    assert problems(pd.wildcards, deploy({**named, "Action": ["s3:*", "iam:*"]}))
    assert problems(pd.wildcards, deploy(named, {"Effect": "Allow", "Action": "iam:*",
                                                 "Resource": "*"}))
    admin = {**ROOT_ADMIN, "Sid": "AccountAdministersTheKeyThroughIam"}
    assert problems(pd.wildcards, key(admin)) == []
    other = {**admin, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"}}
    assert problems(pd.wildcards, key(other))


def test_r3_reviews_every_attached_managed_policy():
    def attach(arn: str) -> dict:
        return {"aws_iam_role": {"r": {"name": "r", "assume_role_policy": json.dumps({
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                   "Principal": {"Service": "lambda.amazonaws.com"}}]})}},
                "aws_iam_role_policy_attachment": {"a": {"role": "r", "policy_arn": arn}}}
    assert problems(pd.wildcards, attach("arn:aws:iam::aws:policy/ReadOnlyAccess")) == []
    assert problems(pd.wildcards, attach("arn:aws:iam::aws:policy/AdministratorAccess"))
