"""Where an environment stack keeps its Terraform state."""

from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack

from lib.config import BackendConfig
from lib.core.naming import Naming


def configure_backend(stack: TerraformStack, naming: Naming, backend: BackendConfig) -> None:
    """local: `terraform.<stack>.tfstate` in the project root (a path relative to the stack's
    working directory, cdktf.out/stacks/<stack>/, so no machine path lands in the JSON).
    s3: one key per environment in the bootstrap bucket, encrypted, locked in the lock table.
    cloud: a Terraform Cloud workspace per environment; a run needs only the synthesized
    directory (function zips are assets inside it)."""
    name = stack.node.id
    if backend.kind == "local":
        LocalBackend(stack, path=f"../../../terraform.{name}.tfstate")
    elif backend.kind == "s3":
        S3Backend(stack, bucket=backend.bucket, key=f"{naming.project}/{naming.environment}.tfstate",
                  region=backend.region or naming.region, dynamodb_table=backend.lock_table,
                  encrypt=True, kms_key_id=backend.kms_key)
    else:
        CloudBackend(stack, organization=backend.organization,
                     workspaces=NamedCloudWorkspace(backend.workspace or naming.prefix))
