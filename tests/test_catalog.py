"""The dated catalog of what AWS creates today (pricing/aws-catalog.toml) and the config's use of
it: a retired PostgreSQL minor or a major past standard support is refused with the newest minor
of that major named, node types that do not exist are refused with what their family offers.

Sources: "Release calendars for Amazon RDS for PostgreSQL" (RDS for PostgreSQL Release Notes),
"Supported engines and versions - Amazon ElastiCache", "CacheNode - Amazon ElastiCache" (API
Reference: the node types per family), "DB instance class types" (RDS User Guide).
"""

import datetime
import tomllib
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG as MINIMAL, PRESET_FILES, ROOT
from lib.config import ConfigError, load_environment

CATALOG = ROOT / "pricing" / "aws-catalog.toml"


def catalog() -> dict:
    return tomllib.loads(CATALOG.read_text())


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "dev.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    return caught.value.problems


def loads(tmp_path: Path, text: str):
    path = tmp_path / "dev.toml"
    path.write_text(text)
    return load_environment(path)


# --- the file itself --------------------------------------------------------------------------

def test_every_section_names_its_source_and_a_date_not_in_the_future():
    data = catalog()
    today = datetime.date.today()
    assert datetime.date.fromisoformat(data["as_of"]) <= today
    sections = {k: v for k, v in data.items() if isinstance(v, dict)}
    assert {"rds_postgres", "elasticache_redis", "rds_instance_classes",
            "elasticache_node_types"} <= set(sections)
    for name, section in sections.items():
        assert section.get("source", "").strip(), f"[{name}] names no source"
        assert datetime.date.fromisoformat(section["as_of"]) <= today, name


def test_every_listed_major_is_in_standard_support_today():
    """A major whose RDS standard support has ended since the catalog was compiled must move to
    retired_majors: the catalog is stale, not the config."""
    today = datetime.date.today()
    for major, entry in catalog()["rds_postgres"]["majors"].items():
        assert datetime.date.fromisoformat(entry["standard_support_ends"]) >= today, major
        assert entry["minors"] and all(m.split(".")[0] == major for m in entry["minors"]), major


def test_the_code_holds_no_version_or_node_type_list_of_its_own():
    source = (ROOT / "lib" / "config" / "catalog.py").read_text()
    for literal in ('"16.', '"7.1"', '"24xlarge"', '"16xlarge"', "(13, 14"):
        assert literal not in source, literal


# --- PostgreSQL versions ----------------------------------------------------------------------

@pytest.mark.parametrize("version, words", [
    ("16.3", "'16.3' is no longer created by RDS; use '16.13' (the newest 16 minor) or just '16'"),
    ("15.4", "'15.4' is no longer created by RDS; use '15.17' (the newest 15 minor) or just '15'"),
    ("16.99", "'16.99' is not a PostgreSQL 16 minor RDS creates"),
    ("13", "'13' is past RDS standard support (ended 2026-02-28; RDS would create it only "
           "under paid Extended Support); use a major 14-18, e.g. '17'"),
    ("13.20", "'13.20' is past RDS standard support (ended 2026-02-28"),
    ("9.6", "'9.6' is not a PostgreSQL version RDS creates; allowed: a major (14, 15, 16, 17, "
            "18) or major.minor such as 17.9"),
])
def test_a_version_rds_does_not_create_is_refused_with_what_to_use(tmp_path, version, words):
    found = problems(tmp_path, MINIMAL + f'[database]\nengine_version = "{version}"\n')
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'dev.toml'}: database.engine_version: "), found
    assert words in found[0], found


@pytest.mark.parametrize("version", ["14", "16", "17", "18", "16.11", "16.13", "18.3"])
def test_a_current_major_or_minor_loads(tmp_path, version):
    config = loads(tmp_path, MINIMAL + f'[database]\nengine_version = "{version}"\n')
    assert config.database.engine_version == version


# --- Redis versions and node types ------------------------------------------------------------

def test_a_redis_version_without_iam_authentication_is_refused(tmp_path):
    found = problems(tmp_path, MINIMAL + '[cache]\nengine_version = "6.2"\n')
    assert len(found) == 1 and "cache.engine_version: '6.2' is not allowed" in found[0], found
    assert "allowed: 7.0, 7.1" in found[0], found


@pytest.mark.parametrize("node_type, words", [
    ("cache.m5.8xlarge", "'cache.m5.8xlarge' is not an ElastiCache node type; cache.m5 comes in "
                         "large, xlarge, 2xlarge, 4xlarge, 12xlarge, 24xlarge"),
    ("cache.m5.16xlarge", "cache.m5 comes in large, xlarge, 2xlarge, 4xlarge, 12xlarge, 24xlarge"),
    ("cache.r5.8xlarge", "cache.r5 comes in large, xlarge, 2xlarge, 4xlarge, 12xlarge, 24xlarge"),
    ("cache.t4g.large", "cache.t4g comes in micro, small, medium"),
    ("cache.x9.large", "'cache.x9.large' is not an ElastiCache node type; families:"),
])
def test_a_node_type_that_does_not_exist_is_refused_with_its_family(tmp_path, node_type, words):
    found = problems(tmp_path, MINIMAL + f'[cache]\nnode_type = "{node_type}"\n')
    assert len(found) == 1 and "cache.node_type: " in found[0] and words in found[0], found


@pytest.mark.parametrize("node_type", ["cache.m5.24xlarge", "cache.r5.12xlarge",
                                       "cache.r7g.16xlarge", "cache.t4g.micro"])
def test_a_node_type_that_exists_loads(tmp_path, node_type):
    assert loads(tmp_path, MINIMAL + f'[cache]\nnode_type = "{node_type}"\n').cache.node_type \
        == node_type


@pytest.mark.parametrize("instance_class, ok", [
    ("db.m5.24xlarge", True), ("db.m5.48xlarge", False), ("db.m7i.48xlarge", True),
    ("db.m7g.24xlarge", False), ("db.t4g.micro", True), ("db.t4g.mirco", False),
])
def test_rds_instance_classes_follow_the_catalog(tmp_path, instance_class, ok):
    text = MINIMAL + f'[database]\ninstance_class = "{instance_class}"\n'
    if ok:
        assert loads(tmp_path, text).database.instance_class == instance_class
    else:
        (line,) = problems(tmp_path, text)
        assert f"database.instance_class: '{instance_class}' is not" in line, line


# --- the presets ------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESET_FILES))
def test_every_preset_pins_what_aws_creates_today(preset):
    config = load_environment(ROOT / "examples" / f"{preset}.toml")
    version = config.database.engine_version
    majors = catalog()["rds_postgres"]["majors"]
    assert version in majors or version in majors[version.split(".")[0]]["minors"], version
    assert config.cache.engine_version in catalog()["elasticache_redis"]["versions"]
