"""Identity and security: KMS keys (`kms`), Secrets Manager secrets per service (`secrets`) and the
Cognito user pool (`user_pool`).
"""
