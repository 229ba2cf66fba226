"""A Route53 zone the stack creates, deployed in two phases.

A new zone answers for nothing until its parent zone delegates to it (NS records with its name
servers: Route 53 Developer Guide, "Creating a public hosted zone"), and ACM validates a DNS
certificate only once its validation CNAME resolves, so an aws_acm_certificate_validation in
the same apply as the zone it validates in waits until its create timeout, 45 to 75 minutes
depending on the provider version (terraform-provider-aws issue #13031,
"aws_acm_certificate_validation does not respect timeout and cannot be interrupted", reproduced
with "a new zone ... which does not have a NS record" in its parent; issue #9338 on the timeout;
internal/service/acm/certificate_validation.go). So: an existing zone by id is the normal case;
a created zone is phase one (the zone, its name servers as an output, plain HTTP) until the
config declares `ingress.zone_delegated`, and the config refuses what would wait on it.
"""

import pytest

from conftest import ENVIRONMENTS, ROOT, SAMPLE, SynthStack
from lib.config import EnvironmentConfig, load_environment
from test_config import MINIMAL, problems, write

FIXTURES = ROOT / "tests" / "fixtures"


# --- the config refuses what would hang, in one line each -------------------------------------

BAD_ZONES = [
    ("prod with a zone its stack would create", MINIMAL.replace("[network]", '[ingress]\n'
     'domain = "shop.example.com"\n\n[network]'), "ingress.hosted_zone_id",
     "prod must serve HTTPS from its first apply, and a certificate cannot validate in the zone "
     "shop.example.com this stack would create until its parent delegates to it"),
    ("delegation declared for a zone that is not created", MINIMAL.replace("[network]",
     '[ingress]\ndomain = "shop.example.com"\nhosted_zone_id = "Z0123456789EXAMPLE"\n'
     'zone_delegated = true\n\n[network]'), "ingress.zone_delegated",
     "only used when the stack creates the zone (ingress.domain without hosted_zone_id)"),
    ("zone name beside an existing zone", MINIMAL.replace("[network]", '[ingress]\n'
     'domain = "shop.example.com"\nhosted_zone_id = "Z0123456789EXAMPLE"\n'
     'zone_name = "example.com"\n\n[network]'), "ingress.zone_name",
     "only used when the stack creates the zone"),
    ("zone that does not hold the domain", MINIMAL.replace("[network]", '[ingress]\n'
     'domain = "shop.example.com"\nzone_name = "example.org"\n\n[network]'),
     "ingress.zone_name", "'example.org' does not hold ingress.domain 'shop.example.com'; use "
     "the domain or a parent of it"),
    ("API domain inside a zone not yet delegated", MINIMAL.replace("[network]", '[ingress]\n'
     'domain = "shop.example.com"\n\n[api]\ndomain = "api.shop.example.com"\n'
     'hosted_zone_id = "Z0123456789EXAMPLE"\n\n[network]'), "api.domain",
     "'api.shop.example.com' is in the zone shop.example.com this stack creates, which answers "
     "for nothing until it is delegated"),
    ("surface domain inside a zone not yet delegated", MINIMAL.replace("[network]",
     '[ingress]\ndomain = "app.shop.example.com"\nzone_name = "shop.example.com"\n\n'
     '[edge]\ncloudfront = true\nhosted_zone_id = "Z0123456789EXAMPLE"\n'
     'surface_domains = { static = "www.shop.example.com" }\n\n[network]'),
     "edge.surface_domains.static", "'www.shop.example.com' is in the zone shop.example.com"),
]


@pytest.mark.parametrize("case, text, field, words", BAD_ZONES, ids=[c[0] for c in BAD_ZONES])
def test_a_zone_config_that_would_hang_gets_one_clear_line(tmp_path, case, text, field, words):
    path = write(tmp_path, text, "prod.toml" if "prod" in case.lower() else "dev.toml")
    [line] = problems(path)
    assert line.startswith(f"{path}: {field}: "), line
    assert words in line and "\n" not in line, line


def test_a_zone_the_stack_creates_starts_undelegated_and_prod_may_use_it_once_delegated(
        tmp_path):
    ingress = '[ingress]\ndomain = "app.shop.example.com"\nzone_name = "shop.example.com"\n'
    staging = load_environment(write(tmp_path, MINIMAL.replace(
        "[network]", ingress + "\n[network]"), "staging.toml"))
    assert (staging.ingress.created_zone, staging.ingress.zone_delegated) == \
        ("shop.example.com", False)
    prod = load_environment(write(tmp_path, MINIMAL.replace(
        "[network]", ingress + "zone_delegated = true\n\n[network]"), "prod.toml"))
    assert (prod.ingress.created_zone, prod.ingress.zone_delegated) == ("shop.example.com", True)
    existing = load_environment(write(tmp_path, MINIMAL, "prod.toml"))
    assert existing.ingress.created_zone is None  # hosted_zone_id: the normal case


# --- the synthesized stacks -------------------------------------------------------------------

def every_stack(stacks, presets, fixture_stacks) -> list[tuple[str, SynthStack, EnvironmentConfig]]:
    """(label, stack, its config) for the shipped stacks, every preset and the fixtures."""
    files = {f"{env}-stack": SAMPLE / f"{env}.toml" for env in ENVIRONMENTS}
    found = [(name, stack, load_environment(files[name])) for name, stack in stacks.items()]
    found += [(f"examples/{name}", stack, load_environment(ROOT / "examples" / f"{name}.toml"))
              for name, stack in presets.items()]
    fixtures = {c.stack_name: c for c in (load_environment(FIXTURES / f"{name}.toml")
                                          for name in ("full", "apprunner", "valkey"))}
    found += [(name, stack, fixtures[name]) for name, stack in fixture_stacks.items()]
    return found


def validations_in_created_zones(stack: SynthStack) -> list[str]:
    """Certificate validations whose validation record is in a zone this stack creates."""
    zones = {stack.ref("aws_route53_zone", p, "zone_id") for p in stack.resources("aws_route53_zone")}
    records = {stack.ref("aws_route53_record", p, "fqdn"): r
               for p, r in stack.resources("aws_route53_record").items()}
    return [path for path, validation in stack.resources("aws_acm_certificate_validation").items()
            if any(records[fqdn]["zone_id"] in zones
                   for fqdn in validation["validation_record_fqdns"])]


def test_no_certificate_waits_on_a_created_zone_unless_its_delegation_is_declared(
        stacks, presets, fixture_stacks):
    phases = set()
    for label, stack, config in every_stack(stacks, presets, fixture_stacks):
        waiting = validations_in_created_zones(stack)
        if stack.resources("aws_route53_zone"):
            phases.add(config.ingress.zone_delegated)
        assert not waiting or config.ingress.zone_delegated, (label, waiting)
    assert phases == {False, True}  # both phases are among the synthesized stacks


def test_a_created_zone_outputs_its_name_servers_and_the_next_step(stacks, presets, fixture_stacks):
    created = 0
    for label, stack, config in every_stack(stacks, presets, fixture_stacks):
        outputs = stack.json.get("output", {})
        zones = list(stack.resources("aws_route53_zone"))
        assert ("name_servers" in outputs) == bool(zones), label
        if not zones:
            assert "next_step" not in outputs, label
            continue
        created += 1
        [zone] = zones
        assert outputs["name_servers"]["value"] == stack.ref("aws_route53_zone", zone,
                                                             "name_servers"), label
        assert outputs["hosted_zone_id"]["value"] == stack.ref("aws_route53_zone", zone,
                                                               "zone_id"), label
        if config.ingress.zone_delegated:
            assert "next_step" not in outputs, label
        else:
            name = config.ingress.created_zone
            assert f"`dig +short NS {name}`" in outputs["next_step"]["value"], label
            assert f"set ingress.zone_delegated = true in {config.source}" in \
                outputs["next_step"]["value"], label
    assert created >= 3  # staging, the portfolio preset, the full fixture


def test_staging_first_deploy_creates_its_zone_and_serves_plain_http(stacks):
    staging = stacks["staging-stack"]
    assert staging.resource("aws_route53_zone", "load-balancer/zone")["name"] == \
        "staging.webplat.example.com"
    assert staging.resources("aws_acm_certificate") == {}
    assert staging.resources("aws_route53_record") == {}  # records come with HTTPS
    [listener] = staging.resources("aws_lb_listener").values()
    assert (listener["port"], listener["protocol"]) == (80, "HTTP")
    assert staging.json["output"]["url"]["value"] == "http://" + staging.ref(
        "aws_lb", "load-balancer/alb", "dns_name")
    assert staging.json["output"]["next_step"]["value"] == (
        "Add an NS record for staging.webplat.example.com with these name_servers in its parent "
        "zone; once `dig +short NS staging.webplat.example.com` returns them, set "
        "ingress.zone_delegated = true in tests/fixtures/sample/staging.toml and deploy again "
        "for HTTPS (README, \"Deploying\").")


def test_once_delegated_the_certificate_validates_in_the_created_zone(full):
    zone = full.ref("aws_route53_zone", "load-balancer/zone", "zone_id")
    record = full.resource("aws_route53_record", "load-balancer/certificate-validation")
    assert record["zone_id"] == zone
    assert validations_in_created_zones(full) == ["load-balancer/certificate-validated"]
    assert {r["zone_id"] for r in full.matching("aws_route53_record",
                                                "load-balancer/alias*").values()} == {zone}
