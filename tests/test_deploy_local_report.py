"""What `make deploy-local` prints when a step fails: one line saying what failed and whose
failure it is (the emulator's, a guard the local target should turn off, a missing tool, the
file's), the path of the full log, a non-zero exit, no Python traceback and nothing written in
the project. The classifier (tools/local_failures.py) is fed Terraform output captured from real
runs against moto; no cycle runs here (the one full cycle is tests/test_local_deploy.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE
from tools import deploy_local
from tools.local_failures import explain, terraform_errors

# `cdktf deploy` against moto when the local target still created an ElastiCache parameter group
# (captured from a real cycle): moto answers 500 and the AWS SDK gives up after its retries. The
# cdktf CLI puts the stack name before Terraform's `Error:` and the construct path after the
# address.
PARAMETER_GROUP_500 = """\
1 Stack deploying     0 Stacks done     0 Stacks waiting
dev-stack  Error: creating ElastiCache Parameter Group (portfolio-dev-redis-redis7): operation \
error ElastiCache: CreateCacheParameterGroup, exceeded maximum number of attempts, 2, https \
response error StatusCode: 500, RequestID: , error while deserializing xml error response: XML \
syntax error on line 2: unquoted or missing attribute value in element

             with aws_elasticache_parameter_group.cache_parameters_40CE81C8 (cache/parameters),
             on cdk.tf.json line 1426, in resource.aws_elasticache_parameter_group\
.cache_parameters_40CE81C8 (cache/parameters):
           1426:       }

0 Stacks deploying     1 Stack done     0 Stacks waiting
Invoking Terraform CLI failed with exit code 1
"""
# What moto's server logs for the same request.
MOTO_NOT_IMPLEMENTED = """\
  File "moto/core/responses.py", line 563, in call_action
    raise NotImplementedError(f"The {action} action has not been implemented")
NotImplementedError: The create_cache_parameter_group action has not been implemented
"""
# `cdktf destroy` of a DB instance created with deletion_protection = true (captured from a real
# cycle). "The database can't be deleted when deletion protection is enabled" (Amazon RDS API
# Reference, DBInstance.DeletionProtection; RDS User Guide, "Deleting a DB instance"). A destroy's
# diagnostic names no resource: the one Terraform started and never finished is the one.
PROTECTED_DATABASE = """\
dev-stack  aws_db_instance.database_primary_D3810515 (database/primary): Destroying... \
[id=db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U]
dev-stack  aws_kms_alias.messaging-key_alias_A8406F6A (messaging-key/alias): Destroying... \
[id=alias/portfolio-dev-messaging]
dev-stack  aws_kms_alias.messaging-key_alias_A8406F6A (messaging-key/alias): Destruction \
complete after 0s
dev-stack  Error: deleting RDS DB Instance (portfolio-dev-db): operation error RDS: \
DeleteDBInstance, https response error StatusCode: 400, RequestID: N7bMSeXM, api error \
InvalidParameterCombination: Cannot delete protected DB Instance, please disable deletion \
protection and try again.


0 Stacks destroying     1 Stack done     0 Stacks waiting
Invoking Terraform CLI failed with exit code 1
"""
# Terraform itself refusing a destroy (Terraform docs, "The lifecycle Meta-Argument",
# prevent_destroy), as Terraform 1.x prints it.
PREVENT_DESTROY = """\
Error: Instance cannot be destroyed

  on cdk.tf.json line 120:
 120:       "aws_s3_bucket.media": {

Resource aws_s3_bucket.media has lifecycle.prevent_destroy set, but the plan
calls for this resource to be destroyed.
"""
# A 4xx that is neither: AWS's own validation (ValidationError, HTTP 400, "Common Errors", AWS
# API references), which the emulator answers as AWS would: no one is blamed, the error is shown.
QUEUE_400 = """\
Error: creating SQS Queue (shop-dev-jobs): operation error SQS: CreateQueue, https response \
error StatusCode: 400, RequestID: 1, InvalidAttributeValue: Invalid value for the parameter \
MessageRetentionPeriod.

  with aws_sqs_queue.messaging_jobs_9A8B,
  on cdk.tf.json line 40, in resource.aws_sqs_queue.messaging_jobs_9A8B:
Error: terraform apply failed
"""
SECOND_PLAN = """\
Terraform will perform the following actions:

  # aws_sqs_queue.messaging_jobs_9A8B will be updated in-place
  ~ resource "aws_sqs_queue" "messaging_jobs_9A8B" {
        id                                = "http://127.0.0.1/123456789012/shop-dev-jobs"
      ~ redrive_policy                    = jsonencode(
            # (1 unchanged attribute hidden)
        )
        # (20 unchanged attributes hidden)
    }

Plan: 0 to add, 1 to change, 0 to destroy.
"""


def test_an_emulator_gap_names_the_call_the_resource_type_and_the_adjustment():
    line = explain("deploy", PARAMETER_GROUP_500, MOTO_NOT_IMPLEMENTED)
    assert line.startswith("the emulator (moto) cannot CreateCacheParameterGroup "
                           "(not implemented) at aws_elasticache_parameter_group."), line
    assert "lib/targets/local.py for aws_elasticache_parameter_group" in line
    assert "NOT_EMULATED" in line and "\n" not in line


def test_a_server_error_is_the_emulators_even_without_its_log():
    # InternalFailure is HTTP 500 ("Common Errors", any AWS API reference); AWS's validation
    # answers 4xx, so against the emulator a 5xx is moto's.
    line = explain("deploy", PARAMETER_GROUP_500)
    assert line.startswith("the emulator (moto) cannot CreateCacheParameterGroup (HTTP 500) "
                           "at aws_elasticache_parameter_group.cache_parameters_40CE81C8: "), line


# What the cdktf CLI printed when moto had no route for CloudFront's CreateVpcOrigin: the SDK's
# error wrapped over lines, with the CLI's progress lines and the stack name in between.
VPC_ORIGIN_404 = """\
prod-stack  Error: creating CloudFront VPC Origin

              with aws_cloudfront_vpc_origin.alb-origin_vpc-origin_80C91A00 (alb-origin/vpc-origin),
              on cdk.tf.json line 1479, in resource.aws_cloudfront_vpc_origin.alb-origin_...:
            1479:       }

            operation error CloudFront: CreateVpcOrigin, https response error StatusCode:


1 Stack deploying     0 Stacks done     0 Stacks waiting
prod-stack  404, RequestID: , error while deserializing xml error response: XML syntax
            error on line 2: unquoted or missing attribute value in element
"""


def test_a_call_the_emulator_has_no_route_for_is_the_emulators():
    # Every AWS answer carries a request id ("Common Errors": RequestId in every error
    # response); a 404 without one, whose body is not an AWS error document, is the emulator's.
    line = explain("deploy", VPC_ORIGIN_404)
    assert line.startswith("the emulator (moto) cannot CreateVpcOrigin (HTTP 404, not an AWS "
                           "answer: no such API there) at aws_cloudfront_vpc_origin."), line
    assert "lib/targets/local.py for aws_cloudfront_vpc_origin" in line and "\n" not in line
    # A real AWS 404 (a request id, an AWS error document) stays Terraform's error.
    real = VPC_ORIGIN_404.replace("RequestID: ,", "RequestID: 3f1c0e7a-0000-4000-8000-1,")
    assert "emulator" not in explain("deploy", real)


def test_a_call_moto_lacks_elsewhere_is_not_blamed_for_this_error():
    log = "NotImplementedError: The list_tags_for_resource action has not been implemented\n"
    assert "emulator" not in explain("deploy", QUEUE_400, log)


def test_a_protected_database_asks_for_the_local_target_to_turn_the_guard_off():
    line = explain("destroy", PROTECTED_DATABASE)
    assert line.startswith("destroy failed at aws_db_instance.database_primary_D3810515: deletion "
                           "protection refuses it: turn it off for the local target, "
                           "aws_db_instance in PROTECTED in lib/targets/local.py"), line


def test_prevent_destroy_is_named_with_its_resource():
    line = explain("destroy", PREVENT_DESTROY)
    assert line.startswith("destroy failed at aws_s3_bucket.media: lifecycle.prevent_destroy "
                           "refuses it: leave it out for the local target"), line


def test_an_unknown_error_falls_back_to_terraforms_first_error_with_its_resource():
    # The first diagnostic is the cause; the cdktf CLI's closing "Error: terraform apply
    # failed" names no resource.
    assert [e.address for e in terraform_errors(QUEUE_400)] == [
        "aws_sqs_queue.messaging_jobs_9A8B", None]
    assert explain("deploy", QUEUE_400) == (
        "deploy failed at aws_sqs_queue.messaging_jobs_9A8B: creating SQS Queue (shop-dev-jobs): "
        "operation error SQS: CreateQueue, HTTP 400, "
        "InvalidAttributeValue: Invalid value for the parameter MessageRetentionPeriod.")


# A CI run's destroy failed with a line cut before the SDK's cause, and the log file stayed on
# the CI machine: the line keeps the start (what was done) and the end (why), not the request id.
ROUTE_TABLE_200 = """\
prod-stack  aws_route_table.network_private-rt-c_22C05B44: Destroying... [id=rtb-0b731d83ae4fa9b1]
prod-stack  Error: reading Route Table (rtb-0b731d83ae4fa9b14): operation error EC2: \
DescribeRouteTables, exceeded maximum number of attempts, 2, https response error StatusCode: \
200, RequestID: FsQuMzw61ydDnO6I1mWJ0vXgVQ3Xhx8bqLQ5Xyq2Xy8u0Zr2Qw, deserialization failed, \
failed to decode response body, read tcp 127.0.0.1:52044->127.0.0.1:36783: read: connection \
reset by peer
"""


def test_a_long_sdk_error_keeps_its_cause_and_drops_the_request_id():
    line = explain("destroy", ROUTE_TABLE_200)
    assert line.startswith(
        "destroy failed at aws_route_table.network_private-rt-c_22C05B44: "
        "reading Route Table (rtb-0b731d83ae4fa9b14): operation error EC2: "), line
    assert line.endswith("read: connection reset by peer"), line
    assert "RequestID" not in line and "HTTP 200" in line, line
    assert len(line) <= 400, len(line)


def test_output_without_an_error_line_falls_back_to_its_last_line():
    assert explain("synth", "Synthesizing\nModuleNotFoundError: No module named 'cdktf'\n\n") == \
        "synth failed: ModuleNotFoundError: No module named 'cdktf'"


def test_a_non_empty_second_plan_names_what_drifts_and_where_to_ignore_it():
    line = explain("second plan", SECOND_PLAN)
    assert line.startswith("the second plan is not empty: "
                           "aws_sqs_queue.messaging_jobs_9A8B (redrive_policy):"), line
    assert "DRIFTING in lib/targets/local.py" in line


def test_each_step_prints_one_line_as_it_ends_and_a_failure_says_why(tmp_path, capsys):
    emulator_log = tmp_path / "emulator.log"
    emulator_log.write_text(MOTO_NOT_IMPLEMENTED)
    steps = deploy_local.Cycle("config/dev.toml", {}, emulator_log)
    steps.run("synth", [sys.executable, "-c", "print('done')"], tmp_path, 60,
              detail=lambda output: output.strip())
    script = f"import sys; sys.stdout.write({PARAMETER_GROUP_500!r}); sys.exit(1)"
    with pytest.raises(deploy_local.StepFailed) as failed:
        steps.run("deploy", [sys.executable, "-c", script], tmp_path, 60)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["config/dev.toml", "synth", lines[0].split()[2], "s", "ok",
                                "done"]
    assert lines[1].split()[1:] == ["deploy", lines[1].split()[2], "s", "FAILED"]
    assert failed.value.step == "deploy"
    assert failed.value.why.startswith("the emulator (moto) cannot CreateCacheParameterGroup")
    assert failed.value.output == PARAMETER_GROUP_500  # all of it, for the log file


def test_a_missing_tool_says_to_install(tmp_path):
    steps = deploy_local.Cycle("config/dev.toml", {}, tmp_path / "emulator.log")
    with pytest.raises(deploy_local.StepFailed) as failed:
        steps.run("synth", [deploy_local.RUN, "no-such-tool-here"], tmp_path, 60)
    assert failed.value.why == "no-such-tool-here is not installed (exit 127): run `make install`"


def test_a_failed_cycle_is_one_line_and_a_log_outside_the_project(monkeypatch, capsys):
    def cycle(config, workdir):
        raise KeyError("a bug in the cycle")

    monkeypatch.setattr(deploy_local, "MOTO_PYTHON", Path(sys.executable))
    monkeypatch.setattr(deploy_local, "warm_plugin_cache", lambda: None)
    monkeypatch.setattr(deploy_local, "cycle", cycle)
    assert deploy_local.main([str(SAMPLE / "dev.toml")]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == ""
    failed, log_line = out.strip().splitlines()
    assert failed.split()[:5] == ["tests/fixtures/sample/dev.toml", "FAILED", "at",
                                  "deploy_local.py", "after"]
    assert failed.endswith("internal error in tools/deploy_local.py: KeyError: 'a bug in the "
                           "cycle'")
    log = Path(log_line.split("full log: ")[1])
    assert not log.is_relative_to(ROOT) and "KeyError" in log.read_text()
    log.unlink()


def test_an_error_outside_a_cycle_is_one_line_too(monkeypatch, capsys):
    def broken():
        raise OSError("no space left on device")

    monkeypatch.setattr(deploy_local, "MOTO_PYTHON", Path(sys.executable))
    monkeypatch.setattr(deploy_local, "warm_plugin_cache", broken)
    assert deploy_local.main([str(SAMPLE / "dev.toml")]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and len(out.strip().splitlines()) == 1
    assert out.startswith("internal error in tools/deploy_local.py: OSError: no space left")
    Path(out.split("(traceback in ")[1].rstrip(")\n")).unlink()


def test_a_wrong_file_stops_before_anything_starts(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "dev.toml"
    bad.write_text((SAMPLE / "dev.toml").read_text().replace(
        "[network]", "[network]\nnat_mode = \"single\"", 1))
    monkeypatch.setattr(deploy_local, "MOTO_PYTHON", Path(sys.executable))
    monkeypatch.setattr(deploy_local, "warm_plugin_cache", lambda: pytest.fail("started"))
    assert deploy_local.main([str(bad)]) == 2
    out = capsys.readouterr().out
    assert out.splitlines() == [line for line in out.splitlines() if line.startswith(str(bad))]
    assert "network.nat_mode: unknown key" in out


@pytest.mark.parametrize("arguments, expected", [
    ([], "tools/deploy_local.py config/dev.toml"),
    (["CONFIG=examples/portfolio.toml"], "tools/deploy_local.py examples/portfolio.toml"),
])
def test_make_deploy_local_takes_one_file(arguments, expected):
    # -n prints the recipe without running it; -o install skips the prerequisite.
    shown = subprocess.run(["make", "--no-print-directory", "-n", "-o", "install", "deploy-local",
                            *arguments],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert shown.strip().endswith(expected), shown
