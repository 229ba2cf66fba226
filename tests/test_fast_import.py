"""`python main.py`'s speed-ups (lib/core/aws.py's fast import, `-O`, worker processes) must change
nothing but speed."""

import sys

import pytest

from conftest import run
from tools.bench import COMMANDS, style_env


def synthesized_files(directory):
    out = directory / "cdktf.out"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


@pytest.mark.slow
def test_synth_is_byte_identical_to_the_documented_import_style_and_with_type_checks(tmp_path):
    """Both styles of `make bench` ("fast" split over two worker processes whatever this machine's
    CPU count; "documented" built in one process, its jsii kernel already running), and main.py
    in one worker with the bindings' type checks on (no `-O`)."""
    runs = {"fast": (COMMANDS["fast"], {**style_env("fast"), "PLATFORM_SYNTH_WORKERS": "2"}),
            "documented": (COMMANDS["documented"], style_env("documented")),
            "type checks": (COMMANDS["fast"], {**style_env("fast"), "PLATFORM_TYPE_CHECKS": "1",
                                               "PLATFORM_SYNTH_WORKERS": "1"})}
    outputs = {}
    for name, (command, env) in runs.items():
        (tmp_path / name).mkdir()
        result = run(command, cwd=tmp_path / name, **env)
        assert result.returncode == 0, result.stderr
        outputs[name] = synthesized_files(tmp_path / name)
    assert {"stacks/bootstrap-stack/cdk.tf.json", "stacks/dev-stack/cdk.tf.json",
            "stacks/prod-stack/cdk.tf.json", "stacks/staging-stack/cdk.tf.json",
            "manifest.json"} <= set(outputs["fast"])
    for other in ("documented", "type checks"):
        assert sorted(outputs["fast"]) == sorted(outputs[other]), other
        for name, content in outputs["fast"].items():
            assert content == outputs[other][name], f"{name} differs from {other}"


def test_this_process_loaded_only_the_bindings_lib_aws_lists(stacks):
    from types import ModuleType

    from lib.core import aws, cdk

    listed = {name for name, value in vars(aws).items() if isinstance(value, ModuleType)
              and value.__name__.startswith(f"{cdk.BINDINGS}.")}
    loaded = {m.split(".")[1] for m in sys.modules if m.startswith(f"{cdk.BINDINGS}.")}
    assert loaded - {"_jsii"} == listed
    assert len(listed) < 200  # of the package's ~2,100
