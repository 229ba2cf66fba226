"""The one rule for an environment variable whose name says it holds a credential.

A plain environment variable is written into the task definition or App Runner service, where
everyone allowed to describe it reads it, and into Terraform state; AWS's guides say to keep
sensitive data in Secrets Manager instead ("Pass an individual environment variable to an
Amazon ECS container", "Referencing environment variables - AWS App Runner"). The config refuses
such a name in a plain map and points at `[[secrets]]`. tests/test_secrets.py holds the scanner's
own, stricter copy (it also flags `*_AUTH`).
"""

import re

from lib.config.fields import is_slug

# Matched on the name in snake_case: it ends with one of these words, optionally followed by an
# encoding suffix (`DB_PASSWORD_B64`, `PRIVATE_KEY_PEM`).
_CREDENTIAL = re.compile(r"""
    (?:
        password | passwd                 # also glued to a prefix: PGPASSWORD (libpq)
      | (?:^|_)(?:
            passphrase | pass             # GPG_PASSPHRASE, DB_PASS, SMTP_PASS
          | secret | token | credentials? # JWT_SECRET, GITHUB_TOKEN, GOOGLE_CREDENTIALS
          | secret_key_base               # Rails' signing secret
            # Keys that sign, encrypt or authenticate (JWT_KEY, SESSION_KEY, AWS_ACCESS_KEY,
            # STRIPE_API_KEY, Laravel's APP_KEY, Rails' MASTER_KEY); not any *_KEY: CACHE_KEY,
            # SORT_KEY, PUBLIC_KEY, KMS_KEY_ID name no secret
          | (?:api | access | secret | private | signing | jwt | session | encryption | hmac
               | master | license | app | auth)_?key
        )
        # Only after a prefix: a bare PWD is the shell's working directory and a bare SK a sort
        # key, but MYSQL_PWD is MySQL's password and STRIPE_SK a Stripe secret key.
      | _pwd | _sk
    )
    (?:_(?:pem | openssh | string | value | b64 | base64 | wo | data | json))*$
    # Not `auth` alone: DATABASE_AUTH=iam, which the services are given, names a mode.
""", re.X)


def looks_like_credential(name: str) -> bool:
    """Whether an environment variable called `name` would hold a credential."""
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    snake = re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")
    return _CREDENTIAL.search(snake) is not None


def as_secret_name(variable: str) -> str | None:
    """The `[[secrets]]` name that arrives as `variable` (`DB_PASS` <- `db-pass`), if there is
    one: secrets arrive as their name upper-cased with `-` as `_` (lib/identity/secrets.py)."""
    name = variable.lower().replace("_", "-")
    return name if is_slug(name) and name.upper().replace("-", "_") == variable else None
