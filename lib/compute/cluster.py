"""The ECS cluster: Container Insights (switchable), Fargate and Fargate Spot, an optional EC2
capacity provider, and optional ECS Exec with encrypted, logged sessions."""

import base64
from dataclasses import dataclass
from typing import Literal

from lib.core.cdk import TerraformResourceLifecycle
from constructs import Construct

from lib.core import aws
from lib.core.access import SessionLogAccess
from lib.core.iam import service_role
from lib.core.naming import Naming

# The ECS-optimized Amazon Linux 2023 AMI, resolved by EC2 at launch from its public SSM
# parameter: no AMI id to pin and no look-up at plan time.
ECS_AMI_PARAMETER = {
    "arm64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
    "x86_64": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
}
EC2_PROVIDER_POLICIES = [
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",  # Session Manager, no SSH
]


@dataclass(frozen=True)
class Ec2Capacity:
    """An EC2 Auto Scaling capacity provider (`[compute.ec2]`)."""

    instance_type: str
    min_size: int
    max_size: int


@dataclass(frozen=True)
class ExecSessions:
    """ECS Exec (`[compute] exec`): the key that encrypts every session between the client and
    the container, and the log group sessions are written to (created here, encrypted)."""

    key_arn: str
    log_key_arn: str
    log_retention_days: int


@dataclass(frozen=True)
class ExecSessionLog:
    """What a task needs for an ECS Exec session to start: the session key to decrypt with, and
    the one log group to write the session to (`exec_statements`)."""

    key_arn: str
    log_group_name: str
    log_group_arn: str


def exec_statements(log: ExecSessionLog) -> list[dict]:
    """Amazon ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec" (IAM
    permissions): the SSM agent in the container opens the session's channels (actions without
    resource types: Resource "*"), decrypts with the cluster's session key, looks the log group
    up (DescribeLogGroups takes "*" only) and writes the session there."""
    return [
        {"Sid": "ExecSessionChannels", "Effect": "Allow", "Resource": "*",
         "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]},
        {"Sid": "ExecSessionKey", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": log.key_arn},
        {"Sid": "ExecSessionLogEncryption", "Effect": "Allow", "Action": "logs:DescribeLogGroups",
         "Resource": "*"},
        {"Sid": "ExecSessionLogWrites", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": f"{log.log_group_arn}:*"},
    ]


@dataclass(frozen=True)
class ClusterProps:
    naming: Naming
    # fargate: on-demand; spot: Fargate Spot only; mixed: one on-demand task, the rest 1:1
    capacity: Literal["fargate", "spot", "mixed"]
    architecture: Literal["arm64", "x86_64"]
    ec2: Ec2Capacity | None
    subnet_ids: list[str]  # private subnets for EC2 instances
    vpc_id: str
    volume_key_arn: str
    container_insights: bool  # per-task metrics, billed as custom metrics
    # Where the account's Session Manager preferences log sessions: EC2 instances may write there
    # and use its key (without, a logged, encrypted session cannot start). None: not granted.
    session_logs: SessionLogAccess | None = None
    exec_sessions: ExecSessions | None = None  # ECS Exec off without


class Cluster(Construct):
    """An ECS cluster (Container Insights unless switched off) with the FARGATE and FARGATE_SPOT capacity providers.

    With `ec2`, also an Auto Scaling group of ECS-optimized instances (IMDSv2 only, encrypted
    volumes, Session Manager instead of SSH, its session logs and key granted through
    `session_logs`, no inbound rules) behind a capacity provider with managed scaling and
    termination protection.

    With `exec_sessions`, ECS Exec sessions are encrypted with its key and logged (OVERRIDE) to
    the KMS-encrypted group `/<project>/<env>/ecs-exec`; the services must still turn it on and
    grant their task roles `exec_statements(exec_log)`.

    Outputs: `name`, `arn`, `default_strategy` (list of (provider, base, weight)),
    `ec2_provider_name` (None without EC2), `strategy(on_ec2)` (a service's strategy),
    `exec_log` (None without ECS Exec).
    """

    def __init__(self, scope: Construct, id: str, props: ClusterProps):
        super().__init__(scope, id)
        n = props.naming
        self.exec_log: ExecSessionLog | None = None
        if props.exec_sessions is not None:
            self.exec_log = self._exec_log(n, props.exec_sessions)
        cluster = aws.ecs_cluster.EcsCluster(
            self, "cluster", name=n.name("cluster"),
            setting=[aws.ecs_cluster.EcsClusterSetting(
                name="containerInsights",
                value="enabled" if props.container_insights else "disabled")],
            configuration=self._exec_configuration(self.exec_log),
            tags=n.tags("cluster"))
        self.name: str = cluster.name
        self.arn: str = cluster.arn
        self.default_strategy: list[tuple[str, int, int]] = {
            "fargate": [("FARGATE", 0, 1)],
            "spot": [("FARGATE_SPOT", 0, 1)],
            "mixed": [("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 1)],
        }[props.capacity]

        providers = ["FARGATE", "FARGATE_SPOT"]
        self.ec2_provider_name: str | None = None
        if props.ec2 is not None:
            self.ec2_provider_name = self._ec2_capacity(n, props, self.name)
            providers.append(self.ec2_provider_name)
        aws.ecs_cluster_capacity_providers.EcsClusterCapacityProviders(
            self, "capacity-providers", cluster_name=self.name, capacity_providers=providers,
            default_capacity_provider_strategy=[
                aws.ecs_cluster_capacity_providers.
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    capacity_provider=p, base=base, weight=weight)
                for p, base, weight in self.default_strategy])

    def _exec_log(self, n: Naming, sessions: ExecSessions) -> ExecSessionLog:
        group = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "exec-logs", name=n.log_group("ecs-exec"),
            retention_in_days=sessions.log_retention_days, kms_key_id=sessions.log_key_arn,
            tags=n.tags("ecs-exec"))
        return ExecSessionLog(key_arn=sessions.key_arn, log_group_name=group.name,
                              log_group_arn=group.arn)

    @staticmethod
    def _exec_configuration(log: ExecSessionLog | None):
        """Amazon ECS API Reference, ExecuteCommandConfiguration: `kmsKeyId` encrypts the data
        between the client and the container; OVERRIDE logs to `logConfiguration` (DEFAULT would
        follow the task's awslogs configuration); `cloudWatchEncryptionEnabled` turns on the
        encryption of the log data (off when not specified)."""
        if log is None:
            return None
        c = aws.ecs_cluster
        return c.EcsClusterConfiguration(
            execute_command_configuration=c.EcsClusterConfigurationExecuteCommandConfiguration(
                kms_key_id=log.key_arn, logging="OVERRIDE",
                log_configuration=c.
                EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration(
                    cloud_watch_log_group_name=log.log_group_name,
                    cloud_watch_encryption_enabled=True)))

    def strategy(self, on_ec2: bool) -> list[tuple[str, int, int]]:
        """Where a service's tasks run: the EC2 capacity provider alone, or the default."""
        return [(self.ec2_provider_name, 0, 1)] if on_ec2 else self.default_strategy

    def _ec2_capacity(self, n: Naming, props: ClusterProps, cluster_name: str) -> str:
        ec2 = props.ec2
        role = service_role(self, "instance-role", n, "ecs-instance", "ec2.amazonaws.com",
                            session_log_statements(props.session_logs, n.partition)
                            if props.session_logs else None,
                            managed_policy_arns=EC2_PROVIDER_POLICIES)
        profile = aws.iam_instance_profile.IamInstanceProfile(
            self, "instance-profile", name=n.name("ecs-instance"), role=role.name,
            tags=n.tags("ecs-instance"))
        sg = aws.security_group.SecurityGroup(
            self, "instance-sg", name=n.name("ecs-instance"), vpc_id=props.vpc_id,
            description="ECS container instances: no inbound, HTTPS out (ECS agent, ECR, SSM)",
            tags=n.tags("ecs-instance"))
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self, "instance-https-out", security_group_id=sg.id, ip_protocol="tcp",
            from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
            description="HTTPS to the ECS, ECR and SSM endpoints")
        lt = aws.launch_template
        user_data = f"#!/bin/bash\necho ECS_CLUSTER={n.name('cluster')} >> /etc/ecs/ecs.config\n"
        template = lt.LaunchTemplate(
            self, "launch-template", name=n.name("ecs-instance"),
            image_id=f"resolve:ssm:{ECS_AMI_PARAMETER[props.architecture]}",
            instance_type=ec2.instance_type,
            iam_instance_profile=lt.LaunchTemplateIamInstanceProfile(arn=profile.arn),
            vpc_security_group_ids=[sg.id],
            user_data=base64.b64encode(user_data.encode()).decode(),
            metadata_options=lt.LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required",
                # 1 hop: the instance reaches IMDS, containers behind a bridge cannot.
                http_put_response_hop_limit=1),
            block_device_mappings=[lt.LaunchTemplateBlockDeviceMappings(
                device_name="/dev/xvda", ebs=lt.LaunchTemplateBlockDeviceMappingsEbs(
                    encrypted="true", kms_key_id=props.volume_key_arn, volume_size=30,
                    volume_type="gp3", delete_on_termination="true"))],
            monitoring=lt.LaunchTemplateMonitoring(enabled=True),
            tags=n.tags("ecs-instance"))
        group = aws.autoscaling_group.AutoscalingGroup(
            self, "instances", name=n.name("ecs-instances"),
            vpc_zone_identifier=props.subnet_ids, min_size=ec2.min_size, max_size=ec2.max_size,
            launch_template=aws.autoscaling_group.AutoscalingGroupLaunchTemplate(
                id=template.id, version="$Latest"),
            protect_from_scale_in=True,  # ECS decides which instance may go (managed termination)
            tag=[aws.autoscaling_group.AutoscalingGroupTag(
                key="AmazonECSManaged", value="true", propagate_at_launch=True)],
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_capacity"]))  # managed scaling
        provider = aws.ecs_capacity_provider.EcsCapacityProvider(
            self, "ec2-provider", name=n.name("ec2"),
            auto_scaling_group_provider=aws.ecs_capacity_provider.
            EcsCapacityProviderAutoScalingGroupProvider(
                auto_scaling_group_arn=group.arn, managed_termination_protection="ENABLED",
                managed_scaling=aws.ecs_capacity_provider.
                EcsCapacityProviderAutoScalingGroupProviderManagedScaling(
                    status="ENABLED", target_capacity=100)),
            tags=n.tags("ec2"))
        return provider.name


def session_log_statements(logs: SessionLogAccess, partition: str) -> list[dict]:
    """AWS Systems Manager User Guide, "Create a custom IAM instance profile for Session Manager":
    with S3 session logs and KMS session encryption the instance writes the log, checks the
    bucket's encryption, and uses the key (decrypt for the session, data keys for the bucket)."""
    own = {"StringEquals": {"s3:ResourceAccount": logs.account_id}}
    return [
        {"Sid": "WriteSessionLogs", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"{logs.bucket_arn}/{logs.prefix}/*", "Condition": own},
        {"Sid": "CheckSessionLogEncryption", "Effect": "Allow",
         "Action": "s3:GetEncryptionConfiguration", "Resource": logs.bucket_arn, "Condition": own},
        {"Sid": "UseTheSessionKey", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": f"arn:{partition}:kms:{logs.region}:{logs.account_id}:key/*",
         "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": logs.key_alias}}},
    ]
