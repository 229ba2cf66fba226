"""One environment (dev, staging, prod, or any config file): composition only."""

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from lib.config import EnvironmentConfig, Target
from lib.kms import EncryptionKey, EncryptionKeyProps
from lib.naming import Naming
from lib.network import Network, NetworkProps
from lib.provider import aws_provider


class EnvironmentStack(TerraformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig, target: Target):
        super().__init__(scope, config.stack_name)
        naming = Naming(config.project, config.environment, config.account_id, config.region)
        aws_provider(self, naming, config.tags, target)
        # One state file per stack in the project root (ignored by git). Relative to the stack's
        # working directory, cdktf.out/stacks/<stack>/, so no machine path lands in the JSON.
        LocalBackend(self, path=f"../../../terraform.{config.stack_name}.tfstate")

        logs_key = EncryptionKey(self, "logs-key", EncryptionKeyProps(
            naming=naming, purpose="logs", description=f"{naming.prefix}: CloudWatch log groups",
            allow_cloudwatch_logs=True,
            deletion_window_days=30 if config.profile == "prod" else 7))

        network = Network(self, "network", NetworkProps(
            naming=naming,
            cidr=config.network.cidr,
            availability_zones=config.availability_zones,
            subnet_plan=config.subnet_plan,
            nat=config.network.nat,
            interface_endpoints=list(config.network.interface_endpoints),
            flow_log_retention_days=config.logs.retention_days,
            flow_log_key_arn=logs_key.arn,
        ))

        TerraformOutput(self, "vpc_id", value=network.vpc_id)
        TerraformOutput(self, "public_subnet_ids", value=network.public_subnet_ids)
        TerraformOutput(self, "private_subnet_ids", value=network.private_subnet_ids)
        TerraformOutput(self, "isolated_subnet_ids", value=network.isolated_subnet_ids)
