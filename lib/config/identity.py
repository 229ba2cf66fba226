"""The identity sections: `[[secrets]]` (Secrets Manager, one path per owner) and `[auth]` (the
Cognito user pool), with their rules: every secret has an owner that exists, the functions read
only the secrets declared for them, prod never redirects to http://localhost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from lib.config.fields import CallbackUrl, Section, Slug

if TYPE_CHECKING:
    from lib.config.environment import EnvironmentConfig


class SecretConfig(Section):
    """A secret a service (or the functions) reads, stored at /<project>/<env>/<owner>/<name>.
    Terraform creates the empty secret; its value is set out of band (aws secretsmanager
    put-secret-value)."""

    name: Slug = Field(description="Unique; the last segment of its path and the name it "
                                   "arrives under: `stripe-key` -> `STRIPE_KEY` in a service, "
                                   "`STRIPE_KEY_SECRET_ARN` in the functions.")
    service: Slug = Field(description="The owner, the path segment before the name: a service, "
                                      "or `api` for the functions.")
    description: str = Field(default="", description="Shown in Secrets Manager.")


class AuthConfig(Section):
    """Cognito user pool and a browser app client (seed 000)."""

    enabled: bool = Field(default=True, description="A Cognito user pool (email sign-in), a "
                                                    "browser client without a secret and the "
                                                    "hosted UI.")
    callback_urls: list[CallbackUrl] = Field(
        default=["http://localhost:3000/api/auth/callback"],
        description="Where the hosted UI may send users after sign-in: https:// URLs (http:// "
                    "only for localhost, never in prod).")
    logout_urls: list[CallbackUrl] = Field(
        default=["http://localhost:3000/"],
        description="Where it may send them after sign-out, as `callback_urls`.")
    mfa: Literal["OFF", "OPTIONAL", "ON"] = Field(description="TOTP multi-factor "
                                                              "authentication.")
    advanced_security: bool = Field(description="Threat protection (Cognito Plus tier).")
    deletion_protection: bool = Field(description="Refuse to delete the user pool (dev can be "
                                                  "destroyed).")


def secret_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    """Owners that exist, unique names, and the functions' `api.secrets` (services' own
    `secrets` are checked with the services)."""
    problems: list[tuple[str, str]] = []
    declared = {secret.name: secret for secret in c.secrets}
    service_names = {s.name for s in c.services}
    owners = service_names | ({"api"} if c.api.enabled else set())
    for i, secret in enumerate(c.secrets):
        if secret.service not in owners:
            problems.append((f"secrets[{i}].service", f"'{secret.service}' is not a service "
                                                      "(or \"api\", the functions); "
                                                      f"services: {', '.join(sorted(service_names))}"))
    if len(declared) != len(c.secrets):
        problems.append(("secrets", "declares a secret name twice; names must be unique"))
    for name in c.api.secrets if c.api.enabled else []:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none declared"
            problems.append(("api.secrets", f"'{name}' is not declared in [[secrets]] "
                                            f"(declared: {known})"))
        elif declared[name].service != "api":
            problems.append(("api.secrets", f"'{name}' belongs to '{declared[name].service}'; "
                                            "the functions read only secrets declared with "
                                            "service = \"api\""))
    return problems


def auth_problems(c: EnvironmentConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if c.profile == "prod" and c.auth.enabled and any(u.startswith("http://")
                                                      for u in c.auth.callback_urls):
        problems.append(("auth.callback_urls", "prod may not redirect to http://localhost; give "
                                               "the https:// URLs of the deployed app"))
    return problems
