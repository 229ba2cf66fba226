"""One environment (dev, staging, prod, or any config file): composition only."""

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from lib.app_tier import AppTier, AppTierProps
from lib.apprunner import AppRunnerService, AppRunnerServiceProps, vpc_connector
from lib.bucket import Bucket, BucketProps, LifecycleRule, alb_log_delivery_statement
from lib.cache import Cache, CacheProps
from lib.config import EnvironmentConfig, Target
from lib.container_service import ContainerService, ContainerServiceProps, Ingress
from lib.database import Database, DatabaseProps
from lib.ecr import ImageRepository, ImageRepositoryProps
from lib.ecs_cluster import Cluster, ClusterProps
from lib.kms import EncryptionKey, EncryptionKeyProps
from lib.load_balancer import LoadBalancer, LoadBalancerProps
from lib.naming import Naming
from lib.network import Network, NetworkProps
from lib.provider import aws_provider
from lib.secrets import ServiceSecrets, ServiceSecretsProps
from lib.service_access import CacheAccess, DatabaseAccess

ALB_LOG_PREFIX = "alb"


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

        outputs: dict = {}
        disposable = config.profile == "dev"
        secrets = ServiceSecrets(self, "secrets", ServiceSecretsProps(
            naming=naming, secrets=list(config.secrets), kms_key_arn=secrets_key.arn,
            recovery_days=7 if disposable else 30))
        repositories = {svc.name: ImageRepository(self, f"{svc.name}-images", ImageRepositoryProps(
            naming=naming, service=svc.name, kms_key_arn=data_key.arn,
            immutable_tags=config.compute.immutable_tags,
            keep_release_images=config.compute.keep_release_images,
            untagged_image_days=config.compute.untagged_image_days, force_delete=disposable))
            for svc in config.services if svc.builds_image}
        db_access = DatabaseAccess(endpoint=database.endpoint, port=database.port,
                                   name=config.database.database_name,
                                   secret_arn=database.secret_arn)
        cache_access = CacheAccess(endpoint=cache.primary_endpoint, port=cache.port,
                                   user_name=cache.app_user_name,
                                   replication_group_arn=cache.replication_group_arn,
                                   user_arn=cache.app_user_arn)

        def image(svc) -> str:
            repo = repositories.get(svc.name)
            return f"{repo.url}:{svc.image_tag}" if repo else svc.image

        def service_secrets(svc) -> dict[str, str]:
            return {secrets.env_names[name]: secrets.arns[name] for name in svc.secrets}

        if config.compute.platform == "ecs":
            log_bucket = None
            if config.ingress.access_logs:
                log_bucket = Bucket(self, "log-bucket", BucketProps(
                    naming=naming, component="logs", kms_key_arn=None,  # ALB logs: SSE-S3 only
                    lifecycle=[LifecycleRule("expire-logs", expire_days=30,
                                             noncurrent_expire_days=7)],
                    extra_policy_statements=[alb_log_delivery_statement(
                        naming, naming.bucket_arn("logs"), ALB_LOG_PREFIX)],
                    force_destroy=disposable))
            lb = LoadBalancer(self, "load-balancer", LoadBalancerProps(
                naming=naming, vpc_id=network.vpc_id, subnet_ids=network.public_subnet_ids,
                allowed_cidrs=list(config.ingress.allowed_cidrs), domain=config.ingress.domain,
                hosted_zone_id=config.ingress.hosted_zone_id, zone_name=config.ingress.zone_name,
                access_log_bucket=log_bucket.name if log_bucket else None,
                access_log_prefix=ALB_LOG_PREFIX,
                deletion_protection=config.ingress.deletion_protection))
            cluster = Cluster(self, "cluster", ClusterProps(
                naming=naming, capacity=config.compute.capacity,
                architecture=config.compute.architecture, ec2=config.compute.ec2,
                subnet_ids=network.private_subnet_ids, vpc_id=network.vpc_id,
                volume_key_arn=data_key.arn))
            for svc in config.services:
                ContainerService(self, f"service-{svc.name}", ContainerServiceProps(
                    naming=naming, settings=svc, image=image(svc),
                    repository_arn=repositories[svc.name].arn if svc.builds_image else None,
                    cluster_name=cluster.name,
                    capacity_strategy=[(cluster.ec2_provider_name, 0, 1)]
                    if svc.capacity == "ec2" else cluster.default_strategy,
                    architecture=config.compute.architecture, vpc_id=network.vpc_id,
                    subnet_ids=network.private_subnet_ids,
                    app_security_group_id=app.security_group_id,
                    ingress=Ingress(lb.security_group_id, lb.listener_arn, lb.arn_suffix)
                    if svc.kind == "web" else None,
                    secret_arns=service_secrets(svc), secrets_key_arn=secrets_key.arn,
                    log_key_arn=logs_key.arn, log_retention_days=config.logs.retention_days,
                    database=db_access if "database" in svc.access else None,
                    cache=cache_access if "cache" in svc.access else None))
            outputs.update(url=lb.url, cluster_name=cluster.name)
        else:
            connector = vpc_connector(self, naming, network.private_subnet_ids,
                                      [app.security_group_id])
            for svc in config.services:
                runner = AppRunnerService(self, f"service-{svc.name}", AppRunnerServiceProps(
                    naming=naming, settings=svc, image=image(svc),
                    repository_arn=repositories[svc.name].arn if svc.builds_image else None,
                    vpc_connector_arn=connector, secret_arns=service_secrets(svc),
                    secrets_key_arn=secrets_key.arn, encryption_key_arn=data_key.arn,
                    database=db_access if "database" in svc.access else None,
                    cache=cache_access if "cache" in svc.access else None))
                outputs[f"{svc.name}_url"] = runner.url

        outputs.update({
            "vpc_id": network.vpc_id,
            "private_subnet_ids": network.private_subnet_ids,
            "app_security_group_id": app.security_group_id,
            "database_endpoint": database.endpoint,
            "database_secret_arn": database.secret_arn,
            "redis_primary_endpoint": cache.primary_endpoint,
            "redis_reader_endpoint": cache.reader_endpoint,
            "redis_user": cache.app_user_name,
        })
        if database.reader_endpoint:
            outputs["database_reader_endpoint"] = database.reader_endpoint
        for name, repo in repositories.items():
            outputs[f"{name}_repository_url"] = repo.url
        for name, value in outputs.items():
            TerraformOutput(self, name.replace("-", "_"), value=value)
