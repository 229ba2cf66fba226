"""Where an environment stack keeps its Terraform state."""

from dataclasses import dataclass

from lib.core.cdk import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack

from lib.core.naming import Naming


@dataclass(frozen=True)
class BackendSettings:
    """Where state lives (`[backend]` documents each field)."""

    kind: str  # local, s3 or cloud
    bucket: str | None  # s3
    lock_table: str | None  # s3, only while states migrate to the lock file: DynamoDB locks too
    region: str | None  # s3; None: the environment's region
    kms_key: str | None  # s3; None: the bucket's default encryption (the bootstrap's state key)
    organization: str | None  # cloud
    workspace: str | None  # cloud; None: <project>-<env> (cloud_workspace)
    project: str | None  # cloud: the Terraform Cloud project of the workspace


# A state file in the project root: the default, and the only choice without AWS.
LOCAL_STATE = BackendSettings("local", None, None, None, None, None, None, None)


def cloud_workspace(backend: BackendSettings, naming: Naming) -> str:
    """The Terraform Cloud workspace of an environment: the stack's `cloud` block names it, and
    the bootstrap stack's roles trust its runs (lib/delivery/terraform_cloud.py)."""
    return backend.workspace or naming.prefix


def configure_backend(stack: TerraformStack, naming: Naming, backend: BackendSettings) -> None:
    """local: `terraform.<stack>.tfstate` in the project root (a path relative to the stack's
    working directory, cdktf.out/stacks/<stack>/, so no machine path lands in the JSON).
    s3: one key per environment in the bootstrap bucket, encrypted with the bucket's KMS key (or
    `kms_key`), locked with S3's lock file
    (`<key>.tflock`, a conditional write; Terraform 1.11 or later), and also in the DynamoDB
    `lock_table` while one is given: Terraform 1.11 deprecates DynamoDB locking, and takes both
    locks when both are configured, so copies of Terraform that still lock in the table are kept
    out while the environment migrates (README "Deploying", step 4).
    cloud: a Terraform Cloud workspace per environment, in `project` (a workspace that
    `terraform init` creates lands there, where the bootstrap stack's roles expect its runs; the
    block's `project` needs Terraform 1.6 or later); a run needs only the synthesized directory
    (function zips are assets inside it)."""
    name = stack.node.id
    if backend.kind == "local":
        LocalBackend(stack, path=f"../../../terraform.{name}.tfstate")
    elif backend.kind == "s3":
        s3 = S3Backend(stack, bucket=backend.bucket,
                       key=f"{naming.project}/{naming.environment}.tfstate",
                       region=backend.region or naming.region, dynamodb_table=backend.lock_table,
                       # `encrypt` without a key makes Terraform ask for SSE-S3 (AES256) on
                       # every write, overriding the bucket's default SSE-KMS with the state
                       # key (lib/delivery/state_store.py); without `encrypt` S3 applies that
                       # default. With `kms_key`, Terraform names that key itself.
                       encrypt=True if backend.kms_key else None, kms_key_id=backend.kms_key)
        # cdktf 0.21's S3Backend predates use_lockfile: an override writes it into the block.
        s3.add_override("use_lockfile", True)
    else:
        CloudBackend(stack, organization=backend.organization,
                     workspaces=NamedCloudWorkspace(cloud_workspace(backend, naming),
                                                    project=backend.project))
