"""One environment (dev, staging, prod, or any config file): composition only."""

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from lib.app_tier import AppTier, AppTierProps
from lib.cache import Cache, CacheProps
from lib.config import EnvironmentConfig, Target
from lib.database import Database, DatabaseProps
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

        def key(purpose: str, description: str, logs: bool = False) -> EncryptionKey:
            return EncryptionKey(self, f"{purpose}-key", EncryptionKeyProps(
                naming=naming, purpose=purpose, description=f"{naming.prefix}: {description}",
                allow_cloudwatch_logs=logs,
                deletion_window_days=30 if config.profile == "prod" else 7))

        logs_key = key("logs", "CloudWatch log groups", logs=True)
        data_key = key("data", "RDS and ElastiCache storage, snapshots, Performance Insights")
        secrets_key = key("secrets", "Secrets Manager secrets")

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
        app = AppTier(self, "app-tier", AppTierProps(
            naming=naming, vpc_id=network.vpc_id,
            data_subnet_cidrs=network.isolated_subnet_cidrs))

        database = Database(self, "database", DatabaseProps(
            naming=naming, settings=config.database, vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            allowed_security_group_ids=[app.security_group_id],
            storage_key_arn=data_key.arn, secret_key_arn=secrets_key.arn,
            log_key_arn=logs_key.arn, log_retention_days=config.logs.retention_days))
        cache = Cache(self, "cache", CacheProps(
            naming=naming, settings=config.cache, vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            multi_az_capable=len(network.availability_zones) >= 2,
            allowed_security_group_ids=[app.security_group_id],
            storage_key_arn=data_key.arn, log_key_arn=logs_key.arn,
            log_retention_days=config.logs.retention_days))

        outputs = {
            "vpc_id": network.vpc_id,
            "public_subnet_ids": network.public_subnet_ids,
            "private_subnet_ids": network.private_subnet_ids,
            "isolated_subnet_ids": network.isolated_subnet_ids,
            "app_security_group_id": app.security_group_id,
            "database_endpoint": database.endpoint,
            "database_port": database.port,
            "database_secret_arn": database.secret_arn,
            "redis_primary_endpoint": cache.primary_endpoint,
            "redis_reader_endpoint": cache.reader_endpoint,
            "redis_port": cache.port,
            "redis_user": cache.app_user_name,
        }
        if database.reader_endpoint:
            outputs["database_reader_endpoint"] = database.reader_endpoint
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)
