"""The AWS provider of an environment stack: region, default tags, account guard, and the settings
a non-default target (see lib.core.target.Target) needs."""

from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming
from lib.core.target import Target


# Every service the platform uses: the local target points each one at the emulator.
LOCAL_SERVICES = (
    "acm", "apigatewayv2", "applicationautoscaling", "apprunner", "autoscaling", "cloudfront",
    "cloudtrail", "cloudwatch", "cloudwatchlogs", "cognitoidp", "configservice", "dynamodb", "ec2",
    "ecr", "ecs", "elasticache", "elbv2", "events", "guardduty", "iam", "kms", "lambda_", "rds",
    "route53", "s3", "scheduler", "secretsmanager", "sns", "sqs", "ssm", "sts", "wafv2",
)


def aws_provider(scope: Construct, naming: Naming, extra_tags: dict[str, str],
                 target: Target, region: str | None = None,
                 local_endpoint: str | None = None) -> aws.provider.AwsProvider:
    """Every resource gets Project/Environment/ManagedBy (+ config extras) through default_tags.

    With `region`, a second provider for that region (alias `aws-<region>`), e.g. us-east-1 for
    what CloudFront needs there (certificates, WAF, log deliveries).

    On real AWS, `allowed_account_ids` makes Terraform refuse to touch any account but the one in
    the environment's config, so dev settings can never be applied with prod credentials.
    """
    settings: dict = {}
    if target is Target.AWS:
        settings["allowed_account_ids"] = [naming.account_id]
    elif target is Target.OFFLINE:
        # Plan without credentials or network: no STS, IMDS, or region look-ups. The account id
        # is then unknown to the provider, so the account guard cannot be checked here.
        settings.update(skip_credentials_validation=True, skip_requesting_account_id=True,
                        skip_metadata_api_check="true", skip_region_validation=True)
    elif target is Target.LOCAL:
        # The emulator: every endpoint there, nothing looked up. Five attempts per call: the
        # emulator answers a retry from the first attempt (tools/local_emulator.py), so a retry
        # never repeats an action, and a call whose connection drops twice in a row (CI,
        # 2026-12-01: DescribeRouteTables, "exceeded maximum number of attempts, 2") still
        # gets its answer. make test's four cycles got no 5xx answer to retry (2026-12-01), so
        # the extra attempts cost time only when a connection drops.
        settings.update(skip_credentials_validation=True, skip_requesting_account_id=True,
                        skip_metadata_api_check="true", skip_region_validation=True,
                        s3_use_path_style=True, max_retries=5,
                        endpoints=[aws.provider.AwsProviderEndpoints(
                            **{service: local_endpoint for service in LOCAL_SERVICES})])
    if region is not None:
        settings["alias"] = region.replace("-", "_")
    return aws.provider.AwsProvider(
        scope, f"aws-{region}" if region else "aws", region=region or naming.region,
        default_tags=[aws.provider.AwsProviderDefaultTags(tags=naming.default_tags(extra_tags))],
        **settings)
