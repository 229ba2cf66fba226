"""Reading AWS's rules off synthesized Terraform JSON: the helpers of the contract tests
(tests/test_contracts_*.py).

A stack's JSON names other resources through tokens (`${aws_s3_bucket.logs_1A2B.arn}`), and its IAM,
bucket and key policies are JSON strings inside resource bodies. `Graph` indexes one stack's
resources, resolves a token to the resource it names and to a concrete value (the ARN or name AWS
would give it), so a policy can be evaluated: `decide()` answers whether a set of statements allows
principal P action A on resource R under a request context, the way IAM does (an explicit deny wins,
then an allow, otherwise implicitly denied), for the condition operators the platform uses.

A rule is a function `rule(graphs, report)` that walks every resource of a kind and records each
one it checked and each problem it found in `report`; the tests run every rule over every stack.
"""

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase, translate
from functools import lru_cache
from typing import Callable, Iterator

TOKEN = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}")
ADDRESS = re.compile(r"^(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)$")


def listed(value) -> list:
    """A policy element that may be one value or a list of them, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, (str, dict)) else list(value)


# --- the stack as a graph ------------------------------------------------------------------------

@dataclass(frozen=True)
class Resource:
    graph: "Graph"
    type: str
    id: str  # the logical id
    body: dict = field(compare=False, hash=False, repr=False)

    @property
    def address(self) -> str:
        """How `depends_on` names it: `aws_x.logical_id`."""
        return f"{self.type}.{self.id}"

    @property
    def path(self) -> str:
        """The construct path without the stack, e.g. `baseline/trail`."""
        meta = self.body.get("//", {}).get("metadata", {})
        return meta.get("path", f"{self.graph.name}/{self.id}").split("/", 1)[-1]

    @property
    def region(self) -> str:
        return self.graph.region(self.body.get("provider"))

    def attr(self, name: str) -> str:
        """The concrete value of an attribute: what AWS would report for it."""
        return self.graph.attribute(self, name)

    def __str__(self) -> str:
        return f"{self.graph.name}: {self.type} {self.path}"


class Graph:
    """One synthesized stack (anything with `name` and `json`), indexed by resource address."""

    def __init__(self, stack, name: str | None = None):
        self.name: str = name or stack.name
        self.json: dict = stack.json
        self.resources: dict[str, Resource] = {
            f"{type_}.{logical_id}": Resource(self, type_, logical_id, body)
            for type_, bodies in self.json.get("resource", {}).items()
            for logical_id, body in bodies.items()}
        providers = self.json.get("provider", {}).get("aws", [])
        self._regions = {p.get("alias"): p.get("region") for p in providers}
        accounts = [a for p in providers for a in p.get("allowed_account_ids", [])]
        self.account: str = accounts[0] if accounts else "123456789012"
        self.partition = "aws"

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type == type_]

    def region(self, provider: str | None) -> str:
        alias = provider.split(".", 1)[1] if provider else None
        return self._regions.get(alias) or self._regions.get(None) or "us-east-1"

    def ref(self, value) -> Resource | None:
        """The resource a token (`${aws_x.id.attr}`) or an address (`aws_x.id`) names."""
        if not isinstance(value, str):
            return None
        match = TOKEN.search(value) or ADDRESS.match(value)
        return self.resources.get(f"{match.group(1)}.{match.group(2)}") if match else None

    def value(self, text: str, depth: int = 0) -> str:
        """`text` with every token replaced by the concrete value it stands for."""
        if depth > 5:
            return text
        return TOKEN.sub(lambda m: self._token(m, depth), text)

    def _token(self, match: re.Match, depth: int) -> str:
        resource = self.resources.get(f"{match.group(1)}.{match.group(2)}")
        if resource is None:
            return match.group(0)
        return self.value(self.attribute(resource, match.group(3)), depth + 1)

    def attribute(self, r: Resource, name: str) -> str:
        b, region, account, p = r.body, r.region, self.account, self.partition
        arns = {
            "aws_s3_bucket": lambda: f"arn:{p}:s3:::{b['bucket']}",
            "aws_kms_key": lambda: f"arn:{p}:kms:{region}:{account}:key/{r.id}",
            "aws_kms_alias": lambda: f"arn:{p}:kms:{region}:{account}:{b['name']}",
            "aws_cloudwatch_log_group": lambda: f"arn:{p}:logs:{region}:{account}:log-group:"
                                                f"{b['name']}",
            "aws_iam_role": lambda: f"arn:{p}:iam::{account}:role/{b['name']}",
            "aws_iam_policy": lambda: f"arn:{p}:iam::{account}:policy/{b['name']}",
            "aws_iam_instance_profile": lambda: f"arn:{p}:iam::{account}:instance-profile/"
                                                f"{b['name']}",
            "aws_sns_topic": lambda: f"arn:{p}:sns:{region}:{account}:{b['name']}",
            "aws_sqs_queue": lambda: f"arn:{p}:sqs:{region}:{account}:{b['name']}",
            "aws_cloudtrail": lambda: f"arn:{p}:cloudtrail:{region}:{account}:trail/{b['name']}",
            "aws_cloudwatch_metric_alarm": lambda: f"arn:{p}:cloudwatch:{region}:{account}:alarm:"
                                                   f"{b['alarm_name']}",
            "aws_lambda_function": lambda: f"arn:{p}:lambda:{region}:{account}:function:"
                                           f"{b['function_name']}",
            "aws_dynamodb_table": lambda: f"arn:{p}:dynamodb:{region}:{account}:table/{b['name']}",
        }
        if name == "arn" and r.type in arns:
            return arns[r.type]()
        if name == "id":  # what the provider reports as the id of these types
            id_of = {"aws_s3_bucket": "bucket", "aws_cloudwatch_log_group": "name",
                     "aws_iam_role": "name", "aws_iam_instance_profile": "name",
                     "aws_kms_key": "key_id", "aws_sns_topic": "arn", "aws_sqs_queue": "url"}
            if r.type in id_of:
                return self.attribute(r, id_of[r.type])
        if name == "key_id" and r.type == "aws_kms_key":
            return r.id
        if name == "arn_suffix":
            return f"{r.type}/{r.id}"
        if isinstance(b.get(name), str):
            return b[name]
        return f"<{r.address}.{name}>"  # unknown until apply: matches nothing but itself

    def statements(self, policy: str | dict | None) -> list[dict]:
        """A policy document's statements, every token resolved to a concrete value."""
        if not policy:
            return []
        document = json.loads(self.value(policy)) if isinstance(policy, str) else policy
        return listed(document.get("Statement"))

    def depends(self, r: Resource) -> set[str]:
        """Everything `r` explicitly waits for: its `depends_on`, followed transitively."""
        seen: set[str] = set()
        todo = list(r.body.get("depends_on") or [])
        while todo:
            address = todo.pop()
            if address in seen:
                continue
            seen.add(address)
            found = self.resources.get(address)
            if found is not None:
                todo += found.body.get("depends_on") or []
        return seen


def graphs(stacks) -> list[Graph]:
    """Graphs of the given stacks; a dict's keys name them (presets share stack names)."""
    if isinstance(stacks, dict):
        return [Graph(s, label) for label, s in stacks.items()]
    return [s if isinstance(s, Graph) else Graph(s) for s in stacks]


# --- IAM -----------------------------------------------------------------------------------------

def _condition_holds(operator: str, key: str, expected, context: dict) -> bool:
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    present = key.lower() in context
    values = [str(v) for v in listed(context.get(key.lower()))]
    wanted = [str(e).lower() if op == "Bool" else str(e) for e in listed(expected)]
    if op == "Null":
        return (not present) == (wanted[0].lower() == "true")
    if not present:
        return if_exists or op.startswith(("StringNot", "ArnNot"))

    def one(value: str) -> bool:
        if op in ("StringEquals", "ArnEquals"):
            return value in wanted
        if op == "StringEqualsIgnoreCase":
            return value.lower() in (w.lower() for w in wanted)
        if op in ("StringLike", "ArnLike"):
            return any(fnmatchcase(value, w) for w in wanted)
        if op in ("StringNotEquals", "ArnNotEquals"):
            return value not in wanted
        if op in ("StringNotLike", "ArnNotLike"):
            return not any(fnmatchcase(value, w) for w in wanted)
        if op == "Bool":
            return value.lower() in wanted
        raise AssertionError(f"contracts.decide() does not know the condition operator {op}")

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def conditions_hold(condition: dict, context: dict) -> bool:
    context = {k.lower(): v for k, v in (context or {}).items()}
    return all(_condition_holds(op, key, expected, context)
               for op, tests in (condition or {}).items() for key, expected in tests.items())


def _principal_matches(statement: dict, principal: tuple[str, str] | None) -> bool:
    if principal is None:  # an identity policy: its statements name no principal
        return "Principal" not in statement and "NotPrincipal" not in statement
    named = statement.get("Principal")
    if named == "*":
        return True
    if not isinstance(named, dict):
        return False
    kind, who = principal
    # IAM User Guide, "AWS JSON policy elements: Principal": {"AWS": "*"} is the same as "*".
    if "*" in listed(named.get("AWS")):
        return True
    return any(p == "*" or p == who for p in listed(named.get(kind)))


@lru_cache(maxsize=None)
def _pattern(patterns: tuple[str, ...], case_insensitive: bool) -> re.Pattern | None:
    """One regular expression for a policy element's wildcard patterns (IAM's `*` and `?`, as
    fnmatch reads them); None for an empty element, which matches nothing."""
    if not patterns:
        return None
    return re.compile("|".join(translate(p) for p in patterns),
                      re.IGNORECASE if case_insensitive else 0)


def _matches(patterns, value: str, case_insensitive: bool = False) -> bool:
    # Compiled once per element: the isolation tests ask about a million times.
    key = (patterns,) if isinstance(patterns, str) else () if patterns is None else tuple(patterns)
    pattern = _pattern(key, case_insensitive)
    return pattern is not None and pattern.match(value) is not None


def decide(statements: list[dict], action: str, resource: str,
           principal: tuple[str, str] | None = None, context: dict | None = None) -> str:
    """IAM's answer for one request: "deny" (an explicit deny applies: it wins), "allow", or
    "implicit" (nothing applies). `principal` is ("Service", "x.amazonaws.com") or ("AWS", arn) for
    a resource policy, None for an identity policy."""
    def applies(s: dict) -> bool:
        if "NotAction" in s:
            acts = not _matches(s["NotAction"], action, case_insensitive=True)
        else:
            acts = _matches(s.get("Action"), action, case_insensitive=True)
        if "NotResource" in s:
            on = not _matches(s["NotResource"], resource)
        elif "Resource" not in s and principal is not None:
            on = True  # a trust policy: its statements are about the role it belongs to
        else:
            on = _matches(s.get("Resource"), resource)
        return (acts and on and _principal_matches(s, principal)
                and conditions_hold(s.get("Condition"), context or {}))
    effects = {s.get("Effect") for s in statements if applies(s)}
    return "deny" if "Deny" in effects else "allow" if "Allow" in effects else "implicit"


def allows(statements: list[dict], action: str, resource: str,
           principal: tuple[str, str] | None = None, context: dict | None = None) -> bool:
    return decide(statements, action, resource, principal, context) == "allow"


# --- roles, buckets and keys ---------------------------------------------------------------------

def _names(graph: Graph, value: str, role: Resource) -> bool:
    """Does `value` (a role attribute of a policy or attachment) name `role`?"""
    return graph.ref(value) == role or value in (role.body.get("name"), role.attr("arn"))


def role_statements(role: Resource) -> list[dict]:
    """Every identity statement the role has from this stack: inline policies (separate resources
    or the role's own `inline_policy`) and customer managed policies attached to it."""
    g = role.graph
    found = [s for p in listed(role.body.get("inline_policy")) for s in g.statements(p["policy"])]
    found += [s for p in g.of_type("aws_iam_role_policy") if _names(g, p.body["role"], role)
              for s in g.statements(p.body["policy"])]
    attached = set(managed_policies(role))
    found += [s for p in g.of_type("aws_iam_policy") if p.attr("arn") in attached
              for s in g.statements(p.body["policy"])]
    return found


def managed_policies(role: Resource) -> list[str]:
    """ARNs of the managed policies attached to the role."""
    g = role.graph
    arns = [g.value(a) for a in listed(role.body.get("managed_policy_arns"))]
    attachments = g.of_type("aws_iam_role_policy_attachment")
    return arns + [g.value(a.body["policy_arn"]) for a in attachments
                   if _names(g, a.body["role"], role)]


def role_policy_resources(role: Resource) -> list[Resource]:
    """The resources that give the role its permissions (what a user of the role waits for)."""
    g = role.graph
    return [r for t in ("aws_iam_role_policy", "aws_iam_role_policy_attachment")
            for r in g.of_type(t) if _names(g, r.body["role"], role)]


def trusts(role: Resource, service: str) -> bool:
    return any(s.get("Effect") == "Allow" and "sts:AssumeRole" in listed(s.get("Action"))
               and service in listed(s.get("Principal", {}).get("Service"))
               for s in role.graph.statements(role.body["assume_role_policy"]))


def bucket_named(graph: Graph, value) -> Resource | None:
    """The bucket a bucket name, id or ARN (token or literal) designates, in this stack."""
    found = graph.ref(value)
    if found is not None and found.type == "aws_s3_bucket":
        return found
    literal = graph.value(value) if isinstance(value, str) else None
    return next((b for b in graph.of_type("aws_s3_bucket")
                 if literal in (b.attr("bucket"), b.attr("arn"))), None)


def _of_bucket(bucket: Resource, type_: str) -> list[Resource]:
    g = bucket.graph
    return [r for r in g.of_type(type_) if bucket_named(g, r.body.get("bucket")) == bucket]


def bucket_policy(bucket: Resource) -> Resource | None:
    found = _of_bucket(bucket, "aws_s3_bucket_policy")
    return found[0] if found else None


def bucket_statements(bucket: Resource) -> list[dict]:
    policy = bucket_policy(bucket)
    return bucket.graph.statements(policy.body["policy"]) if policy else []


def bucket_encryption(bucket: Resource) -> dict:
    """The bucket's default encryption rule ({} without one)."""
    for config in _of_bucket(bucket, "aws_s3_bucket_server_side_encryption_configuration"):
        for rule in listed(config.body.get("rule")):
            return {**listed(rule.get("apply_server_side_encryption_by_default"))[0],
                    "bucket_key_enabled": rule.get("bucket_key_enabled", False)}
    return {}


def key_named(graph: Graph, value) -> Resource | None:
    """The KMS key a key ARN, id or alias (token or literal) designates, in this stack."""
    found = graph.ref(value)
    if found is None and isinstance(value, str):  # a literal ARN, key id or alias
        found = next((k for k in graph.of_type("aws_kms_key")
                      if value in (k.attr("arn"), k.attr("key_id"), *key_aliases(k))), None)
    if found is not None and found.type == "aws_kms_alias":
        found = graph.ref(found.body["target_key_id"])
    return found if found is not None and found.type == "aws_kms_key" else None


def topic_named(graph: Graph, value) -> Resource | None:
    """The SNS topic a topic ARN (token or literal) designates, in this stack."""
    found = graph.ref(value)
    if found is None:
        found = next((t for t in graph.of_type("aws_sns_topic") if t.attr("arn") == value), None)
    return found if found is not None and found.type == "aws_sns_topic" else None


def key_statements(key: Resource) -> list[dict]:
    return key.graph.statements(key.body.get("policy"))


def key_aliases(key: Resource) -> list[str]:
    g = key.graph
    return [a.body["name"] for a in g.of_type("aws_kms_alias")
            if g.ref(a.body["target_key_id"]) == key]


def key_admits_service(key: Resource, service: str, action: str, context: dict) -> bool:
    """The key policy lets an AWS service principal call `action` on the key."""
    return allows(key_statements(key), action, key.attr("arn"), ("Service", service), context)


def role_may_use_key(role: Resource, key: Resource, action: str, context: dict | None = None,
                     role_statements_: list[dict] | None = None) -> bool:
    """A role of the key's account may use the key: the key policy names the role, or it delegates
    to the account (its root) and the role's IAM policies allow it; no deny in either."""
    role_arn = role.attr("arn")
    account_root = f"arn:{key.graph.partition}:iam::{key.graph.account}:root"
    policy = key_statements(key)
    statements = role_statements(role) if role_statements_ is None else role_statements_
    context = {"kms:ResourceAliases": key_aliases(key), **(context or {})}
    resource = key.attr("arn")
    if decide(policy, action, resource, ("AWS", role_arn), context) == "deny":
        return False
    if decide(statements, action, resource, None, context) == "deny":
        return False
    if allows(policy, action, resource, ("AWS", role_arn), context):
        return True
    return (allows(policy, action, resource, ("AWS", account_root), context)
            and allows(statements, action, resource, None, context))


# --- reports -------------------------------------------------------------------------------------

@dataclass
class Report:
    """What a rule looked at, and what it found wrong (one line per problem)."""

    checked: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def check(self, resource: Resource, ok: bool, problem: str) -> bool:
        self.checked.add(str(resource))
        if not ok:
            self.problems.append(f"{resource}: {problem}")
        return ok


Rule = Callable[[list[Graph], Report], None]


def run(rule: Rule, stacks) -> Report:
    report = Report()
    rule(graphs(stacks), report)
    return report


def each(gs: list[Graph], type_: str) -> Iterator[Resource]:
    for g in gs:
        yield from g.of_type(type_)


# --- hand-made stacks for the rules' own tests ---------------------------------------------------

@dataclass
class FakeStack:
    """A stack JSON written by hand: `resources` is {type: {logical id: body}}; each body gets its
    construct path (`//`) and the provider block a real stack has."""

    resources: dict
    name: str = "fake-stack"
    region: str = "us-east-1"
    account: str = "123456789012"

    @property
    def json(self) -> dict:
        bodies = {t: {i: {"//": {"metadata": {"path": f"{self.name}/{i}"}}, **b}
                      for i, b in found.items()} for t, found in self.resources.items()}
        return {"provider": {"aws": [
            {"region": self.region, "allowed_account_ids": [self.account]},
            {"alias": "us_east_1", "region": "us-east-1", "allowed_account_ids": [self.account]}]},
            "resource": bodies}


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assert_clean(report: Report, known_gaps: dict[str, str] | None = None) -> None:
    """No problem but the known gaps ({fnmatch pattern over a problem line: why it is open and who
    owns it}), and every known gap still occurs: a fixed gap must leave the list."""
    known_gaps = known_gaps or {}
    open_ = [p for p in report.problems if not any(fnmatchcase(p, k) for k in known_gaps)]
    assert open_ == [], "\n".join(open_)
    stale = [k for k in known_gaps if not any(fnmatchcase(p, k) for p in report.problems)]
    assert stale == [], f"fixed, remove from the known gaps: {stale}"
