"""The one helper that builds every resource name, ARN and tag set: `<project>-<env>-<component>`."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Naming:
    project: str
    environment: str
    account_id: str
    region: str

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"

    @property
    def partition(self) -> str:
        return "aws-us-gov" if "-gov-" in self.region else "aws"

    def name(self, *component: str) -> str:
        """`name("private", "a")` -> `webplat-dev-private-a`."""
        return "-".join((self.prefix, *component))

    def tags(self, *component: str, **extra: str) -> dict[str, str]:
        """Per-resource tags; Project/Environment/ManagedBy come from the provider's default_tags."""
        return {"Name": self.name(*component), **extra}

    def default_tags(self, extra: dict[str, str]) -> dict[str, str]:
        """Tags every resource of the stack gets through the AWS provider's `default_tags`."""
        return {**extra, "Project": self.project, "Environment": self.environment,
                "ManagedBy": "cdktf"}

    def log_group(self, *component: str) -> str:
        """CloudWatch log group names: `/<project>/<env>/<component>`."""
        return "/" + "/".join((self.project, self.environment, *component))

    def bucket(self, component: str) -> str:
        """S3 bucket names are global: `<project>-<env>-<component>-<account id>`."""
        return self.name(component, self.account_id)

    def bucket_arn(self, component: str) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket(component)}"

    def secret(self, service: str, name: str) -> str:
        """Secrets Manager names: `/<project>/<env>/<service>/<name>`, so IAM can grant a service
        `/<project>/<env>/<service>/*` and nothing of its neighbours."""
        return "/" + "/".join((self.project, self.environment, service, name))

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    @property
    def account_root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"
