"""Environment variable names for the two rules that read them: the secret scan of the synthesized
JSON and the repository (tests/test_secrets.py) and the config's refusal of a plain variable
named like a credential (tests/test_config_credentials.py, lib/config/credentials.py). One list,
so a family added for one rule is held against the other too; where the rules differ on purpose,
each test module adds its own few names and says why."""

# Names that hold a credential in the wild: the tools that read them document them so (libpq's
# PGPASSWORD, MySQL's MYSQL_PWD, Rails' SECRET_KEY_BASE, Stripe's sk_ secret keys...).
CREDENTIAL_NAMES = [
    "PGPASSWORD", "MYSQLPASSWORD", "DB_PASSWORD", "SMTP_PASSWD", "DB_PASS", "REDIS_PASS",
    "MYSQL_PWD", "GPG_PASSPHRASE", "STRIPE_SK", "JWT_KEY", "SESSION_KEY", "SECRET_KEY_BASE",
    "ENCRYPTION_KEY", "HMAC_KEY", "SIGNING_KEY", "DJANGO_SECRET_KEY", "STRIPE_API_KEY",
    "SENDGRID_APIKEY", "TLS_PRIVATE_KEY", "AWS_SECRET_ACCESS_KEY", "APP_KEY", "AUTH_KEY",
    "RAILS_MASTER_KEY", "NEW_RELIC_LICENSE_KEY", "JWT_SECRET", "CLIENT_SECRET", "GITHUB_TOKEN",
    "accessToken", "GOOGLE_CREDENTIALS", "DB_PASSWORD_B64", "PRIVATE_KEY_PEM", "password_wo",
    "jwtSigningKey",
]
# Names that hold no credential, several of them in the project's own stacks: references to a
# secret, key names that are not keys to anything, and bare words that mean something else.
INNOCENT_NAMES = [
    "DATABASE_SECRET_ARN", "STRIPE_KEY_SECRET_ARN", "CACHE_KEY_PREFIX", "S3_KEY_PREFIX",
    "CACHE_KEY", "SORT_KEY", "PARTITION_KEY", "SK", "PUBLIC_KEY", "STRIPE_PK",
    "STRIPE_PUBLISHABLE_KEY", "KEY_ID", "KMS_KEY_ID", "PWD", "OLDPWD", "DB_PASSWORD_FILE",
    "PASSWORD_MIN_LENGTH", "PASS_THROUGH", "BYPASS_CACHE", "DISK", "TASK", "TOKEN_URL",
    "AUTH_URL", "SESSION_TIMEOUT", "JWT_ISSUER", "API_KEY_HEADER", "DATABASE_USERNAME",
    "REDIS_USER", "QUEUE_URL", "MEDIA_BUCKET", "password_encryption", "LOG_LEVEL",
]
