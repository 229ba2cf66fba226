"""The README's config reference is generated from the schema, and the schema documents every key."""

import typing

import pytest
from pydantic import BaseModel

from lib.config import AccountConfig, EnvironmentConfig
from tools import config_reference


def test_the_committed_config_reference_is_what_the_schema_generates():
    text = config_reference.README.read_text(encoding="utf-8")
    assert config_reference.update(text) == text, \
        "README.md's config reference is stale: run `make docs` and commit README.md"


def test_check_fails_on_a_stale_reference_and_passes_on_a_fresh_one(tmp_path, monkeypatch,
                                                                   capsys):
    readme = tmp_path / "README.md"
    fresh = config_reference.README.read_text(encoding="utf-8")
    monkeypatch.setattr(config_reference, "README", readme)
    readme.write_text(fresh.replace("| `network.az_count` | `2` |", "| `network.az_count` | `9` |"))
    assert config_reference.main(["--check"]) == 1
    assert capsys.readouterr().err.strip() == \
        "README.md: the config reference is stale; run `make docs`"
    assert config_reference.main([]) == 0
    assert readme.read_text() == fresh
    assert config_reference.main(["--check"]) == 0


def _models(annotation) -> list[type[BaseModel]]:
    """The section models inside a field's type: `Model`, `Model | None`, `list[Model]`..."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _every_model(root: type[BaseModel], found: dict[str, type[BaseModel]]) -> dict:
    found[root.__name__] = root
    for field in root.model_fields.values():
        for model in _models(field.annotation):
            if model.__name__ not in found:
                _every_model(model, found)
    return found


MODELS = _every_model(AccountConfig, _every_model(EnvironmentConfig, {}))


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_every_config_model_and_field_is_documented(model):
    assert (model.__doc__ or "").strip(), f"{model.__name__} has no docstring"
    undocumented = [name for name, field in model.model_fields.items()
                    if not (field.description or "").strip()]
    assert not undocumented, f"{model.__name__}: no description on {', '.join(undocumented)}"


def test_the_walk_reaches_the_nested_sections():
    assert {"SubnetCidrs", "AlarmThresholds", "QueueConfig", "ServiceConfig", "SecretConfig",
            "Ec2CapacityConfig", "GithubAccountConfig", "BaselineConfig"} <= set(MODELS)
