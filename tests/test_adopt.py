"""`make adopt` (tools/adopt.py): every preset becomes a config/ that passes the checks any config
must pass (tests/config_checks.py), under the adopter's project and account, with dev disposable
and no domain of the seed's owner left; and a mistake writes nothing."""

import argparse
import tomllib
from pathlib import Path

import pytest

import config_checks as checks
from conftest import ROOT, SAMPLE, run, snapshot
from lib.config import (ConfigError, config_files, load_account, load_config_dir,
                        load_environment, read_environment_file)
from tools import adopt as adopt_tool
from tools import diagram as diagram_tool

PRESETS = sorted(adopt_tool.presets())
ACCOUNT = "210987654321"
ZONE = "Z1111111111111"


def arguments(preset: str = "portfolio", project: str = "acme", account: str = ACCOUNT,
              **options) -> argparse.Namespace:
    return adopt_tool.arguments(preset, project, account, **options)


def adopted(tmp_path: Path, preset: str, **overrides) -> Path:
    """The preset adopted into a scratch config/ (tools/adopt.py's `adopt`, which writes nothing
    itself)."""
    directory = tmp_path / "config"
    adopt_tool.write(adopt_tool.adopt(arguments(preset, **overrides)), directory)
    return directory


def strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings(value)]
    return [node] if isinstance(node, str) else []


def test_every_preset_is_offered():
    assert PRESETS == ["fastify-monorepo", "fastify-monorepo-lean", "lean", "mirama", "mobilytics",
                       "portfolio", "rayman"]
    rayman = adopt_tool.presets()["rayman"]
    assert {env: path.name for env, path in rayman.items()} == {
        "dev": "rayman-dev.toml", "staging": "rayman-staging.toml", "prod": "rayman.toml"}


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("domain", ["", "acme.com"], ids=["no-domain", "domain"])
def test_an_adopted_preset_is_one_project_in_one_account(tmp_path, preset, domain):
    directory = adopted(tmp_path, preset, domain=domain, zone=ZONE if domain else "")
    account = load_account(directory / "account.toml")
    assert (account.project, account.account_id) == ("acme", ACCOUNT)
    envs = {env: load_environment(directory / f"{env}.toml") for env in ("dev", "staging", "prod")}
    for env, config in envs.items():
        assert (config.project, config.account_id, config.environment) == ("acme", ACCOUNT, env)
        # what the preset's file says, with the base file it extends (rayman)
        source = read_environment_file(adopt_tool.presets()[preset][env]).data
        # the preset's own choices stay, its budget among them
        assert config.cost.monthly_budget_usd == source.get("cost", {}).get(
            "monthly_budget_usd", config.cost.monthly_budget_usd)
        assert config.network.cidr == source["network"]["cidr"]
        vpn = config.access.client_vpn  # its placeholder certificates, in the adopter's account
        assert not vpn.enabled or ACCOUNT in vpn.server_certificate_arn
        seed_domain = source.get("ingress", {}).get("domain")
        if seed_domain:  # the seed owner's name is gone from every value
            owner = adopt_tool.registrable(seed_domain)
            written = read_environment_file(directory / f"{env}.toml").data
            kept = [s for s in strings(written) if owner in s and "acme" not in s]
            assert kept == [], kept
    # dev is disposable: `cdktf destroy dev-stack` works
    assert not envs["dev"].database.deletion_protection and not envs["dev"].prevent_destroy
    # A first deploy on Lambda is phase one: Lambda creates a function only from an image that is
    # already in ECR ("Create a Lambda function using a container image").
    assert not [e for e, c in envs.items() if c.compute.platform == "lambda"
                and c.compute.images_pushed]
    # The preset's other names keep their place beside its domain (seed 003's www).
    www = [e for e in envs if f"www.{envs[e].ingress.domain}" in envs[e].ingress.hosts]
    expected = ["dev", "staging", "prod"] if domain else ["prod"]
    assert www == (expected if preset == "portfolio" else [])
    if domain:
        assert envs["prod"].ingress.domain == "acme.com"
        assert envs["prod"].ingress.hosted_zone_id == ZONE
        assert [envs[e].ingress.domain for e in ("dev", "staging")] == [
            "dev.acme.com", "staging.acme.com"]
    else:
        assert [envs[e].ingress.domain for e in ("dev", "staging")] == [None, None]
        if envs["prod"].profile == "prod":  # prod must serve HTTPS: a placeholder, not a name
            assert envs["prod"].ingress.domain == "acme.example.com"  # RFC 2606, reserved


def test_a_preset_with_a_base_file_is_adopted_with_it(tmp_path):
    """rayman's three files extend examples/rayman.base.toml: config/ gets a copy of it, under
    the adopter's project and account, which the three keep extending; `make synth` builds the
    three environments and the bootstrap stack, not a stack of the base."""
    directory = adopted(tmp_path, "rayman")
    assert sorted(p.name for p in directory.iterdir()) == [
        "account.toml", "dev.toml", "prod.toml", "rayman.base.toml", "staging.toml"]
    base = tomllib.loads((directory / "rayman.base.toml").read_text())
    assert (base["project"], base["account_id"]) == ("acme", ACCOUNT)
    for env in ("dev", "staging", "prod"):
        own = tomllib.loads((directory / f"{env}.toml").read_text())
        assert own["extends"] == "rayman.base.toml" and "project" not in own
    assert config_files(directory) == (
        [directory / f"{env}.toml" for env in ("dev", "prod", "staging")],
        [directory / "account.toml"])
    environments, _ = load_config_dir(directory)
    assert sorted(e.stack_name for e in environments) == ["dev-stack", "prod-stack",
                                                          "staging-stack"]
    # the base's values reach every environment: seed 004's two queues
    assert {e.environment: [q.name for q in e.messaging.queues] for e in environments} == {
        env: ["processing", "email"] for env in ("dev", "staging", "prod")}


@pytest.mark.parametrize("overrides, line", [
    ({"preset": "portfolo"}, "PRESET: 'portfolo' is not a preset; presets: fastify-monorepo, "
                             "fastify-monorepo-lean, lean, mirama, mobilytics, portfolio, "
                             "rayman"),
    ({"preset": "mirama", "account": "21098765432"}, "config/dev.toml: account_id:"),
    ({"preset": "mirama", "project": "Acme Corp"}, "config/dev.toml: project:"),
    # rayman's project is written in its base file: the line names it, and the environment
    ({"preset": "rayman", "project": "Acme Corp"},
     "config/rayman.base.toml: project: 'Acme Corp' is not allowed; use 2-20 lowercase letters, "
     "digits and single hyphens, starting with a letter (inherited by config/dev.toml)\n"),
    ({"domain": "acme.com"}, "ZONE: needed with DOMAIN"),
    ({"domain": "acme..com", "zone": ZONE}, "config/dev.toml: ingress.domain:"),
], ids=["unknown-preset", "short-account", "bad-project", "bad-project-in-base",
        "domain-without-zone", "bad-domain"])
def test_a_mistake_is_one_line_and_nothing_is_written(overrides, line):
    before = [snapshot(ROOT / "config"), snapshot(SAMPLE)]  # the second is the session's config/
    diagram = diagram_tool.OUTPUT.read_bytes()
    args = [f"--{key}={value}" for key, value in vars(arguments(**overrides)).items()]
    result = run(["python", str(ROOT / "tools" / "adopt.py"), *args], cwd=ROOT)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(line), result.stderr
    assert "Traceback" not in result.stderr
    assert len(set(result.stderr.splitlines())) == len(result.stderr.splitlines())
    assert [snapshot(ROOT / "config"), snapshot(SAMPLE)] == before
    assert diagram_tool.OUTPUT.read_bytes() == diagram


def test_an_environment_whose_account_has_no_account_file_is_refused(tmp_path):
    """The bootstrap stack of an account creates its environments' roles and state: an
    environment of another account used to be left out of it without a word."""
    directory = adopted(tmp_path, "mirama")  # its account_id is in the environment's own file
    dev = directory / "dev.toml"
    assert ACCOUNT in dev.read_text()
    dev.write_text(dev.read_text().replace(ACCOUNT, "111122223333"))
    with pytest.raises(ConfigError) as refused:
        load_config_dir(directory)
    assert str(refused.value) == (
        f"{dev}: account_id: 111122223333 is in no account file ({directory / 'account.toml'}: "
        f"{ACCOUNT}), so no bootstrap stack would create its roles and state; use one of those "
        f"ids or add config/account-<name>.toml for it")
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="111122223333 is in no account file"):
        checks.synthesize_dir(directory, out)  # as `make synth`: before anything is written
    assert not out.exists()
    dev.write_text(dev.read_text().replace("111122223333", ACCOUNT).replace(
        'project = "acme"', 'project = "portfolio"'))
    with pytest.raises(ConfigError, match="project: 'portfolio' differs from 'acme'"):
        load_config_dir(directory)


def test_make_adopt_writes_config_redraws_the_diagram_and_says_what_next(tmp_path, monkeypatch,
                                                                         capsys):
    """The command's own path (tools/adopt.py main, as `make adopt` runs it), on a scratch
    config/ and diagram: seed 001's prod design as dev is over the dev profile's $80, so dev
    gets a budget of its own, said on the terminal and in the file."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "account.toml").write_text((SAMPLE / "account.toml").read_text())
    for module in (adopt_tool, diagram_tool):
        monkeypatch.setattr(module, "CONFIG_DIR", config)
    monkeypatch.setattr(diagram_tool, "ACCOUNT", config / "account.toml")
    monkeypatch.setattr(diagram_tool, "ROOT", tmp_path)
    monkeypatch.setattr(diagram_tool, "OUTPUT", tmp_path / "architecture.md")
    assert adopt_tool.main(["--preset=fastify-monorepo", "--project=acme",
                            f"--account={ACCOUNT}", "--repository=acme/platform"]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in config.iterdir()) == [
        "account.toml", "dev.toml", "prod.toml", "staging.toml"]
    load_config_dir(config)
    assert load_account(config / "account.toml").github.repository == "acme/platform"
    dev = load_environment(config / "dev.toml")
    budget = dev.cost.monthly_budget_usd
    assert budget > 80 and budget % 10 == 0
    assert f"config/dev.toml: cost.monthly_budget_usd = {budget:.0f}: the estimate is $" in out
    assert "make adopt: this design's estimate" in (config / "dev.toml").read_text()
    assert "acme-dev" in (tmp_path / "architecture.md").read_text()
    assert out.rstrip().splitlines()[-3:] == [
        "  make test         the product's tests and the checks of your config/",
        "  make cost         the monthly estimate of each stack against its budget",
        "  bin/cdktf deploy bootstrap-stack   then dev-stack: docs/first-deploy.md"]


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_every_adopted_preset_passes_the_config_checks(adopted, preset):
    """What `make test` checks of config/ after `make adopt PRESET=<preset>` (the offline plan
    aside: each preset is planned as it is, tests/test_plan.py, and adopting changes names,
    domains and dev's protection, which the plan does not judge)."""
    stacks, built_from = adopted[preset]
    load_config_dir(next(iter(built_from.values())).parent)
    problems = (checks.rule_problems(stacks) + checks.over_budget(stacks, built_from)
                + checks.unexplained_findings(stacks, built_from))
    assert problems == [], "\n".join(problems)
