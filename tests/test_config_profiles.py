"""The rules that depend on the kind of environment follow its profile, never its name.

An environment is named freely (`live`, `eu`, `prod-2`) and says what it is with `profile`; only a
file that leaves `profile` out takes it from its name. So each rule below is probed twice, through
names that point the wrong way: a file `live.toml` of the profile the rule is for must be held to
it, and a file named after that profile (`prod.toml`, environment "prod") that declares another
profile must not be. A rule keyed on the environment's name fails both.
"""

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL
from lib.config import ConfigError, load_environment

# What prod needs besides the rule under test: a domain in a zone that already answers for it
# (HTTPS from the first apply) and https callbacks.
DOMAIN = '[ingress]\ndomain = "shop.example.com"\nhosted_zone_id = "Z0123456789EXAMPLE"\n\n'
HTTPS_CALLBACK = '[auth]\ncallback_urls = ["https://shop.example.com/cb"]\n\n'

# (rule, tables before [network], keys added to [network], the field refused, the profiles that
# refuse it, a profile that accepts it)
RULES = [
    # An ACM certificate is issued for a domain name ("Requesting a public certificate - AWS
    # Certificate Manager"): a load balancer without a domain can only listen on plain HTTP.
    ("prod serves HTTPS", HTTPS_CALLBACK, "", "ingress.domain", ("prod",), ("dev", "staging")),
    # ACM validates by a DNS record the domain's zone must answer for ("DNS validation - AWS
    # Certificate Manager"); a zone this stack creates answers only once its parent delegates.
    ("prod's certificate validates at the first apply",
     '[ingress]\ndomain = "shop.example.com"\n\n' + HTTPS_CALLBACK, "",
     "ingress.hosted_zone_id", ("prod",), ("dev", "staging")),
    # "If you have resources in multiple Availability Zones and they share one NAT gateway, and
    # if the NAT gateway's Availability Zone is down, resources in the other Availability Zones
    # lose internet access" ("NAT gateway basics - Amazon Virtual Private Cloud").
    ("prod has a NAT per AZ", DOMAIN + HTTPS_CALLBACK, 'nat = "single"\n', "network.nat",
     ("prod",), ("dev", "staging")),
    # A NAT instance is one EC2 instance whose failover is the owner's to script ("Compare NAT
    # gateways and NAT instances - Amazon Virtual Private Cloud").
    ("staging and prod have no NAT instance", DOMAIN + HTTPS_CALLBACK, 'nat = "instance"\n',
     "network.nat", ("staging", "prod"), ("dev",)),
    # "Amazon Cognito requires HTTPS over HTTP except for http://localhost for testing purposes
    # only" (CreateUserPoolClient, CallbackURLs - Amazon Cognito User Pools API Reference).
    ("prod redirects to https only",
     DOMAIN + '[auth]\ncallback_urls = ["http://localhost:3000/cb"]\n\n', "",
     "auth.callback_urls", ("prod",), ("dev", "staging")),
    # Flow and WAF logs are what an investigation reads long after the fact (README "Detection").
    ("staging and prod keep security logs a year",
     DOMAIN + HTTPS_CALLBACK + "[logs]\nsecurity_retention_days = 180\n\n", "",
     "logs.security_retention_days", ("staging", "prod"), ("dev",)),
]


def environment_file(tmp_path, file_name: str, profile: str, tables: str, network: str,
                     environment: str | None = None):
    lines = f'profile = "{profile}"\n'
    if environment is not None:
        lines += f'environment = "{environment}"\n'
    path = tmp_path / file_name
    path.write_text(lines + MINIMAL.replace("[network]", tables + "[network]") + network)
    return path


def problems(path) -> list[str]:
    try:
        load_environment(path)
    except ConfigError as err:
        return err.problems
    return []


REFUSED = [(rule, tables, network, field, profile)
           for rule, tables, network, field, refusing, _ in RULES for profile in refusing]
ACCEPTED = [(rule, tables, network, named, profile)
            for rule, tables, network, _, refusing, accepting in RULES
            for named in refusing for profile in accepting]


@pytest.mark.parametrize("rule, tables, network, field, profile", REFUSED,
                         ids=[f"{r[0]}: live.toml of profile {r[4]}" for r in REFUSED])
def test_an_environment_of_the_profile_is_held_to_the_rule_whatever_its_name(
        tmp_path, rule, tables, network, field, profile):
    path = environment_file(tmp_path, "live.toml", profile, tables, network)
    found = problems(path)
    assert [line.split(": ")[1] for line in found] == [field], found
    assert found[0].startswith(f"{path}: {field}: ")


@pytest.mark.parametrize("rule, tables, network, named, profile", ACCEPTED,
                         ids=[f"{r[0]}: {r[3]}.toml of profile {r[4]}" for r in ACCEPTED])
def test_an_environment_named_after_the_profile_but_of_another_is_not(
        tmp_path, rule, tables, network, named, profile):
    assert problems(environment_file(tmp_path, f"{named}.toml", profile, tables, network)) == []
    # The same with the name given in the file rather than taken from the file's name.
    assert problems(environment_file(tmp_path, "live.toml", profile, tables, network,
                                     environment=named)) == []


@pytest.mark.parametrize("profile, disposable", [("dev", True), ("lean", True),
                                                 ("staging", False), ("prod", False)])
def test_the_profile_decides_what_may_be_torn_down(tmp_path, profile, disposable):
    """Disposable: AWS's shortest deletion windows (7 days, "Deleting AWS KMS keys - AWS Key
    Management Service"; "DeleteSecret - AWS Secrets Manager"), buckets and repositories deleted
    with their contents. A renamed prod is not disposable, a dev named prod is."""
    live = load_environment(environment_file(tmp_path, "live.toml", profile,
                                             DOMAIN + HTTPS_CALLBACK, ""))
    assert live.disposable is disposable
    for named in ("dev", "lean", "staging", "prod"):
        c = load_environment(environment_file(tmp_path, f"{named}.toml", profile,
                                              DOMAIN + HTTPS_CALLBACK, ""))
        assert (c.environment, c.disposable) == (named, disposable)


@pytest.mark.parametrize("profile, named", [("dev", "prod"), ("prod", "dev"),
                                            ("staging", "lean"), ("lean", "staging")])
def test_a_file_gets_its_profiles_defaults_not_its_names(tmp_path, profile, named):
    """A file named after one profile that declares another is, but for its name, that other
    profile's environment: every default (sizes, NAT, protection, services) is the declared
    one's."""
    tables = DOMAIN + HTTPS_CALLBACK
    declared = load_environment(environment_file(tmp_path, f"{named}.toml", profile, tables, ""))
    reference = load_environment(environment_file(tmp_path, f"{profile}.toml", profile, tables,
                                                  ""))
    ignore = {"environment", "source"}
    assert declared.model_dump(exclude=ignore) == reference.model_dump(exclude=ignore)
    assert (declared.environment, declared.profile) == (named, profile)
