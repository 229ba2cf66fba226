"""The bootstrap stack, applied once per account: remote state, per environment of that account
its delivery policies and permissions boundary, the GitHub OIDC roles, the Terraform Cloud roles
(environments on the cloud backend), the baseline.

Its own state stays local (terraform.bootstrap-stack.tfstate): it is what the other stacks' remote
state lives in.
"""

from lib.core.cdk import Aspects, LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from lib.config import AccountConfig, EnvironmentConfig, Target
from lib.core.backend import BackendSettings, cloud_workspace
from lib.core.naming import Naming
from lib.core.provider import aws_provider
from lib.core.stateful import PreventDestroy
from lib.delivery import github_oidc, terraform_cloud
from lib.delivery.baseline import (ACCOUNT_ENVIRONMENT, AUDIT, SESSION_LOG_PREFIX, Baseline,
                                   BaselineProps, trail_arn)
from lib.delivery.detection import Detection, DetectionProps, OtherRegion, alerts_topic_arn
from lib.delivery.github_oidc import GithubRoles, GithubRolesProps, github_oidc_provider
from lib.delivery.policies import (AccountResources, EnvironmentPolicies,
                                   EnvironmentPoliciesProps, StateAccess)
from lib.delivery.state_store import StateStore, StateStoreProps
from lib.delivery.terraform_cloud import (TerraformCloudRoles, TerraformCloudRolesProps,
                                          terraform_cloud_oidc_provider)
from lib.edge.bucket import ObjectLock
from lib.identity.kms import EncryptionKey, EncryptionKeyProps
from stacks.mapping import from_config


class BootstrapStack(TerraformStack):
    def __init__(self, scope: Construct, account: AccountConfig,
                 environments: list[EnvironmentConfig], target: Target,
                 local_endpoint: str | None = None):
        super().__init__(scope, account.stack_name)
        n = Naming(account.project, ACCOUNT_ENVIRONMENT, account.account_id, account.region)
        if target is not Target.LOCAL:  # the emulator's resources are disposable
            # Always: the state of every environment, the audit trail and their keys outlive
            # any one plan (README, "Retiring an environment").
            Aspects.of(self).add(PreventDestroy())
        aws_provider(self, n, account.tags, target, local_endpoint=local_endpoint)
        LocalBackend(self, path=f"../../../terraform.{account.stack_name}.tfstate")
        state_key = EncryptionKey(self, "state-key", EncryptionKeyProps(
            naming=n, purpose="tfstate", description=f"{account.project}: Terraform state"))
        store = StateStore(self, "state", StateStoreProps(
            naming=n, bucket_name=account.state_bucket, lock_table_name=account.lock_table,
            kms_key_arn=state_key.arn))
        outputs = {"state_bucket": store.bucket_name, "lock_table": store.lock_table_name,
                   "state_key_arn": state_key.arn}

        audit_key_arn = None
        if account.baseline.enabled:
            b = account.baseline
            audit_key = EncryptionKey(self, "audit-key", EncryptionKeyProps(
                naming=n, purpose=AUDIT, description=f"{account.project}: audit trail",
                allow_cloudwatch_logs=True, allow_services=("config.amazonaws.com",),
                cloudtrail_trail_arns=(trail_arn(n),)))
            audit_key_arn = audit_key.arn
            baseline = Baseline(self, "baseline", BaselineProps(
                naming=n, audit_key_arn=audit_key.arn, retention_days=account.log_retention_days,
                data_event_bucket_arns=(store.bucket_arn,),
                object_lock=ObjectLock(b.object_lock_mode, b.object_lock_days)))
            alerts_key = EncryptionKey(self, "alerts-key", EncryptionKeyProps(
                naming=n, purpose="alerts", description=f"{account.project}: account alerts",
                topic_publishers=("cloudwatch.amazonaws.com", "events.amazonaws.com"),
                topic_arns=(alerts_topic_arn(n),)))
            others = tuple(OtherRegion(r, aws_provider(self, n, account.tags, target, region=r,
                                                       local_endpoint=local_endpoint))
                           for r in account.detector_regions[1:])
            detection = Detection(self, "detection", DetectionProps(
                naming=n, topic_key_arn=alerts_key.arn,
                trail_log_group_name=baseline.trail_log_group_name,
                detector_id=baseline.detector_id, alert_emails=tuple(b.alert_emails),
                runtime_monitoring=b.runtime_monitoring, other_regions=others))
            outputs.update(trail_arn=baseline.trail_arn, audit_bucket=baseline.audit_bucket_name,
                           config_bucket=baseline.config_bucket_name,
                           alerts_topic_arn=detection.alerts_topic_arn)

        resources = AccountResources(
            state=StateAccess(store.bucket_arn, store.lock_table_arn, state_key.arn),
            audit_bucket_arn=n.bucket_arn(AUDIT) if audit_key_arn else None,
            audit_key_arn=audit_key_arn, session_log_prefix=SESSION_LOG_PREFIX)
        protected_roles = tuple(pattern.format(project=account.project) for pattern in
                                (*github_oidc.ROLE_PATTERNS, *terraform_cloud.ROLE_PATTERNS))
        provider_arn = github_oidc_provider(self, n) if account.github is not None else None
        # Only this account's environments: another account has its own bootstrap.
        ours = [env for env in environments if env.account_id == account.account_id]
        tfc = account.terraform_cloud
        tfc_provider_arn = terraform_cloud_oidc_provider(self, n, tfc.hostname, tfc.audience) \
            if any(env.backend.kind == "cloud" for env in ours) else None
        for env in ours:
            e = Naming(env.project, env.environment, env.account_id, env.region)
            props = EnvironmentPoliciesProps(
                naming=e, account=resources, remote_state=env.backend.kind == "s3",
                state_lock_table=env.backend.kind == "s3" and env.backend.lock_table is not None,
                domains=env.dns_names,
                foreign_domains=tuple(d for other in ours if other is not env
                                      for d in other.dns_names),
                protected_roles=protected_roles,
                backup_copy_region=env.database.backup_copy_region)
            policies = EnvironmentPolicies(self, f"delivery-{env.environment}", props)
            outputs[f"{env.environment}_boundary_arn"] = policies.boundary_arn
            if provider_arn is not None:
                roles = GithubRoles(self, f"github-{env.environment}", GithubRolesProps(
                    naming=e, provider_arn=provider_arn, repository=account.github.repository,
                    branch=account.github.branch,
                    github_environment=env.github.environment or env.environment,
                    plan_on_pull_requests=env.github.plan_on_pull_requests,
                    plan_policy_arns=policies.plan_policy_arns,
                    deploy_policy_arns=policies.deploy_policy_arns))
                outputs[f"{env.environment}_plan_role_arn"] = roles.plan_role_arn
                outputs[f"{env.environment}_deploy_role_arn"] = roles.deploy_role_arn
            if env.backend.kind == "cloud":
                backend = from_config(BackendSettings, env.backend)
                tfc_props = TerraformCloudRolesProps(
                    naming=e, provider_arn=tfc_provider_arn, hostname=tfc.hostname,
                    audience=tfc.audience, organization=backend.organization,
                    project=backend.project, workspace=cloud_workspace(backend, e),
                    plan_policy_arns=policies.plan_policy_arns,
                    apply_policy_arns=policies.deploy_policy_arns)
                tfc_roles = TerraformCloudRoles(self, f"tfc-{env.environment}", tfc_props)
                outputs[f"{env.environment}_tfc_plan_role_arn"] = tfc_roles.plan_role_arn
                outputs[f"{env.environment}_tfc_apply_role_arn"] = tfc_roles.apply_role_arn
        for name, value in outputs.items():
            TerraformOutput(self, name.replace("-", "_"), value=value)
