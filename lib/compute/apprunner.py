"""The lean alternative to ECS + ALB (seed 001): App Runner services with a VPC connector."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.iam import service_role
from lib.core.naming import Naming
from lib.compute.service_access import secret_read_statements, service_access
from lib.compute.service_spec import ServiceSpec
from lib.core.access import (BucketAccess, CacheAccess, DatabaseAccess, ExternalCacheAccess,
                             QueueAccess)


@dataclass(frozen=True)
class AppRunnerServiceProps:
    naming: Naming
    settings: ServiceSpec
    image: str  # repository URL + tag, or a public ECR image reference
    repository_arn: str | None  # the project's ECR repository, None for a public image
    vpc_connector_arn: str  # egress into the VPC (the data stores) goes through it
    secret_arns: dict[str, str]  # env var name -> secret ARN
    secrets_key_arn: str
    encryption_key_arn: str
    database: DatabaseAccess | None = None
    cache: CacheAccess | ExternalCacheAccess | None = None
    media: BucketAccess | None = None
    sends_to: tuple[QueueAccess, ...] = ()


class AppRunnerService(Construct):
    """An App Runner service for one web entry of `[[services]]`: HTTPS endpoint managed by App
    Runner, egress through the VPC connector, secrets from Secrets Manager, autoscaling between
    min and max instances, health check on the configured path, KMS encryption. Built images
    deploy automatically when CI pushes the configured tag.

    Outputs: `url`, `arn`, `instance_role_arn`.
    """

    def __init__(self, scope: Construct, id: str, props: AppRunnerServiceProps):
        super().__init__(scope, id)
        n, svc = props.naming, props.settings
        access = service_access(svc.environment, props.secret_arns, props.database, props.cache,
                                props.media, sends_to=props.sends_to)
        statements = access.runtime_statements + secret_read_statements(
            access.readable_secret_arns, props.secrets_key_arn, n.region)
        instance_role = service_role(self, "instance-role", n, f"{svc.name}-instance",
                                     "tasks.apprunner.amazonaws.com", statements)
        self.instance_role_arn: str = instance_role.arn

        ar = aws.apprunner_service
        authentication = None
        if props.repository_arn:
            access_role = service_role(self, "access-role", n, f"{svc.name}-ecr-access",
                                       "build.apprunner.amazonaws.com", [
                                           {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
                                            "Resource": "*"},
                                           {"Effect": "Allow", "Resource": props.repository_arn,
                                            "Action": ["ecr:BatchCheckLayerAvailability",
                                                       "ecr:GetDownloadUrlForLayer",
                                                       "ecr:BatchGetImage", "ecr:DescribeImages"]}])
            authentication = ar.ApprunnerServiceSourceConfigurationAuthenticationConfiguration(
                access_role_arn=access_role.arn)
        scaling = aws.apprunner_auto_scaling_configuration_version.\
            ApprunnerAutoScalingConfigurationVersion(
                self, "scaling", auto_scaling_configuration_name=n.name(svc.name),
                min_size=max(svc.min_tasks, 1), max_size=svc.max_tasks, max_concurrency=100,
                tags=n.tags(svc.name))
        service = ar.ApprunnerService(
            self, "service", service_name=n.name(svc.name),
            source_configuration=ar.ApprunnerServiceSourceConfiguration(
                authentication_configuration=authentication,
                auto_deployments_enabled=props.repository_arn is not None,
                image_repository=ar.ApprunnerServiceSourceConfigurationImageRepository(
                    image_identifier=props.image,
                    image_repository_type="ECR" if props.repository_arn else "ECR_PUBLIC",
                    image_configuration=ar.
                    ApprunnerServiceSourceConfigurationImageRepositoryImageConfiguration(
                        port=str(svc.port),
                        runtime_environment_variables=access.environment or None,
                        runtime_environment_secrets=access.secrets or None))),
            instance_configuration=ar.ApprunnerServiceInstanceConfiguration(
                cpu=str(svc.cpu), memory=str(svc.memory),
                instance_role_arn=instance_role.arn),
            network_configuration=ar.ApprunnerServiceNetworkConfiguration(
                egress_configuration=ar.ApprunnerServiceNetworkConfigurationEgressConfiguration(
                    egress_type="VPC", vpc_connector_arn=props.vpc_connector_arn),
                ingress_configuration=ar.
                ApprunnerServiceNetworkConfigurationIngressConfiguration(
                    is_publicly_accessible=True)),
            health_check_configuration=ar.ApprunnerServiceHealthCheckConfiguration(
                protocol="HTTP", path=svc.health_check_path, interval=10, timeout=5,
                healthy_threshold=1, unhealthy_threshold=5),
            encryption_configuration=ar.ApprunnerServiceEncryptionConfiguration(
                kms_key=props.encryption_key_arn),
            auto_scaling_configuration_arn=scaling.arn,
            tags=n.tags(svc.name))
        self.url: str = f"https://{service.service_url}"
        self.arn: str = service.arn


def vpc_connector(scope: Construct, naming: Naming, subnet_ids: list[str],
                  security_group_ids: list[str]) -> str:
    """The connector App Runner services send VPC-bound traffic through; returns its ARN."""
    connector = aws.apprunner_vpc_connector.ApprunnerVpcConnector(
        scope, "vpc-connector", vpc_connector_name=naming.name("apprunner"),
        subnets=subnet_ids, security_groups=security_group_ids, tags=naming.tags("apprunner"))
    return connector.arn
