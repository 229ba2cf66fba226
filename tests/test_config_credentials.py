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
from credential_names import CREDENTIAL_NAMES, INNOCENT_NAMES
from lib.config import ConfigError, load_environment

# The platform's own mode variables (lib/compute/service_access.py) are plain and end in AUTH:
# the config accepts them (the scan allows them only with their mode values).
INNOCENT = INNOCENT_NAMES + ["DATABASE_AUTH", "REDIS_AUTH"]


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


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
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
