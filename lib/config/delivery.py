"""The delivery and account sections: `[backend]` (where Terraform keeps an environment's state),
`[github]` (the GitHub environment that gates its deploys), and the account file
(`config/account.toml`: `AccountConfig`, built once by the bootstrap stack). The backend's rule:
each kind gets the keys it needs and no other kind's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import AccountId, GithubRepository, LogRetentionDays, Region, Section, Slug

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class BackendConfig(Section):
    """Where Terraform keeps this environment's state: `local` (a file in the project root; needs
    nothing), `s3` (the bootstrap stack's bucket and lock table) or `cloud` (Terraform Cloud; the
    token comes from TF_TOKEN_app_terraform_io or `cdktf login`)."""

    kind: Literal["local", "s3", "cloud"] = "local"
    bucket: str | None = None  # s3
    lock_table: str | None = None  # s3
    region: Region | None = None  # s3; default: the environment's region
    kms_key: str | None = None  # s3: key id, ARN or alias; default: the bucket's own encryption
    organization: str | None = None  # cloud
    workspace: str | None = None  # cloud; default: <project>-<env>


class GithubConfig(Section):
    """How GitHub Actions deploys this environment (the repository is in config/account.toml)."""

    environment: Slug | None = None  # the GitHub environment that gates deploys; default: env name


class GithubAccountConfig(Section):
    repository: GithubRepository  # owner/name: the only repository the roles trust
    # The only branch the deploy roles accept jobs from (with their GitHub environment); the
    # plan role takes any pull request of the repository.
    branch: str = "main"


class BaselineConfig(Section):
    enabled: bool = True  # CloudTrail, GuardDuty, AWS Config, Session Manager logging


class AccountConfig(Section):
    """config/account.toml: what the bootstrap stack builds once per account (remote-state home,
    GitHub OIDC provider and per-environment roles, optional security baseline)."""

    project: Slug
    account_id: AccountId
    region: Region
    tags: dict[str, str] = {}
    github: GithubAccountConfig | None = None  # None: no OIDC provider, no deploy roles
    baseline: BaselineConfig = BaselineConfig()
    log_retention_days: LogRetentionDays = 365
    source: str = Field(default="", exclude=True)

    @property
    def state_bucket(self) -> str:
        return f"{self.project}-tfstate-{self.account_id}"

    @property
    def lock_table(self) -> str:
        return f"{self.project}-tflock"


def backend_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    b = c.backend
    if b.kind == "s3" and not b.bucket:
        problems.append(("backend.bucket", "the s3 backend needs the state bucket (the bootstrap "
                                           "stack's output state_bucket)"))
    if b.kind == "s3" and not b.lock_table:
        problems.append(("backend.lock_table", "the s3 backend needs the lock table (the "
                                               "bootstrap stack's output lock_table)"))
    if b.kind == "cloud" and not b.organization:
        problems.append(("backend.organization", "the cloud backend needs the Terraform Cloud "
                                                 "organization"))
    unused = [k for k in ("bucket", "lock_table", "kms_key") if getattr(b, k) and b.kind != "s3"]
    unused += [k for k in ("organization", "workspace") if getattr(b, k) and b.kind != "cloud"]
    for key in unused:
        problems.append((f"backend.{key}", f"is not used by the {b.kind} backend"))
    return problems
