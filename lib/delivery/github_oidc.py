"""GitHub Actions OIDC: the provider, and per environment a plan role and a deploy role that carry
the environment's delivery policies (lib/delivery/policies.py)."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.iam import federated_role, web_identity_trust
from lib.core.naming import Naming

GITHUB_ISSUER = "token.actions.githubusercontent.com"
# The role names of every environment's GitHub roles: the guardrails and the boundary protect them.
ROLE_PATTERNS = ("{project}-*-github-plan", "{project}-*-github-deploy")


@dataclass(frozen=True)
class GithubRolesProps:
    naming: Naming  # the environment's naming: its roles are <project>-<env>-github-plan|deploy
    provider_arn: str
    repository: str  # owner/name
    branch: str  # the only branch a deploy role (and a reviewed plan role) accepts jobs from
    github_environment: str
    plan_on_pull_requests: bool  # the plan role trusts every pull request (else only `branch`)
    plan_policy_arns: tuple[str, ...]
    deploy_policy_arns: tuple[str, ...]


def github_oidc_provider(scope: Construct, naming: Naming) -> str:
    """The account's OIDC identity provider for GitHub Actions; returns its ARN."""
    provider = aws.iam_openid_connect_provider.IamOpenidConnectProvider(
        scope, "github-oidc", url=f"https://{GITHUB_ISSUER}", client_id_list=["sts.amazonaws.com"],
        tags=naming.tags("github-oidc"))
    return provider.arn


def _trust(provider_arn: str, **claims: str) -> str:
    return web_identity_trust(provider_arn, GITHUB_ISSUER, {"aud": "sts.amazonaws.com", **claims})


class GithubRoles(Construct):
    """Two roles per environment, assumable only by workflows of one repository:

    - `<prefix>-github-plan`: with `plan_on_pull_requests` (dev), any pull request of the
      repository (`sub` = `repo:<repo>:pull_request`; GitHub's token names no base branch AWS
      can check, and forks get no token). Otherwise only jobs on `branch` itself, i.e. merged,
      reviewed code (`sub` = `repo:<repo>:ref:refs/heads/<branch>`): a pull request can change
      the workflow it runs, so it must not get staging's or prod's read access.
    - `<prefix>-github-deploy`: jobs in the GitHub environment `github_environment` (`sub` =
      `repo:<repo>:environment:<env>`) running on `branch` (`ref` = `refs/heads/<branch>`).
      Required reviewers and the deployment-branch rule are set on that GitHub environment.

    Outputs: `plan_role_arn`, `deploy_role_arn`.
    """

    def __init__(self, scope: Construct, id: str, props: GithubRolesProps):
        super().__init__(scope, id)
        n, repo = props.naming, props.repository
        plan_subject = (f"repo:{repo}:pull_request" if props.plan_on_pull_requests
                        else f"repo:{repo}:ref:refs/heads/{props.branch}")
        self.plan_role_arn: str = federated_role(
            self, "plan", n, ("github", "plan"), _trust(props.provider_arn, sub=plan_subject),
            props.plan_policy_arns)
        self.deploy_role_arn: str = federated_role(
            self, "deploy", n, ("github", "deploy"), _trust(
                props.provider_arn, sub=f"repo:{repo}:environment:{props.github_environment}",
                ref=f"refs/heads/{props.branch}"), props.deploy_policy_arns)
