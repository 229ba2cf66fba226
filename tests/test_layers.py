"""The folder tree is the architecture (docs/design.md, "Layers, and who may import whom"), held
by the import graph: a construct gets everything through its props, so it can be used in anyone's
CDKTF app; only stacks read the config; what reads synthesized JSON builds nothing."""

import ast
from pathlib import Path

import pytest

from conftest import ROOT

LIB = ROOT / "lib"
# Constructs grouped by layer: each imports only lib.core, other construct layers and libraries.
CONSTRUCT_LAYERS = ("network", "data", "compute", "identity", "edge", "serverless",
                    "observability", "delivery", "targets")
MAX_MODULE_LINES = 500


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    """Every module `path` imports, as dotted names (`from lib.core import aws` counts as both
    lib.core and lib.core.aws)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    """One line per forbidden import (`from lib.config import X` is reported as lib.config)."""
    found = []
    for path in modules(folder):
        hits = {name for name in imported(path) if any(within(name, f) for f in forbidden)}
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        found += [f"{where} imports {name}" for name in sorted(hits)
                  if not any(other != name and within(name, other) for other in hits)]
    return found


@pytest.mark.parametrize("layer", CONSTRUCT_LAYERS)
def test_constructs_never_import_the_config_or_a_stack(layer):
    assert (LIB / layer).is_dir()
    assert violations(LIB / layer, ("lib.config", "stacks", "lib.analysis")) == []


def test_core_imports_no_other_layer():
    others = tuple(f"lib.{p.name}" for p in LIB.iterdir() if p.is_dir() and p.name not in
                   ("core", "__pycache__"))
    assert violations(LIB / "core", others + ("stacks",)) == []


def test_the_config_builds_nothing():
    """The schema and loader need no CDKTF, no AWS bindings and no construct: `make synth` reports
    a config mistake before the jsii kernel starts."""
    assert violations(LIB / "config", ("cdktf", "constructs", "stacks", "cdktf_cdktf_provider_aws",
                                       "cdktn", "cdktn_provider_aws", "lib.core.cdk",
                                       *(f"lib.{layer}" for layer in CONSTRUCT_LAYERS),
                                       "lib.core.aws", "lib.analysis")) == []


def test_only_lib_core_cdk_chooses_the_cdk():
    """CDK for Terraform or CDK Terrain, and their AWS bindings: lib/core/cdk.py decides which
    (README, "CDK Terrain (cdktn)"); everything else imports the core's classes from it and the
    bindings through lib/core/aws.py, so no module names either package in an import."""
    packages = ("cdktf", "cdktn", "cdktf_cdktf_provider_aws", "cdktn_provider_aws")
    found = []
    for folder in (LIB, ROOT / "stacks", ROOT / "tools", ROOT / "tests"):
        found += violations(folder, packages)
    assert found + violations_of(ROOT / "main.py", packages) == []


def violations_of(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.name} imports {name}" for name in sorted(imported(path))
            if any(within(name, f) for f in forbidden)]


def test_analysis_reads_json_only():
    assert violations(LIB / "analysis", ("cdktf", "constructs", "stacks", "lib.config",
                                         *(f"lib.{layer}" for layer in CONSTRUCT_LAYERS))) == []


def test_the_checks_above_see_a_violation(tmp_path):
    """The graph walk itself: a construct importing the config is caught, in every import form."""
    layer = tmp_path / "data"
    layer.mkdir()
    (layer / "a.py").write_text("from lib.config import DatabaseConfig\n")
    (layer / "b.py").write_text("import lib.config.loader\n")
    (layer / "c.py").write_text("from lib import config\nfrom stacks.environment import X\n")
    (layer / "d.py").write_text("from lib.core import naming\n")
    found = violations(layer, ("lib.config", "stacks"))
    assert [v.split(" imports ")[1] for v in found] == [
        "lib.config", "lib.config.loader", "lib.config", "stacks.environment"], found


def test_no_module_over_500_lines():
    """A module past ~500 lines holds two ideas (docs/design.md)."""
    code = [*modules(ROOT / "lib"), *modules(ROOT / "stacks"), *modules(ROOT / "tools"),
            *modules(ROOT / "tests"), ROOT / "main.py"]
    long = {str(p.relative_to(ROOT)): n for p in code
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}
