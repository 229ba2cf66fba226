"""No environment's delivery roles reach another environment or the account's own resources, and no
role of an environment can grant itself more than its boundary.

Every environment of an account shares it (config/account.toml), so this is IAM's job alone. The
policies are evaluated request by request (contracts.decide: an explicit deny wins, then an allow),
and each request is what AWS would evaluate: the ARN of the resource and only the condition keys
AWS documents for that action and resource type (tests/iam_reference.py, the Service
Authorization Reference). A condition on a key the action does not carry is absent from the
request, so an action AWS cannot scope by tag shows up here as reaching everywhere.
"""

import json
import re

import pytest

import contracts
from conftest import SAMPLE, SynthStack, synthesize
from data_reads import data_reading
from iam_reference import Action, action, expand, fill, supports
from lib.delivery.action_lists import ACCOUNT_WIDE_WRITES

ACCOUNT, REGION, PROJECT = "123456789012", "us-east-1", "webplat"
ENVIRONMENTS = ("dev", "staging", "prod")
DOMAINS = {"dev": (), "staging": ("staging.webplat.example.com",),
           "prod": ("webplat.example.com",)}  # config/*.toml ingress.domain
IAM = f"arn:aws:iam::{ACCOUNT}"

# Writes that reach another environment's resource because AWS offers nothing to scope them by
# (no name in the ARN, no tag condition key), each allowed on purpose; README "Security", the
# deploy role's row, lists them with the same reasons.
CROSS_ENVIRONMENT_WRITES = {
    # Route 53 authorizes nothing by tag, so a zone's tags grant nothing.
    "route53:ChangeTagsForResource": "tags of a hosted zone the stack creates (Terraform tags it "
                                     "after CreateHostedZone)",
    # Route 53 refuses to delete a zone with records other than its SOA and NS, and the role
    # writes only its own names.
    "route53:DeleteHostedZone": "destroying the zone the stack created",
}


def documents(bootstrap: SynthStack) -> dict[str, dict[str, list[dict]]]:
    """{env: {"plan"|"deploy"|"boundary": statements}} with every token resolved."""
    graph = contracts.Graph(bootstrap)
    out: dict[str, dict[str, list[dict]]] = {}
    for env in ENVIRONMENTS:
        found = bootstrap.matching("aws_iam_policy", f"delivery-{env}/*")
        by_suffix = {path.split("/", 1)[1]: graph.statements(body["policy"])
                     for path, body in found.items()}
        out[env] = {"plan": by_suffix["plan"], "boundary": by_suffix["boundary"],
                    "deploy": [s for k, v in by_suffix.items() if k.startswith("deploy")
                               for s in v]}
    return out


@pytest.fixture(scope="module")
def policies(bootstrap) -> dict[str, dict[str, list[dict]]]:
    return documents(bootstrap)


@pytest.fixture(scope="module")
def account(bootstrap) -> dict[str, str]:
    """The bootstrap stack's own resources, as ARNs."""
    graph = contracts.Graph(bootstrap)

    def arn(type_: str, path: str) -> str:
        return graph.value(bootstrap.ref(type_, path, "arn"))
    return {"state": arn("aws_s3_bucket", "state/bucket/bucket"),
            "lock": arn("aws_dynamodb_table", "state/lock-table"),
            "state_key": arn("aws_kms_key", "state-key/key"),
            "audit": arn("aws_s3_bucket", "baseline/audit-bucket/bucket"),
            "audit_key": arn("aws_kms_key", "audit-key/key")}


def granted(statements: list[dict]) -> list[str]:
    """Every concrete action some Allow statement names."""
    patterns = {a for s in statements if s["Effect"] == "Allow"
                for a in contracts.listed(s.get("Action"))}
    return sorted({a for p in patterns for a in expand(p)})


def boundary_arn(env: str) -> str:
    return f"{IAM}:policy/{PROJECT}-{env}-boundary"


def requests_against(act: Action, target: str, attacker: str):
    """The requests someone holding `attacker`'s role would send to act on `target`'s resource:
    its ARN for each resource type, with the keys AWS puts in the request for it. Where the
    action takes request tags, the attacker sends none, or its own."""
    for rt in act.resource_types:
        keys = rt.condition_keys | act.condition_keys
        context: dict = {"aws:RequestedRegion": REGION}
        if supports(keys, "aws:ResourceTag/Environment"):
            context.update({"aws:ResourceTag/Project": PROJECT,
                            "aws:ResourceTag/Environment": target})
        if supports(keys, "kms:ResourceAliases"):
            context["kms:ResourceAliases"] = [f"alias/{PROJECT}-{target}-data"]
        if supports(keys, "iam:PermissionsBoundary"):
            context["iam:PermissionsBoundary"] = boundary_arn(target)
        if supports(keys, "iam:PassedToService"):
            context["iam:PassedToService"] = "ecs-tasks.amazonaws.com"
        if supports(keys, "route53:ChangeResourceRecordSetsNormalizedRecordNames"):
            if not DOMAINS[target]:
                continue  # the target has no names to reach
            context["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = \
                [f"www.{DOMAINS[target][0]}"]
        arn = fill(rt.arn, "aws", REGION, ACCOUNT, f"{PROJECT}-{target}-x")
        yield arn, context
        if supports(keys, "aws:RequestTag/Environment"):
            yield arn, {**context, "aws:RequestTag/Project": PROJECT,
                        "aws:RequestTag/Environment": attacker}


def reaches(statements: list[dict], act: Action, target: str, attacker: str) -> str | None:
    for arn, context in requests_against(act, target, attacker):
        if contracts.decide(statements, act.name, arn, context=context) == "allow":
            return arn
    return None


# --- the deploy roles ----------------------------------------------------------------------------

def test_no_deploy_role_writes_to_another_environment(policies):
    """Every action each deploy role holds, against each other environment's resources: denied,
    except CROSS_ENVIRONMENT_WRITES (reads: see the next test)."""
    open_writes: dict[str, str] = {}
    for attacker in ENVIRONMENTS:
        statements = policies[attacker]["deploy"]
        actions = granted(statements)
        assert len(actions) > 2000  # the wildcards expanded: the test sees every action
        for target in ENVIRONMENTS:
            if target == attacker:
                continue
            for name in actions:
                act = action(name)
                if act.writes and (arn := reaches(statements, act, target, attacker)):
                    open_writes[name] = f"{attacker} -> {arn}"
    assert sorted(open_writes) == sorted(CROSS_ENVIRONMENT_WRITES), \
        "\n".join(f"{k}: {v}" for k, v in sorted(open_writes.items()))


@pytest.mark.parametrize("attacker", ENVIRONMENTS)
def test_no_deploy_role_reads_another_environments_data(policies, attacker):
    """Reads of configuration AWS cannot scope stay open (Describe/List without a resource);
    reading data is denied like for the plan role."""
    statements = policies[attacker]["deploy"]
    for target in ENVIRONMENTS:
        if target == attacker:
            continue
        for name in granted(statements):
            if data_reading(name):
                act = action(name)
                assert reaches(statements, act, target, attacker) is None, (name, target)


def test_writes_without_a_resource_are_creates_or_listed(policies):
    """An action AWS authorizes on "*" only has no other environment's resource to scope it to:
    the deploy roles hold such writes only where they create something new, or where
    lib/delivery/action_lists.py ACCOUNT_WIDE_WRITES says why (account-wide settings, such as EBS
    encryption by default or the serial console, stay out of reach)."""
    found = set()
    for env in ENVIRONMENTS:
        statements = policies[env]["deploy"]
        found |= {name for name in granted(statements)
                  if action(name).writes and not action(name).resource_types
                  and contracts.decide(statements, name, "*", context={
                      "aws:RequestedRegion": REGION}) == "allow"
                  and not name.split(":")[1].startswith("Create")}
    listed = {name for name in ACCOUNT_WIDE_WRITES if not name.split(":")[1].startswith("Create")}
    assert sorted(found) == sorted(listed), "\n".join(sorted(found))
    for account_setting in ("ec2:DisableEbsEncryptionByDefault", "ec2:EnableSerialConsoleAccess",
                            "ec2:ModifyEbsDefaultKmsKeyId", "ec2:DisableImageBlockPublicAccess",
                            "logs:PutAccountPolicy", "logs:DeleteResourcePolicy"):
        assert contracts.decide(policies["prod"]["deploy"], account_setting, "*", context={
            "aws:RequestedRegion": REGION}) != "allow", account_setting


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_deploy_role_touches_the_accounts_own_resources(policies, account, env):
    """The state of other environments, the lock table beyond its locks, the state key beyond
    using it, the audit trail and its key, the delivery roles, policies and boundaries: denied
    for every action of the services that own them."""
    statements = policies[env]["deploy"]
    own_state = f"{account['state']}/{PROJECT}/{env}.tfstate"
    remote = env != "dev"  # config/dev.toml keeps the local backend
    allowed = {(f"s3:{a}", r) for a in ("GetObject", "PutObject", "DeleteObject")
               for r in (own_state, f"{own_state}.tflock")} if remote else set()
    allowed |= {("s3:ListBucket", account["state"])} if remote else set()
    # The shipped files lock with S3's lock file alone: the lock table is out of reach
    # (tests/test_state_locking.py: an environment that still migrates from it).
    key = ("Decrypt", "Encrypt", "GenerateDataKey")
    allowed |= {(f"kms:{a}", account["state_key"]) for a in key} if remote else set()
    targets = {
        "s3": [account["state"], f"{account['state']}/{PROJECT}/prod.tfstate", own_state,
               account["audit"], f"{account['audit']}/AWSLogs/{ACCOUNT}/CloudTrail/x.json.gz"],
        "dynamodb": [account["lock"]],
        "kms": [account["state_key"], account["audit_key"]],
        "iam": [f"{IAM}:role/{PROJECT}-{e}-github-{k}" for e in ENVIRONMENTS
                for k in ("plan", "deploy")] +
               [f"{IAM}:policy/{PROJECT}-{e}-delivery-deploy-named" for e in ENVIRONMENTS] +
               [boundary_arn(e) for e in ENVIRONMENTS] +
               [f"{IAM}:oidc-provider/token.actions.githubusercontent.com"],
    }
    # The bootstrap stack's resources carry its Environment tag ("account").
    context = {"aws:RequestedRegion": REGION, "aws:ResourceTag/Project": PROJECT,
               "aws:ResourceTag/Environment": "account",
               "kms:ResourceAliases": ["alias/webplat-account-tfstate"]}
    leaks = []
    for service, resources in targets.items():
        for name in expand(f"{service}:*"):
            if not action(name).resource_types:
                continue  # an action on "*" names none of them
            if service == "iam" and not action(name).writes:
                continue  # reading the roles' policies is fine
            for resource in resources:
                if (name, resource) in allowed:
                    continue
                if contracts.decide(statements, name, resource, context=context) == "allow":
                    leaks.append((name, resource))
    assert leaks == [], "\n".join(map(str, leaks))
    for name, resource in allowed:  # ...while its own state stays usable
        assert contracts.decide(statements, name, resource, context=context) == "allow", name


def test_a_deploy_role_deploys_its_own_environment(policies):
    """The scoping leaves what a deploy does: a sample of creates and changes per service, on the
    environment's own names and tags (requests shaped as above)."""
    statements = policies["staging"]["deploy"]
    own = {"aws:RequestedRegion": REGION, "aws:ResourceTag/Project": PROJECT,
           "aws:ResourceTag/Environment": "staging"}
    new = {"aws:RequestedRegion": REGION, "aws:RequestTag/Project": PROJECT,
           "aws:RequestTag/Environment": "staging"}
    boundary = {"iam:PermissionsBoundary": boundary_arn("staging")}
    a, s = ACCOUNT, "webplat-staging"
    for name, resource, context in [
            ("ec2:CreateVpc", f"arn:aws:ec2:{REGION}:{a}:vpc/*", new),
            ("ec2:AuthorizeSecurityGroupIngress", f"arn:aws:ec2:{REGION}:{a}:security-group/sg-1",
             own),
            ("ec2:RunInstances", f"arn:aws:ec2:{REGION}::image/ami-1", {
                "aws:RequestedRegion": REGION}),  # a public Amazon image: untagged
            ("elasticloadbalancing:ModifyListener",
             f"arn:aws:elasticloadbalancing:{REGION}:{a}:listener/app/{s}-alb/1/2", own),
            ("cognito-idp:UpdateUserPool", f"arn:aws:cognito-idp:{REGION}:{a}:userpool/x", own),
            ("wafv2:UpdateWebACL", f"arn:aws:wafv2:us-east-1:{a}:global/webacl/{s}-edge/1", own),
            ("acm:RequestCertificate", f"arn:aws:acm:{REGION}:{a}:certificate/1", new),
            ("acm:DeleteCertificate", f"arn:aws:acm:{REGION}:{a}:certificate/1", own),
            ("cloudfront:UpdateDistribution", f"arn:aws:cloudfront::{a}:distribution/E1", own),
            ("cloudfront:CreateOriginAccessControl", "*", {"aws:RequestedRegion": REGION}),
            ("cloudfront:UpdateFunction", f"arn:aws:cloudfront::{a}:function/{s}-spa", {}),
            ("cloudwatch:PutMetricAlarm", f"arn:aws:cloudwatch:{REGION}:{a}:alarm:{s}-cpu", new),
            ("cloudwatch:PutDashboard", f"arn:aws:cloudwatch::{a}:dashboard/{s}", {}),
            ("application-autoscaling:RegisterScalableTarget",
             f"arn:aws:application-autoscaling:{REGION}:{a}:scalable-target/1", own),
            ("apigateway:PATCH", f"arn:aws:apigateway:{REGION}::/apis/a1", own),
            ("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z1", {
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                    "staging.webplat.example.com", "_x.staging.webplat.example.com"]}),
            ("route53:CreateHostedZone", "*", {"aws:RequestedRegion": REGION}),
            ("iam:CreateRole", f"{IAM}:role/{s}-api-task", boundary),
            ("iam:PutRolePolicy", f"{IAM}:role/{s}-api-task", boundary),
            ("iam:PassRole", f"{IAM}:role/{s}-api-task", {
                "iam:PassedToService": "ecs-tasks.amazonaws.com"}),
            ("ecs:UpdateService", f"arn:aws:ecs:{REGION}:{a}:service/{s}-cluster/{s}-api", own),
            ("rds:ModifyDBInstance", f"arn:aws:rds:{REGION}:{a}:db:{s}-db", own),
            ("kms:EnableKeyRotation", f"arn:aws:kms:{REGION}:{a}:key/1", own)]:
        assert contracts.decide(statements, name, resource, context=context) == "allow", name


def test_records_of_a_nested_environment_are_off_limits(policies):
    """prod's domain (webplat.example.com) is the parent of staging's: prod's role may write its
    own names but none under staging's, and staging's none of prod's."""
    def change(env: str, name: str) -> str:
        return contracts.decide(policies[env]["deploy"], "route53:ChangeResourceRecordSets",
                                "arn:aws:route53:::hostedzone/Z1", context={
                                    "route53:ChangeResourceRecordSetsNormalizedRecordNames":
                                        [name]})
    assert change("prod", "webplat.example.com") == "allow"
    assert change("prod", "_acm.webplat.example.com") == "allow"
    assert change("prod", "staging.webplat.example.com") == "deny"
    assert change("prod", "_acm.staging.webplat.example.com") == "deny"
    assert change("staging", "webplat.example.com") != "allow"
    assert change("dev", "dev.webplat.example.com") != "allow"  # dev has no domain


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_delivery_policies_fit_and_are_attached(bootstrap, env):
    """IAM quotas: a managed policy holds at most 6,144 characters, whitespace not counted; a
    role carries at most 10 managed policies by default (IAM User Guide, "IAM and AWS STS
    quotas")."""
    for path, body in bootstrap.matching("aws_iam_policy", f"delivery-{env}/*").items():
        assert len(re.sub(r"\s", "", body["policy"])) <= 6144, path
    attached: dict[str, set[str]] = {}
    for body in bootstrap.matching("aws_iam_role_policy_attachment", f"github-{env}/*").values():
        attached.setdefault(body["role"], set()).add(body["policy_arn"])
    plan, deploy = (attached[bootstrap.ref("aws_iam_role", f"github-{env}/{kind}-role", "name")]
                    for kind in ("plan", "deploy"))
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in plan and len(plan) == 2
    assert len(deploy) == 3 and not deploy & plan


# --- the permissions boundary --------------------------------------------------------------------

@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_role_of_a_remotely_deployed_environment_carries_its_boundary(stacks, env):
    roles = stacks[f"{env}-stack"].resources("aws_iam_role")
    assert len(roles) >= 5
    assert {path: body.get("permissions_boundary") for path, body in roles.items()} == \
        {path: boundary_arn(env) for path in roles}


def test_an_environment_on_the_local_backend_needs_no_bootstrap(stacks):
    """dev keeps its state on the laptop and needs no bootstrap stack, so no boundary policy."""
    roles = stacks["dev-stack"].resources("aws_iam_role")
    assert roles and not any("permissions_boundary" in body for body in roles.values())


def test_the_deploy_role_creates_and_changes_roles_only_with_its_boundary(policies):
    statements = policies["staging"]["deploy"]
    role = f"{IAM}:role/webplat-staging-api-task"
    for name in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                 "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary",
                 "iam:DeleteRolePolicy"):
        assert contracts.decide(statements, name, role, context={
            "iam:PermissionsBoundary": boundary_arn("staging")}) == "allow", name
        for other in ({}, {"iam:PermissionsBoundary": boundary_arn("prod")},
                      {"iam:PermissionsBoundary": f"{IAM}:policy/webplat-staging-api-task"}):
            assert contracts.decide(statements, name, role, context=other) == "deny", (name,
                                                                                       other)
    assert contracts.decide(statements, "iam:DeleteRolePermissionsBoundary", role, context={
        "iam:PermissionsBoundary": boundary_arn("staging")}) == "deny"
    for name in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
                 "iam:TagPolicy"):
        assert contracts.decide(statements, name, boundary_arn("staging")) == "deny", name


def test_the_boundary_caps_every_role(policies, account):
    """Whatever a role's own policies say (a deploy could write anything there), the boundary
    leaves no IAM, no key administration, nothing of the state, the audit trail or delivery."""
    boundary = policies["prod"]["boundary"]
    role = f"{IAM}:role/webplat-prod-api-task"
    for name in expand("iam:*"):
        if name == "iam:PassRole":
            continue
        assert contracts.decide(boundary, name, role) != "allow", name
    assert contracts.decide(boundary, "iam:PassRole", role, context={
        "iam:PassedToService": "ecs-tasks.amazonaws.com"}) == "allow"
    for service in ("lambda.amazonaws.com", "ec2.amazonaws.com"):
        assert contracts.decide(boundary, "iam:PassRole", role, context={
            "iam:PassedToService": service}) != "allow", service
    assert contracts.decide(boundary, "iam:PassRole", f"{IAM}:role/webplat-dev-api-task",
                            context={"iam:PassedToService": "ecs-tasks.amazonaws.com"}) != "allow"
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1"
    for name in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey",
                 "kms:CreateGrant", "kms:CreateKey", "kms:UpdateAlias"):
        assert contracts.decide(boundary, name, key) != "allow", name
    for name in ("kms:Decrypt", "kms:GenerateDataKey", "s3:GetObject", "sqs:SendMessage",
                 "rds-db:connect", "ecs:RunTask"):
        assert contracts.decide(boundary, name, key) == "allow", name
    for resource in (account["state"], f"{account['state']}/webplat/prod.tfstate",
                     account["lock"], account["state_key"], account["audit_key"],
                     f"{account['audit']}/AWSLogs/{ACCOUNT}/CloudTrail/x.json.gz"):
        for name in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem",
                     "kms:Decrypt", "kms:Encrypt"):
            if resource == account["audit_key"] and name == "kms:Decrypt":
                continue  # Session Manager, below
            assert contracts.decide(boundary, name, resource) == "deny", (name, resource)
    # Session Manager: instances write session logs into the audit bucket with the audit key
    # (lib/core/access.py SessionLogAccess), and nothing else there.
    sessions = f"{account['audit']}/session-manager/i-1/s.log"
    assert contracts.decide(boundary, "s3:PutObject", sessions) == "allow"
    assert contracts.decide(boundary, "s3:GetObject", sessions) == "deny"
    assert contracts.decide(boundary, "kms:GenerateDataKey", account["audit_key"]) == "allow"
    assert contracts.decide(boundary, "kms:ScheduleKeyDeletion", account["audit_key"]) == "deny"


# --- the plan roles ------------------------------------------------------------------------------

@pytest.mark.parametrize("env", ["staging", "prod"])
def test_plan_roles_refresh_and_lock(policies, account, env):
    """A deny wins over ReadOnlyAccess and over the lock allow: what plan needs must not match
    one (ReadOnlyAccess itself is attached beside, not evaluated here)."""
    statements = policies[env]["plan"]
    assert contracts.decide(statements, "lambda:GetFunction",
                            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:webplat-{env}-api") == \
        "implicit"
    # The S3 lock file (conditional PutObject, GetObject, DeleteObject), and no DynamoDB lock.
    state = f"{account['state']}/webplat/{env}.tfstate"
    for name in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert contracts.decide(statements, name, f"{state}.tflock") == "allow", name
    for name in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"):
        assert contracts.decide(statements, name, account["lock"]) != "allow", name
    assert contracts.decide(statements, "s3:GetObject", state) == "allow"
    assert contracts.decide(statements, "s3:PutObject", state) == "implicit"
    assert contracts.decide(statements, "ssm:GetParameters", "arn:aws:ssm:us-east-1::parameter/"
                            "aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
                            ) == "implicit"


def test_plan_role_trust_follows_review(bootstrap):
    """dev's plan role takes pull requests; staging's and prod's only jobs on main, i.e. merged,
    reviewed code (GitHub Docs, "OpenID Connect reference": sub is
    repo:<owner>/<repo>:pull_request for pull_request events and repo:<owner>/<repo>:ref:<ref>
    for jobs without an environment)."""
    graph = contracts.Graph(bootstrap)
    claim = "token.actions.githubusercontent.com:sub"

    def trust(env: str) -> list[dict]:
        body = bootstrap.resource("aws_iam_role", f"github-{env}/plan-role")
        return graph.statements(body["assume_role_policy"])

    def assumable(env: str, sub: str) -> bool:
        return contracts.decide(trust(env), "sts:AssumeRoleWithWebIdentity", "*", (
            "Federated", graph.value(bootstrap.ref("aws_iam_openid_connect_provider",
                                                   "github-oidc", "arn"))), {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", claim: sub}) == \
            "allow"
    pull_request, main = "repo:acme/webplat:pull_request", "repo:acme/webplat:ref:refs/heads/main"
    assert assumable("dev", pull_request) and not assumable("dev", main)
    for env in ("staging", "prod"):
        assert not assumable(env, pull_request), env
        assert assumable(env, main), env
        assert not assumable(env, "repo:acme/webplat:ref:refs/heads/feature"), env
        assert not assumable(env, "repo:acme/fork:ref:refs/heads/main"), env


def test_plan_on_pull_requests_is_a_config_switch(tmp_path):
    env = tmp_path / "prod.toml"
    env.write_text((SAMPLE / "prod.toml").read_text() +
                   "\n[github]\nplan_on_pull_requests = true\n")
    out = synthesize(tmp_path / "out", [env], account=SAMPLE / "account.toml",
                     environment_stacks=False)
    body = out["bootstrap-stack"].resource("aws_iam_role", "github-prod/plan-role")
    condition = json.loads(body["assume_role_policy"])["Statement"][0]["Condition"]
    assert condition["StringEquals"]["token.actions.githubusercontent.com:sub"] == \
        "repo:acme/webplat:pull_request"
