"""`extends = "<file>"` (lib/config/loader.py): a file starts from another's values and overrides
them key by key, in a chain, never in a cycle; a problem names the file that wrote the value; a
`*.base.toml` file is shared settings, never an environment of its own."""

import sys
import tomllib
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, PRESET_FILES, ROOT, run, snapshot
from lib.config import ConfigError, config_files, load_config_dir, load_environment

BASE = f"""{MINIMAL}
[database]
instance_class = "db.t3.small"
allocated_storage_gb = 50

[tags]
Team = "web"
Owner = "ops"

[[messaging.queues]]
name = "processing"
[[messaging.queues]]
name = "emails"
"""


def files(directory: Path, **texts: str) -> Path:
    """Write `name=text` as `<name>.toml` (a `_` in the name written `.`), return `directory`."""
    for name, text in texts.items():
        (directory / f"{name.replace('_', '.')}.toml").write_text(text)
    return directory


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        load_environment(path)
    return refused.value.problems


def test_a_file_inherits_the_values_of_the_file_it_extends_and_overrides_them_key_by_key(
        tmp_path):
    """Tables merge key by key, lists are replaced whole: as a file over its profile."""
    files(tmp_path, app_base=BASE, dev='extends = "app.base.toml"\n[database]\n'
                                       'allocated_storage_gb = 100\n[tags]\nOwner = "sre"\n'
                                       '[[messaging.queues]]\nname = "processing"\n')
    dev = load_environment(tmp_path / "dev.toml")
    assert (dev.project, dev.environment, dev.profile) == ("shop", "dev", "dev")
    assert (dev.database.instance_class, dev.database.allocated_storage_gb) == (
        "db.t3.small", 100)
    assert dev.tags == {"Team": "web", "Owner": "sre"}
    assert [q.name for q in dev.messaging.queues] == ["processing"]
    assert dev.extends == "app.base.toml"
    # the same values written in one file give the same environment: the profile's defaults are
    # under both files, not between them
    flat = tmp_path / "flat"
    flat.mkdir()
    files(flat, dev=f'{MINIMAL}[database]\ninstance_class = "db.t3.small"\n'
                    'allocated_storage_gb = 100\n[tags]\nTeam = "web"\nOwner = "sre"\n'
                    '[[messaging.queues]]\nname = "processing"\n')
    alone = load_environment(flat / "dev.toml")
    assert dev.model_dump(exclude={"extends"}) == alone.model_dump(exclude={"extends"})


def test_a_chain_of_files_each_overriding_the_one_it_extends(tmp_path):
    files(tmp_path,
          org_base=f'{MINIMAL}[database]\ninstance_class = "db.t3.micro"\n'
                   'allocated_storage_gb = 20\nmulti_az = false\n',
          app_base='extends = "org.base.toml"\n[database]\nallocated_storage_gb = 40\n'
                   'multi_az = true\n',
          staging='extends = "app.base.toml"\n[database]\nmulti_az = false\n')
    db = load_environment(tmp_path / "staging.toml").database
    assert (db.instance_class, db.allocated_storage_gb, db.multi_az) == ("db.t3.micro", 40, False)


def test_environment_and_extends_are_each_files_own(tmp_path):
    """staging extends the prod file: it is staging (its name), with the staging profile, not a
    second prod; the file prod extends is read once, through prod."""
    files(tmp_path, app_base=MINIMAL,
          prod='extends = "app.base.toml"\nenvironment = "prod"\n[database]\nmulti_az = true\n',
          staging='extends = "prod.toml"\n')
    staging = load_environment(tmp_path / "staging.toml")
    assert (staging.environment, staging.profile, staging.extends) == (
        "staging", "staging", "prod.toml")
    assert staging.database.multi_az


def test_a_base_file_is_not_an_environment(tmp_path):
    """`make synth`, `make adopt` and the presets list a directory with config_files: a
    *.base.toml file in config/ or examples/ is no stack of its own, and naming it is refused."""
    files(tmp_path, account=(ROOT / "tests" / "fixtures" / "sample" / "account.toml").read_text(),
          app_base='profile = "dev"\n' + MINIMAL.replace('"shop"', '"webplat"'),
          dev='extends = "app.base.toml"\n', test='extends = "app.base.toml"\n')
    assert config_files(tmp_path) == ([tmp_path / "dev.toml", tmp_path / "test.toml"],
                                      [tmp_path / "account.toml"])
    environments, _ = load_config_dir(tmp_path)
    assert [(e.stack_name, e.profile) for e in environments] == [("dev-stack", "dev"),
                                                                 ("test-stack", "dev")]
    assert problems(tmp_path / "app.base.toml") == [
        f"{tmp_path / 'app.base.toml'}: a base file (*.base.toml) holds settings that "
        f"environment files extend; it is not an environment of its own"]


def test_every_base_file_in_examples_is_extended_by_a_preset():
    """A base no preset extends would be checked by nothing (it is no stack of its own)."""
    bases = sorted((ROOT / "examples").glob("*.base.toml"))
    extended = {(path.parent / tomllib.loads(path.read_text())["extends"]).resolve()
                for path in PRESET_FILES if "extends" in tomllib.loads(path.read_text())}
    assert bases and set(bases) <= extended
    assert not set(bases) & set(PRESET_FILES)


# --- a problem names the file that wrote the value ---------------------------------------------

def test_a_bad_value_in_the_base_names_the_base_and_the_environment(tmp_path):
    files(tmp_path, app_base=BASE.replace("db.t3.small", "db.t3.tiny"),
          dev='extends = "app.base.toml"\n')
    [line] = problems(tmp_path / "dev.toml")
    assert line.startswith(f"{tmp_path / 'app.base.toml'}: database.instance_class: "
                           f"'db.t3.tiny' is not"), line
    assert line.endswith(f"(inherited by {tmp_path / 'dev.toml'})"), line


def test_a_bad_value_in_the_file_names_the_file_alone(tmp_path):
    files(tmp_path, app_base=BASE,
          dev='extends = "app.base.toml"\n[database]\ninstance_class = "db.t3.tiny"\n')
    [line] = problems(tmp_path / "dev.toml")
    assert line.startswith(f"{tmp_path / 'dev.toml'}: database.instance_class: 'db.t3.tiny'")
    assert "inherited" not in line


def test_an_unknown_key_and_a_rule_across_fields_name_the_file_that_wrote_them(tmp_path):
    """A typo in the base, and a tag the project sets itself (a rule checked after validation),
    written in the base; a bad value in a list the environment file replaces is its own."""
    files(tmp_path, app_base=f'{MINIMAL}[database]\ninstance_clas = "db.t3.small"\n',
          dev='extends = "app.base.toml"\n')
    [line] = problems(tmp_path / "dev.toml")
    assert line.startswith(f"{tmp_path / 'app.base.toml'}: database.instance_clas: unknown key; "
                           "did you mean 'instance_class'?"), line
    files(tmp_path, app_base=f'{MINIMAL}[tags]\nProject = "x"\n')
    [line] = problems(tmp_path / "dev.toml")
    assert line == (f"{tmp_path / 'app.base.toml'}: tags.Project: is set by the project itself; "
                    f"reserved tags: Project, Environment, ManagedBy "
                    f"(inherited by {tmp_path / 'dev.toml'})")
    files(tmp_path, app_base=BASE,
          dev='extends = "app.base.toml"\n[[messaging.queues]]\nname = "processing"\n'
              'retention_days = 40\n')
    [line] = problems(tmp_path / "dev.toml")
    assert line.startswith(
        f"{tmp_path / 'dev.toml'}: messaging.queues.processing.retention_days"), line


def test_an_account_id_in_the_base_without_an_account_file_names_the_base(tmp_path):
    """The check across files (every environment's account has an account file) too."""
    files(tmp_path, account=(ROOT / "tests" / "fixtures" / "sample" / "account.toml").read_text(),
          app_base=MINIMAL.replace('"shop"', '"webplat"').replace("123456789012", "111122223333"),
          dev='extends = "app.base.toml"\n')
    with pytest.raises(ConfigError) as refused:
        load_config_dir(tmp_path)
    [line] = refused.value.problems
    assert line.startswith(f"{tmp_path / 'app.base.toml'}: account_id: 111122223333 is in no "
                           "account file"), line
    assert line.endswith(f"(inherited by {tmp_path / 'dev.toml'})"), line


def test_a_middle_file_of_a_chain_is_named_for_what_it_wrote(tmp_path):
    files(tmp_path, org_base=MINIMAL,
          app_base='extends = "org.base.toml"\n[database]\nallocated_storage_gb = 5\n',
          dev='extends = "app.base.toml"\n')
    [line] = problems(tmp_path / "dev.toml")
    assert line.startswith(f"{tmp_path / 'app.base.toml'}: database.allocated_storage_gb: "), line


# --- bad `extends`: one line each, naming the file and its value ------------------------------

@pytest.mark.parametrize("texts, line", [
    ({"dev": 'extends = "app.base.toml"\n'},
     "{dev}: extends: 'app.base.toml' is not a file ({d}/app.base.toml does not exist)"),
    ({"dev": f'extends = "dev.toml"\n{MINIMAL}'},
     "{dev}: extends: 'dev.toml' makes a cycle ({dev} -> {dev}); a file cannot extend itself or "
     "a file that extends it"),
    ({"dev": 'extends = "a.base.toml"\n', "a_base": 'extends = "b.base.toml"\n',
      "b_base": 'extends = "a.base.toml"\n'},
     "{d}/b.base.toml: extends: 'a.base.toml' makes a cycle ({dev} -> {d}/a.base.toml -> "
     "{d}/b.base.toml -> {d}/a.base.toml); a file cannot extend itself or a file that extends "
     "it"),
    ({"dev": f'extends = 3\n{MINIMAL}'},
     "{dev}: extends: must be a quoted file name, relative to this file, e.g. "
     "\"app.base.toml\" (got 3)"),
    ({"dev": f'extends = ["a.toml"]\n{MINIMAL}'},
     "{dev}: extends: must be a quoted file name, relative to this file, e.g. "
     "\"app.base.toml\" (got ['a.toml'])"),
    ({"dev": 'extends = "app.base.toml"\n', "app_base": "project = \n"},
     "{d}/app.base.toml: not valid TOML: "),
], ids=["missing", "itself", "cycle", "number", "list", "base-not-toml"])
def test_a_bad_extends_is_one_line_naming_the_file(tmp_path, texts, line):
    files(tmp_path, **texts)
    [found] = problems(tmp_path / "dev.toml")
    assert found.startswith(line.format(d=tmp_path, dev=tmp_path / "dev.toml")), found


def test_a_bad_base_through_main_is_one_line_and_nothing_is_written(tmp_path):
    out = tmp_path / "cdktf.out" / "stacks" / "dev-stack"
    out.mkdir(parents=True)
    (out / "cdk.tf.json").write_text('{"earlier": "synth"}')
    files(tmp_path, app_base=f'{MINIMAL}[database]\nmulti_az = "yes"\n',
          dev='extends = "app.base.toml"\n', prod='extends = "prod.toml"\n')
    before = snapshot(tmp_path / "cdktf.out")
    result = run([sys.executable, str(ROOT / "main.py")], cwd=tmp_path,
                 PLATFORM_CONFIG=f"{tmp_path / 'dev.toml'}:{tmp_path / 'prod.toml'}")
    assert result.returncode != 0 and result.stdout == ""
    base, dev, prod = (tmp_path / f"{name}.toml" for name in ("app.base", "dev", "prod"))
    assert result.stderr.splitlines() == [
        f'{base}: database.multi_az: "yes" is not allowed: write true or false (a TOML boolean, '
        f'without quotes) (inherited by {dev})',
        f"{prod}: extends: 'prod.toml' makes a cycle ({prod} -> {prod}); a file cannot extend "
        f"itself or a file that extends it"]
    assert snapshot(tmp_path / "cdktf.out") == before
