"""Images (issue 18 item 5): CI tags each image immutably by commit, promotes it between
environments by digest, deploys it by digest, and ECR's lifecycle expires old images but never
one a running task definition names."""

import json
import os
import re
import subprocess
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

import pytest
import yaml

import contracts
import iam_reference
from conftest import ROOT, SynthStack
from lib.compute.ecr import COMMIT_TAGS, DEPLOYED_TAGS

WORKFLOW = ROOT / ".github" / "workflows" / "images.yml"
ACCOUNT, REGION = "123456789012", "us-east-1"
NOW = datetime(2026, 12, 1)


def rules_of(stack: SynthStack, service: str = "backend") -> list[dict]:
    return json.loads(stack.resource("aws_ecr_lifecycle_policy", f"{service}-images/lifecycle")
                      ["policy"])["rules"]


def expired(rules: list[dict], images: list[tuple[str, datetime, tuple[str, ...]]]) -> set[str]:
    """The images ECR expires, by the rules AWS documents (Amazon ECR User Guide, "Automate the
    cleanup of images by using lifecycle policies", lifecycle policy evaluation rules, and
    "Lifecycle policy properties in Amazon ECR"):
    - rules apply from the lowest rulePriority; an image is expired by exactly one rule or none;
    - an image that matches the tagging requirements of a rule cannot be expired by a rule with a
      lower priority; rules never mark images a higher priority rule matched, but still count
      them as if they had not been expired;
    - tagPatternList selects an image when every pattern matches one of its tags; `untagged`
      selects images without tags;
    - imageCountMoreThan keeps the newest by push time; sinceImagePushed expires older ones.
    `images`: (name, pushed at, tags)."""
    def selects(rule: dict, tags: tuple[str, ...]) -> bool:
        selection = rule["selection"]
        if selection["tagStatus"] == "untagged":
            return not tags
        return bool(tags) and all(any(fnmatchcase(t, p) for t in tags)
                                  for p in selection["tagPatternList"])

    ordered = sorted(rules, key=lambda r: r["rulePriority"])
    owner = {name: next((r["rulePriority"] for r in ordered if selects(r, tags)), None)
             for name, _, tags in images}
    gone = set()
    for rule in ordered:
        selection = rule["selection"]
        matched = sorted((i for i in images if selects(rule, i[2])), key=lambda i: i[1],
                         reverse=True)
        if selection["countType"] == "imageCountMoreThan":
            marked = matched[selection["countNumber"]:]
        else:
            marked = [i for i in matched
                      if NOW - i[1] > timedelta(days=selection["countNumber"])]
        gone |= {name for name, _, _ in marked if owner[name] == rule["rulePriority"]}
    return gone


def test_the_repositories_keep_tags_immutable(stacks, presets):
    """ECR User Guide, "Preventing image tags from being overwritten": with tag immutability a
    push of an existing tag fails (ImageTagAlreadyExistsException)."""
    for stack in (*stacks.values(), *presets.values()):
        for path, repo in stack.resources("aws_ecr_repository").items():
            assert repo["image_tag_mutability"] == "IMMUTABLE", (stack.name, path)


def test_the_lifecycle_keeps_30_builds_10_releases_and_every_image_in_use(dev):
    rules = rules_of(dev)
    day = timedelta(days=1)
    builds = [(f"build-{i}", NOW - (200 - i) * day, (f"sha-{i:040x}",)) for i in range(200)]
    running = ("build-5", builds[5][1], ("sha-" + "5".rjust(40, "0"), "deployed-9-1"))
    rolling_back_to = ("build-150", builds[150][1], (builds[150][2][0], "deployed-8-1"))
    releases = [(f"release-{i}", NOW - (300 - i) * day, (f"v1.{i}.0",)) for i in range(12)]
    untagged = [("untagged-new", NOW - 2 * day, ()), ("untagged-old", NOW - 9 * day, ())]
    first = [("bootstrap", NOW - 400 * day, ("bootstrap",))]
    images = [*builds[:5], running, *builds[6:150], rolling_back_to, *builds[151:],
              *releases, *untagged, *first]
    kept = {name for name, _, _ in images} - expired(rules, images)
    assert kept == {*(f"build-{i}" for i in range(170, 200)), "build-5", "build-150",
                    "release-10", "release-11", *(f"release-{i}" for i in range(2, 10)),
                    "untagged-new", "bootstrap"}
    assert {r["selection"]["countNumber"] for r in rules
            if r["selection"].get("tagPatternList") == [COMMIT_TAGS]} == {30}


def test_an_image_both_released_and_built_counts_once_for_each_rule(dev):
    """A `v*` image that also carries its sha- tag belongs to the release rule: the sha-* count
    still counts it (so fewer than 30 sha-only images may remain), but never expires it."""
    rules = rules_of(dev)
    day = timedelta(days=1)
    images = [(f"build-{i}", NOW - (40 - i) * day, (f"sha-{i:040x}",)) for i in range(40)]
    images[0] = ("release", images[0][1], (*images[0][2], "v2.0.0"))
    assert "release" not in expired(rules, images)


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(job: str) -> dict[str, dict]:
    return {s.get("name") or s.get("uses"): s for s in workflow()["jobs"][job]["steps"]}


def test_ci_tags_by_commit_and_deploys_by_digest():
    flow = workflow()
    assert flow["env"]["TAG"].startswith("sha-${{")
    assert fnmatchcase(flow["env"]["TAG"].replace("${{", "").split("}}")[0], "*github.sha*")
    deploy = steps("deploy")
    roll = deploy["Roll the service onto the digest"]
    # ECS API Reference, ContainerDefinition.image: repository-url/image@digest
    assert roll["env"]["IMAGE"].endswith("@${{ steps.image.outputs.digest }}")
    assert '.containerDefinitions[0].image = $image' in roll["run"]
    assert "$TAG" not in roll["run"] and ":$TAG" not in roll["env"]["IMAGE"]
    # Marked before the rollout, released only after a mark, even when the rollout failed.
    names = list(deploy)
    assert names.index("Mark the digest deployed") < names.index(
        "Roll the service onto the digest") < names.index(
        "Release the images no task definition in use names")
    release = deploy["Release the images no task definition in use names"]
    assert release["if"] == "${{ always() && steps.mark.outcome == 'success' }}"
    assert "deployed-${{ github.run_id }}" in deploy["Mark the digest deployed"]["env"]["MARK"]
    assert fnmatchcase(deploy["Mark the digest deployed"]["env"]["MARK"], DEPLOYED_TAGS)
    assert flow["concurrency"]["group"] == \
        "images-${{ inputs.environment }}-${{ inputs.service }}"


def test_a_promotion_copies_the_source_digest_and_checks_it_arrived():
    flow = workflow()
    export = flow["jobs"]["export"]
    assert export["environment"] == "${{ inputs.source }}"
    assert export["if"] == "inputs.source != 'build'"
    run = steps("export")["Export the image by digest"]["run"]
    assert '"docker://$REGISTRY/$REPOSITORY@$DIGEST"' in run and "dir:image" in run
    push = steps("deploy")["Push the commit's image, once"]
    assert push["env"]["EXPECTED"] == "${{ needs.export.outputs.digest }}"
    assert '[ "$DIGEST" != "$EXPECTED" ]' in push["run"]
    assert flow["jobs"]["deploy"]["environment"] == "${{ inputs.environment }}"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_deploy_role_may_do_what_images_yml_does_and_no_more(bootstrap, env):
    """Every `aws ecr|ecs|lambda` call of images.yml, plus what `docker push` and `skopeo copy`
    call, on the environment's own repository, service and function; nothing on another
    environment's. Action names and resource types: Service Authorization Reference, "Actions,
    resources, and condition keys for Amazon Elastic Container Registry" (and "... for Amazon
    Elastic Container Service", "... for AWS Lambda": provisioned concurrency is authorized on
    the alias, `function:<name>:<alias>`)."""
    statements = [s for body in bootstrap.matching("aws_iam_policy",
                                                   f"delivery-{env}/deploy-*").values()
                  for s in json.loads(body["policy"])["Statement"]]
    text = WORKFLOW.read_text()
    calls = set(re.findall(r"aws (ecr|ecs|lambda) ([a-z-]+)", text))
    calls -= {("ecs", "wait"), ("lambda", "wait")}
    # services-stable polls DescribeServices; function-updated-v2 GetFunction;
    # published-version-active GetFunctionConfiguration (AWS CLI Command Reference, "wait")
    calls |= {("ecs", "describe-services"), ("lambda", "get-function"),
              ("lambda", "get-function-configuration")}
    assert {("ecr", "put-image"), ("ecr", "batch-delete-image"), ("ecs", "update-service"),
            ("ecr", "get-login-password"), ("lambda", "update-function-code"),
            ("lambda", "publish-version"), ("lambda", "update-alias")} <= calls
    actions = {f"{service}:{''.join(w.title() for w in verb.split('-'))}"
               for service, verb in calls}
    actions = {"ecr:GetAuthorizationToken" if a == "ecr:GetLoginPassword" else a for a in actions}
    actions |= {f"ecr:{a}" for a in ("BatchCheckLayerAvailability", "InitiateLayerUpload",
                                     "UploadLayerPart", "CompleteLayerUpload",
                                     "GetDownloadUrlForLayer", "BatchGetImage")}
    for action in actions:  # each one an action IAM knows (KeyError otherwise)
        assert iam_reference.action(action).name == action

    def resource(action: str, environment: str) -> str:
        p = f"webplat-{environment}"
        if action.startswith("ecr:") and action != "ecr:GetAuthorizationToken":
            return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{p}/backend"
        if action in ("ecs:DescribeServices", "ecs:UpdateService"):
            return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{p}-cluster/{p}-backend"
        if action.startswith("lambda:"):
            alias = ":live" if "ProvisionedConcurrency" in action else ""
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{p}-backend{alias}"
        return "*"  # GetAuthorizationToken, task definitions: AWS authorizes them on "*"

    def context(environment: str) -> dict:
        return {"aws:RequestedRegion": REGION, "aws:ResourceTag/Project": "webplat",
                "aws:ResourceTag/Environment": environment}

    for action in sorted(actions):
        assert contracts.decide(statements, action, resource(action, env),
                                context=context(env)) == "allow", action
    other = "prod" if env != "prod" else "staging"
    for action in sorted(a for a in actions if resource(a, other) != "*"):
        assert contracts.decide(statements, action, resource(action, other),
                                context=context(other)) != "allow", action


def test_the_workflow_reads_project_region_and_platform_from_config():
    """No project or region is written into images.yml: the config job reads them, and the CPU
    architecture, from config/<environment>.toml (tools/workflow_env.py); the source of a
    promotion from its own file."""
    flow = workflow()
    text = WORKFLOW.read_text()
    assert "webplat" not in text and "us-east-1" not in text
    assert "PROJECT" not in flow.get("env", {}) and "REGION" not in flow.get("env", {})
    run = steps("config")["Read the environment's config"]["run"]
    assert 'tools/workflow_env.py "$ENVIRONMENT" "$SERVICE" >> "$GITHUB_OUTPUT"' in run
    assert 'tools/workflow_env.py "$SOURCE" "$SERVICE" | sed \'s/^/source_/\'' in run
    outputs = flow["jobs"]["config"]["outputs"]
    for job, prefix in (("deploy", ""), ("export", "source_")):
        assert flow["jobs"][job]["env"] == {
            "PROJECT": f"${{{{ needs.config.outputs.{prefix}project }}}}",
            "REGION": f"${{{{ needs.config.outputs.{prefix}region }}}}"}, job
        assert "config" in flow["jobs"][job]["needs"]
        for key in ("project", "region"):
            assert outputs[prefix + key] == f"${{{{ steps.config.outputs.{prefix}{key} }}}}"


def test_the_build_targets_the_configured_platform_through_buildx_and_qemu():
    """GitHub's ubuntu-latest runners are x86_64: an arm64 image needs QEMU's binfmt handlers
    registered, and buildx, before the build (Docker docs, "Multi-platform builds")."""
    deploy = steps("deploy")
    names = list(deploy)
    push = deploy["Push the commit's image, once"]
    assert names.index("docker/setup-qemu-action@v3") < names.index(
        "docker/setup-buildx-action@v3") < names.index("Push the commit's image, once")
    assert push["env"]["PLATFORM"] == "${{ needs.config.outputs.platform }}"
    builds = [line.strip() for line in push["run"].splitlines()
              if line.strip().startswith("docker") and "build" in line]
    assert builds == ['docker buildx build --platform "$PLATFORM" --provenance=false --push \\']
    assert "docker push" not in push["run"] and "linux/arm64" not in push["run"]


def test_a_failed_rollout_prints_the_services_events():
    deploy = steps("deploy")
    why = deploy["Say why the service did not become stable"]
    assert why["if"] == "${{ failure() && steps.roll.outcome == 'failure' }}"
    assert deploy["Roll the service onto the digest"]["id"] == "roll"
    assert "services[0].events[:5]" in why["run"]
    environment = yaml.safe_load((WORKFLOW.parent / "deploy-environment.yml").read_text())
    after = {s.get("name"): s for s in environment["jobs"]["deploy"]["steps"]}
    step = after["Say why the services did not become stable"]
    assert step["if"] == "${{ failure() && steps.deploy.outcome == 'failure' }}"
    assert step["run"] == 'bin/run python tools/service_events.py "${{ inputs.environment }}"'


def test_no_workflow_names_a_project_or_region():
    """A team's project and region are its config's: every workflow that takes AWS credentials
    reads the region from config/<environment>.toml (tools/workflow_env.py) in an earlier
    step, so `make adopt` is all it takes to point them elsewhere."""
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        text = path.read_text()
        assert "webplat" not in text and "us-east-1" not in text, path.name
        for job_name, job in yaml.safe_load(text)["jobs"].items():
            for i, step in enumerate(job.get("steps", [])):
                if "configure-aws-credentials" not in step.get("uses", ""):
                    continue
                region = step["with"]["aws-region"]
                source = re.fullmatch(
                    r"\$\{\{ (?:steps\.(\w+)\.outputs|env)\.(?:REGION|region) \}\}", region)
                assert source, (path.name, job_name, region)
                if source.group(1):  # a step of this job that ran tools/workflow_env.py
                    earlier = [s for s in job["steps"][:i] if s.get("id") == source.group(1)]
                    assert earlier and "tools/workflow_env.py" in earlier[0]["run"], job_name


# --- the Lambda branch (compute.platform = "lambda") ------------------------------------------

DIGEST = "sha256:" + "a" * 64
OLD = "sha256:" + "b" * 64
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
FUNCTION = "webplat-dev-backend"
NOT_FOUND = ("An error occurred (ResourceNotFoundException) when calling the {} operation: "
             "Function not found")

# `aws` for a step: answers the calls whose words all appear in the command line with the first
# matching rule's output (or nothing), and records every call.
FAKE_AWS = '''#!/usr/bin/env python3
import json, os, sys
args = " ".join(sys.argv[1:])
with open(os.environ["AWS_CALLS"], "a") as calls:
    calls.write(args + "\\n")
for words, out, err, code in json.loads(os.environ["AWS_RULES"]):
    if all(w in sys.argv[1:] for w in words.split()):
        sys.stdout.write(out)
        sys.stderr.write(err)
        sys.exit(code)
'''


def run_step(name: str, tmp_path, rules: list[tuple[str, str, str, int]],
             env: dict[str, str]) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Runs a deploy step's script as GitHub does (`bash -eo pipefail`) against the fake aws;
    returns the result and the aws calls it made."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    (bin_dir / "sleep").write_text("#!/bin/sh\n")
    (bin_dir / "sleep").chmod(0o755)
    calls = tmp_path / "calls"
    calls.write_text("")
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", steps("deploy")[name]["run"]],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
             "AWS_CALLS": str(calls), "AWS_RULES": json.dumps(rules), **env})
    return result, calls.read_text().splitlines()


FUNCTION_ENV = {"FUNCTION": FUNCTION, "DIGEST": DIGEST, "ENVIRONMENT": "dev",
                "IMAGE": f"{REGISTRY}/webplat-dev/backend@{DIGEST}"}


def function_rules(resolved: str = DIGEST, alias: bool = False) -> list:
    image = f"{REGISTRY}/webplat-dev/backend@{resolved}\n"
    return [("lambda get-alias", "", "" if alias else NOT_FOUND.format("GetAlias"),
             0 if alias else 254),
            ("lambda get-function Code.ResolvedImageUri", image, "", 0),
            ("lambda publish-version", "7\n", "", 0),
            ("lambda get-provisioned-concurrency-config", "READY\n", "", 0)]


def test_a_lambda_service_is_deployed_by_digest_and_waited_for(tmp_path):
    """Lambda resolves an image URI to a digest once, at UpdateFunctionCode; it does not follow a
    tag moved later (AWS Lambda Developer Guide, "Create a Lambda function using a container
    image"). The update is asynchronous: LastUpdateStatus is InProgress until it is Successful or
    Failed, which the CLI waiter function-updated-v2 polls (AWS CLI Command Reference,
    "aws lambda wait function-updated-v2")."""
    flow = workflow()
    deploy = steps("deploy")
    names = list(deploy)
    step = deploy["Point the function at the digest"]
    assert step["if"] == "needs.config.outputs.runtime == 'lambda'"
    assert deploy["Roll the service onto the digest"]["if"] == \
        "needs.config.outputs.runtime == 'ecs' && needs.config.outputs.task != 'true'"
    assert step["env"]["FUNCTION"] == "${{ needs.config.outputs.function }}"
    assert flow["jobs"]["config"]["outputs"]["function"] == \
        "${{ steps.config.outputs.function }}"
    assert step["env"]["IMAGE"].endswith("/${{ inputs.service }}@${{ steps.image.outputs.digest }}")
    assert "TAG" not in step["run"] and "TAG" not in json.dumps(step["env"])
    assert names.index("Mark the digest deployed") < names.index(
        "Give the first image the tag Terraform creates the function from") < names.index(
        "Point the function at the digest") < names.index(
        "Release the images no task definition in use names")

    result, calls = run_step("Point the function at the digest", tmp_path, function_rules(),
                             FUNCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert calls == [
        f"lambda get-function --function-name {FUNCTION}",
        f"lambda update-function-code --function-name {FUNCTION} "
        f"--image-uri {REGISTRY}/webplat-dev/backend@{DIGEST}",
        f"lambda wait function-updated-v2 --function-name {FUNCTION}",
        f"lambda get-alias --function-name {FUNCTION} --name live",
        f"lambda get-function --function-name {FUNCTION} --query Code.ResolvedImageUri "
        "--output text"]


def test_with_the_alias_live_a_version_of_the_new_code_takes_the_traffic(tmp_path):
    """An alias points at a published version, never at $LATEST's changing code, and provisioned
    concurrency is configured on the alias (AWS Lambda Developer Guide, "Create an alias for a
    Lambda function", "Configuring provisioned concurrency for a function"): the new code is
    published (PublishVersion, once the update is done), the version waited for until Active
    ("aws lambda wait published-version-active"), the alias moved, and the deploy waits for the
    provisioned environments (ProvisionedConcurrencyConfig Status IN_PROGRESS | READY | FAILED)."""
    result, calls = run_step("Point the function at the digest", tmp_path,
                             function_rules(alias=True), FUNCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert calls[3:] == [
        f"lambda get-alias --function-name {FUNCTION} --name live",
        f"lambda publish-version --function-name {FUNCTION} --query Version --output text",
        f"lambda wait published-version-active --function-name {FUNCTION} --qualifier 7",
        f"lambda update-alias --function-name {FUNCTION} --name live --function-version 7",
        f"lambda get-provisioned-concurrency-config --function-name {FUNCTION} --qualifier live "
        "--query Status --output text",
        f"lambda get-function --function-name {FUNCTION} --query Code.ResolvedImageUri "
        "--output text",
        f"lambda get-function --function-name {FUNCTION}:live --query Code.ResolvedImageUri "
        "--output text"]
    failed = [r if r[0] != "lambda get-provisioned-concurrency-config"
              else (r[0], "FAILED\n", "", 0) for r in function_rules(alias=True)]
    result, _ = run_step("Point the function at the digest", tmp_path, failed, FUNCTION_ENV)
    assert result.returncode == 1 and "provisioned concurrency: FAILED" in result.stdout


def test_a_function_left_on_another_image_fails_the_deploy_and_says_why(tmp_path):
    result, _ = run_step("Point the function at the digest", tmp_path, function_rules(OLD),
                         FUNCTION_ENV)
    assert result.returncode == 1
    assert f"::error::{FUNCTION} runs {REGISTRY}/webplat-dev/backend@{OLD}" in result.stdout
    denied = [("lambda get-function", "", "An error occurred (AccessDeniedException)", 254)]
    result, calls = run_step("Point the function at the digest", tmp_path, denied, FUNCTION_ENV)
    assert result.returncode == 1 and len(calls) == 1  # not taken for a missing function
    why = steps("deploy")["Say why the function did not update"]
    assert why["if"] == "${{ failure() && steps.function.outcome == 'failure' }}"
    assert "LastUpdateStatusReason" in why["run"] and "StatusReason" in why["run"]


def test_before_the_function_exists_the_deploy_says_what_comes_next(tmp_path):
    """Lambda refuses to create a function whose image is not in ECR, so the stack creates none
    until `compute.images_pushed`; this first run leaves the image and says so."""
    rules = [("lambda get-function", "", NOT_FOUND.format("GetFunction"), 254)]
    result, calls = run_step("Point the function at the digest", tmp_path, rules, FUNCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert calls == [f"lambda get-function --function-name {FUNCTION}"]
    assert result.stdout.strip() == (
        f"::notice::The first image of {FUNCTION} is in place: set compute.images_pushed = true "
        "in config/dev.toml and deploy again to create the function from it")


def test_the_first_image_also_gets_the_tag_terraform_names(tmp_path):
    """Retagging an image: batch-get-image, then put-image with the same manifest and media type
    (Amazon ECR User Guide, "Retagging an image"); describe-images of a tag no image carries fails
    with ImageNotFoundException (Amazon ECR API Reference, DescribeImages)."""
    step = steps("deploy")["Give the first image the tag Terraform creates the function from"]
    assert step["if"] == "needs.config.outputs.runtime == 'lambda'"
    assert step["env"]["IMAGE_TAG"] == "${{ needs.config.outputs.image_tag }}"
    env = {"REPOSITORY": "webplat-dev/backend", "DIGEST": DIGEST, "IMAGE_TAG": "bootstrap"}
    image = json.dumps({"imageManifest": "{}", "imageManifestMediaType":
                        "application/vnd.docker.distribution.manifest.v2+json"})
    missing = [("ecr describe-images", "", "An error occurred (ImageNotFoundException)", 254),
               ("ecr batch-get-image", image, "", 0)]
    result, calls = run_step(step["name"], tmp_path, missing, env)
    assert result.returncode == 0, result.stderr
    assert calls[1].startswith(
        f"ecr batch-get-image --repository-name webplat-dev/backend --image-ids "
        f"imageDigest={DIGEST}")
    assert calls[2] == ("ecr put-image --repository-name webplat-dev/backend --image-tag "
                        "bootstrap --image-manifest {} --image-manifest-media-type "
                        "application/vnd.docker.distribution.manifest.v2+json")
    result, calls = run_step(step["name"], tmp_path, [], env)  # tagged before: immutable
    assert result.returncode == 0 and len(calls) == 1
    denied = [("ecr describe-images", "", "An error occurred (AccessDeniedException)", 254)]
    result, calls = run_step(step["name"], tmp_path, denied, env)
    assert result.returncode == 1 and len(calls) == 1


def test_lambda_releases_every_image_but_the_functions_and_its_aliases(tmp_path):
    """What runs is $LATEST's image and, with the alias live, the image of the version it names:
    a version keeps the image it was published with (AWS Lambda Developer Guide, "Manage Lambda
    function versions"). Every other image loses its deployed-* marks, as under ECS."""
    live = "sha256:" + "c" * 64
    step = "Release the images no task definition in use names"
    tagged = (f"{DIGEST}\tsha-1,deployed-3-1\n{live}\tsha-2,deployed-2-1\n"
              f"{OLD}\tsha-3,deployed-1-1,deployed-1-2\n")
    env = {"REPOSITORY": "webplat-dev/backend", "RUNTIME": "lambda", "FUNCTION": FUNCTION,
           "FAMILY": FUNCTION, "CLUSTER": "webplat-dev-cluster"}
    rules = [("lambda get-function --function-name webplat-dev-backend:live",
              f"{REGISTRY}/webplat-dev/backend@{live}\n", "", 0),
             ("lambda get-function Code.ResolvedImageUri",
              f"{REGISTRY}/webplat-dev/backend@{DIGEST}\n", "", 0),
             ("ecr describe-images", tagged, "", 0)]
    result, calls = run_step(step, tmp_path, rules, env)
    assert result.returncode == 0, result.stderr
    deleted = [c for c in calls if c.startswith("ecr batch-delete-image")]
    assert deleted == [f"ecr batch-delete-image --repository-name webplat-dev/backend "
                       f"--image-ids imageTag=deployed-1-{i}" for i in (1, 2)]
    assert not any(c.startswith("ecs ") for c in calls)
    no_alias = [("lambda get-alias", "", NOT_FOUND.format("GetAlias"), 254), *rules[1:]]
    result, calls = run_step(step, tmp_path, no_alias, env)
    assert result.returncode == 0, result.stderr
    assert [c.rsplit("=", 1)[1] for c in calls if c.startswith("ecr batch-delete-image")] == \
        ["deployed-2-1", "deployed-1-1", "deployed-1-2"]
    # Before the function exists, its first image is about to run: nothing is released.
    first = [("lambda get-function", "", NOT_FOUND.format("GetFunction"), 254)]
    result, calls = run_step(step, tmp_path, first, env)
    assert result.returncode == 0 and calls == [f"lambda get-function --function-name {FUNCTION}"]
