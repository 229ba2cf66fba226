"""The stacks really create and destroy resources through the AWS API: the full local cycle of
dev, prod, the lean preset and seed 003's portfolio (dev), side by side, each against its own moto on 127.0.0.1 (tools/deploy_local.py),
started in the background by conftest.py when this test is collected; the test runs last and
waits for it."""

import json

import pytest

from conftest import LOCAL_DEPLOY_CONFIGS, MOTO_PYTHON, background_result
from tools.deploy_local import label

pytestmark = pytest.mark.slow

# Outputs a user reads after a deploy, per environment: what each must have produced.
EXPECTED_OUTPUTS = {
    "dev": {"vpc_id", "url", "database_endpoint", "api_url", "redis_primary_endpoint"},
    "prod": {"vpc_id", "url", "database_endpoint", "database_secret_arn", "api_url",
             "static_url", "static_distribution_id", "user_pool_id"},
    # The HTTP API's URL in front of the function, the repository CI pushes to.
    "lean": {"vpc_id", "url", "database_endpoint", "redis_primary_endpoint",
             "api_repository_url"},
    # What tools/run_task.py reads to run the migrate task, and the zone to delegate.
    "portfolio": {"vpc_id", "url", "database_endpoint", "redis_primary_endpoint", "cluster_name",
                  "private_subnet_ids", "tasks", "name_servers"},
}


def test_deploy_plan_destroy_against_a_local_emulator():
    returncode, output = background_result(
        "local_deploy", f"{MOTO_PYTHON} is missing: moto is not installed (run `make install`)",
        timeout=1500)
    print(output)
    assert returncode == 0, output[-6000:]
    # By file: the portfolio preset's stack is a dev-stack too.
    reports = {r["config"]: r for r in json.loads(output[output.rindex("\n[\n") + 1:])}
    files = {env: label(path) for env, path in LOCAL_DEPLOY_CONFIGS.items()}
    assert sorted(reports) == sorted(files.values())
    for env, file in files.items():
        report = reports[file]
        assert report["resources_deployed"] == report["resources_declared"], (
            f"{env}: {report['resources_deployed']} of {report['resources_declared']} declared "
            "resources exist after the deploy")
        missing = {name for name in EXPECTED_OUTPUTS[env] if not report["outputs"].get(name)}
        assert not missing, f"{env}: outputs missing or empty after the deploy: {sorted(missing)}"
        assert report["second_plan_empty"], f"{env}: the second plan after deploy is not empty"
        # tools/deploy_local.py destroys once: a destroy that needs a second attempt fails there.
        assert report["resources_left"] == 0, f"{env}: destroy left resources in the state"
