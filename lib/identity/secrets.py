"""The Secrets Manager secrets services read, named by the hierarchy /<project>/<env>/<service>/<name>."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming


@dataclass(frozen=True)
class SecretSpec:
    name: str  # the secret's name; its service reads it as the env var NAME (dashes to underscores)
    service: str  # the owner: /<project>/<env>/<service>/<name>
    description: str  # "" : "<name> for <service>"


@dataclass(frozen=True)
class ServiceSecretsProps:
    naming: Naming
    secrets: list[SecretSpec]
    kms_key_arn: str
    recovery_days: int  # 7-30; deleted secrets can be restored for this long


class ServiceSecrets(Construct):
    """One empty secret per `[[secrets]]` entry, encrypted with the secrets key. Terraform never
    holds a value: operators set it with `aws secretsmanager put-secret-value`, so nothing secret
    reaches the JSON or the state.

    Outputs: `arns` (secret name -> ARN), `env_names` (secret name -> environment variable),
    `by_env_name(names)` (env var -> ARN for the given secret names: what a reader is handed).
    """

    def __init__(self, scope: Construct, id: str, props: ServiceSecretsProps):
        super().__init__(scope, id)
        n = props.naming
        self.arns: dict[str, str] = {}
        self.env_names: dict[str, str] = {}
        for secret in props.secrets:
            resource = aws.secretsmanager_secret.SecretsmanagerSecret(
                self, secret.name, name=n.secret(secret.service, secret.name),
                description=secret.description or f"{secret.name} for {secret.service}",
                kms_key_id=props.kms_key_arn,
                recovery_window_in_days=props.recovery_days,
                tags=n.tags(secret.service, secret.name))
            self.arns[secret.name] = resource.arn
            self.env_names[secret.name] = secret.name.upper().replace("-", "_")

    def by_env_name(self, names: list[str]) -> dict[str, str]:
        return {self.env_names[name]: self.arns[name] for name in names}
