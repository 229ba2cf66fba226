"""Lambda functions: from handler folders in the repo, packaged deterministically, or from a
service's container image in ECR."""

import base64
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lib.core.cdk import AssetType, TerraformAsset, TerraformResource, TerraformResourceLifecycle
from constructs import Construct

from lib.core import aws
from lib.core.iam import service_role_with_policies
from lib.core.naming import Naming
from lib.serverless.messaging import DLQ_RETENTION_SECONDS, deny_without_tls

RUNTIME = "python3.12"
# Fixed metadata: the same sources give the same bytes on every machine and every synth.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Creating and removing the function's network interfaces in the VPC, on "*" as AWS's own
# AWSLambdaVPCAccessExecutionRole grants them. Not narrowed to this VPC: whether each write action
# evaluates resource ARNs or ec2:Vpc could not be confirmed from AWS's reference (older editions
# list none for DeleteNetworkInterface or AssignPrivateIpAddresses), and a scope that never
# matches fails the function's creation or leaves its interfaces behind. Describe* needs "*".
VPC_ENI_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                   "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                   "ec2:UnassignPrivateIpAddresses"]


def package(source_dir: Path, build_dir: Path) -> tuple[Path, str]:
    """Zip `source_dir` (sorted entries, fixed timestamps and modes, no caches) into
    `build_dir/<name>.zip`; return the path and the base64 SHA-256 Lambda compares."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in source_dir.rglob("*") if p.is_file()
                           and "__pycache__" not in p.parts and p.suffix != ".pyc"):
            info = zipfile.ZipInfo(path.relative_to(source_dir).as_posix(), ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    build_dir.mkdir(parents=True, exist_ok=True)
    target = build_dir / f"{source_dir.name}.zip"
    if not target.exists() or target.read_bytes() != data:
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(target)  # atomic: concurrent synths never see half a file
    return target, base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass(frozen=True)
class ZipCode:
    """A Python handler folder, zipped at synth time."""

    source_dir: Path  # holds handler.py with handler(event, context)
    build_dir: Path


@dataclass(frozen=True)
class ImageCode:
    """A container image in a private ECR repository of the function's Region."""

    uri: str  # <repository url>:<tag>, or a full ECR reference
    # CI deploys it (`images.yml`, by digest): Terraform creates the function from `uri` and then
    # leaves `image_uri` alone, as it leaves an ECS service's task definition, so an apply never
    # rolls a function back to the tag it was created from.
    deployed_by_ci: bool
    architecture: str  # arm64 | x86_64: the image's one platform
    # What lets Lambda pull the image (the repository policy), which it checks on creation.
    pull_grant: TerraformResource | None = None


@dataclass(frozen=True)
class FunctionProps:
    naming: Naming
    name: str  # api, worker, or a service: the function is <project>-<env>-<name>
    code: ZipCode | ImageCode
    # None: outside the VPC, for a function that only calls public endpoints (the alarm relay
    # to PagerDuty), which then needs no NAT; subnet_ids and extra_security_group_ids stay empty.
    vpc_id: str | None
    subnet_ids: list[str]  # the private tier
    extra_security_group_ids: list[str]  # e.g. the app tier, to reach the data stores
    log_key_arn: str
    log_retention_days: int
    environment_key_arn: str  # encrypts the environment variables at rest
    memory_mb: int
    timeout_seconds: int
    environment: dict[str, str] = field(default_factory=dict)
    statements: list[dict] = field(default_factory=list)  # what the function may do
    # Invoked asynchronously (by a schedule): Lambda retries a failed event twice, then drops it
    # unless the function has a dead-letter queue.
    dead_letter_queue: bool = False
    reserved_concurrency: int | None = None  # None: the account's unreserved pool
    # Instances kept initialized, through the alias `live` (published versions only).
    provisioned_concurrency: int = 0


class Function(Construct):
    """A Lambda function in the private subnets (or, with `vpc_id` None, outside the VPC): a
    Python handler on Graviton (`ZipCode`), or a container image (`ImageCode`). In the VPC its
    own security group (no inbound, HTTPS out); its own KMS-encrypted log group, X-Ray tracing,
    encrypted environment variables, and a role limited to its log group, its network interfaces
    (in the VPC) and `statements`.

    With `dead_letter_queue`, events that failed every asynchronous attempt go to
    `<project>-<env>-<name>-function-dlq` (SQS-encrypted, TLS only), which the role may only send
    to. With `provisioned_concurrency`, every change publishes a version and the alias `live`
    follows it, with that many instances kept initialized on it.

    Outputs: `arn`, `name`, `invoke_arn`, `role_arn`, `security_group_id` (None outside the
    VPC), `code_hash` (zip only), `function_name`, the literal name alarms use,
    `dead_letter_queue_name` (literal, or None), and `qualifier` (`live` with provisioned
    concurrency, else None: what API Gateway invokes). `consume(queue_arn)` attaches an SQS
    queue as its event source.
    """

    def __init__(self, scope: Construct, id: str, props: FunctionProps):
        super().__init__(scope, id)
        n = props.naming
        function_name = self.function_name = n.name(props.name)
        logs = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "logs", name=f"/aws/lambda/{function_name}",
            retention_in_days=props.log_retention_days, kms_key_id=props.log_key_arn,
            tags=n.tags(props.name, "logs"))
        self.dead_letter_queue_name: str | None = None
        dead_letters: list[dict] = []
        dead_letter_config = None
        if props.dead_letter_queue:
            self.dead_letter_queue_name = n.name(props.name, "function", "dlq")
            dlq = aws.sqs_queue.SqsQueue(
                self, "dead-letters", name=self.dead_letter_queue_name,
                sqs_managed_sse_enabled=True, message_retention_seconds=DLQ_RETENTION_SECONDS,
                tags=n.tags(props.name, "function", "dlq"))
            deny_without_tls(self, "dead-letters-policy", dlq.url, dlq.arn)
            dead_letters = [{"Sid": "SendFailedEvents", "Effect": "Allow",
                             "Action": "sqs:SendMessage", "Resource": dlq.arn}]
            dead_letter_config = aws.lambda_function.LambdaFunctionDeadLetterConfig(
                target_arn=dlq.arn)
        in_vpc = props.vpc_id is not None
        network_interfaces = [{"Sid": "VpcNetworkInterfaces", "Effect": "Allow",
                               "Action": VPC_ENI_ACTIONS, "Resource": "*"}] if in_vpc else []
        role, grants = service_role_with_policies(
            self, "role", n, f"{props.name}-function", "lambda.amazonaws.com", [
                {"Sid": "WriteOwnLogs", "Effect": "Allow",
                 "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": f"{logs.arn}:*"},
                *network_interfaces,
                {"Sid": "Tracing", "Effect": "Allow",
                 "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                 "Resource": "*"},
                *dead_letters, *props.statements])
        self.role_arn: str = role.arn
        self.security_group_id: str | None = None
        vpc_config = None
        if in_vpc:
            sg = aws.security_group.SecurityGroup(
                self, "sg", name=n.name(props.name, "function"), vpc_id=props.vpc_id,
                description=f"{props.name} function: no inbound",
                tags=n.tags(props.name, "function"))
            self.security_group_id = sg.id
            aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
                self, "https-out", security_group_id=self.security_group_id, ip_protocol="tcp",
                from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
                description="HTTPS to AWS APIs")
            vpc_config = aws.lambda_function.LambdaFunctionVpcConfig(
                subnet_ids=props.subnet_ids,
                security_group_ids=[self.security_group_id, *props.extra_security_group_ids])
        fn = aws.lambda_function.LambdaFunction(
            self, "function", function_name=function_name, role=self.role_arn,
            **self._code(props.code),
            memory_size=props.memory_mb, timeout=props.timeout_seconds,
            reserved_concurrent_executions=props.reserved_concurrency,
            publish=props.provisioned_concurrency > 0 or None,
            environment=aws.lambda_function.LambdaFunctionEnvironment(
                variables={"ENVIRONMENT": n.environment, **props.environment}),
            kms_key_arn=props.environment_key_arn,
            vpc_config=vpc_config,
            tracing_config=aws.lambda_function.LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=dead_letter_config,
            logging_config=aws.lambda_function.LambdaFunctionLoggingConfig(
                log_format="JSON", log_group=logs.name),
            # Lambda checks the role's rights to the network interfaces and the dead-letter
            # queue when it creates the function: its grants first, not only the role.
            depends_on=[logs, *grants, *self._pull_grant(props.code)], tags=n.tags(props.name))
        self.arn: str = fn.arn
        self.name: str = fn.function_name
        self.invoke_arn: str = fn.invoke_arn
        self.qualifier: str | None = None
        if props.provisioned_concurrency:
            alias = aws.lambda_alias.LambdaAlias(
                self, "live", name="live", function_name=self.name,
                function_version=fn.version)
            aws.lambda_provisioned_concurrency_config.LambdaProvisionedConcurrencyConfig(
                self, "warm", function_name=self.name, qualifier=alias.name,
                provisioned_concurrent_executions=props.provisioned_concurrency)
            self.qualifier = "live"
            self.arn, self.invoke_arn = alias.arn, alias.invoke_arn

    @staticmethod
    def _pull_grant(code: ZipCode | ImageCode) -> list[TerraformResource]:
        return [code.pull_grant] if isinstance(code, ImageCode) and code.pull_grant else []

    def _code(self, code: ZipCode | ImageCode) -> dict:
        """The function's arguments that say what it runs."""
        if isinstance(code, ZipCode):
            zip_path, self.code_hash = package(code.source_dir, code.build_dir)
            asset = TerraformAsset(self, "code", path=str(zip_path), type=AssetType.FILE)
            return dict(handler="handler.handler", runtime=RUNTIME, architectures=["arm64"],
                        filename=asset.path, source_code_hash=self.code_hash)
        return dict(package_type="Image", image_uri=code.uri, architectures=[code.architecture],
                    lifecycle=TerraformResourceLifecycle(ignore_changes=["image_uri"])
                    if code.deployed_by_ci else None)

    def consume(self, queue_arn: str, batch_size: int = 10, max_concurrency: int = 5) -> None:
        """Invoke the function with batches from an SQS queue; a record the handler reports in
        `batchItemFailures` is retried alone (and dead-lettered by the queue's redrive)."""
        aws.lambda_event_source_mapping.LambdaEventSourceMapping(
            self, "queue-source", event_source_arn=queue_arn, function_name=self.arn,
            batch_size=batch_size, function_response_types=["ReportBatchItemFailures"],
            scaling_config=aws.lambda_event_source_mapping.LambdaEventSourceMappingScalingConfig(
                maximum_concurrency=max_concurrency))
