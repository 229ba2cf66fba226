"""The bootstrap stack, applied once per account: remote state, GitHub OIDC roles, baseline.

Its own state stays local (terraform.bootstrap-stack.tfstate): it is what the other stacks' remote
state lives in.
"""

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from lib.delivery.baseline import ACCOUNT_ENVIRONMENT, AUDIT, Baseline, BaselineProps, trail_arn
from lib.config import AccountConfig, EnvironmentConfig, Target
from lib.delivery.github_oidc import DeployRoles, DeployRolesProps, StateAccess, github_oidc_provider
from lib.identity.kms import EncryptionKey, EncryptionKeyProps
from lib.core.naming import Naming
from lib.core.provider import aws_provider
from lib.delivery.state_store import StateStore, StateStoreProps

NAME = "bootstrap-stack"


class BootstrapStack(TerraformStack):
    def __init__(self, scope: Construct, account: AccountConfig,
                 environments: list[EnvironmentConfig], target: Target,
                 local_endpoint: str | None = None):
        super().__init__(scope, NAME)
        n = Naming(account.project, ACCOUNT_ENVIRONMENT, account.account_id, account.region)
        aws_provider(self, n, account.tags, target, local_endpoint=local_endpoint)
        LocalBackend(self, path=f"../../../terraform.{NAME}.tfstate")
        state_key = EncryptionKey(self, "state-key", EncryptionKeyProps(
            naming=n, purpose="tfstate", description=f"{account.project}: Terraform state"))
        store = StateStore(self, "state", StateStoreProps(
            naming=n, bucket_name=account.state_bucket, lock_table_name=account.lock_table,
            kms_key_arn=state_key.arn))
        outputs = {"state_bucket": store.bucket_name, "lock_table": store.lock_table_name,
                   "state_key_arn": state_key.arn}

        if account.github is not None:
            provider_arn = github_oidc_provider(self, n)
            for env in environments:
                if env.account_id != account.account_id:
                    continue  # that account has its own bootstrap
                roles = DeployRoles(self, f"github-{env.environment}", DeployRolesProps(
                    naming=Naming(env.project, env.environment, env.account_id, env.region),
                    provider_arn=provider_arn, repository=account.github.repository,
                    branch=account.github.branch,
                    github_environment=env.github.environment or env.environment,
                    state=StateAccess(store.bucket_arn, store.lock_table_arn, state_key.arn)))
                outputs[f"{env.environment}_plan_role_arn"] = roles.plan_role_arn
                outputs[f"{env.environment}_deploy_role_arn"] = roles.deploy_role_arn

        if account.baseline.enabled:
            audit_key = EncryptionKey(self, "audit-key", EncryptionKeyProps(
                naming=n, purpose=AUDIT, description=f"{account.project}: audit trail",
                allow_services=("config.amazonaws.com",), cloudtrail_trail_arns=(trail_arn(n),)))
            baseline = Baseline(self, "baseline", BaselineProps(
                naming=n, audit_key_arn=audit_key.arn, retention_days=account.log_retention_days,
                data_event_bucket_arns=(store.bucket_arn,)))
            outputs.update(trail_arn=baseline.trail_arn, audit_bucket=baseline.audit_bucket_name)
        for name, value in outputs.items():
            TerraformOutput(self, name.replace("-", "_"), value=value)
