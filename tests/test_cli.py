"""Bad input end to end: `python main.py` prints one line, exits non-zero, writes nothing."""

import sys

import pytest

from conftest import ROOT, run, snapshot

MAIN = str(ROOT / "main.py")


@pytest.fixture
def workdir(tmp_path):
    """A directory holding an earlier synth's output, which a failed synth must not touch."""
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "dev-stack").mkdir(parents=True)
    (out / "stacks" / "dev-stack" / "cdk.tf.json").write_text('{"earlier": "synth"}')
    return tmp_path


@pytest.mark.parametrize("config_text, expected", [
    ('project = "shop"\naccount_id = "123456789012"\nregion = "us-east-1"\n'
     '[network]\ncidr = "10.0.0.0/16"\nnat_mode = "single"\n',
     "dev.toml: network.nat_mode: unknown key; did you mean 'nat'?"),
    ("project = \n", "dev.toml: not valid TOML: Invalid value (at line 1, column 11)"),
    ('project = "shop"\naccount_id = "123456789012"\nregion = "us-east-1"\n'
     '[network]\ncidr = "10.0.0.0/16"\n[[services]]\nname = "api"\nport = 80\n'
     'paths = ["/*"]\npriority = 10\nenvironment = { DB_PASS = "hunter2" }\n',
     "dev.toml: services.api.environment.DB_PASS: looks like a credential"),
])
def test_a_config_mistake_is_one_line_and_nothing_is_written(workdir, config_text, expected):
    config = workdir / "dev.toml"
    config.write_text(config_text)
    before = snapshot(workdir / "cdktf.out")
    result = run([sys.executable, MAIN], cwd=workdir, PLATFORM_CONFIG=str(config))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(str(workdir / expected.split(":")[0]))
    assert expected.split(": ", 1)[1] in lines[0]
    assert snapshot(workdir / "cdktf.out") == before


def test_an_unknown_environment_file_is_one_line(workdir):
    before = snapshot(workdir / "cdktf.out")
    result = run([sys.executable, MAIN], cwd=workdir, PLATFORM_CONFIG="config/qa.toml")
    assert result.returncode == 2
    # config/ is the sample for the whole session (conftest: $PLATFORM_CONFIG_DIR)
    assert result.stderr == ("config/qa.toml: no such environment file (environments in "
                             "tests/fixtures/sample/: dev, prod, staging)\n")
    assert snapshot(workdir / "cdktf.out") == before


def test_an_unknown_target_is_one_line(workdir):
    result = run([sys.executable, MAIN], cwd=workdir, PLATFORM_TARGET="staging")
    assert result.returncode == 2
    assert result.stderr == ("$PLATFORM_TARGET: 'staging' is not a target; allowed: aws, offline, "
                             "local\n")


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_worker_count_is_one_line(workdir, value):
    before = snapshot(workdir / "cdktf.out")
    result = run([sys.executable, MAIN], cwd=workdir, PLATFORM_SYNTH_WORKERS=value)
    assert result.returncode == 2
    assert result.stderr == (f"$PLATFORM_SYNTH_WORKERS: '{value}' is not a number of worker "
                             "processes; allowed: a whole number of at least 1\n")
    assert snapshot(workdir / "cdktf.out") == before
