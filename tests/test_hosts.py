"""Several hostnames on one load balancer (`ingress.hosts`, a web service's `hosts`,
`ingress.redirect`), as a reviewer checks them on tests/fixtures/full.toml: every name the load
balancer answers for is on its certificate, validated in its zone, aliased to it over IPv4 and
IPv6; a service's rule matches its names; the redirect keeps the path and query. Bad input is
refused in one line each."""

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, SynthStack, synthesize
from lib.analysis.diagram import mermaid
from lib.config import load_environment
from test_config import problems, write

DOMAIN = "app.example.com"  # full.toml's ingress.domain
WWW, ADMIN = f"www.{DOMAIN}", f"admin.{DOMAIN}"  # its ingress.hosts


def alias_records(stack: SynthStack) -> dict[tuple[str, str], dict]:
    return {(r["name"], r["type"]): r
            for r in stack.matching("aws_route53_record", "load-balancer/alias*").values()}


def service_rules(stack: SynthStack) -> dict[str, dict]:
    return {path.split("/")[0].removeprefix("service-"): rule
            for path, rule in stack.matching("aws_lb_listener_rule", "service-*").items()}


def condition(rule: dict, field: str) -> list[str] | None:
    found = [c[field]["values"] for c in rule["condition"] if field in c]
    return found[0] if found else None


# --- the certificate and the records ----------------------------------------------------------

def test_the_certificate_names_every_host_the_load_balancer_is_aliased_for(full):
    cert = full.resource("aws_acm_certificate", "load-balancer/certificate")
    names = {cert["domain_name"], *cert.get("subject_alternative_names", [])}
    # A browser accepts the certificate only for the names it lists (its subject alternative
    # names: "Quotas for AWS Certificate Manager" counts them, 10 by default), so every name
    # that resolves to the load balancer must be on it, and nothing else.
    assert names == {name for name, _ in alias_records(full)} == {DOMAIN, WWW, ADMIN}
    assert len(names) <= 10
    https = full.resource("aws_lb_listener", "load-balancer/https")
    assert https["certificate_arn"] == full.ref("aws_acm_certificate_validation",
                                                "load-balancer/certificate-validated",
                                                "certificate_arn")


def test_each_name_has_its_own_validation_record_in_the_zone_and_the_listener_waits_for_all(
        full):
    # "DNS validation" (ACM User Guide): ACM gives one CNAME per domain name of the certificate
    # and issues it once every one of them resolves, so each name needs its record, taken from
    # that name's domain_validation_options entry (a set: its order is not the names').
    records = full.matching("aws_route53_record", "load-balancer/certificate-validation*")
    zone = full.ref("aws_route53_zone", "load-balancer/zone", "zone_id")
    picked = {}
    for path, record in records.items():
        assert record["zone_id"] == zone  # the zone the aliases are in
        for name in (DOMAIN, WWW, ADMIN):
            if f'o.domain_name == "{name}"' in record["name"]:
                assert f'o.domain_name == "{name}"' in record["records"][0]
                picked.setdefault(name, []).append(path)
    assert {name: len(paths) for name, paths in picked.items()} == {DOMAIN: 1, WWW: 1, ADMIN: 1}
    validated = full.resource("aws_acm_certificate_validation",
                              "load-balancer/certificate-validated")
    assert sorted(validated["validation_record_fqdns"]) == sorted(
        full.ref("aws_route53_record", path, "fqdn") for path in records)


def test_every_name_has_an_a_and_an_aaaa_alias_to_the_dual_stack_load_balancer(full):
    records = alias_records(full)
    assert sorted(records) == sorted((n, t) for n in (DOMAIN, WWW, ADMIN) for t in ("A", "AAAA"))
    zone = full.ref("aws_route53_zone", "load-balancer/zone", "zone_id")
    for record in records.values():
        assert record["zone_id"] == zone
        assert record["alias"]["name"] == full.ref("aws_lb", "load-balancer/alb", "dns_name")
        assert record["alias"]["zone_id"] == full.ref("aws_lb", "load-balancer/alb", "zone_id")


def test_the_diagram_names_every_host_on_the_zones_arrow_to_the_load_balancer(full):
    drawn = mermaid(full.json)
    arrows = [line for line in drawn.splitlines() if "route53_zone" in line and "-->" in line
              and "lb_load_balancer_alb" in line]
    assert len(arrows) == 1, arrows
    assert f"A, AAAA: {ADMIN}, {DOMAIN}, {WWW}" in arrows[0]


# --- listener rules ---------------------------------------------------------------------------

def test_a_service_with_hosts_matches_them_and_the_others_match_any_name(full):
    rules = service_rules(full)
    # "Condition types for listener rules": a rule with a host-header and a path-pattern
    # condition matches a request that satisfies both.
    assert condition(rules["docs"], "host_header") == [ADMIN]
    assert condition(rules["docs"], "path_pattern") == ["/docs/*"]
    for name in ("frontend", "backend"):
        assert condition(rules[name], "host_header") is None
    https = full.ref("aws_lb_listener", "load-balancer/https", "arn")
    assert all(rule["listener_arn"] == https for rule in rules.values())


def test_www_is_redirected_to_the_apex_before_any_service_rule_keeping_path_and_query(full):
    rule = full.resource("aws_lb_listener_rule", "load-balancer/redirect")
    assert rule["listener_arn"] == full.ref("aws_lb_listener", "load-balancer/https", "arn")
    assert rule["condition"] == [{"host_header": {"values": [WWW]}}]
    # "Listener rules for your Application Load Balancer": the lowest priority is evaluated
    # first; the services' rules match any host, so the redirect must come before them all.
    assert rule["priority"] < min(r["priority"] for r in service_rules(full).values())
    # "RedirectActionConfig": #{path} is the path without its leading "/", #{query} the query;
    # HTTP_301 is permanent.
    [action] = rule["action"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"host": DOMAIN, "path": "/#{path}", "query": "#{query}",
                                  "port": "443", "protocol": "HTTPS",
                                  "status_code": "HTTP_301"}
    assert full.json["output"]["url"]["value"] == f"https://{DOMAIN}"


# --- phase one: a zone not yet delegated ------------------------------------------------------

PHASE_ONE = MINIMAL + f'''
[ingress]
domain = "{DOMAIN}"
hosts = ["{WWW}"]
redirect = "www-to-apex"

[[services]]
name = "web"
port = 3000
paths = ["/*"]
priority = 100
hosts = ["{DOMAIN}"]
'''


@pytest.fixture(scope="module")
def phase_one(tmp_path_factory) -> SynthStack:
    directory = tmp_path_factory.mktemp("hosts-phase-one")
    [stack] = synthesize(directory / "out", [write(directory, PHASE_ONE)]).values()
    return stack


def test_before_its_zone_is_delegated_no_name_is_certified_routed_or_matched(phase_one):
    # The names resolve nowhere yet (the load balancer answers on its own DNS name, over
    # HTTP), so a host condition would shut every request out and a certificate would wait
    # for validation records no resolver reaches.
    assert phase_one.resources("aws_acm_certificate") == {}
    assert phase_one.matching("aws_route53_record", "load-balancer/*") == {}
    [rule] = phase_one.resources("aws_lb_listener_rule").values()
    assert condition(rule, "host_header") is None
    assert condition(rule, "path_pattern") == ["/*"]


# --- bad input, one line each -----------------------------------------------------------------

EXISTING_ZONE = '[ingress]\ndomain = "shop.example.com"\nhosted_zone_id = "Z0123456789EXAMPLE"\n'
CREATED_ZONE = '[ingress]\ndomain = "app.shop.example.com"\nzone_name = "shop.example.com"\n'
LONG = f"{'a' * 60}.{'b' * 60}.shop.example.com"  # 138 characters, labels within 63


def ingress(base: str, extra: str, services: str = "") -> str:
    return MINIMAL.replace("[network]", base + extra + "\n" + services + "\n[network]")


def web(name: str, priority: int, extra: str = "") -> str:
    return (f'[[services]]\nname = "{name}"\nport = 3000\npaths = ["/*"]\n'
            f"priority = {priority}\n{extra}\n")


BAD = [
    ("host outside an existing zone", ingress(EXISTING_ZONE, 'hosts = ["www.example.org"]'),
     "ingress.hosts", "'www.example.org' is not under example.com, the widest the zone of "
                      "ingress.domain 'shop.example.com' can be"),
    ("host outside a created zone", ingress(CREATED_ZONE, 'hosts = ["www.example.com"]'),
     "ingress.hosts", "'www.example.com' is not under the zone shop.example.com this stack "
                      "creates"),
    ("host listed twice", ingress(EXISTING_ZONE, 'hosts = ["www.shop.example.com", '
                                                 '"www.shop.example.com"]'),
     "ingress.hosts", "'www.shop.example.com' is listed twice"),
    ("the domain among the hosts", ingress(EXISTING_ZONE, 'hosts = ["shop.example.com"]'),
     "ingress.hosts", "'shop.example.com' is listed twice (ingress.domain is served already)"),
    # "Quotas for AWS Certificate Manager": 10 domain names per certificate by default.
    ("more names than a certificate takes", ingress(EXISTING_ZONE, "hosts = [{}]".format(
        ", ".join(f'"h{i}.shop.example.com"' for i in range(10)))),
     "ingress.hosts", "10 names; a certificate takes ingress.domain and at most 9 more"),
    # "Condition types for listener rules": a host name is up to 128 characters.
    ("a name longer than a rule takes", ingress(EXISTING_ZONE, f'hosts = ["{LONG}"]'),
     "ingress.hosts", "is longer than the 128 characters a load balancer rule takes"),
    ("hosts without a domain", MINIMAL.replace("[network]", '[ingress]\n'
                                                            'hosts = ["www.example.com"]\n\n'
                                                            "[network]"),
     "ingress.hosts", "needs ingress.domain"),
    ("redirect without www among the hosts", ingress(EXISTING_ZONE, 'redirect = "apex-to-www"'),
     "ingress.redirect", "'apex-to-www' needs www.shop.example.com in ingress.hosts"),
    ("redirect away from CloudFront's API origin", ingress(
        EXISTING_ZONE, 'hosts = ["www.shop.example.com"]\nredirect = "apex-to-www"',
        '[edge]\ncloudfront = true\n'),
     "ingress.redirect", "'apex-to-www' would redirect CloudFront's /api/* requests"),
    ("a service on the redirect's priority", ingress(
        EXISTING_ZONE, 'hosts = ["www.shop.example.com"]\nredirect = "www-to-apex"',
        web("web", 1)),
     "services.web.priority", "1 is the priority of the ingress.redirect rule"),
    # The lean profile runs on Lambda, whose HTTP API has one custom domain.
    ("hosts on Lambda (lean)", ingress(EXISTING_ZONE, 'hosts = ["www.shop.example.com"]'),
     "ingress.hosts", "only on ECS: lambda serves one domain"),
    ("a service name the load balancer does not serve", ingress(
        EXISTING_ZONE, "", web("web", 100, 'hosts = ["www.shop.example.com"]')),
     "services.web.hosts", "'www.shop.example.com' is not a name the load balancer serves"),
    # "Condition types for listener rules": up to three match evaluations per condition, five
    # per rule.
    ("more names than a condition takes", ingress(
        EXISTING_ZONE, "hosts = [{}]".format(", ".join(f'"h{i}.shop.example.com"'
                                                       for i in range(4))),
        web("web", 100, "hosts = [{}]".format(", ".join(f'"h{i}.shop.example.com"'
                                                        for i in range(4))))),
     "services.web.hosts", "4 names; a listener rule condition matches at most 3"),
    ("more names and paths than a rule takes", ingress(
        EXISTING_ZONE, 'hosts = ["www.shop.example.com", "api.shop.example.com"]',
        web("web", 100, 'hosts = ["shop.example.com", "www.shop.example.com", '
                        '"api.shop.example.com"]').replace(
            'paths = ["/*"]', 'paths = ["/a/*", "/b/*", "/c/*"]')),
     "services.web.hosts", "3 names and 3 paths; a listener rule matches at most 5 values"),
    ("more paths than a condition takes", ingress(
        EXISTING_ZONE, "", web("web", 100, "").replace(
            'paths = ["/*"]', 'paths = ["/a/*", "/b/*", "/c/*", "/d/*"]')),
     "services.web.paths", "4 path patterns; a listener rule condition matches at most 3"),
    ("hosts on a worker", ingress(
        EXISTING_ZONE, "", '[[services]]\nname = "jobs"\nkind = "worker"\n'
                           'hosts = ["shop.example.com"]\n'),
     "services.jobs.hosts", "only for a web service on ECS"),
]


@pytest.mark.parametrize("case, text, field, words", BAD, ids=[c[0] for c in BAD])
def test_bad_hosts_get_one_clear_line(tmp_path, case, text, field, words):
    path = write(tmp_path, text, "lean.toml" if "(lean)" in case else "dev.toml")
    [line] = problems(path)
    assert line.startswith(f"{path}: {field}: "), line
    assert words in line and "\n" not in line, line


def test_the_deploy_role_may_write_the_records_of_a_name_beside_the_domain(tmp_path):
    # The deploy role's Route 53 changes are limited to the environment's names and their
    # subdomains (route53:ChangeResourceRecordSetsNormalizedRecordNames, lib/delivery/
    # policies.py); admin.example.com is not under shop.example.com, so it must be listed.
    c = load_environment(write(tmp_path, ingress(EXISTING_ZONE, 'hosts = ["admin.example.com"]')))
    assert "admin.example.com" in c.dns_names
