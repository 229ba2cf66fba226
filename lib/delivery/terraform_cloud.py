"""Terraform Cloud dynamic credentials: the OIDC provider for the Terraform Cloud (or Terraform
Enterprise) host, and per environment on the cloud backend a plan role and an apply role that carry
the environment's delivery policies (lib/delivery/policies.py), so no workspace holds AWS keys.

Every run phase gets an identity token from Terraform Cloud and assumes the role of its phase with
it ("Use dynamic credentials with the AWS provider", HCP Terraform docs): the token's `sub` names
the organization, project, workspace and run phase, which is what the trust pins.
"""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.iam import federated_role, web_identity_trust
from lib.core.naming import Naming

# The role names of every environment's Terraform Cloud roles: the guardrails and the boundary
# protect them (stacks/bootstrap.py protected_roles).
ROLE_PATTERNS = ("{project}-*-tfc-plan", "{project}-*-tfc-apply")
RUN_PHASES = ("plan", "apply")


@dataclass(frozen=True)
class TerraformCloudRolesProps:
    naming: Naming  # the environment's naming: its roles are <project>-<env>-tfc-plan|apply
    provider_arn: str  # terraform_cloud_oidc_provider's
    hostname: str  # the tokens' issuer without https://, e.g. app.terraform.io: the claims' prefix
    audience: str  # the tokens' `aud`
    organization: str
    project: str  # the Terraform Cloud project the workspace is in
    workspace: str
    plan_policy_arns: tuple[str, ...]  # attached to the plan role
    apply_policy_arns: tuple[str, ...]  # attached to the apply role: the environment's deploy ones


def terraform_cloud_oidc_provider(scope: Construct, naming: Naming, hostname: str,
                                  audience: str) -> str:
    """The account's OIDC identity provider for Terraform Cloud runs; returns its ARN.

    No thumbprint list: the AWS provider (5.x) leaves it optional, and IAM then takes the top
    intermediate CA's thumbprint of the host's certificate itself (or trusts its own CA library for
    the hosts it knows), as for GitHub's provider in github_oidc.py."""
    provider = aws.iam_openid_connect_provider.IamOpenidConnectProvider(
        scope, "tfc-oidc", url=f"https://{hostname}", client_id_list=[audience],
        tags=naming.tags("tfc-oidc"))
    return provider.arn


def run_subject(organization: str, project: str, workspace: str, run_phase: str) -> str:
    """The `sub` of a run phase's identity token (HCP Terraform docs, "Workload identity")."""
    return (f"organization:{organization}:project:{project}:workspace:{workspace}"
            f":run_phase:{run_phase}")


def _trust(props: TerraformCloudRolesProps, run_phase: str) -> str:
    """Exact matches only (StringEquals): a token of another phase, workspace, project or
    organization, or with another audience, or one missing either claim, fails the trust."""
    claims = {"aud": props.audience,
              "sub": run_subject(props.organization, props.project, props.workspace, run_phase)}
    return web_identity_trust(props.provider_arn, props.hostname, claims)


class TerraformCloudRoles(Construct):
    """Two roles per environment, assumable only by runs of one Terraform Cloud workspace:

    - `<prefix>-tfc-plan`: the plan phase (`run_phase:plan`, which speculative plans of
      `cdktf diff` are too), with `plan_policy_arns`: configuration, but no data.
    - `<prefix>-tfc-apply`: the apply phase (`run_phase:apply`), with `apply_policy_arns`, the same
      policies and guardrails as the environment's GitHub deploy role.

    Two roles, not one with `run_phase:*`: a plan runs whatever configuration was uploaded to
    the workspace, so it must not hold what an apply does. Who may start an apply is the
    workspace's team access in Terraform Cloud.

    Outputs: `plan_role_arn`, `apply_role_arn`.
    """

    def __init__(self, scope: Construct, id: str, props: TerraformCloudRolesProps):
        super().__init__(scope, id)
        policies = {"plan": props.plan_policy_arns, "apply": props.apply_policy_arns}
        arns = {phase: federated_role(self, phase, props.naming, ("tfc", phase),
                                      _trust(props, phase), policies[phase])
                for phase in RUN_PHASES}
        self.plan_role_arn: str = arns["plan"]
        self.apply_role_arn: str = arns["apply"]
