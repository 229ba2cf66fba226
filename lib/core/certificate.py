"""ACM certificates validated through a Route53 record, and the alias records that point a
domain at what serves it."""

from lib.core.cdk import TerraformProvider, TerraformResourceLifecycle
from constructs import Construct

from lib.core import aws
from lib.core.naming import Naming


def dns_validated_certificate(scope: Construct, naming: Naming, domain: str, zone_id: str,
                              provider: TerraformProvider | None = None,
                              alternative_names: tuple[str, ...] = ()) -> str:
    """A certificate for `domain` and its `alternative_names` (subject alternative names, all in
    `zone_id`), plus a DNS validation record there for each name; returns the ARN once validated
    (so listeners and distributions wait for it). CloudFront certificates need the us-east-1
    `provider`."""
    cert = aws.acm_certificate.AcmCertificate(
        scope, "certificate", domain_name=domain, validation_method="DNS", provider=provider,
        subject_alternative_names=list(alternative_names) or None,
        lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        tags=naming.tags("certificate"))
    options = f"{cert.fqn}.domain_validation_options"
    records = []
    for name in (domain, *alternative_names):
        # A set: one name has its one option, several are picked by name (not in list order).
        option = f'[for o in {options} : o if o.domain_name == "{name}"][0]' \
            if alternative_names else f"tolist({options})[0]"
        suffix = "" if name == domain else f"-{name.replace('.', '-')}"
        records.append(aws.route53_record.Route53Record(
            scope, f"certificate-validation{suffix}", zone_id=zone_id, allow_overwrite=True,
            ttl=300, name=f"${{{option}.resource_record_name}}",
            type=f"${{{option}.resource_record_type}}",
            records=[f"${{{option}.resource_record_value}}"]))
    validation = aws.acm_certificate_validation.AcmCertificateValidation(
        scope, "certificate-validated", certificate_arn=cert.arn,
        validation_record_fqdns=[record.fqdn for record in records], provider=provider)
    return validation.certificate_arn


def alias_records(scope: Construct, zone_id: str, domain: str, target_name: str,
                  target_zone_id: str, ipv6: bool, evaluate_target_health: bool = False,
                  id: str = "alias") -> None:
    """Alias A record for `domain` in `zone_id`, and AAAA beside it when the target serves IPv6
    (a dual-stack load balancer, CloudFront, a dual-stack API domain). `id` names them (`id`,
    `id-ipv6`), one pair per domain in a scope."""
    for record, type_ in [(id, "A")] + ([(f"{id}-ipv6", "AAAA")] if ipv6 else []):
        aws.route53_record.Route53Record(
            scope, record, zone_id=zone_id, name=domain, type=type_,
            alias=aws.route53_record.Route53RecordAlias(
                name=target_name, zone_id=target_zone_id,
                evaluate_target_health=evaluate_target_health))
