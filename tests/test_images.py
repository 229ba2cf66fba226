"""Images (issue 18 item 5): CI tags each image immutably by commit, promotes it between
environments by digest, deploys it by digest, and ECR's lifecycle expires old images but never
one a running task definition names."""

import json
import re
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

import pytest
import yaml

import contracts
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
    """Every `aws ecr|ecs` call of images.yml, plus what `docker push` and `skopeo copy` call,
    on the environment's own repository and service; nothing on another environment's."""
    statements = [s for body in bootstrap.matching("aws_iam_policy",
                                                   f"delivery-{env}/deploy-*").values()
                  for s in json.loads(body["policy"])["Statement"]]
    text = WORKFLOW.read_text()
    calls = set(re.findall(r"aws (ecr|ecs) ([a-z-]+)", text))
    calls.discard(("ecs", "wait"))  # services-stable polls DescribeServices
    calls |= {("ecs", "describe-services")}
    assert {("ecr", "put-image"), ("ecr", "batch-delete-image"), ("ecs", "update-service"),
            ("ecr", "get-login-password")} <= calls
    actions = {f"{service}:{''.join(w.title() for w in verb.split('-'))}"
               for service, verb in calls}
    actions = {"ecr:GetAuthorizationToken" if a == "ecr:GetLoginPassword" else a for a in actions}
    actions |= {f"ecr:{a}" for a in ("BatchCheckLayerAvailability", "InitiateLayerUpload",
                                     "UploadLayerPart", "CompleteLayerUpload",
                                     "GetDownloadUrlForLayer", "BatchGetImage")}

    def resource(action: str, environment: str) -> str:
        p = f"webplat-{environment}"
        if action.startswith("ecr:") and action != "ecr:GetAuthorizationToken":
            return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{p}/backend"
        if action in ("ecs:DescribeServices", "ecs:UpdateService"):
            return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{p}-cluster/{p}-backend"
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
