"""Whole-document policy rules: every policy document of a stack, read in full.

checkov reads a policy only where it is an HCL object; ours are JSON strings inside cdk.tf.json,
so its checks of them pass without looking. `read()` finds every attribute that holds a policy
(any attribute named like one must be a known document or a known non-document), parses it, and
reports "cannot read the policy of X" otherwise: no rule passes a document it did not read.

- R1 `principals`: no Allow statement of a resource or trust policy grants anyone outside the
  stack's account, except AWS service principals held to the account by a confused-deputy
  condition, the account's own OIDC providers with `aud` and `sub` conditions, and the listed
  EXCEPTIONS (tests/policy_allow_lists.py, like every allow-list here).
- R2 `tls`: every bucket's policy denies plain-HTTP requests on the bucket and on its objects;
  every queue's policy denies them for every SQS action.
- R3 `wildcards`: no Allow statement grants `*`, a whole service (`svc:*`, `NotAction`), or a
  wildcard that takes in permission management actions, except the listed WILDCARD_GRANTS; no
  managed policy is attached that the stack does not define, except MANAGED_POLICIES.

A rule is `rule(graphs, report)` as in tests/contracts.py; `report.counts` says how much it read.
Statements are evaluated with tests/contracts.py (`decide`, `Graph`), not a second evaluator.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache

from contracts import Graph, Report, Resource, bucket_policy, decide, each, listed
from iam_reference import action, expand
from policy_allow_lists import (ELB_LOG_ACCOUNTS, EXCEPTIONS, MANAGED_POLICIES,
                                TRUSTED_SERVICES, WILDCARD_GRANTS, PrincipalException,
                                WildcardGrant)

IDENTITY, RESOURCE, TRUST = "identity", "resource", "trust"
# (resource type, attribute path) of every document a stack may hold, and what kind it is.
DOCUMENTS = {
    ("aws_iam_role", "assume_role_policy"): TRUST,
    ("aws_iam_role", "inline_policy.policy"): IDENTITY,
    ("aws_iam_role_policy", "policy"): IDENTITY,
    ("aws_iam_policy", "policy"): IDENTITY,
    ("aws_iam_user_policy", "policy"): IDENTITY,
    ("aws_iam_group_policy", "policy"): IDENTITY,
    ("aws_kms_key", "policy"): RESOURCE,
    ("aws_kms_key_policy", "policy"): RESOURCE,
    ("aws_s3_bucket_policy", "policy"): RESOURCE,
    ("aws_sqs_queue", "policy"): RESOURCE,
    ("aws_sqs_queue_policy", "policy"): RESOURCE,
    ("aws_sns_topic", "policy"): RESOURCE,
    ("aws_sns_topic_policy", "policy"): RESOURCE,
    ("aws_ecr_repository_policy", "policy"): RESOURCE,
    ("aws_cloudwatch_log_resource_policy", "policy_document"): RESOURCE,
    ("aws_secretsmanager_secret", "policy"): RESOURCE,
    ("aws_secretsmanager_secret_policy", "policy"): RESOURCE,
    ("aws_cloudwatch_event_bus_policy", "policy"): RESOURCE,
    ("aws_vpc_endpoint", "policy"): RESOURCE,
}
# Attributes named like a policy that hold no policy document (fnmatch over the path).
NOT_DOCUMENTS = {
    ("aws_ecr_lifecycle_policy", "policy"): "image expiry rules",
    ("aws_sqs_queue", "redrive_policy"): "the dead-letter queue and receive count",
    ("aws_sqs_queue", "redrive_allow_policy"): "which queues may use this one as dead letters",
    ("aws_lb_listener", "ssl_policy"): "a TLS negotiation policy name",
    ("aws_apigatewayv2_domain_name", "*security_policy"): "a TLS version",
    ("aws_cloudfront_distribution", "*_policy*"): "cache, header and protocol policy ids",
    ("aws_cloudfront_vpc_origin", "*origin_protocol_policy"): "http-only or https-only",
    ("aws_cloudfront_response_headers_policy", "*referrer_policy*"): "a Referrer-Policy header",
    ("aws_appautoscaling_policy", "policy_type"): "target tracking or step scaling",
    ("aws_s3_bucket_public_access_block", "block_public_policy"): "a switch",
    ("aws_iam_role_policy_attachment", "policy_arn"): "a managed policy: R3 MANAGED_POLICIES",
    ("aws_iam_role", "managed_policy_arns"): "managed policies: R3 MANAGED_POLICIES",
    ("aws_chatbot_slack_channel_configuration", "guardrail_policy_arns"):
        "AWS managed policies that cap a Slack channel (tests/test_alarm_destinations.py)",
}
POLICY_NAMED = re.compile(r"polic(y|ies)", re.IGNORECASE)


@dataclass(frozen=True)
class Document:
    resource: Resource
    attribute: str
    kind: str
    statements: tuple  # the parsed statements; tokens (${aws_x.y.arn}) left as they are

    def where(self, statement: dict) -> str:
        return f"{self.attribute} Sid {statement.get('Sid') or '(none)'}"


@dataclass
class PolicyReport(Report):
    counts: Counter = field(default_factory=Counter)
    excepted: set = field(default_factory=set)  # the allow-list entries some statement used


def _paths(value, prefix: str = ""):
    """(dotted attribute path, value) of every attribute named like a policy, nested included."""
    items = value.items() if isinstance(value, dict) else ()
    for key, inner in items:
        if key == "//":
            continue
        path = f"{prefix}{key}"
        for element in (inner if isinstance(inner, list) else [inner]):
            if isinstance(element, dict):
                yield from _paths(element, f"{path}.")
            elif POLICY_NAMED.search(key):
                yield path, element


def _parse(text) -> tuple:
    """The statements of a policy document, or ValueError saying why it cannot be read."""
    if not isinstance(text, str):
        raise ValueError(f"it is a {type(text).__name__}, not a JSON string")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"it is not JSON but {text[:60]!r} (a Terraform expression?)") from None
    statements = listed(document.get("Statement")) if isinstance(document, dict) else None
    if not statements or not all(isinstance(s, dict) for s in statements):
        raise ValueError("it has no list of statements")
    return tuple(statements)


def read(graphs: list[Graph], report: Report) -> list[Document]:
    """Every policy document of the stacks; what cannot be read is a problem of `report`."""
    found = []
    for g in graphs:
        for type_ in g.json.get("data", {}):
            report.check(Resource(g, f"data.{type_}", "*", {}), type_ != "aws_iam_policy_document",
                         "cannot read the policy: policy document data sources are not "
                         "evaluated (tests/policy_documents.py)")
        for r in g.resources.values():
            for path, value in _paths(r.body):
                kind = DOCUMENTS.get((r.type, path))
                if kind is None:
                    known = any(t == r.type and fnmatchcase(path, p) for t, p in NOT_DOCUMENTS)
                    report.check(r, known, f"{path}: an attribute named like a policy that "
                                           f"tests/policy_documents.py does not know")
                    continue
                try:
                    found.append(Document(r, path, kind, _parse(value)))
                except ValueError as error:
                    report.check(r, False, f"cannot read the policy in {path}: {error}")
    return found


# --- R1 principals ---------------------------------------------------------------------------

# Condition keys that hold a service principal to requests made for this account's resources
# (IAM User Guide, "The confused deputy problem", cross-service prevention with aws:SourceArn and
# aws:SourceAccount), and the documented service-specific ones for key policies:
# - kms:EncryptionContext:aws:logs:arn: CloudWatch Logs User Guide, "Encrypt log data in
#   CloudWatch Logs using AWS Key Management Service" (the key policy's ArnLike condition);
# - kms:EncryptionContext:aws:cloudtrail:arn: CloudTrail User Guide, "Configure AWS KMS key
#   policies for CloudTrail";
# - kms:EncryptionContext:aws:sns:topicArn: the encryption context SNS uses for a topic's
#   messages (SNS Developer Guide, "Encryption at rest"; GameLift's SNS key policy example);
# - kms:CallerAccount with kms:ViaService: AWS KMS Developer Guide, "kms:CallerAccount".
# aws:SourceOrgID/aws:SourceOrgPaths are left out: they admit the organization's other accounts.
ACCOUNT_GUARDS = {"aws:sourceaccount"}
ARN_GUARDS = {"aws:sourcearn", "kms:encryptioncontext:aws:logs:arn",
              "kms:encryptioncontext:aws:cloudtrail:arn", "kms:encryptioncontext:aws:sns:topicarn"}
# Operators that require the key to be present and to match (IAM User Guide, "IAM JSON policy
# elements: Condition operators"): ...IfExists passes a request without the key, Not... passes
# every other value.
POSITIVE = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"}


def _keys(statement: dict) -> dict[str, list]:
    """The statement's condition keys under operators that require them, lower-cased."""
    found: dict[str, list] = {}
    for operator, tests in (statement.get("Condition") or {}).items():
        if operator.split(":")[-1] in POSITIVE:
            for key, values in tests.items():
                found.setdefault(key.lower(), []).extend(str(v) for v in listed(values))
    return found


def own_arn(graph: Graph, value: str) -> bool:
    """A resource of the stack (a token naming one) or an ARN whose account is the stack's."""
    if graph.ref(value) is not None:
        return True
    parts = value.split(":")
    return len(parts) > 5 and parts[0] == "arn" and parts[4] == graph.account


def guarded(graph: Graph, statement: dict) -> bool:
    keys = _keys(statement)
    accounts = [keys[k] for k in ACCOUNT_GUARDS if k in keys]
    if "kms:calleraccount" in keys and "kms:viaservice" in keys:
        accounts.append(keys["kms:calleraccount"])
    arns = [keys[k] for k in ARN_GUARDS if k in keys]
    return (any(all(v == graph.account for v in values) for values in accounts)
            or any(all(own_arn(graph, v) for v in values) for values in arns))


def own_principal(graph: Graph, value: str) -> bool:
    """The account itself (its root, its id) or one of its roles."""
    if graph.ref(value) is not None:
        return graph.ref(value).type == "aws_iam_role"
    iam = f"arn:{graph.partition}:iam::{graph.account}:"
    return value == graph.account or value == f"{iam}root" or value.startswith(f"{iam}role/")


def _federated(graph: Graph, statement: dict, value: str) -> str | None:
    """IAM User Guide, "Create a role for OpenID Connect federation": the provider is an IAM OIDC
    provider of the account, and the trust names the audience (aud) and who (sub)."""
    provider = graph.ref(value)
    if provider is None or provider.type != "aws_iam_openid_connect_provider":
        return f"trusts {value}, not an OIDC provider this stack creates"
    host = provider.body["url"].removeprefix("https://").lower()
    keys = _keys(statement)
    audiences, subjects = keys.get(f"{host}:aud", []), keys.get(f"{host}:sub", [])
    if listed(statement.get("Action")) != ["sts:AssumeRoleWithWebIdentity"]:
        return f"trusts {host} for {statement.get('Action')}, not sts:AssumeRoleWithWebIdentity"
    if not audiences or not set(audiences) <= set(provider.body.get("client_id_list", [])):
        return f"trusts {host} without an aud condition on the provider's client ids"
    if not subjects or any(not s.strip("*?") for s in subjects):
        return f"trusts {host} without a sub condition naming who may assume it"
    return None


def _judge(doc: Document, statement: dict, kind: str, value: str) -> str | None:
    g = doc.resource.graph
    if kind == "*" or (kind == "AWS" and value == "*"):
        return "grants everyone (Principal *)"
    if kind == "AWS":
        return None if own_principal(g, value) else \
            f"grants {value}, outside the account {g.account}"
    if kind == "Federated" and doc.kind == TRUST:
        return _federated(g, statement, value)
    if kind != "Service" or not value.endswith(".amazonaws.com"):
        return f"grants the {kind} principal {value}"
    if doc.kind == TRUST and value not in TRUSTED_SERVICES:
        return f"lets {value} assume the role: not a service of TRUSTED_SERVICES"
    if not guarded(g, statement):
        return f"grants {value} without a confused-deputy condition naming the account"
    return None


def _excepted(doc: Document, statement: dict, principal: str) -> PrincipalException | None:
    g = doc.resource.graph
    values = {"account": g.account, "elb": ELB_LOG_ACCOUNTS.get(doc.resource.region, "?")}
    condition = statement.get("Condition")
    resources = [g.value(r) for r in listed(statement.get("Resource"))]
    for e in EXCEPTIONS:
        if (e.type == doc.resource.type and e.sid == statement.get("Sid")
                and principal == e.principal.format(**values)
                and set(listed(statement.get("Action"))) == set(e.actions.split())
                and condition == (json.loads(e.condition.replace("{account}", g.account))
                                  if e.condition else None)
                and all(fnmatchcase(r, e.resource.format(**values)) for r in resources)):
            return e
    return None


def principals(graphs: list[Graph], report: PolicyReport) -> None:
    for doc in read(graphs, report):
        if doc.kind == IDENTITY:
            continue
        report.counts["R1 documents"] += 1
        for s in doc.statements:
            report.counts["R1 statements"] += 1
            if s.get("Effect") != "Allow":
                continue  # a Deny only narrows, whoever it names
            report.check(doc.resource, "NotPrincipal" not in s,
                         f"{doc.where(s)}: Allow with NotPrincipal grants everyone else")
            named = s.get("Principal")
            pairs = [("*", "*")] if named == "*" else [
                (kind, v) for kind, values in (named or {}).items() for v in listed(values)]
            for kind, value in pairs:
                report.counts["R1 principals"] += 1
                problem = _judge(doc, s, kind, value)
                exception = _excepted(doc, s, f"{kind}:{value}") if problem else None
                if exception is not None:
                    report.excepted.add(exception)
                    continue
                report.check(doc.resource, problem is None, f"{doc.where(s)}: {problem}")
    for p in each(graphs, "aws_lambda_permission"):
        report.counts["R1 lambda permissions"] += 1
        g, principal = p.graph, p.body["principal"]
        # Lambda Developer Guide, "Granting function access to AWS services": SourceArn or
        # SourceAccount keep another account's resources from invoking through the service.
        source = own_arn(g, p.body.get("source_arn", "")) or \
            p.body.get("source_account") == g.account
        ok = own_principal(g, principal) or (principal.endswith(".amazonaws.com") and source)
        report.check(p, ok, f"principal {principal} without a source_arn or source_account "
                            f"of the account")


# --- R2 TLS ----------------------------------------------------------------------------------

# S3 User Guide, "Enforce encryption in transit" and Security Hub S3.5 ("S3 general purpose
# buckets should require requests to use SSL"): a Deny on aws:SecureTransport = false for the
# bucket and every object in it.
PLAIN_HTTP = {"aws:SecureTransport": "false"}


def tls(graphs: list[Graph], report: PolicyReport) -> None:
    read(graphs, report)
    for bucket in each(graphs, "aws_s3_bucket"):
        report.counts["R2 buckets"] += 1
        arn = bucket.attr("arn")
        _plain_http_denied(bucket, bucket_policy(bucket), report, "bucket policy", (
            ("s3:GetObject", f"{arn}/any/key"), ("s3:PutObject", f"{arn}/k"),
            ("s3:DeleteObject", f"{arn}/k"), ("s3:ListBucket", arn),
            ("s3:PutBucketPolicy", arn)))
    # Amazon SQS Developer Guide, "Amazon SQS security best practices": enforce encryption of
    # data in transit with aws:SecureTransport in the queue policy; for every action, or a
    # message could still be received (or the queue purged) over plain HTTP.
    for queue in each(graphs, "aws_sqs_queue"):
        report.counts["R2 queues"] += 1
        policy = next((r for r in queue.graph.of_type("aws_sqs_queue_policy")
                       if queue.graph.ref(r.body.get("queue_url")) == queue), None)
        arn = queue.attr("arn")
        _plain_http_denied(queue, policy, report, "queue policy", tuple(
            (f"sqs:{name}", arn) for name in (
                "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
                "PurgeQueue", "GetQueueAttributes")))


def _plain_http_denied(target: Resource, policy: Resource | None, report: PolicyReport,
                       kind: str, requests: tuple[tuple[str, str], ...]) -> None:
    """Each request, made over plain HTTP by the account or a stranger, meets a Deny."""
    if not report.check(target, policy is not None, f"no {kind} refuses plain HTTP"):
        return
    try:
        statements = list(_parse(target.graph.value(policy.body["policy"])))
    except ValueError:
        return  # read() reported it
    sids = [s.get("Sid") for s in statements if s.get("Effect") == "Deny"
            and "aws:securetransport" in json.dumps(s.get("Condition", {})).lower()]
    strangers = (f"arn:aws:iam::{target.graph.account}:root", "arn:aws:iam::999999999999:root")
    for name, resource in requests:
        report.counts["R2 requests"] += 1
        denied = all(decide(statements, name, resource, ("AWS", who), PLAIN_HTTP) == "deny"
                     for who in strangers)
        report.check(target, denied, f"policy Sid {', '.join(map(str, sids)) or '(none)'}: "
                                     f"plain-HTTP {name} on {resource} is not denied")


# --- R3 wildcards ----------------------------------------------------------------------------

# Why a wildcard is refused: it grants whatever the service adds later, unreviewed (IAM User
# Guide, "Security best practices in IAM": apply least-privilege permissions). `*`, `svc:*` and
# NotAction in an Allow take in a whole service; a narrower wildcard (iam:Put*, ec2:Create*) is
# refused when it takes in a "Permissions management" action (Service Authorization Reference
# access level: writes of policies, grants and permissions, i.e. privilege escalation). Other
# narrow wildcards (kms:GenerateDataKey*, ec2:Describe*) are left alone.
@cache
def broad(pattern: str) -> bool:
    verb = pattern.partition(":")[2]
    if pattern == "*" or verb == "*":
        return True
    return any(c in verb for c in "*?") and any(
        action(a).access_level == "Permissions management" for a in expand(pattern))


def _in_scope(doc: Document, statement: dict, grant: WildcardGrant) -> bool:
    env = re.match(r"delivery-([^/]+)/", doc.resource.path)
    if grant.scope == "names":
        return env is not None and all(env.group(1) in r and r != "*"
                                       for r in listed(statement.get("Resource")))
    if grant.scope == "tags":
        return env is not None and env.group(1) in json.dumps(statement.get("Condition", {}))
    if grant.scope == "root":
        return statement.get("Principal") == {
            "AWS": f"arn:{doc.resource.graph.partition}:iam::{doc.resource.graph.account}:root"}
    return doc.resource.path.endswith("/boundary")


def _wildcards_allowed(doc: Document, statement: dict, found: set[str]) -> WildcardGrant | None:
    for g in WILDCARD_GRANTS:
        if (g.type == doc.resource.type and fnmatchcase(doc.resource.path, g.path)
                and g.sid == statement.get("Sid") and found <= g.patterns
                and _in_scope(doc, statement, g)):
            return g
    return None


def wildcards(graphs: list[Graph], report: PolicyReport) -> None:
    for doc in read(graphs, report):
        report.counts["R3 documents"] += 1
        for s in doc.statements:
            report.counts["R3 statements"] += 1
            if s.get("Effect") != "Allow":
                continue
            patterns = listed(s.get("Action"))
            report.counts["R3 action patterns"] += len(patterns)
            found = {p for p in patterns if broad(p)}
            if "NotAction" in s:
                found.add("NotAction")
            if not found:
                continue
            grant = _wildcards_allowed(doc, s, found)
            if grant is not None:
                report.excepted.add(grant)
                continue
            report.check(doc.resource, False, f"{doc.where(s)}: Allow of {', '.join(sorted(found))}"
                                              f" on {s.get('Resource')}")
    for g in graphs:
        attached = [(a, a.body["policy_arn"]) for a in g.of_type("aws_iam_role_policy_attachment")]
        attached += [(r, arn) for r in g.of_type("aws_iam_role")
                     for arn in listed(r.body.get("managed_policy_arns"))]
        for r, arn in attached:
            report.counts["R3 managed policy attachments"] += 1
            ours = (g.ref(arn) or r).type == "aws_iam_policy"  # its document is read above
            report.check(r, ours or arn in MANAGED_POLICIES,
                         f"attaches {arn}, an AWS managed policy not in MANAGED_POLICIES")


RULES = (principals, tls, wildcards)
ALLOW_LISTS = {principals: EXCEPTIONS, tls: (), wildcards: WILDCARD_GRANTS}


def run(rule, graphs: list[Graph]) -> PolicyReport:
    report = PolicyReport()
    rule(graphs, report)
    return report
