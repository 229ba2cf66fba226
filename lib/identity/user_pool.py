"""Cognito: the user pool, a browser app client and the hosted-UI domain (seed 000)."""

from dataclasses import dataclass

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming


@dataclass(frozen=True)
class UserPoolProps:
    naming: Naming
    mfa: str  # OFF, OPTIONAL, ON
    advanced_security: bool  # threat protection, enforced (needs the Plus tier)
    callback_urls: list[str]
    logout_urls: list[str]
    deletion_protection: bool


class UserPool(Construct):
    """Sign-in by email (verified by code), a strong password policy, TOTP MFA as configured,
    account recovery by verified email only, threat protection where configured, and an app
    client for a browser app: no client secret (it could not be kept), authorization-code flow,
    SRP sign-in, no user-existence leaks, revocable refresh tokens. The hosted UI lives at
    `<project>-<env>-<account id>.auth.<region>.amazoncognito.com`.

    Outputs: `user_pool_id`, `user_pool_arn`, `client_id`, `hosted_ui_domain`.
    """

    def __init__(self, scope: Construct, id: str, props: UserPoolProps):
        super().__init__(scope, id)
        n = props.naming
        up = aws.cognito_user_pool
        pool = up.CognitoUserPool(
            self, "pool", name=n.name("users"),
            username_attributes=["email"], auto_verified_attributes=["email"],
            password_policy=up.CognitoUserPoolPasswordPolicy(
                minimum_length=12, require_lowercase=True, require_uppercase=True,
                require_numbers=True, require_symbols=True, temporary_password_validity_days=3),
            mfa_configuration=props.mfa,
            software_token_mfa_configuration=up.CognitoUserPoolSoftwareTokenMfaConfiguration(
                enabled=True) if props.mfa != "OFF" else None,
            account_recovery_setting=up.CognitoUserPoolAccountRecoverySetting(
                recovery_mechanism=[up.CognitoUserPoolAccountRecoverySettingRecoveryMechanism(
                    name="verified_email", priority=1)]),
            user_pool_tier="PLUS" if props.advanced_security else "ESSENTIALS",
            user_pool_add_ons=up.CognitoUserPoolUserPoolAddOns(
                advanced_security_mode="ENFORCED") if props.advanced_security else None,
            deletion_protection="ACTIVE" if props.deletion_protection else "INACTIVE",
            tags=n.tags("users"))
        self.user_pool_id: str = pool.id
        client = aws.cognito_user_pool_client.CognitoUserPoolClient(
            self, "web-client", name=n.name("web"), user_pool_id=self.user_pool_id,
            generate_secret=False, allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"], allowed_oauth_scopes=["openid", "email", "profile"],
            supported_identity_providers=["COGNITO"],
            callback_urls=props.callback_urls, logout_urls=props.logout_urls,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED", enable_token_revocation=True)
        domain = aws.cognito_user_pool_domain.CognitoUserPoolDomain(
            self, "domain", domain=n.name(n.account_id), user_pool_id=self.user_pool_id)
        self.user_pool_arn: str = pool.arn
        self.client_id: str = client.id
        self.hosted_ui_domain: str = f"{domain.domain}.auth.{n.region}.amazoncognito.com"
