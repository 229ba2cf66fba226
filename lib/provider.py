"""The AWS provider of an environment stack: region, default tags, account guard, and the settings
a non-default target (see lib.config.Target) needs."""

from constructs import Construct

from lib import aws
from lib.config import Target
from lib.naming import Naming


def aws_provider(scope: Construct, naming: Naming, extra_tags: dict[str, str],
                 target: Target, region: str | None = None) -> aws.provider.AwsProvider:
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
    if region is not None:
        settings["alias"] = region.replace("-", "_")
    return aws.provider.AwsProvider(
        scope, f"aws-{region}" if region else "aws", region=region or naming.region,
        default_tags=[aws.provider.AwsProviderDefaultTags(tags=naming.default_tags(extra_tags))],
        **settings)
