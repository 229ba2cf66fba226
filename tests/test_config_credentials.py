"""A service's plain environment refuses a variable named like a credential.

AWS: "We recommend storing your sensitive data in either AWS Secrets Manager secrets or AWS Systems
Manager Parameter Store parameters ... Environment variables specified in the task definition are
readable by all users and roles that are allowed the DescribeTaskDefinition action" ("Pass an
individual environment variable to an Amazon ECS container - Amazon Elastic Container Service");
App Runner's plain text variables are "visible to others in App Runner service configuration and
application logs" ("Referencing environment variables - AWS App Runner"). Both platforms inject
a secret's value at start from its ARN instead, which is what `[[secrets]]` does.
"""

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL
from lib.config import ConfigError, load_environment

# One or more of each family: the names a library or tool reads a credential from (libpq's
# PGPASSWORD, MySQL's MYSQL_PWD, Rails' SECRET_KEY_BASE, Stripe's secret key...).
CREDENTIALS = [
    "PGPASSWORD", "DB_PASSWORD", "SMTP_PASSWD", "DB_PASS", "MYSQL_PWD", "GPG_PASSPHRASE",
    "STRIPE_SK", "JWT_KEY", "SESSION_KEY", "SECRET_KEY_BASE", "ENCRYPTION_KEY", "HMAC_KEY",
    "SIGNING_KEY", "DJANGO_SECRET_KEY", "STRIPE_API_KEY", "SENDGRID_APIKEY", "TLS_PRIVATE_KEY",
    "AWS_SECRET_ACCESS_KEY", "APP_KEY", "AUTH_KEY", "RAILS_MASTER_KEY", "NEW_RELIC_LICENSE_KEY",
    "JWT_SECRET", "GITHUB_TOKEN", "GOOGLE_CREDENTIALS", "DB_PASSWORD_B64", "PRIVATE_KEY_PEM",
    "jwtSigningKey",
]
# Names that hold no credential: the data-store modes and references the platform itself hands
# services (lib/compute/service_access.py, lib/serverless/api.py), and keys to nothing secret.
INNOCENT = [
    "DATABASE_AUTH", "REDIS_AUTH", "DATABASE_SECRET_ARN", "STRIPE_KEY_SECRET_ARN",
    "CACHE_KEY_PREFIX", "S3_KEY_PREFIX", "SORT_KEY", "PUBLIC_KEY", "STRIPE_PK", "KMS_KEY_ID",
    "SK", "PWD", "DB_PASSWORD_FILE", "PASS_THROUGH", "TOKEN_URL", "SESSION_TIMEOUT", "LOG_LEVEL",
]


def service_file(tmp_path, environment: str, tables: str = "", service_keys: str = ""):
    """A file with one web service `api` whose environment is `environment` (inline table
    entries); `tables` go before [network], `service_keys` into the service."""
    path = tmp_path / "dev.toml"
    path.write_text(MINIMAL.replace("[network]", tables + "[network]") +
                    '\n[[services]]\nname = "api"\nport = 8000\npaths = ["/*"]\npriority = 10\n'
                    f"environment = {{ {environment} }}\n{service_keys}")
    return path


def problems(path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    return caught.value.problems


@pytest.mark.parametrize("name", CREDENTIALS)
def test_a_credential_in_a_plain_variable_is_one_clear_line(tmp_path, name):
    path = service_file(tmp_path, f'LOG_LEVEL = "info", {name} = "hunter2"')
    [line] = problems(path)
    assert line.startswith(f"{path}: services.api.environment.{name}: looks like a credential")
    assert 'declare it in [[secrets]] (' in line and 'service = "api") and list it in ' \
        'services.api.secrets (README "Services")' in line


def test_the_way_out_is_the_secret_the_line_names(tmp_path):
    [line] = problems(service_file(tmp_path, 'DB_PASS = "hunter2"'))
    assert '(name = "db-pass", service = "api")' in line
    path = service_file(tmp_path, "", tables='[[secrets]]\nname = "db-pass"\nservice = "api"\n\n',
                        service_keys='secrets = ["db-pass"]\n')
    assert load_environment(path).services[0].secrets == ["db-pass"]


def test_every_credential_of_every_service_is_reported(tmp_path):
    path = service_file(tmp_path, 'DB_PASS = "a", JWT_KEY = "b", LOG_LEVEL = "info"')
    assert [line.split(": ")[1] for line in problems(path)] == [
        "services.api.environment.DB_PASS", "services.api.environment.JWT_KEY"]


def test_app_runner_refuses_them_too(tmp_path):
    path = service_file(tmp_path, 'STRIPE_SK = "sk"', tables='[compute]\nplatform = '
                        '"apprunner"\n\n')
    assert [line.split(": ")[1] for line in problems(path)] == [
        "services.api.environment.STRIPE_SK"]


def test_names_that_hold_no_credential_are_accepted(tmp_path):
    environment = ", ".join(f'{name} = "value"' for name in INNOCENT)
    c = load_environment(service_file(tmp_path, environment))
    assert sorted(c.services[0].environment) == sorted(INNOCENT)
