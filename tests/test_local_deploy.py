"""The stack really creates and destroys resources through the AWS API: the full local cycle
against moto on 127.0.0.1 (tools/deploy_local.py), started in the background by conftest.py when
this test is collected; the test runs last and waits for it."""

import json
import os

import pytest

from conftest import MOTO_PYTHON, background

pytestmark = pytest.mark.slow


def test_deploy_plan_destroy_against_a_local_emulator():
    if "local_deploy" not in background:
        message = f"{MOTO_PYTHON} is missing: moto is not installed (run `make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    process = background["local_deploy"]
    process.wait(timeout=1500)
    process.log.seek(0)
    output = process.log.read()
    print(output)
    assert process.returncode == 0, output[-6000:]
    report = json.loads(output[output.index("\n{") + 1:])
    assert {"vpc_id", "url", "database_endpoint", "api_url"} <= set(report["outputs"])
    assert report["second_plan_empty"], "the second plan after deploy is not empty"
    assert report["resources_left"] == 0, "destroy left resources in the state"
    assert report["emulator_exit"] is not None  # the emulator process is gone
    with pytest.raises(ProcessLookupError):
        os.kill(report["emulator_pid"], 0)
