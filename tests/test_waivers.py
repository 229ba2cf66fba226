"""The checkov waiver matcher (tests/waivers.py) on made-up findings: a waiver explains what it
names and nothing else, it follows a stack's profile and not its name, and one that outgrew or
outlived what it was written for fails."""

import pytest

from conftest import MINIMAL_CONFIG, ROOT, SAMPLE
from waivers import Finding, Waiver, judge, parse, profile_of, settings_of

REASON = "a reason long enough for the matcher to accept it as one"
FUNCTION = "aws_lambda_function.api-function/function"


def waiver(**fields) -> Waiver:
    return Waiver(**{"check": "CKV_AWS_116", "profiles": ("dev",), "reason": REASON, **fields})


def test_the_shipped_waivers_parse():
    assert parse((ROOT / "policy" / "checkov-skips.toml").read_text())


def test_an_exact_waiver_does_not_cover_a_new_resource_of_the_same_type():
    """The audit's case: a second function, invoked asynchronously, is not the API function the
    waiver's reason is about."""
    exact = waiver(resources=(FUNCTION,))
    new = Finding("dev-stack", "CKV_AWS_116", "aws_lambda_function.report-function/function")
    verdict = judge([exact], [Finding("dev-stack", "CKV_AWS_116", FUNCTION), new],
                    {"dev-stack": "dev"})
    assert verdict.unexplained == [
        "dev-stack (dev): CKV_AWS_116 aws_lambda_function.report-function/function"]
    assert verdict.waived[exact] == [Finding("dev-stack", "CKV_AWS_116", FUNCTION)]


def test_a_stack_gets_the_waivers_of_its_profile_not_of_its_name(tmp_path):
    """The profile comes from the file through the loader: a preset of profile dev named
    otherwise gets dev's waivers; a preset named dev whose profile is prod does not."""
    prod_needs = ('[ingress]\ndomain = "app.example.com"\nhosted_zone_id = "Z0123456789EXAMPLE"\n'
                  '[auth]\ncallback_urls = ["https://app.example.com/callback"]\n')
    files = {"review": ('environment = "review"\nprofile = "dev"\n', ""),
             "named-dev": ('environment = "dev"\nprofile = "prod"\n', prod_needs),
             "dev": ("", "")}  # named after a profile, no `profile` key: that profile
    profiles = {}
    for stem, (head, tail) in files.items():
        path = tmp_path / f"{stem}.toml"
        path.write_text(head + MINIMAL_CONFIG + tail)
        profiles[f"examples/{stem}"] = profile_of(path)
    assert profiles == {"examples/review": "dev", "examples/named-dev": "prod",
                        "examples/dev": "dev"}
    assert profile_of(SAMPLE / "account.toml") == "bootstrap"
    dev_only = waiver(resources=(FUNCTION,))
    verdict = judge([dev_only], [Finding(stack, "CKV_AWS_116", FUNCTION) for stack in profiles],
                    profiles)
    assert verdict.unexplained == [
        f"examples/named-dev (prod): CKV_AWS_116 {FUNCTION}"]


def test_a_glob_waiver_that_matches_more_than_max_matches_fails():
    groups = waiver(check="CKV_AWS_338", glob="aws_cloudwatch_log_group.service-*/logs",
                    max_matches=2)
    findings = [Finding("dev-stack", "CKV_AWS_338", f"aws_cloudwatch_log_group.service-{s}/logs")
                for s in ("frontend", "backend", "admin")]
    verdict = judge([groups], findings, {"dev-stack": "dev"})
    assert verdict.overflowing == [
        "CKV_AWS_338 aws_cloudwatch_log_group.service-*/logs [dev]: matches 3 resources in "
        "dev-stack, written for at most 2: aws_cloudwatch_log_group.service-admin/logs, "
        "aws_cloudwatch_log_group.service-backend/logs, "
        "aws_cloudwatch_log_group.service-frontend/logs"]
    assert judge([groups], findings[:2], {"dev-stack": "dev"}).overflowing == []


def test_a_waiver_that_explains_nothing_somewhere_it_names_is_stale():
    profiles = {"dev-stack": "dev", "prod-stack": "prod", "examples/lean": "lean"}
    found = [Finding("dev-stack", "CKV_AWS_116", FUNCTION)]
    assert judge([waiver(resources=(FUNCTION,))], found, profiles).stale == []
    assert judge([waiver(resources=(FUNCTION,), profiles=("dev", "prod"))], found,
                 profiles).stale == [
        f"CKV_AWS_116 {FUNCTION} [dev, prod]: explains nothing in a stack of profile prod"]
    worker = "aws_lambda_function.worker-function/function"
    assert judge([waiver(resources=(FUNCTION, worker))], found, profiles).stale == [
        f"CKV_AWS_116 {FUNCTION}, {worker} [dev]: explains nothing for {worker}"]
    narrowed = waiver(resources=(FUNCTION,), profiles=("dev", "prod"), when=(("edge.waf", False),))
    settings = {"dev-stack": {"edge.waf": False}, "prod-stack": {"edge.waf": True}}
    both = [*found, Finding("prod-stack", "CKV_AWS_116", FUNCTION)]
    assert judge([narrowed], both, profiles, settings).stale == [
        f"{narrowed}: explains nothing in a stack of profile prod"]


def test_a_when_limits_a_waiver_to_the_configs_that_chose_it():
    """A preset's own choice is waived by the setting, not by the preset's name: a team's
    config/ adopted from the preset keeps the waiver, another stack of the profile does not get
    it, and a key the schema does not have is refused."""
    waf_off = waiver(resources=(FUNCTION,), profiles=("prod",), when=(("edge.waf", False),))
    profiles = {"examples/seed": "prod", "config: prod-stack": "prod", "prod-stack": "prod"}
    settings = {"examples/seed": {"edge.waf": False}, "config: prod-stack": {"edge.waf": False},
                "prod-stack": {"edge.waf": True}}
    verdict = judge([waf_off], [Finding(s, "CKV_AWS_116", FUNCTION) for s in profiles], profiles,
                    settings)
    assert verdict.unexplained == [f"prod-stack (prod): CKV_AWS_116 {FUNCTION}"]
    assert str(waf_off) == f"CKV_AWS_116 {FUNCTION} [prod, when edge.waf = False]"
    [parsed] = parse(f'[[waiver]]\ncheck = "CKV_AWS_116"\nreason = "{REASON}"\n'
                     f'resources = ["{FUNCTION}"]\nprofiles = ["prod"]\n'
                     'when = { "edge.waf" = false, "database.multi_az" = false }\n')
    assert parsed.when == (("edge.waf", False), ("database.multi_az", False))


def test_settings_are_read_through_the_profile(tmp_path):
    """`when` sees what the stack is built with: a value the file leaves to its profile too."""
    path = tmp_path / "prod.toml"
    path.write_text('environment = "prod"\n' + MINIMAL_CONFIG +
                    '[ingress]\ndomain = "a.example.com"\nhosted_zone_id = "Z0123456789EXAMPLE"'
                    '\n[auth]\ncallback_urls = ["https://a.example.com/callback"]\n'
                    '[edge]\nwaf = false\n')
    settings = settings_of(path)
    assert settings["edge.waf"] is False and settings["database.multi_az"] is True  # prod default
    assert settings_of(SAMPLE / "account.toml") == {}


@pytest.mark.parametrize("entry, problem", [
    ('resources = ["aws_lambda_function.*"]', "is a pattern; use 'glob' and 'max_matches'"),
    ('glob = "aws_lambda_function.*"', "a 'glob' needs 'max_matches'"),
    (f'resources = ["{FUNCTION}"]\nmax_matches = 2', "a 'glob' needs 'max_matches'"),
    (f'resources = ["{FUNCTION}"]\nprofiles = ["development"]',
     "unknown profile 'development'"),
    (f'resources = ["{FUNCTION}"]\nstacks = ["dev-stack"]', "unknown key 'stacks'"),
    (f'resources = ["{FUNCTION}"]\nwhen = {{ "edge.wafs" = false }}',
     "when: 'edge.wafs' is not a config key"),
    (f'resources = ["{FUNCTION}"]\nwhen = {{ "edge" = false }}',
     "when: 'edge' is not a config key"),
], ids=["pattern-as-address", "glob-without-max", "max-without-glob", "unknown-profile",
        "stack-name", "unknown-setting", "table-as-setting"])
def test_a_malformed_waiver_is_refused(entry, problem):
    text = f'[[waiver]]\ncheck = "CKV_AWS_116"\nreason = "{REASON}"\n{entry}\n'
    if "profiles" not in entry:
        text += 'profiles = ["dev"]\n'
    with pytest.raises(ValueError, match=problem):
        parse(text)
