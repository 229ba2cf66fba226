"""ACM certificates validated through a Route53 record."""

from cdktf import TerraformProvider, TerraformResourceLifecycle
from constructs import Construct

from lib import aws
from lib.naming import Naming


def dns_validated_certificate(scope: Construct, naming: Naming, domain: str, zone_id: str,
                              provider: TerraformProvider | None = None) -> str:
    """A certificate for `domain` plus its DNS validation record in `zone_id`; returns the ARN
    once validated (so listeners and distributions wait for it). CloudFront certificates need the
    us-east-1 `provider`."""
    cert = aws.acm_certificate.AcmCertificate(
        scope, "certificate", domain_name=domain, validation_method="DNS", provider=provider,
        lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        tags=naming.tags("certificate"))
    option = f"tolist({cert.fqn}.domain_validation_options)[0]"
    record = aws.route53_record.Route53Record(
        scope, "certificate-validation", zone_id=zone_id, allow_overwrite=True, ttl=300,
        name=f"${{{option}.resource_record_name}}", type=f"${{{option}.resource_record_type}}",
        records=[f"${{{option}.resource_record_value}}"])
    validation = aws.acm_certificate_validation.AcmCertificateValidation(
        scope, "certificate-validated", certificate_arn=cert.arn,
        validation_record_fqdns=[record.fqdn], provider=provider)
    return validation.certificate_arn
