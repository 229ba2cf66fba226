"""Terraform Cloud without static keys: the bootstrap stack's OIDC provider for Terraform Cloud and,
per environment on the cloud backend, a plan role and an apply role that only that environment's
workspace can assume, each in its own run phase.

The rules, with the pages that state them:
- HCP Terraform, "Use dynamic credentials with the AWS provider": the provider's URL is
  `https://<hostname>` and its audience `aws.workload.identity` unless the workspace sets
  `TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE`; the trust checks `<hostname>:aud` and `<hostname>:sub`,
  the latter `organization:<org>:project:<project>:workspace:<workspace>:run_phase:<plan|apply>`;
  different rights for plan and apply need two roles.
- HCP Terraform, "Workload identity": a workspace run's token carries that `sub` (the default
  project is `Default Project`); a module test run's is `organization:<org>:module:<module>:
  operation:test_run`.
- IAM User Guide, "IAM JSON policy elements: Condition operators": a key missing from the
  request context fails a condition such as StringEquals; "Conditions with multiple context keys
  or values": the keys of one condition are ANDed.
"""

import json

import pytest

import contracts
from conftest import MINIMAL_CONFIG, ROOT, SAMPLE, SynthStack, require_tool, run, synthesize
from lib.config import ConfigError, load_account, load_environment

FIXTURES = ROOT / "tests" / "fixtures"
ACCOUNT = SAMPLE / "account.toml"
HOST = "app.terraform.io"
ASSUME = "sts:AssumeRoleWithWebIdentity"
# tests/fixtures/apprunner.toml: the lean environment, `[backend] kind = "cloud"`, organization
# acme, no workspace or project given.
LEAN = {"organization": "acme", "project": "Default Project", "workspace": "webplat-lean"}
# An environment that names its workspace and project.
QA = {"organization": "acme", "project": "Platform", "workspace": "platform-qa"}
QA_CONFIG = 'profile = "dev"\n' + MINIMAL_CONFIG.replace('"shop"', '"webplat"') + f"""
[backend]
kind = "cloud"
organization = "{QA['organization']}"
workspace = "{QA['workspace']}"
project = "{QA['project']}"
"""


def subject(run_phase: str, organization: str, project: str, workspace: str) -> str:
    return (f"organization:{organization}:project:{project}:workspace:{workspace}"
            f":run_phase:{run_phase}")


@pytest.fixture(scope="module")
def tfc(tmp_path_factory, fixture_stacks) -> dict[str, SynthStack]:
    """config/account.toml over tests/fixtures: full (s3 backend) and lean (cloud backend); their
    environment stacks are the session's."""
    bootstrap = synthesize(tmp_path_factory.mktemp("tfc"), [FIXTURES / "full.toml",
                                                            FIXTURES / "apprunner.toml"],
                           account=ACCOUNT, environment_stacks=False)
    return {**fixture_stacks, **bootstrap}


@pytest.fixture(scope="module")
def bootstrap_tfc(tfc) -> SynthStack:
    return tfc["bootstrap-stack"]


@pytest.fixture(scope="module")
def enterprise(tmp_path_factory) -> dict[str, SynthStack]:
    """A Terraform Enterprise host and audience in the account file, and two environments on the
    cloud backend: lean (defaults) and qa (its own workspace and project)."""
    tmp = tmp_path_factory.mktemp("tfe")
    account = tmp / "account.toml"
    account.write_text(ACCOUNT.read_text() + '\n[terraform_cloud]\nhostname = "tfe.example.com"'
                                             '\naudience = "aws.tfe.example.com"\n')
    qa = tmp / "qa.toml"
    qa.write_text(QA_CONFIG)
    return synthesize(tmp / "out", [FIXTURES / "apprunner.toml", qa], account=account)


def trust(stack: SynthStack, path: str) -> dict:
    return json.loads(stack.resource("aws_iam_role", path)["assume_role_policy"])


def assume(stack: SynthStack, path: str, claims: dict[str, str], host: str = HOST,
           provider: str = "tfc-oidc") -> str:
    """IAM's answer to AssumeRoleWithWebIdentity on the role at `path` with a token of `claims`
    (none left out: a claim the token lacks is not in the request context). A trust policy is the
    role's resource policy: its statements name no Resource, the role itself."""
    statements = [{**s, "Resource": "the-role"} for s in trust(stack, path)["Statement"]]
    issuer = stack.ref("aws_iam_openid_connect_provider", provider, "arn")
    context = {f"{host}:{claim}": value for claim, value in claims.items()}
    return contracts.decide(statements, ASSUME, "the-role", principal=("Federated", issuer),
                            context=context)


def token(run_phase: str, audience: str = "aws.workload.identity", **workspace: str) -> dict:
    return {"aud": audience, "sub": subject(run_phase, **{**LEAN, **workspace})}


# --- the provider --------------------------------------------------------------------------------

def test_the_provider_trusts_terraform_cloud_with_its_default_audience(bootstrap_tfc):
    provider = bootstrap_tfc.resource("aws_iam_openid_connect_provider", "tfc-oidc")
    assert provider["url"] == "https://app.terraform.io"  # no trailing slash
    assert provider["client_id_list"] == ["aws.workload.identity"]
    # Optional in the AWS provider 5.100 (its schema and registry page): IAM finds the
    # certificate's thumbprint itself, as for GitHub's provider.
    assert "thumbprint_list" not in provider


def test_no_terraform_cloud_provider_or_roles_without_an_environment_on_the_cloud_backend(
        bootstrap):
    # config/account.toml over config/*.toml: local state everywhere
    assert "tfc-oidc" not in bootstrap.resources("aws_iam_openid_connect_provider")
    assert not bootstrap.matching("aws_iam_role", "tfc-*")
    assert not [name for name in bootstrap.json["output"] if "_tfc_" in name]


def test_only_the_environment_on_the_cloud_backend_gets_roles(bootstrap_tfc):
    roles = {body["name"] for body in bootstrap_tfc.matching("aws_iam_role", "tfc-*").values()}
    assert roles == {"webplat-lean-tfc-plan", "webplat-lean-tfc-apply"}  # not full (s3)
    outputs = bootstrap_tfc.json["output"]
    assert outputs["lean_tfc_plan_role_arn"]["value"] == bootstrap_tfc.ref(
        "aws_iam_role", "tfc-lean/plan-role", "arn")
    assert outputs["lean_tfc_apply_role_arn"]["value"] == bootstrap_tfc.ref(
        "aws_iam_role", "tfc-lean/apply-role", "arn")
    assert not [name for name in outputs if name.startswith("full_tfc")]


# --- who may assume them -------------------------------------------------------------------------

def test_the_trust_is_exact_matches_on_audience_and_subject_only(bootstrap_tfc):
    for phase in ("plan", "apply"):
        [statement] = trust(bootstrap_tfc, f"tfc-lean/{phase}-role")["Statement"]
        assert statement["Action"] == ASSUME
        assert statement["Principal"] == {"Federated": bootstrap_tfc.ref(
            "aws_iam_openid_connect_provider", "tfc-oidc", "arn")}
        assert statement["Condition"] == {"StringEquals": {
            f"{HOST}:aud": "aws.workload.identity", f"{HOST}:sub": subject(phase, **LEAN)}}


# Tokens that must not get in: (what differs, the token's claims).
def strangers(phase: str) -> list[tuple[str, dict]]:
    other = {"plan": "apply", "apply": "plan"}[phase]
    return [
        ("the other run phase", token(other)),
        ("another workspace", token(phase, workspace="webplat-full")),
        ("another project", token(phase, project="Platform")),
        ("another organization", token(phase, organization="evil")),
        ("another audience", token(phase, audience="vault.workload.identity")),
        ("no audience", {"sub": subject(phase, **LEAN)}),
        ("no subject", {"aud": "aws.workload.identity"}),
        ("a module test run of the organization",
         {"aud": "aws.workload.identity",
          "sub": "organization:acme:module:webplat-lean:operation:test_run"}),
        ("a subject with a wildcard run phase", {"aud": "aws.workload.identity",
                                                  "sub": subject("*", **LEAN)}),
    ]


@pytest.mark.parametrize("phase", ["plan", "apply"])
def test_a_role_admits_exactly_its_workspaces_run_phase(bootstrap_tfc, phase):
    role = f"tfc-lean/{phase}-role"
    assert assume(bootstrap_tfc, role, token(phase)) == "allow"
    refused = {why: assume(bootstrap_tfc, role, claims) for why, claims in strangers(phase)}
    assert refused == {why: "implicit" for why, _ in strangers(phase)}
    # a token of another issuer: its claims are keyed by its host, the provider is not this one
    github = {"aud": "sts.amazonaws.com", "sub": "repo:acme/webplat:environment:lean"}
    assert assume(bootstrap_tfc, role, github, host="token.actions.githubusercontent.com",
                  provider="github-oidc") == "implicit"


# --- what they may do ----------------------------------------------------------------------------

def attached(stack: SynthStack, pattern: str) -> list[str]:
    return sorted(a["policy_arn"] for a in stack.matching("aws_iam_role_policy_attachment",
                                                          pattern).values())


def test_the_roles_carry_exactly_the_environments_plan_and_deploy_policies(bootstrap_tfc):
    plan, apply = (attached(bootstrap_tfc, f"tfc-lean/{p}-policy-*") for p in ("plan", "apply"))
    # the GitHub roles' (lib/delivery/github_oidc.py): the same policies, the same guard rails
    assert plan == attached(bootstrap_tfc, "github-lean/plan-policy-*")
    assert apply == attached(bootstrap_tfc, "github-lean/deploy-policy-*")
    policies = {path.split("/")[1]: bootstrap_tfc.ref("aws_iam_policy", path, "arn")
                for path in bootstrap_tfc.matching("aws_iam_policy", "delivery-lean/*")}
    assert plan == sorted(["arn:aws:iam::aws:policy/ReadOnlyAccess", policies["plan"]])
    assert apply == sorted(policies[s] for s in ("deploy-named", "deploy-tagged",
                                                 "deploy-guardrails"))
    for phase in ("plan", "apply"):
        role = bootstrap_tfc.resource("aws_iam_role", f"tfc-lean/{phase}-role")
        assert "inline_policy" not in role and "managed_policy_arns" not in role


def documents(stack: SynthStack, env: str) -> dict[str, list[dict]]:
    return {path.split("/")[1]: json.loads(body["policy"])["Statement"]
            for path, body in stack.matching("aws_iam_policy", f"delivery-{env}/*").items()}


@pytest.mark.parametrize("env", ["full", "lean"])
def test_no_deploy_and_no_role_of_a_stack_can_change_a_terraform_cloud_role(bootstrap_tfc, env):
    """The guardrails of every environment's deploy policies and the boundary of every role its
    stack creates deny changing the Terraform Cloud roles, its own included (they are named
    `<project>-<env>-*` like the roles a deploy may manage)."""
    docs = documents(bootstrap_tfc, env)
    for role in ("webplat-lean-tfc-plan", "webplat-lean-tfc-apply"):
        arn = f"arn:aws:iam::123456789012:role/{role}"
        for action in ("iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole",
                       "iam:PutRolePermissionsBoundary"):
            assert contracts.decide(docs["deploy-guardrails"], action, arn) == "deny", \
                (env, role, action)
            assert contracts.decide(docs["boundary"], action, arn) == "deny", (env, role, action)
    provider = "arn:aws:iam::123456789012:oidc-provider/app.terraform.io"
    assert contracts.decide(docs["deploy-guardrails"], "iam:UpdateOpenIDConnectProviderThumbprint",
                            provider) == "deny"


# --- the environment stack agrees ----------------------------------------------------------------

def test_the_cloud_block_names_the_workspace_and_project_the_roles_trust(tfc, enterprise):
    """A workspace `terraform init` creates lands in the project the trust names (Terraform CLI,
    "Terraform Cloud Settings": `workspaces.project`, Terraform 1.6 and later)."""
    for stacks, env, expected in ((tfc, "lean", LEAN), (enterprise, "lean", LEAN),
                                  (enterprise, "qa", QA)):
        block = stacks[f"{env}-stack"].json["terraform"]["cloud"]
        assert block == {"organization": expected["organization"],
                         "workspaces": {"name": expected["workspace"],
                                        "project": expected["project"]}}


# --- Terraform Enterprise, and a workspace of its own --------------------------------------------

def test_a_terraform_enterprise_host_is_the_provider_and_the_claims_prefix(enterprise):
    stack = enterprise["bootstrap-stack"]
    provider = stack.resource("aws_iam_openid_connect_provider", "tfc-oidc")
    assert (provider["url"], provider["client_id_list"]) == ("https://tfe.example.com",
                                                             ["aws.tfe.example.com"])
    host = "tfe.example.com"
    for env, workspace in (("lean", LEAN), ("qa", QA)):
        for phase in ("plan", "apply"):
            role = f"tfc-{env}/{phase}-role"
            claims = {"aud": "aws.tfe.example.com", "sub": subject(phase, **workspace)}
            assert assume(stack, role, claims, host=host) == "allow", (role, claims)
            # the same token from app.terraform.io: keyed by the other host, it matches nothing
            assert assume(stack, role, claims) == "implicit", role
            assert assume(stack, role, {**claims, "aud": "aws.workload.identity"},
                          host=host) == "implicit", role
    # one environment's token never opens the other's roles
    lean_plan = {"aud": "aws.tfe.example.com", "sub": subject("plan", **LEAN)}
    assert assume(stack, "tfc-qa/plan-role", lean_plan, host=host) == "implicit"


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("backend, field, words", [
    ('kind = "s3"\nbucket = "b"\nlock_table = "t"\nproject = "Platform"', "backend.project",
     "is not used by the s3 backend"),
    ('project = "Platform"', "backend.project", "is not used by the local backend"),
    ('kind = "cloud"\norganization = "acme"\nproject = ""', "backend.project",
     "at least 1 character"),
])
def test_a_misplaced_or_empty_project_gets_one_clear_line(tmp_path, backend, field, words):
    path = tmp_path / "dev.toml"
    path.write_text(MINIMAL_CONFIG + f"\n[backend]\n{backend}\n")
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}: {field}: ") and words in line, line


@pytest.mark.parametrize("section, field, words", [
    ('hostname = "https://app.terraform.io"', "terraform_cloud.hostname",
     "is not a lowercase DNS name"),
    ('hostnmae = "tfe.example.com"', "terraform_cloud.hostnmae", "did you mean 'hostname'"),
    ('audience = ""', "terraform_cloud.audience", "at least 1 character"),
])
def test_a_bad_terraform_cloud_section_gets_one_clear_line(tmp_path, section, field, words):
    path = tmp_path / "account.toml"
    path.write_text('project = "shop"\naccount_id = "123456789012"\nregion = "us-east-1"\n\n'
                    f"[terraform_cloud]\n{section}\n")
    with pytest.raises(ConfigError) as caught:
        load_account(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}: {field}: ") and words in line, line


# --- Terraform accepts it ------------------------------------------------------------------------

@pytest.mark.slow
def test_terraform_validates_the_bootstrap_stack_with_terraform_cloud_roles(tfc):
    terraform = require_tool("terraform")
    directory = tfc["bootstrap-stack"].directory
    init = run([terraform, "init", "-input=false", "-backend=false", "-no-color"], cwd=directory)
    assert init.returncode == 0, init.stdout + init.stderr
    result = run([terraform, "validate", "-no-color"], cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
