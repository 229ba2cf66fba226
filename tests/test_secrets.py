"""No secret value in the synthesized JSON or in the repository.

`find_secrets` is the scanner: the unit tests below feed it every leak shape it must catch (so it
cannot silently go blind) and the references it must let through; then it scans every stack the
project synthesizes: the environments, the bootstrap stack, every preset and the test fixtures.
"""

import json
import re
import subprocess

import pytest

from conftest import PRESET_FILES, ROOT
from credential_names import CREDENTIAL_NAMES, INNOCENT_NAMES

# A key, the `name` of a name/value pair (ECS environment entries, SSM parameters) or an
# environment variable that names a credential, matched once it is in snake_case: it ends with one
# of these words, optionally followed by an encoding suffix (`private_key_pem`, `secret_string`,
# `DB_PASSWORD_B64`). lib/config/credentials.py keeps the config's own copy of this rule; this
# one is the spec and does not import it.
SECRET_NAME = re.compile(r"""
    (?:
        password | passwd                 # also glued to a prefix: PGPASSWORD, MYSQLPASSWORD
      | (?:^|_)(?:
            passphrase | pass             # GPG_PASSPHRASE, DB_PASS, SMTP_PASS
          | secret | token | credentials? # JWT_SECRET, GITHUB_TOKEN, GOOGLE_CREDENTIALS
          | auth                          # a credential (BASIC_AUTH) or a mode: ALLOWED below
          | secret_key_base               # Rails' signing secret
            # Keys that sign, encrypt or authenticate (JWT_KEY, SESSION_KEY, AWS_ACCESS_KEY,
            # STRIPE_API_KEY, SENDGRID_APIKEY, Laravel's APP_KEY, Rails' MASTER_KEY); not any
            # *_KEY: CACHE_KEY, SORT_KEY, PUBLIC_KEY, KMS_KEY_ID name no secret
          | (?:api | access | secret | private | signing | jwt | session | encryption | hmac
               | master | license | app | auth)_?key
        )
        # Only after a prefix: a bare PWD is the shell's working directory and a bare SK a
        # DynamoDB sort key, but MYSQL_PWD is MySQL's password and STRIPE_SK a Stripe secret key.
      | _pwd | _sk
    )
    (?:_(?:pem | openssh | string | value | b64 | base64 | wo | data | json))*$
""", re.X)
# Values that are credentials wherever they appear, under any key.
SECRET_VALUE = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"   # PEM, OpenSSH, PGP private keys
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"                          # AWS access key ids
    # AWS secret access keys: 40 base64 characters of mixed case and digits, standing alone (not
    # a piece of a path such as "service-role/AmazonEC2ContainerServiceforEC2Role")
    r"|(?<![\w/+=.:-])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[0-9])"
    r"[A-Za-z0-9/+]{40}(?![\w/+=.:-])"
    r"|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"  # GitHub tokens
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"                         # Slack tokens
    r"|\bsk_live_[A-Za-z0-9]{16,}"                             # Stripe keys
    r"|\b[a-z][a-z0-9+.-]*://[^\s/:@${}]+:[^\s/@${}]+@")       # URLs carrying a password
# Not a literal: a Terraform reference, optionally with the `:json-key:stage:version` selector
# ECS `valueFrom` and App Runner `runtime_environment_secrets` take; or an ARN.
REFERENCE = re.compile(r"\$\{[^}]+\}(:[\w-]*:[\w-]*:[\w-]*)?|arn:aws[\w-]*:[\w-]+:.*", re.S)
# Where a dict names what its `value` (or, for variables, `default`) holds.
NAME_KEYS = ("name", "Name", "key", "Key")
VALUE_KEYS = ("value", "Value", "default")

# Literal values under a credential-like name that the real stacks carry and that are not secrets:
# (name, exact value) -> why. Keep each entry exact; a new value under the same name is flagged.
ALLOWED = {
    ("REDIS_AUTH", "iam"): "the Redis auth *mode* handed to services (lib/compute/service_access.py): "
                           "they sign short-lived IAM auth tokens at run time; no credential",
    ("DATABASE_AUTH", "iam"): "the database auth *mode* (lib/compute/service_access.py): workloads "
                              "sign 15-minute IAM auth tokens for the application user; no "
                              "credential",
    ("iam_auth", "REQUIRED"): "an RDS Proxy's client authentication *mode* (lib/data/proxy.py): "
                              "clients must sign IAM tokens; no credential",
}


def snake(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def is_reference(value: str) -> bool:
    return REFERENCE.fullmatch(value) is not None


def literal_credential(name: str, value) -> bool:
    return (isinstance(value, str) and value != "" and SECRET_NAME.search(snake(name)) is not None
            and not is_reference(value) and (name, value) not in ALLOWED)


def find_secrets(node, path="", owner="") -> list[str]:
    """Every place in a JSON tree holding what looks like a literal credential, one line each.
    `owner` is the key the node sits under (a variable's or output's name for its `default`)."""
    found = {}
    if isinstance(node, dict):
        name = next((node[k] for k in NAME_KEYS if isinstance(node.get(k), str)), owner)
        for key, value in node.items():
            where = f"{path}.{key}"
            if literal_credential(key, value):
                found[where] = f"{where}: literal value for the credential key {key!r}"
            elif key in VALUE_KEYS and literal_credential(name, value):
                found[where] = f"{where}: literal value for the credential {name!r}"
            for line in find_secrets(value, where, key):
                found.setdefault(line.split(": ", 1)[0], line)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            for line in find_secrets(value, f"{path}[{i}]"):
                found.setdefault(line.split(": ", 1)[0], line)
    elif isinstance(node, str):
        if SECRET_VALUE.search(node):
            found[path] = f"{path}: credential-shaped value"
        if node.lstrip().startswith(("{", "[")):  # embedded JSON (policies, container definitions)
            try:
                embedded = json.loads(node)
            except ValueError:
                embedded = None
            for line in find_secrets(embedded, path):
                found.setdefault(line.split(": ", 1)[0], line)
    return list(found.values())


# --- the scanner itself ------------------------------------------------------------------------

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----\n"
LEAKS = {
    "secrets manager secret_string": (
        {"resource": {"aws_secretsmanager_secret_version": {"v": {
            "secret_id": "${aws_secretsmanager_secret.s.id}", "secret_string": "hunter2hunter2"}}}},
        ".resource.aws_secretsmanager_secret_version.v.secret_string"),
    "password in an ECS container environment entry": (
        {"resource": {"aws_ecs_task_definition": {"t": {"container_definitions": json.dumps(
            [{"name": "app", "environment": [{"name": "DB_HOST", "value": "db.internal"},
                                             {"name": "DB_PASSWORD", "value": "hunter2"}]}])}}}},
        ".resource.aws_ecs_task_definition.t.container_definitions[0].environment[1].value"),
    "token in Lambda environment variables": (
        {"resource": {"aws_lambda_function": {"f": {"environment": {"variables": {
            "LOG_LEVEL": "info", "API_TOKEN": "tok_5f1e2d3c4b5a"}}}}}},
        ".resource.aws_lambda_function.f.environment.variables.API_TOKEN"),
    "tls private_key_pem": (
        {"resource": {"tls_self_signed_cert": {"c": {"private_key_pem": "not-even-pem"}}}},
        ".resource.tls_self_signed_cert.c.private_key_pem"),
    "PEM block under an innocent key": (
        {"resource": {"aws_ssm_document": {"d": {"content": "setup:\n" + PEM}}}},
        ".resource.aws_ssm_document.d.content"),
    "RDS password": (
        {"resource": {"aws_db_instance": {"db": {"password": "hunter2hunter2", "username": "app"}}}},
        ".resource.aws_db_instance.db.password"),
    "ElastiCache auth_token": (
        {"resource": {"aws_elasticache_replication_group": {"r": {"auth_token": "s3cr3t-t0k3n"}}}},
        ".resource.aws_elasticache_replication_group.r.auth_token"),
    "IAM access key and secret key in provider config": (
        {"provider": {"aws": [{"access_key": "app-user", "secret_key": "not-a-real-one"}]}},
        ".provider.aws[0].secret_key"),
    "AWS access key id under an innocent key": (
        {"resource": {"aws_ssm_parameter": {"p": {"description": "AKIAIOSFODNN7EXAMPLE"}}}},
        ".resource.aws_ssm_parameter.p.description"),
    "AWS secret access key under an innocent key": (
        {"locals": {"note": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}, ".locals.note"),
    "SSM parameter holding a password": (
        {"resource": {"aws_ssm_parameter": {"p": {"name": "/app/prod/db-password", "type": "String",
                                                  "value": "hunter2"}}}},
        ".resource.aws_ssm_parameter.p.value"),
    "App Runner plain environment variable": (
        {"resource": {"aws_apprunner_service": {"s": {"runtime_environment_variables": {
            "JWT_SECRET": "changeme"}}}}},
        ".resource.aws_apprunner_service.s.runtime_environment_variables.JWT_SECRET"),
    "Terraform variable default": (
        {"variable": {"db_password": {"type": "string", "default": "hunter2"}}},
        ".variable.db_password.default"),
    "connection string with a password": (
        {"resource": {"aws_lambda_function": {"f": {"environment": {"variables": {
            "DATABASE_URL": "postgres://app:hunter2@db.internal:5432/app"}}}}}},
        ".resource.aws_lambda_function.f.environment.variables.DATABASE_URL"),
}


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_the_scanner_catches(leak):
    tree, where = LEAKS[leak]
    found = find_secrets(tree)
    assert [line for line in found if line.startswith(f"{where}: ")], found


def test_references_flags_and_known_non_secrets_are_not_flagged():
    arn = "${aws_db_instance.db.master_user_secret[0].secret_arn}"
    assert find_secrets({
        "manage_master_user_password": True,
        "master_user_secret_kms_key_id": "${aws_kms_key.k.arn}",
        "secret_arn": arn,
        "auth_token": "${var.token}",
        "secret_string": "${random_password.p.result}",
        "http_tokens": "required",
        "temporary_password_validity_days": 3,
        "token.actions.githubusercontent.com:sub": "repo:acme/webplat:environment:dev",
        "runtime_environment_secrets": {"DATABASE_PASSWORD": f"{arn}:password::",
                                        "JWT_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012"
                                                      ":secret:/webplat/dev/api/jwt-secret"},
        "container_definitions": json.dumps([{
            "environment": [{"name": "REDIS_AUTH", "value": "iam"},
                            {"name": "DATABASE_SECRET_ARN", "value": arn}],
            "secrets": [{"name": "DATABASE_PASSWORD", "valueFrom": f"{arn}:password::"}]}]),
        "parameter": [{"name": "password_encryption", "value": "scram-sha-256"}],
        "source_code_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "etag": "0123456789abcdef0123456789abcdef01234567",
    }) == []


def test_an_allowed_name_with_another_value_is_still_flagged():
    assert find_secrets({"environment": [{"name": "REDIS_AUTH", "value": "hunter2"}]})


# The scan is stricter than the config: a bare `*_AUTH` holds a credential wherever it is not one
# of the modes ALLOWED names (BASIC_AUTH = "user:pass"); the config accepts it (DATABASE_AUTH).
SCANNED_CREDENTIAL_NAMES = CREDENTIAL_NAMES + ["BASIC_AUTH"]


@pytest.mark.parametrize("name", SCANNED_CREDENTIAL_NAMES)
def test_a_literal_under_a_credential_name_is_flagged(name):
    assert find_secrets({"environment": {"variables": {name: "hunter2"}}}) == [
        f".environment.variables.{name}: literal value for the credential key {name!r}"]
    assert find_secrets([{"name": name, "value": "hunter2"}])


@pytest.mark.parametrize("name", INNOCENT_NAMES)
def test_a_literal_under_another_name_is_not(name):
    assert find_secrets({"environment": {"variables": {name: "hunter2"}}}) == []
    assert find_secrets([{"name": name, "value": "hunter2"}]) == []


# --- every synthesized stack -------------------------------------------------------------------

def test_every_stack_is_scanned(every_stack):
    expected = {"dev-stack", "staging-stack", "prod-stack", "bootstrap-stack"}
    expected |= {f"examples/{p.stem}" for p in PRESET_FILES}
    assert expected <= set(every_stack)
    assert len([n for n in every_stack if n.startswith("tests/fixtures")]) == \
        len(list((ROOT / "tests" / "fixtures").glob("*.toml")))


def test_no_literal_secret_in_any_synthesized_stack(every_stack):
    hits = {name: found for name, stack in every_stack.items()
            if (found := find_secrets(stack.json))}
    assert hits == {}


def test_every_allow_list_entry_is_still_needed(every_stack):
    """An entry nothing uses any more is a hole waiting for a real secret: remove it."""
    seen = set()

    def walk(node, owner=""):
        if isinstance(node, dict):
            name = next((node[k] for k in NAME_KEYS if isinstance(node.get(k), str)), owner)
            seen.update((k, v) for k, v in node.items() if isinstance(v, str))
            seen.update((name, node[k]) for k in VALUE_KEYS if isinstance(node.get(k), str))
            for key, value in node.items():
                walk(value, key)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node.lstrip().startswith(("{", "[")):
            try:
                walk(json.loads(node))
            except ValueError:
                pass

    for stack in every_stack.values():
        walk(stack.json)
    assert set(ALLOWED) <= seen, set(ALLOWED) - seen


def test_no_credential_in_the_repository():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    hits = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file() or path.name == "test_secrets.py":  # this file plants examples
            continue
        text = path.read_text(errors="ignore")
        hits += [f"{name}: {m.group(0)[:12]}..." for m in SECRET_VALUE.finditer(text)]
    assert hits == []
