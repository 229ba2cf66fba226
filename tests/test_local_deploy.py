"""The stack really creates and destroys resources through the AWS API: the full local cycle
against moto on 127.0.0.1 (tools/deploy_local.py)."""

import os
import time

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow
MOTO = ROOT / ".tools" / "moto" / "bin" / "python"


def test_deploy_plan_destroy_against_a_local_emulator(tmp_path):
    if not MOTO.exists():
        message = "moto is not installed (run `make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from tools.deploy_local import cycle

    start = time.monotonic()
    report = cycle(tmp_path)
    elapsed = time.monotonic() - start
    print(f"local deploy cycle: {elapsed:.0f} s ({report})")
    assert {"vpc_id", "url", "database_endpoint", "api_url"} <= set(report["outputs"])
    assert report["second_plan_empty"], "the second plan after deploy is not empty"
    assert report["resources_left"] == 0, "destroy left resources in the state"
    assert report["emulator_exit"] is not None  # the emulator process is gone
    with pytest.raises(ProcessLookupError):
        os.kill(report["emulator_pid"], 0)
