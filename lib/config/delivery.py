"""The delivery and account sections: `[backend]` (where Terraform keeps an environment's state),
`[github]` (the GitHub environment that gates its deploys), and the account file
(`config/account.toml`: `AccountConfig`, built once by the bootstrap stack, with its optional
`[github]` and `[terraform_cloud]`). The backend's rule: each kind gets the keys it needs and no
other kind's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import (AccountId, DomainName, Email, GithubRepository, LogRetentionDays,
                               Region, Section, Slug, computed_default)

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class BackendConfig(Section):
    """Where Terraform keeps this environment's state: `local` (a file in the project root; needs
    nothing), `s3` (the bootstrap stack's bucket, locked with S3's lock file) or `cloud`
    (Terraform Cloud; the token comes from TF_TOKEN_app_terraform_io or `cdktf login`)."""

    kind: Literal["local", "s3", "cloud"] = Field(
        default="local", description="`local` (a state file in the project root; needs "
                                     "nothing), `s3` (the bootstrap stack's bucket, locked with "
                                     "S3's lock file: Terraform 1.11 or later) or `cloud` "
                                     "(Terraform Cloud; the token comes from "
                                     "TF_TOKEN_app_terraform_io or `cdktf login`).")
    bucket: str | None = Field(default=None, description="s3 (required): the state bucket, the "
                                                         "bootstrap stack's output "
                                                         "`state_bucket`.")
    lock_table: str | None = Field(
        default=None, json_schema_extra=computed_default("none: the S3 lock file alone"),
        description="s3, only while an existing state migrates from DynamoDB locking: the lock "
                    "table (the bootstrap stack's output `lock_table`), locked beside the lock "
                    "file. A new environment leaves it out; one that has it removes it once "
                    "every run uses the lock file (README \"Deploying\", step 4).")
    region: Region | None = Field(default=None,
                                  json_schema_extra=computed_default("the environment's region"),
                                  description="s3: the bucket's region.")
    kms_key: str | None = Field(
        default=None,
        json_schema_extra=computed_default("the bucket's default: the bootstrap's state key"),
        description="s3: another KMS key (its ARN) to encrypt the state with; unset, S3 "
                    "encrypts it with the state bucket's default key.")
    organization: str | None = Field(default=None, description="cloud (required): the "
                                                               "Terraform Cloud organization.")
    workspace: str | None = Field(default=None,
                                  json_schema_extra=computed_default("`<project>-<env>`"),
                                  description="cloud: the Terraform Cloud workspace.")
    project: str = Field(default="Default Project", min_length=1,
                         description="cloud: the Terraform Cloud project the workspace is in (a "
                                     "workspace `terraform init` creates goes there). The "
                                     "bootstrap stack's plan and apply roles trust only runs of "
                                     "this workspace in this project.")


class GithubConfig(Section):
    """How GitHub Actions deploys this environment (the repository is in config/account.toml)."""

    environment: Slug | None = Field(
        default=None, json_schema_extra=computed_default("the environment name"),
        description="The GitHub environment whose jobs may assume the deploy role (it gates "
                    "deploys).")
    plan_on_pull_requests: bool = Field(
        default=False, description="The plan role trusts every pull request of the repository "
                                   "(a pull request can change the workflow it runs, so it gets "
                                   "that environment's read access). Otherwise only jobs on the "
                                   "deploy branch: merged, reviewed code. The dev and lean "
                                   "profiles say `true`.")


class GithubAccountConfig(Section):
    """The repository whose GitHub Actions workflows may plan and deploy (OIDC, no stored keys)."""

    repository: GithubRepository = Field(description="`owner/name`: the only repository the "
                                                     "roles trust (no wildcards).")
    branch: str = Field(default="main",
                        description="The only branch the deploy roles accept jobs from (with "
                                    "their GitHub environment), and the plan roles of "
                                    "environments without `github.plan_on_pull_requests`.")


class TerraformCloudConfig(Section):
    """What issues the identity tokens of Terraform Cloud runs, as the bootstrap stack's roles
    check them (used only when an environment of the account has the cloud backend)."""

    hostname: DomainName = Field(
        default="app.terraform.io",
        description="Terraform Cloud, or your Terraform Enterprise host: the OIDC provider is "
                    "`https://<hostname>` and the roles check its `<hostname>:aud` and "
                    "`<hostname>:sub` claims. The environments reach a Terraform Enterprise "
                    "host through `TF_CLOUD_HOSTNAME` (README, \"Terraform Cloud\").")
    audience: str = Field(
        default="aws.workload.identity", min_length=1,
        description="The `aud` claim of the runs' tokens: Terraform Cloud's default, or what the "
                    "workspaces set in `TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE`.")


class BaselineConfig(Section):
    """The account's optional security baseline and the detection that reaches people (README,
    "Detection")."""

    enabled: bool = Field(default=True, description="CloudTrail (all regions), GuardDuty, AWS "
                                                    "Config and Session Manager logging, with "
                                                    "the CIS CloudWatch alarms and GuardDuty "
                                                    "findings on the account's alerts topic.")
    alert_emails: list[Email] = Field(
        default=[], description="Addresses subscribed to the account's alerts topic "
                                "`<project>-account-alerts` (the CIS CloudWatch alarms, GuardDuty "
                                "findings of medium severity and above); each confirms by mail.")
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE",
        description="S3 Object Lock default retention of the audit bucket (trail and session "
                    "logs): `GOVERNANCE` (a principal with s3:BypassGovernanceRetention can "
                    "still delete a version early) or `COMPLIANCE` (nobody can, root included, "
                    "until the days run out; it cannot be undone).")
    object_lock_days: int = Field(
        default=365, ge=1, le=36500,
        description="Days each new audit object version is locked; at most "
                    "`log_retention_days`, so the audit lifecycle never waits on a lock.")
    guardduty_regions: list[Region] | None = Field(
        default=None, json_schema_extra=computed_default("the account region"),
        description="Regions with a GuardDuty detector, the account region among them; each "
                    "other region's findings are forwarded to the account region's alerts. Only "
                    "the account region by default: the platform runs nothing elsewhere, and "
                    "each region adds a detector billed on its own (README, \"Detection\").")
    runtime_monitoring: bool = Field(
        default=False,
        description="GuardDuty Runtime Monitoring of ECS Fargate tasks, its security agent "
                    "managed by GuardDuty, in every detector region (priced per monitored vCPU, "
                    "`make cost`).")


class AccountConfig(Section):
    """config/account.toml: what the bootstrap stack builds once per account (remote-state home,
    GitHub and Terraform Cloud OIDC providers and per-environment roles, optional security
    baseline)."""

    project: Slug = Field(description="As the environments' `project`: names the state bucket "
                                      "`<project>-tfstate-<account id>` and lock table "
                                      "`<project>-tflock`.")
    account_id: AccountId = Field(description="12 digits, quoted: the only account the "
                                              "bootstrap stack will touch.")
    region: Region = Field(description="Where the state bucket and lock table live, e.g. "
                                       "`us-east-1`.")
    tags: dict[str, str] = Field(default={}, description="Extra tags on every resource of the "
                                                         "bootstrap stack.")
    github: GithubAccountConfig | None = Field(default=None,
                                               description="`[github]`; unset: no OIDC provider, "
                                                           "no deploy roles.")
    terraform_cloud: TerraformCloudConfig = Field(
        default=TerraformCloudConfig(),
        description="`[terraform_cloud]`: with an environment of the account on the cloud "
                    "backend, its OIDC provider and, per such environment, a plan and an apply "
                    "role.")
    baseline: BaselineConfig = Field(default=BaselineConfig(),
                                     description="The security baseline (`[baseline]`).")
    log_retention_days: LogRetentionDays = Field(
        default=365, description="Days the audit bucket (CloudTrail, Session Manager logs), the "
                                 "AWS Config bucket and the trail's CloudWatch Logs group keep "
                                 "what they are given.")
    source: str = Field(default="", exclude=True,
                        description="Set by the loader, not the file: the file's path, for "
                                    "messages.")
    stack_name: str = Field(default="bootstrap-stack", exclude=True,
                            description="Set by the loader, not the file: `bootstrap-stack` for "
                                        "account.toml, `bootstrap-<name>-stack` for "
                                        "account-<name>.toml.")

    @property
    def state_bucket(self) -> str:
        return f"{self.project}-tfstate-{self.account_id}"

    @property
    def lock_table(self) -> str:
        return f"{self.project}-tflock"

    @property
    def detector_regions(self) -> list[str]:
        """The detector regions, the account region first."""
        listed = self.baseline.guardduty_regions or [self.region]
        return [self.region, *(r for r in dict.fromkeys(listed) if r != self.region)]


def account_problems(a: AccountConfig) -> list[tuple[str, str]]:
    """The account file's rules between fields."""
    problems: list[tuple[str, str]] = []
    b = a.baseline
    if b.object_lock_days > a.log_retention_days:
        problems.append(("baseline.object_lock_days",
                         f"{b.object_lock_days} is longer than log_retention_days "
                         f"({a.log_retention_days}): objects would outlive their retention; "
                         f"allowed: at most {a.log_retention_days}"))
    regions = b.guardduty_regions
    if regions is not None and a.region not in regions:
        problems.append(("baseline.guardduty_regions",
                         f"must include the account region {a.region} (its detector feeds the "
                         f"alerts topic); got {regions}"))
    if regions is not None and len(set(regions)) != len(regions):
        problems.append(("baseline.guardduty_regions", f"lists a region twice: {regions}"))
    return problems


def backend_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    b = c.backend
    if b.kind == "s3" and not b.bucket:
        problems.append(("backend.bucket", "the s3 backend needs the state bucket (the bootstrap "
                                           "stack's output state_bucket)"))
    if b.kind == "cloud" and not b.organization:
        problems.append(("backend.organization", "the cloud backend needs the Terraform Cloud "
                                                 "organization"))
    unused = [k for k in ("bucket", "lock_table", "kms_key") if getattr(b, k) and b.kind != "s3"]
    unused += [k for k in ("organization", "workspace") if getattr(b, k) and b.kind != "cloud"]
    # `project` always has a value (its default): only one the file sets is misplaced.
    unused += [k for k in ("project",) if k in b.model_fields_set and b.kind != "cloud"]
    for key in unused:
        problems.append((f"backend.{key}", f"is not used by the {b.kind} backend"))
    return problems
