"""lib/aws.py's fast import must change nothing but speed."""

import sys

import pytest

from conftest import ROOT, run
from tools.bench import COMMANDS, style_env


def synthesized_files(directory):
    out = directory / "cdktf.out"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


@pytest.mark.slow
def test_synth_is_byte_identical_to_the_documented_import_style(tmp_path):
    outputs = {}
    for style, command in COMMANDS.items():
        (tmp_path / style).mkdir()
        result = run(command, cwd=tmp_path / style, **style_env(style))
        assert result.returncode == 0, result.stderr
        outputs[style] = synthesized_files(tmp_path / style)
    assert sorted(outputs["fast"]) == sorted(outputs["documented"])
    assert {"stacks/bootstrap-stack/cdk.tf.json", "stacks/dev-stack/cdk.tf.json",
            "stacks/prod-stack/cdk.tf.json", "stacks/staging-stack/cdk.tf.json",
            "manifest.json"} <= set(outputs["fast"])
    for name, content in outputs["fast"].items():
        assert content == outputs["documented"][name], f"{name} differs"


def test_this_process_loaded_only_the_bindings_lib_aws_lists(stacks):
    from types import ModuleType

    from lib import aws

    listed = {name for name, value in vars(aws).items() if isinstance(value, ModuleType)
              and value.__name__.startswith("cdktf_cdktf_provider_aws.")}
    loaded = {m.split(".")[1] for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")}
    assert loaded - {"_jsii"} == listed
    assert len(listed) < 200  # of the package's ~2,100
