"""Strict types in config: a boolean field takes only TOML's true or false, an integer field only
a TOML integer, a float field a TOML integer or float. Anything else is one line naming the file,
the field and what to write, never a silent reading ("yes", "on" or 1 as true once doubled a
database with Multi-AZ; true as an integer is 1).

TOML's own types are the ones its specification lists (https://toml.io/en/v1.0.0: String,
Integer, Float, Boolean, ...): `"true"` is a string and `1` an integer, neither a boolean.
"""

import sys
import tomllib
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from conftest import MINIMAL_CONFIG as MINIMAL, PRESET_FILES, ROOT, SAMPLE, run, snapshot
from lib.config import ConfigError, load_account, load_environment
from lib.config.delivery import AccountConfig
from lib.config.environment import EnvironmentConfig

BOOL = 'write true or false (a TOML boolean, without quotes)'
INT = 'write a whole number (a TOML integer, without quotes or a decimal point)'
FLOAT = 'write a number such as 80 or 12.5 (without quotes)'

# (TOML value, what the message shows) for each kind of field: every one is a value some parser
# or language reads as that kind, and every one is refused.
NOT_BOOLEANS = ['"yes"', '"on"', '"true"', "1", "0"]
NOT_INTEGERS = ["true", '"2"', "2.0", "2.5"]
NOT_FLOATS = ["true", '"80"']

# (section header or None for a top-level key, key, the field path in the message, message tail)
# One field of each kind in each table kind: top level, a table, a nested table, an array of
# tables ([[services]], [[messaging.queues]]).
FIELDS = [
    (None, "prevent_destroy", "prevent_destroy", BOOL, NOT_BOOLEANS),
    ("[database]", "multi_az", "database.multi_az", BOOL, NOT_BOOLEANS),
    ("[database]", "allocated_storage_gb", "database.allocated_storage_gb", INT, NOT_INTEGERS),
    ("[cost]", "monthly_budget_usd", "cost.monthly_budget_usd", FLOAT, NOT_FLOATS),
    ("[observability.alarms]", "p99_latency_seconds",
     "observability.alarms.p99_latency_seconds", FLOAT, NOT_FLOATS),
    ("[observability.alarms]", "cpu_percent", "observability.alarms.cpu_percent", INT,
     NOT_INTEGERS),
    ('[[services]]\nname = "api"\nport = 8080\npaths = ["/*"]', "read_only_root_filesystem",
     "services.api.read_only_root_filesystem", BOOL, NOT_BOOLEANS),
    ('[[services]]\nname = "api"\nport = 8080\npaths = ["/*"]', "min_tasks",
     "services.api.min_tasks", INT, NOT_INTEGERS),
    ('[[messaging.queues]]\nname = "jobs"', "retention_days",
     "messaging.queues.jobs.retention_days", INT, NOT_INTEGERS),
]
CASES = [(header, key, path, tail, value) for header, key, path, tail, values in FIELDS
         for value in values]


def file_text(header: str | None, key: str, value: str) -> str:
    if header is None:  # a top-level key goes before the first table
        return f"{key} = {value}\n{MINIMAL}"
    return f"{MINIMAL}{header}\n{key} = {value}\n"


@pytest.mark.parametrize("header, key, path, tail, value", CASES,
                         ids=[f"{c[2]}={c[4]}" for c in CASES])
def test_a_value_of_the_wrong_toml_type_is_one_line(tmp_path, header, key, path, tail, value):
    config = tmp_path / "dev.toml"
    config.write_text(file_text(header, key, value))
    with pytest.raises(ConfigError) as caught:
        load_environment(config)
    assert caught.value.problems == [f"{config}: {path}: {value} is not allowed: {tail}"]


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_a_float_field_takes_only_a_finite_number(tmp_path, value):
    # TOML has inf and nan; a budget or a latency threshold of infinity means nothing.
    config = tmp_path / "dev.toml"
    config.write_text(f"{MINIMAL}[cost]\nmonthly_budget_usd = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_environment(config)
    assert caught.value.problems == [
        f"{config}: cost.monthly_budget_usd: {value} is not allowed: write a finite number"]


@pytest.mark.parametrize("text, field, value", [
    ('[baseline]\nenabled = "yes"\n', "baseline.enabled", '"yes"'),
    ("[baseline]\nobject_lock_days = true\n", "baseline.object_lock_days", "true"),
])
def test_the_account_file_is_as_strict(tmp_path, text, field, value):
    path = tmp_path / "account.toml"
    path.write_text('project = "shop"\naccount_id = "123456789012"\nregion = "us-east-1"\n'
                    + text)
    with pytest.raises(ConfigError) as caught:
        load_account(path)
    tail = BOOL if field.endswith("enabled") else INT
    assert caught.value.problems == [f"{path}: {field}: {value} is not allowed: {tail}"]


@pytest.mark.parametrize("header, key, value", [
    (None, "prevent_destroy", "false"),
    ("[database]", "allocated_storage_gb", "30"),
    ("[cost]", "monthly_budget_usd", "80"),  # an integer is a number for a float field
    ("[cost]", "monthly_budget_usd", "79.5"),
])
def test_a_value_of_the_right_toml_type_loads(tmp_path, header, key, value):
    config = tmp_path / "dev.toml"
    config.write_text(file_text(header, key, value))
    section = load_environment(config)
    for part in ([] if header is None else header.strip("[]").split(".")) + [key]:
        section = getattr(section, part)
    expected = tomllib.loads(f"v = {value}")["v"]
    assert section == expected


def test_a_wrong_type_through_main_is_one_line_and_nothing_is_written(tmp_path):
    out = tmp_path / "cdktf.out" / "stacks" / "dev-stack"
    out.mkdir(parents=True)
    (out / "cdk.tf.json").write_text('{"earlier": "synth"}')
    config = tmp_path / "dev.toml"
    config.write_text(f'{MINIMAL}[database]\nmulti_az = "yes"\n')
    before = snapshot(tmp_path / "cdktf.out")
    result = run([sys.executable, str(ROOT / "main.py")], cwd=tmp_path,
                 PLATFORM_CONFIG=str(config))
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr == f'{config}: database.multi_az: "yes" is not allowed: {BOOL}\n'
    assert snapshot(tmp_path / "cdktf.out") == before


# --- every boolean and number field of the schema, not just the ones above ---------------------

def leaf_fields(model: type[BaseModel], path: tuple = ()) -> list[tuple[tuple, type, type]]:
    """(path, model, type) of every bool, int and float field under `model`, lists of tables
    included: the same validation runs for [[services]] as for [database]."""
    found = []
    for name, field in model.model_fields.items():
        kinds = [typing.get_origin(field.annotation) or field.annotation,
                 *typing.get_args(field.annotation)]
        for kind in kinds:
            inner = [kind, *typing.get_args(kind)]
            for t in inner:
                if t in (bool, int, float):
                    found.append(((*path, name), model, t))
                elif isinstance(t, type) and issubclass(t, BaseModel):
                    found += leaf_fields(t, (*path, name))
    return list(dict.fromkeys(found))


SCHEMA_LEAVES = leaf_fields(EnvironmentConfig) + leaf_fields(AccountConfig)
WRONG = {bool: ["yes", "true", 1, 0], int: [True, "2", 2.0], float: [True, "80"]}
ERROR_TYPE = {bool: "bool_type", int: "int_type", float: "float_type"}


def test_the_schema_has_the_fields_this_file_covers():
    kinds = [t for _, _, t in SCHEMA_LEAVES]
    # 29 booleans, 49 integers, 2 floats when this was written; the walk must find them.
    assert kinds.count(bool) >= 25 and kinds.count(int) >= 40 and kinds.count(float) >= 2


@pytest.mark.parametrize("path, model, kind", SCHEMA_LEAVES,
                         ids=[".".join(p) for p, _, _ in SCHEMA_LEAVES])
def test_every_boolean_and_number_field_refuses_other_types(path, model, kind):
    for value in WRONG[kind]:
        with pytest.raises(ValidationError) as caught:
            model.model_validate({path[-1]: value})
        refused = [e["type"] for e in caught.value.errors() if e["loc"] == (path[-1],)]
        assert refused == [ERROR_TYPE[kind]], (path, value, caught.value.errors())


# --- the files the project ships still load ------------------------------------------------------

SHIPPED = sorted([*SAMPLE.glob("*.toml"), *PRESET_FILES,
                  *(ROOT / "tests" / "fixtures").glob("*.toml")])


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_every_shipped_config_loads(path: Path):
    loaded = load_account(path) if path.name.startswith("account") else load_environment(path)
    assert loaded.source == str(path.relative_to(ROOT))
